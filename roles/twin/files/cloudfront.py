"""The local twin's CloudFront: the stack's distributions in front of their S3 bucket (origin access control).

One process answers for every distribution of the stack, over HTTPS on port 443, under the
names each distribution answers to (its *.cloudfront.net name and its aliases, which are the
docker network aliases of its container, so the twin's instances resolve them to it). As
CloudFront with an S3 REST origin would:

- the distribution is chosen by the Host header. A name no enabled distribution has gets 403
  with CloudFront's "Bad request" page, as CloudFront answers for a name that is not the alias
  of any distribution;
- GET and HEAD only (the methods of the default cache behaviour); any other method gets 403;
- ``/`` is the default root object (only at the top, as on CloudFront). The object's key is the
  origin path + the request path, percent-decoded; the query string is dropped (CloudFront's
  CachingOptimized policy does not forward it);
- the object is read from the emulator's S3 (path style, through the twin's S3 forwarder),
  signed with SigV4 as origin access control signs. The emulator does not check signatures, so
  the key in the signature is a placeholder;
- S3 refuses CloudFront (403) when the bucket policy does not let it read. With an origin
  access control, the policy must grant s3:GetObject on <bucket><origin path>/* to the service
  cloudfront.amazonaws.com for the distribution's ARN (AWS:SourceArn), and no Deny may apply.
  Without one, the policy must let anyone read. A missing key is 403 as well (S3 hides it) unless
  the policy also grants s3:ListBucket, when it is 404;
- an error with a custom error response gets the response's page (read the same way) with the
  response's status code. When the page cannot be read either, the original error is sent.
  Errors from S3 itself (5xx) pass through; an unreachable S3 is 502.

``render`` works out, ahead of serving, which host name is which distribution and whether S3
lets each distribution read (the twin's plan runs it on the controller).
Not modelled: caching (every request reaches S3), cache behaviours besides the default one, HTTP
(the viewer protocol policy), functions and Lambda@Edge, signed URLs, geo restrictions, range
requests, compression, Block Public Access and object ACLs (only the bucket policy counts).

    python3 cloudfront.py render < distributions.json > config.json
    python3 cloudfront.py serve DIR [PORT]    # DIR: config.json, tls.crt, tls.key (re-read when they change)
    python3 cloudfront.py probe DIR           # GET / under every name, checked with DIR/ca.crt

render's input: {"s3_endpoint", "region", "distributions": [GetDistribution's Distribution],
"policies": {bucket: its policy document (JSON text), or "" for none}}.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CLOUDFRONT = "cloudfront.amazonaws.com"
# S3 headers CloudFront passes on to the viewer
PASSED_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Cache-Control", "Content-Encoding", "Content-Language")
SIGNING_KEY = ("AKIAKUMOTWINCLOUDFRONT", "placeholder")  # the emulator does not check signatures
USAGE = "usage: cloudfront.py render < distributions.json | serve DIR [PORT] | probe DIR [PORT]"


# --------------------------------------------------------------------------------------------
# Bucket policies: does S3 let this principal do this action on this resource?
# --------------------------------------------------------------------------------------------


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str) -> bool:
    """IAM's wildcards: * any run of characters, ? one character."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _principal_matches(principal, service: str | None) -> bool:
    """Principal "*" or {"AWS": "*"} is everyone; {"Service": ...} names services."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in _as_list(principal.get("AWS", [])):
        return True
    return service is not None and service in _as_list(principal.get("Service", []))


def _condition_holds(condition: dict | None, context: dict[str, str]) -> bool:
    """A statement's Condition with IAM's semantics for the operators a bucket policy for
    CloudFront uses (String*, Arn*, Bool, with ...IfExists). A key the request lacks fails a
    positive operator and passes a negated one; an operator not listed here never holds."""
    context = {key.lower(): value for key, value in context.items()}
    for operator, keys in (condition or {}).items():
        base = operator[: -len("IfExists")] if operator.endswith("IfExists") else operator
        negated = base in ("StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike")
        positive = base.replace("Not", "", 1) if negated else base
        for key, expected in keys.items():
            actual = context.get(key.lower())
            if actual is None:
                if base != operator or negated:
                    continue
                return False
            expected = [str(e) for e in _as_list(expected)]
            if positive in ("StringEquals", "ArnEquals"):
                hit = actual in expected
            elif positive in ("StringLike", "ArnLike"):
                hit = any(_glob(e, actual) for e in expected)
            elif positive == "Bool":
                hit = actual.lower() in [e.lower() for e in expected]
            else:
                return False
            if hit == negated:
                return False
    return True


def policy_allows(policy, action: str, resource: str, service: str | None, context: dict[str, str]) -> bool:
    """Whether the bucket policy lets the principal (``service``, or None for an anonymous
    request) do ``action`` on ``resource``: an Allow applies and no Deny does. ``resource`` may
    end in * (all keys under a prefix): a statement's pattern must cover it. Statements with
    NotPrincipal, NotAction or NotResource are not modelled and never apply."""
    if not policy:
        return False
    if isinstance(policy, str):
        policy = json.loads(policy)
    allowed = False
    for statement in _as_list(policy.get("Statement", [])):
        if any(key in statement for key in ("NotPrincipal", "NotAction", "NotResource")):
            continue
        if not _principal_matches(statement.get("Principal"), service):
            continue
        if not any(_glob(a.lower(), action.lower()) for a in _as_list(statement.get("Action", []))):
            continue
        if not any(_glob(r, resource) for r in _as_list(statement.get("Resource", []))):
            continue
        if not _condition_holds(statement.get("Condition"), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


# --------------------------------------------------------------------------------------------
# render: the distributions as the emulator holds them -> what the stand-in serves
# --------------------------------------------------------------------------------------------


def _items(container) -> list:
    return (container or {}).get("Items") or []


def normalize(name: str) -> str:
    """A host name as CloudFront compares it: lower case, no port, no trailing dot."""
    name = name.strip().lower()
    if name.startswith("["):
        return name
    return name.rsplit(":", 1)[0].rstrip(".") if ":" in name else name.rstrip(".")


def bucket_of(domain_name: str) -> str:
    """The bucket of an S3 REST origin (<bucket>.s3.<region>.amazonaws.com or
    <bucket>.s3.amazonaws.com); "" for any other origin."""
    return domain_name.split(".s3.", 1)[0] if ".s3." in domain_name else ""


def distribution_site(distribution: dict, policies: dict) -> dict:
    """What the stand-in needs of one distribution (a GetDistribution answer's Distribution)."""
    config = distribution["DistributionConfig"]
    target = (config.get("DefaultCacheBehavior") or {}).get("TargetOriginId")
    origin = next((o for o in _items(config.get("Origins")) if o.get("Id") == target), {})
    bucket = bucket_of(origin.get("DomainName") or "")
    origin_path = (origin.get("OriginPath") or "").rstrip("/")
    control = origin.get("OriginAccessControlId") or ""
    arn = distribution["ARN"]
    partition, account = arn.split(":")[1], arn.split(":")[4]
    if control:  # signed by CloudFront for this distribution
        service, context = CLOUDFRONT, {"aws:SourceArn": arn, "aws:SourceAccount": account}
    else:  # an anonymous request
        service, context = None, {}
    context["aws:SecureTransport"] = "true"  # CloudFront reads an S3 REST origin over HTTPS
    policy = policies.get(bucket) or None
    return {
        "arn": arn,
        "enabled": bool(config.get("Enabled", True)),
        "names": sorted({normalize(n) for n in [distribution["DomainName"], *_items(config.get("Aliases"))]}),
        "bucket": bucket,
        "origin_path": origin_path,
        "origin_access_control_id": control,
        "readable": bool(bucket)
        and policy_allows(policy, "s3:GetObject", f"arn:{partition}:s3:::{bucket}{origin_path}/*", service, context),
        "listable": bool(bucket)
        and policy_allows(policy, "s3:ListBucket", f"arn:{partition}:s3:::{bucket}", service, context),
        "default_root_object": config.get("DefaultRootObject") or "",
        "error_responses": {
            str(r["ErrorCode"]): {
                "response_code": int(r.get("ResponseCode") or r["ErrorCode"]),
                "page_path": r["ResponsePagePath"],
            }
            for r in _items(config.get("CustomErrorResponses"))
            if r.get("ResponsePagePath")
        },
    }


def render(raw: dict) -> dict:
    """The stand-in's configuration: host name -> distribution id, and each distribution's site."""
    policies = raw.get("policies") or {}
    distributions = {d["Id"]: distribution_site(d, policies) for d in raw.get("distributions") or []}
    hosts = {name: did for did, site in distributions.items() for name in site["names"]}
    return {
        "s3_endpoint": raw["s3_endpoint"].rstrip("/"),
        "region": raw["region"],
        "hosts": dict(sorted(hosts.items())),
        "distributions": distributions,
    }


# --------------------------------------------------------------------------------------------
# Answering a request (pure: S3 is the ``fetch`` function)
# --------------------------------------------------------------------------------------------


def site_for(config: dict, host: str) -> dict | None:
    """The enabled distribution answering to this Host header, or None."""
    site = config["distributions"].get(config["hosts"].get(normalize(host or ""), ""))
    return site if site and site["enabled"] else None


def object_key(site: dict, target: str) -> str:
    """The S3 key CloudFront reads for a request target (path and query)."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(target).path) or "/"
    if path == "/" and site["default_root_object"]:
        path = "/" + site["default_root_object"]
    return (site["origin_path"] + path).lstrip("/")


def error_response(site: dict, status: int) -> dict | None:
    """The custom error response for an error status: {response_code, page_path}, or None."""
    return site["error_responses"].get(str(status))


def error_page(status: int, reason: str) -> bytes:
    return (
        f"<!DOCTYPE html><html><head><title>ERROR: The request could not be satisfied</title></head><body>"
        f"<h1>{status} ERROR</h1><h2>The request could not be satisfied.</h2><p>{reason}</p>"
        f"<p>Generated by cloudfront (kumo.webstack twin)</p></body></html>\n"
    ).encode()


def origin_get(site: dict, key: str, fetch) -> tuple[int, dict, bytes]:
    """GET one key as CloudFront would from its S3 origin: (status, headers, body)."""
    if not site["bucket"]:
        return 502, {}, b""  # not an S3 origin: the twin has nothing to read from
    if not site["readable"] or not key:
        return 403, {}, b""  # S3 refuses CloudFront (no key: a bucket listing)
    status, headers, body = fetch(site["bucket"], key)
    if status == 404 and not site["listable"]:
        return 403, {}, b""  # without s3:ListBucket S3 does not tell a missing key apart
    return status, headers, body


def respond(config: dict, host: str, method: str, target: str, fetch) -> tuple[int, dict, bytes]:
    """CloudFront's answer to one request: (status, headers, body). ``fetch(bucket, key)``
    reads S3 and returns (status, headers, body)."""
    html = {"Content-Type": "text/html", "X-Cache": "Error from cloudfront"}
    site = site_for(config, host)
    if site is None:
        return 403, html, error_page(403, "Bad request. No distribution answers to this name.")
    if method not in ("GET", "HEAD"):
        return 403, html, error_page(403, "This distribution is not configured to allow the HTTP request method.")
    status, headers, body = origin_get(site, object_key(site, target), fetch)
    if status < 400:
        return status, dict(headers, **{"X-Cache": "Miss from cloudfront"}), body
    custom = error_response(site, status)
    if custom:
        page_status, page_headers, page_body = origin_get(site, object_key(site, custom["page_path"]), fetch)
        if page_status == 200:
            return custom["response_code"], dict(page_headers, **{"X-Cache": "Error from cloudfront"}), page_body
    return status, html, error_page(status, "The origin answered with an error.")


# --------------------------------------------------------------------------------------------
# S3, signed as origin access control signs (SigV4)
# --------------------------------------------------------------------------------------------


def sigv4_headers(method: str, url: str, region: str, now: datetime.datetime, key=SIGNING_KEY) -> dict:
    """The headers of a SigV4-signed S3 request without a body (url: already percent-encoded)."""
    parts = urllib.parse.urlsplit(url)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    payload = hashlib.sha256(b"").hexdigest()
    headers = {"host": parts.netloc, "x-amz-content-sha256": payload, "x-amz-date": stamp}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [method, parts.path or "/", parts.query, *(f"{k}:{headers[k]}" for k in sorted(headers)), "", signed, payload]
    )
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signing_key = ("AWS4" + key[1]).encode()
    for part in scope.split("/"):
        signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    credential = f"Credential={key[0]}/{scope}, SignedHeaders={signed}, Signature={signature}"
    headers["authorization"] = f"AWS4-HMAC-SHA256 {credential}"
    return headers


def s3_get(endpoint: str, region: str, bucket: str, key: str) -> tuple[int, dict, bytes]:
    """GET an object from S3 (path style): (status, the headers CloudFront passes on, body)."""
    url = f"{endpoint}/{bucket}/{urllib.parse.quote(key, safe='/~')}"
    now = datetime.datetime.now(datetime.UTC)
    request = urllib.request.Request(url, headers=sigv4_headers("GET", url, region, now), method="GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, headers, body = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    except (OSError, http.client.HTTPException):
        return 502, {}, b""  # S3 unreachable: CloudFront's 502
    return status, {name: headers[name] for name in PASSED_HEADERS if headers.get(name)}, body


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class Served:
    """The served directory: config.json, tls.crt and tls.key, each re-read once it changed."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._lock = threading.Lock()
        self._config = self._context = None
        self._stamps: dict[str, tuple] = {}

    def _changed(self, what: str, *names: str) -> bool:
        stamp = tuple(os.stat(self.directory / name).st_mtime_ns for name in names)
        changed = self._stamps.get(what) != stamp
        self._stamps[what] = stamp
        return changed

    def config(self) -> dict:
        with self._lock:
            if self._changed("config", "config.json") or self._config is None:
                self._config = json.loads((self.directory / "config.json").read_text())
                for did, site in sorted(self._config["distributions"].items()):
                    access = "S3 lets it read" if site["readable"] else "S3 refuses it (403)"
                    print(f"{did} {', '.join(site['names'])} -> s3://{site['bucket']}{site['origin_path']}: {access}")
            return self._config

    def context(self) -> ssl.SSLContext:
        with self._lock:
            if self._changed("tls", "tls.crt", "tls.key") or self._context is None:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.load_cert_chain(self.directory / "tls.crt", self.directory / "tls.key")
                self._context = context
            return self._context


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CloudFront"
    sys_version = ""
    timeout = 30

    def setup(self):
        super().setup()
        self.request.do_handshake()

    def answer(self):
        config = self.server.served.config()

        def fetch(bucket, key):
            return s3_get(config["s3_endpoint"], config["region"], bucket, key)

        status, headers, body = respond(config, self.headers.get("Host", ""), self.command, self.path, fetch)
        if self.command not in ("GET", "HEAD"):
            self.close_connection = True  # its body is not read
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = answer

    def log_message(self, format, *args):
        host = self.headers.get("Host", "-") if getattr(self, "headers", None) else "-"
        sys.stderr.write(f"{self.address_string()} {host} {format % args}\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, served: Served):
        self.served = served
        super().__init__(address, Handler)

    def get_request(self):
        sock, address = super().get_request()
        # the handshake happens in the request's thread (Handler.setup), not here
        return self.served.context().wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        print(f"{client_address[0]}: {sys.exc_info()[1]!r}", file=sys.stderr)


def serve(directory: Path, port: int = 443) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    served = Served(directory)
    served.config()
    served.context()
    with Server(("0.0.0.0", port), served) as server:  # every address of its container
        print(f"cloudfront: serving {directory} on port {port}", flush=True)
        server.serve_forever()


def probe(directory: Path, port: int = 443) -> int:
    """GET / under every name of every distribution, through docker's DNS and the CA's
    certificate; 0 when each distribution S3 lets read answers its default root object with 200."""
    config = json.loads((directory / "config.json").read_text())
    context = ssl.create_default_context(cafile=str(directory / "ca.crt"))
    failed = 0
    for did, site in sorted(config["distributions"].items()):
        expect = 200 if site["enabled"] and site["readable"] and site["default_root_object"] else None
        for name in site["names"]:
            connection = http.client.HTTPSConnection(name, port, timeout=5, context=context)
            try:
                connection.request("GET", "/")
                answer = f"{connection.getresponse().status}"
            except (OSError, http.client.HTTPException) as error:
                answer = f"no answer ({error})"
            finally:
                connection.close()
            ok = answer == str(expect) if expect else answer[:1].isdigit()
            why = f"/{site['default_root_object']} expected 200" if expect else "S3 does not let it read"
            print(f"{did} https://{name}/ -> {answer} ({why}){'' if ok else ': NOT YET'}")
            failed += not ok
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "render" and len(argv) == 2:
        json.dump(render(json.load(sys.stdin)), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    if command in ("serve", "probe") and len(argv) in (3, 4):
        port = int(argv[3]) if len(argv) == 4 else 443
        if command == "probe":
            return probe(Path(argv[2]), port)
        serve(Path(argv[2]), port)
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
