"""Fault mode of the embedded emulator: throttling, server errors and read-after-write lag.

Off unless one of its shares or its lag is set; a test hook like those in emulator_hooks.py, not a
fix of moto's answers. scripts/emulator.py installs it (install()) before moto's server starts:
a WSGI middleware around moto's DomainDispatcherApplication, so every AWS call passes through it,
whatever the protocol (S3 and the REST services too, not only BaseResponse.call_action).

    WEBSTACK_EMULATOR_FAULT_THROTTLE=0.10   share of calls answered with the service's own
                                            throttling error (see below), before moto sees them
    WEBSTACK_EMULATOR_FAULT_ERROR=0.02      share answered with a server error: 500 or 503, half each
    WEBSTACK_EMULATOR_FAULT_LAG=5           seconds a created resource stays missing from reads
    WEBSTACK_EMULATOR_FAULT_SEED=42         seed of the draws (default: random, printed at start);
                                            the sequence repeats when the calls come one at a time
    WEBSTACK_EMULATOR_FAULT_SERVICES=ec2,s3 services faulted (botocore's names, e.g. elbv2, or the
                                            signing names, e.g. elasticloadbalancing; default all)
    WEBSTACK_EMULATOR_FAULT_LOG=<path>      one JSON line per injected fault: {"t", "service",
                                            "action", "fault": "throttle" | "error" | "lag" |
                                            "lag_start", "code", "status", "ids"}

Which calls: only requests signed with SigV4 in the Authorization header (the credential scope
names the service); never /moto-api/, the instance metadata, health checks or unsigned requests
(presigned URLs included). The service's protocol comes from botocore's model of it (the one the
request speaks, where the model offers several); the action
from Action= (ec2, query), X-Amz-Target (json), the operation's method and URI template (rest-json,
rest-xml) or the /service/X/operation/Y path (smithy-rpc-v2-cbor).

The errors are AWS's real ones, in the service's protocol, and each is one botocore retries, in
its legacy mode (botocore/data/_retry.json) and its standard mode (retries/standard.py):

    protocol          throttling                                  500 / 503
    ec2               RequestLimitExceeded 503                    InternalError / Unavailable
    query             Throttling 400 (<ErrorResponse>)            InternalFailure / ServiceUnavailable
    json              ThrottlingException 400 (__type, header)    InternalFailure / ServiceUnavailable
    rest-json         the model's ThrottlingException or          InternalFailure / ServiceUnavailable
                      TooManyRequestsException, at its status
                      (400 or 429; 429 when the model has none)
    rest-xml, s3      SlowDown 503 (<Error>, no body on HEAD)     InternalError / ServiceUnavailable
    rest-xml, other   Throttling 400 (<ErrorResponse>)            InternalFailure / ServiceUnavailable
    rpc-v2-cbor       ThrottlingException 400 (CBOR __type)       InternalFailure / ServiceUnavailable

A faulted call never reaches moto: nothing was done (a 5xx after AWS did the work is not modelled),
and WEBSTACK_EMULATOR_CALL_LOG (emulator_hooks.py) does not list it. botocore's clients retry in its
standard mode by default (3 attempts in all), Ansible's AWSRetry on top where a module uses it.

Read-after-write lag: after a successful call whose verb creates (Create, Run, Allocate, Request,
Import, Register, Put) the ids of the new resource are taken from its answer: the keys named after
the action's noun plus Id, Identifier, Arn or Name (CreateVpc: vpcId; CreateDBInstance:
DBInstanceIdentifier and DBInstanceArn; CreateLoadBalancer: LoadBalancerArn and LoadBalancerName;
RunInstances: every instanceId; RequestCertificate: CertificateArn), with an Arn/ARN beside them,
or the Id/ARN of an element named after the noun (route53 HostedZone/Id, also without its
/hostedzone/ prefix; cloudfront Distribution/Id). Exceptions named in ID_KEYS (CreateSecurityGroup:
groupId; AllocateAddress: allocationId; CreateKeyPair: keyName, keyPairId); S3 CreateBucket takes
the bucket from the path (path-style addressing, as against an endpoint URL). A call whose answer
holds no such key (CreateTags, CreateRoute, PutBucketTagging, PutParameter, CreateLogGroup...)
hides nothing.

For LAG seconds after, a read of the same service (Describe, Get, List, Head) whose noun starts
with the creating action's noun (DescribeVpcs, DescribeVpcAttribute, HeadBucket, GetBucketTagging,
ListBuckets, DescribeLoadBalancerAttributes...) does not see it:
  - a read that names it (by id, ARN or name: in the query, the form or JSON body, or the path)
    is sent to moto with a never-existing id in its place, so moto answers its own NotFound error
    (InvalidVpcID.NotFound, InvalidGroup.NotFound, DBInstanceNotFound, LoadBalancerNotFound,
    NoSuchBucket, 404 on HEAD...) or its own empty filter result; the real id is put back into
    the answer's text;
  - a list answer drops it: in the XML or JSON answer, the elements of the first depth where the
    resource's id keys appear, whose id is hidden (an EC2 reservation left without instances goes
    too), and hidden ARNs from lists of strings (ListClusters).
Not covered: resources whose create answer names no id (autoscaling groups, log groups, SSM
parameters, route53 records, scheduler schedules read by name, S3 objects), calls other than reads
(a change to a resource just created is never refused as not found yet), and lag on
rpc-v2-cbor services (route53domains), whose bodies are not decoded.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import itertools
import json
import os
import random
import re
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus

ENV = "WEBSTACK_EMULATOR_FAULT_"

# Signing names (the SigV4 credential scope) that are not botocore's service name.
SIGNING_ALIASES = {
    "elasticloadbalancing": ("elbv2", "elb"),
    "monitoring": ("cloudwatch",),
    "email": ("ses",),
    "states": ("stepfunctions",),
    "execute-api": ("apigateway",),
    "cognito-identity": ("cognito-identity",),
}
ELBV2_VERSION = "2015-12-01"

CREATE_VERBS = ("Create", "Run", "Allocate", "Request", "Import", "Register", "Put")
READ_VERBS = ("Describe", "Get", "List", "Head")
ID_SUFFIXES = ("id", "identifier", "arn", "name")
# The creating noun whose id keys are not <noun>Id / <noun>Arn / <noun>Name.
ID_KEYS = {
    "SecurityGroup": ("groupId",),
    "Address": ("allocationId",),
    "KeyPair": ("keyName", "keyPairId"),
}


@dataclass(frozen=True)
class FaultConfig:
    throttle: float = 0.0
    error: float = 0.0
    lag: float = 0.0
    seed: int | None = None
    services: frozenset[str] | None = None
    log: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FaultConfig | None:
        """The configuration from WEBSTACK_EMULATOR_FAULT_*, or None when the mode is off (no
        share and no lag above 0)."""
        environ = os.environ if environ is None else environ

        def number(name: str) -> float:
            value = float(environ.get(ENV + name) or 0)
            if value < 0 or (name != "LAG" and value > 1):
                raise ValueError(f"{ENV}{name}={value}: a share is 0..1, a lag 0 or more seconds")
            return value

        throttle, error, lag = number("THROTTLE"), number("ERROR"), number("LAG")
        if throttle + error > 1:
            raise ValueError(f"{ENV}THROTTLE + {ENV}ERROR is more than 1")
        if not (throttle or error or lag):
            return None
        seed = environ.get(ENV + "SEED")
        services = {s.strip().lower() for s in (environ.get(ENV + "SERVICES") or "").split(",") if s.strip()}
        return cls(
            throttle=throttle,
            error=error,
            lag=lag,
            seed=int(seed) if seed else random.SystemRandom().randrange(2**31),
            services=frozenset(services) or None,
            log=environ.get(ENV + "LOG") or None,
        )

    def describe(self) -> str:
        services = ",".join(sorted(self.services)) if self.services else "all"
        return (
            f"emulator: fault mode: throttle {self.throttle}, 5xx {self.error}, lag {self.lag} s, "
            f"seed {self.seed}, services {services}" + (f", log {self.log}" if self.log else "")
        )


def install(environ: Mapping[str, str] | None = None) -> FaultConfig | None:
    """Wrap moto's server application in the fault middleware when the environment asks for it
    (FaultConfig.from_env); returns the configuration, or None (nothing changed)."""
    config = FaultConfig.from_env(environ)
    if config is None:
        return None
    import moto.server

    dispatcher = moto.server.DomainDispatcherApplication

    def faulty_dispatcher(create_app):
        return FaultMiddleware(dispatcher(create_app), config)

    moto.server.DomainDispatcherApplication = faulty_dispatcher
    print(config.describe(), file=sys.stderr, flush=True)
    return config


# ---------------------------------------------------------------- botocore's models


@dataclass
class Service:
    name: str  # botocore's
    signing_name: str
    protocol: str
    metadata: dict
    rest_routes: list = field(default_factory=list)  # (method, regex, query requirements, score, operation)
    throttle: tuple[str, int] = ("ThrottlingException", 400)


@functools.cache
def _loader():
    import botocore.loaders

    return botocore.loaders.create_loader()


@functools.cache
def service_model(name: str) -> Service | None:
    try:
        model = _loader().load_service_model(name, "service-2")
    except Exception:  # noqa: BLE001 - an unknown service is simply not faulted
        return None
    metadata = model["metadata"]
    service = Service(
        name=name,
        signing_name=metadata.get("signingName") or metadata.get("endpointPrefix") or name,
        protocol=_client_protocol(metadata),
        metadata=metadata,
    )
    if service.protocol in ("rest-json", "rest-xml"):
        service.rest_routes = _rest_routes(model["operations"])
    shapes = model["shapes"]
    for code, default_status in (("ThrottlingException", 400), ("TooManyRequestsException", 429)):
        shape = shapes.get(code)
        if shape and shape.get("exception"):
            service.throttle = (code, int((shape.get("error") or {}).get("httpStatusCode") or default_status))
            break
    else:
        if service.protocol == "rest-json":
            service.throttle = ("TooManyRequestsException", 429)
    return service


def _client_protocol(metadata: dict) -> str:
    """The protocol botocore's clients speak to the service (its first supported of several)."""
    from botocore.utils import PRIORITY_ORDERED_SUPPORTED_PROTOCOLS

    offered = metadata.get("protocols") or [metadata["protocol"]]
    return next((p for p in PRIORITY_ORDERED_SUPPORTED_PROTOCOLS if p in offered), metadata["protocol"])


def _rest_routes(operations: dict) -> list:
    routes = []
    for name, operation in operations.items():
        http = operation.get("http") or {}
        path, _, query = http.get("requestUri", "/").partition("?")
        pattern = ""
        literal = 0
        for part in re.split(r"(\{[^}]+\})", path.rstrip("/") or "/"):
            if part.startswith("{"):
                pattern += ".+" if part.endswith("+}") else "[^/]+"
            else:
                pattern += re.escape(part)
                literal += len(part)
        required = {}
        for item in filter(None, query.split("&")):
            key, _, value = item.partition("=")
            if key != "x-id":
                required[key] = value or None
        routes.append(
            (http.get("method", "POST"), re.compile(pattern + "/?"), required, (len(required), literal), name)
        )
    return routes


def resolve_service(signing_name: str, params: Mapping[str, str]) -> Service | None:
    names = SIGNING_ALIASES.get(signing_name, (signing_name,))
    if signing_name == "elasticloadbalancing":
        names = ("elbv2",) if params.get("Version") == ELBV2_VERSION else ("elb",)
    for name in names:
        service = service_model(name)
        if service:
            return service
    return None


# ---------------------------------------------------------------- the request


@dataclass
class Call:
    service: Service
    action: str
    region: str
    method: str
    query: dict[str, str]
    form: dict[str, str]

    @property
    def verb_noun(self) -> tuple[str, str]:
        for verb in (*CREATE_VERBS, *READ_VERBS):
            if self.action.startswith(verb) and self.action[len(verb) : len(verb) + 1].isupper():
                return verb, self.action[len(verb) :]
        return "", self.action


CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


def _read_body(environ: dict) -> bytes:
    """The request body, read once and put back for moto."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def identify(environ: dict) -> Call | None:
    """The AWS call a request is, or None for what is never faulted (moto's own API, metadata,
    unsigned requests, services botocore has no model of)."""
    path = environ.get("PATH_INFO", "")
    if path.startswith(("/moto-api", "/latest/", "/favicon.ico")):
        return None
    match = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None
    region, signing_name = match[1], match[2].lower()
    method = environ.get("REQUEST_METHOD", "GET")
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    form: dict[str, str] = {}
    if (environ.get("CONTENT_TYPE") or "").startswith("application/x-www-form-urlencoded"):
        form = dict(parse_qsl(_read_body(environ).decode("utf-8", "replace"), keep_blank_values=True))
    service = resolve_service(signing_name, {**query, **form})
    if service is None:
        return None
    offered = service.metadata.get("protocols") or ()
    if environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor" and "smithy-rpc-v2-cbor" in offered:
        service = dataclasses.replace(service, protocol="smithy-rpc-v2-cbor")
    elif environ.get("HTTP_X_AMZ_TARGET") and "json" in offered:
        service = dataclasses.replace(service, protocol="json")
    action = ""
    if service.protocol in ("ec2", "query"):
        action = form.get("Action") or query.get("Action") or ""
    elif service.protocol == "json":
        action = (environ.get("HTTP_X_AMZ_TARGET") or "").rpartition(".")[2]
    elif service.protocol == "smithy-rpc-v2-cbor":
        action = path.rpartition("/operation/")[2]
    else:
        best = None
        for route_method, pattern, required, score, name in service.rest_routes:
            if route_method != method or not pattern.fullmatch(path):
                continue
            if any(key not in query or (value is not None and query[key] != value) for key, value in required.items()):
                continue
            if best is None or score > best[0]:
                best = (score, name)
        action = best[1] if best else ""
    return Call(service=service, action=action or "?", region=region, method=method, query=query, form=form)


# ---------------------------------------------------------------- the errors


MESSAGES = {
    "RequestLimitExceeded": "Request limit exceeded.",
    "SlowDown": "Please reduce your request rate.",
    500: "We encountered an internal error. Please try again.",
    503: "Service is unavailable. Please try again.",
}


def fault_error(service: Service, kind: str, status: int | None = None) -> tuple[str, int]:
    """(code, HTTP status) of a throttling ("throttle") or server ("error", status 500/503) error."""
    protocol = service.protocol
    if kind == "throttle":
        if protocol == "ec2":
            return "RequestLimitExceeded", 503
        if protocol == "query":
            return "Throttling", 400
        if protocol == "rest-xml":
            return ("SlowDown", 503) if service.name == "s3" else ("Throttling", 400)
        if protocol == "rest-json":
            return service.throttle
        return "ThrottlingException", 400
    if status == 500:
        return ("InternalError" if service.name in ("ec2", "s3") else "InternalFailure"), 500
    return ("Unavailable" if service.name == "ec2" else "ServiceUnavailable"), 503


def _cbor_text(value: str) -> bytes:
    data = value.encode()
    return _cbor_head(3, len(data)) + data


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    if length < 256:
        return bytes([major << 5 | 24, length])
    return bytes([major << 5 | 25]) + length.to_bytes(2, "big")


def error_response(service: Service, code: str, status: int, method: str) -> tuple[str, list, bytes]:
    """(status line, headers, body) of an AWS error in the service's protocol."""
    request_id = str(uuid.uuid4())
    message = MESSAGES.get(code) or MESSAGES.get(status) or "Rate exceeded"
    headers = [("x-amzn-RequestId", request_id)]
    protocol = service.protocol
    if protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        ).encode()
        headers.append(("Content-Type", "text/xml;charset=UTF-8"))
    elif protocol == "rest-xml" and service.name == "s3":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId>"
            f"<HostId>{request_id}</HostId></Error>"
        ).encode()
        headers = [("x-amz-request-id", request_id), ("x-amz-id-2", request_id), ("Content-Type", "application/xml")]
    elif protocol in ("query", "rest-xml"):
        meta = service.metadata
        namespace = meta.get("xmlNamespace") or (
            f"https://{meta.get('endpointPrefix', service.name)}.amazonaws.com/doc/{meta.get('apiVersion', '')}/"
        )
        side = "Receiver" if status >= 500 else "Sender"
        body = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>{side}</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "smithy-rpc-v2-cbor":
        body = _cbor_head(5, 2) + _cbor_text("__type") + _cbor_text(code) + _cbor_text("message") + _cbor_text(message)
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    else:
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = "application/json"
        if protocol == "json":
            content_type = f"application/x-amz-json-{service.metadata.get('jsonVersion', '1.1')}"
        headers += [("x-amzn-ErrorType", code), ("Content-Type", content_type)]
    if method == "HEAD":
        body = b""
    headers.append(("Content-Length", str(len(body))))
    return f"{status} {STATUS_TEXT.get(status, 'Error')}", headers, body


STATUS_TEXT = {400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


# ---------------------------------------------------------------- read-after-write lag


@dataclass
class Hidden:
    service: str
    noun: str  # the creating action's, singular (Vpc, Instance, DBInstance, Bucket)
    ids: dict[str, str]  # id -> its never-existing stand-in
    keys: frozenset[str]  # lower-case keys the id is found under in answers
    until: float


def _singular(noun: str) -> str:
    return noun[:-1] if noun.endswith("s") else noun


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _id_keys(noun: str) -> set[str]:
    if noun in ID_KEYS:
        return {k.lower() for k in ID_KEYS[noun]}
    stems = {noun.lower(), _singular(noun).lower()}
    return {stem + suffix for stem in stems for suffix in ID_SUFFIXES}


def _xml_ids(root: ET.Element, keys: set[str], noun: str) -> tuple[list[str], set[str]]:
    """The new resource's ids in a create answer (XML), and the keys they were found under."""
    level = [root]
    while level:
        found = [
            (el, child)
            for el in level
            for child in el
            if _local(child.tag).lower() in keys and (child.text or "").strip()
        ]
        if found:
            ids, used = [], set()
            for parent, child in found:
                for node in (child, *(c for c in parent if _local(c.tag).lower() == "arn")):
                    if node.text and node.text.strip() not in ids:
                        ids.append(node.text.strip())
                        used.add(_local(node.tag).lower())
            return ids, used
        nested = [el for el in level if _local(el.tag).lower() == noun.lower()]
        for el in nested:  # <HostedZone><Id>, <Distribution><Id>
            ids = [c.text.strip() for c in el if _local(c.tag).lower() in ("id", "arn") and (c.text or "").strip()]
            if ids:
                return ids, {"id", "arn"}
        level = [child for el in level for child in el]
    return [], set()


def _json_children(item: Any) -> Iterable:
    return item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()


def _json_ids(data: Any, keys: set[str], noun: str) -> tuple[list[str], set[str]]:
    level = [data]
    while level:
        dicts = [d for d in level if isinstance(d, dict)]
        ids, used = [], set()
        for d in dicts:
            if not any(k.lower() in keys for k in d):
                continue
            for key, value in d.items():
                if key.lower() in keys | {"arn"} and isinstance(value, str) and value and value not in ids:
                    ids.append(value)
                    used.add(key.lower())
        if ids:
            return ids, used
        for d in dicts:
            for key, value in d.items():
                if key.lower() == noun.lower() and isinstance(value, dict):
                    ids = [v for k, v in value.items() if k.lower() in ("id", "arn") and isinstance(v, str) and v]
                    if ids:
                        return ids, {"id", "arn"}
        level = [v for item in level for v in _json_children(item)]
    return [], set()


def created_ids(call: Call, environ: dict, body: bytes) -> tuple[list[str], set[str]]:
    """The ids of the resource a successful create call made (empty when it made none we know)."""
    verb, noun = call.verb_noun
    if call.service.name == "s3" and call.action == "CreateBucket":
        bucket = environ.get("PATH_INFO", "").strip("/").split("/")[0]
        return ([bucket], {"name"}) if bucket else ([], set())
    keys = _id_keys(noun)
    ids: list[str] = []
    used: set[str] = set()
    stripped = body.strip()
    try:
        if stripped.startswith(b"<"):
            ids, used = _xml_ids(ET.fromstring(stripped), keys, noun)
        elif stripped.startswith((b"{", b"[")):
            ids, used = _json_ids(json.loads(stripped), keys, noun)
    except (ET.ParseError, ValueError):
        return [], set()
    for value in list(ids):  # route53: "/hostedzone/Z123" is read as Z123 in paths
        if value.startswith("/hostedzone/"):
            ids.append(value.rpartition("/")[2])
    return ids, used


_BOUNDARY = r"[A-Za-z0-9_\-]"


def _encodings(value: str) -> list[str]:
    return list(dict.fromkeys((value, quote(value, safe=""), quote_plus(value, safe=""), quote(value, safe="/"))))


def substitute(text: str, mapping: Mapping[str, str]) -> str:
    """Each whole occurrence of a key (as is, or URL-encoded) replaced by its value, in one pass."""
    pairs = {}
    for old, new in mapping.items():
        for enc_old, enc_new in zip(_encodings(old), _encodings(new), strict=True):
            pairs[enc_old] = enc_new
    if not pairs:
        return text
    alternation = "|".join(re.escape(k) for k in sorted(pairs, key=len, reverse=True))
    pattern = re.compile(f"(?<!{_BOUNDARY})(?:{alternation})(?!{_BOUNDARY})")
    return pattern.sub(lambda m: pairs[m[0]], text)


def _drop_xml(root: ET.Element, ids: set[str], keys: set[str]) -> int:
    parents = {child: parent for parent in root.iter() for child in parent}
    level = [root]
    while level:
        holders = [el for el in level if any(_local(c.tag).lower() in keys for c in el)]
        if holders:
            dropped = 0
            for el in holders:
                if any(_local(c.tag).lower() in keys and (c.text or "").strip() in ids for c in el) and el in parents:
                    container = parents[el]
                    container.remove(el)
                    dropped += 1
                    # an EC2 reservation left without instances goes too
                    owner = parents.get(container)
                    if len(container) == 0 and owner is not None and _local(owner.tag) == "item" and owner in parents:
                        parents[owner].remove(owner)
            return dropped
        level = [child for el in level for child in el]
    return 0


def _drop_json(data: Any, ids: set[str], keys: set[str]) -> int:
    dropped = 0
    level = [data]
    while level:
        lists = [v for item in level if isinstance(item, dict) for v in item.values() if isinstance(v, list)]
        lists += [item for item in level if isinstance(item, list)]
        for items in lists:  # lists of ids (ListClusters' clusterArns)
            kept = [v for v in items if not (isinstance(v, str) and v in ids)]
            dropped += len(items) - len(kept)
            items[:] = kept
        holders = [
            (items, d) for items in lists for d in items if isinstance(d, dict) and any(k.lower() in keys for k in d)
        ]
        if holders:
            for items, d in holders:
                if any(k.lower() in keys and v in ids for k, v in d.items() if isinstance(v, str)):
                    items.remove(d)
                    dropped += 1
            return dropped
        level = [v for item in level for v in _json_children(item)]
    return dropped


def drop_hidden(body: bytes, ids: set[str], keys: set[str]) -> tuple[bytes, int]:
    """A list answer without the hidden resources; (body, how many dropped). Unchanged when none."""
    stripped = body.strip()
    try:
        if stripped.startswith(b"<"):
            root = ET.fromstring(stripped)
            dropped = _drop_xml(root, ids, keys)
            if dropped:
                namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
                with _XML_LOCK:
                    if namespace:
                        ET.register_namespace("", namespace)
                    return ET.tostring(root, encoding="utf-8", xml_declaration=True), dropped
        elif stripped.startswith((b"{", b"[")):
            data = json.loads(stripped)
            dropped = _drop_json(data, ids, keys)
            if dropped:
                return json.dumps(data).encode(), dropped
    except (ET.ParseError, ValueError):
        pass
    return body, 0


_XML_LOCK = threading.Lock()


# ---------------------------------------------------------------- the middleware


class FaultMiddleware:
    """WSGI middleware around moto's DomainDispatcherApplication (see the module's docstring)."""

    def __init__(self, app: Callable, config: FaultConfig, clock: Callable[[], float] = time.time):
        self.app = app
        self.config = config
        self.clock = clock
        self.random = random.Random(config.seed)
        self.lock = threading.Lock()
        self.hidden: list[Hidden] = []
        self.counter = itertools.count(1)

    def __getattr__(self, name):  # anything else is moto's application's
        if name == "app":
            raise AttributeError(name)
        return getattr(self.app, name)

    def log(self, call: Call, fault: str, **extra) -> None:
        if self.config.log:
            entry = {"t": self.clock(), "service": call.service.name, "action": call.action, "fault": fault, **extra}
            with self.lock, open(self.config.log, "a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")

    def covers(self, service: Service) -> bool:
        services = self.config.services
        return services is None or service.name in services or service.signing_name in services

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            call = identify(environ)
        except Exception:  # noqa: BLE001 - the fault mode must never break a call it cannot read
            call = None
        if call is None or not self.covers(call.service):
            return self.app(environ, start_response)
        config = self.config
        if config.throttle or config.error:
            with self.lock:
                draw = self.random.random()
                status = self.random.choice((500, 503))
            kind = "throttle" if draw < config.throttle else "error" if draw < config.throttle + config.error else None
            if kind:
                code, status = fault_error(call.service, kind, status)
                self.log(call, kind, code=code, status=status)
                line, headers, body = error_response(call.service, code, status, call.method)
                start_response(line, headers)
                return [body]
        if config.lag and call.service.protocol != "smithy-rpc-v2-cbor":
            verb, noun = call.verb_noun
            if verb in CREATE_VERBS:
                return self.create(call, noun, environ, start_response)
            if verb in READ_VERBS:
                lagging = self.lagging(call.service.name, noun)
                if lagging:
                    return self.read(call, lagging, environ, start_response)
        return self.app(environ, start_response)

    def lagging(self, service: str, noun: str) -> list[Hidden]:
        now = self.clock()
        with self.lock:
            self.hidden = [h for h in self.hidden if h.until > now]
            return [h for h in self.hidden if h.service == service and noun.startswith(h.noun)]

    def forward(self, environ: dict) -> tuple[str, list, bytes]:
        captured: dict = {}
        chunks: list[bytes] = []

        def start(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        result = self.app(environ, start)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return captured["status"], list(captured["headers"]), b"".join(chunks)

    @staticmethod
    def answer(start_response, status, headers, body, changed: bool) -> list[bytes]:
        if changed:
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]

    def create(self, call: Call, noun: str, environ: dict, start_response) -> list[bytes]:
        status, headers, body = self.forward(environ)
        if status.startswith("2"):
            ids, keys = created_ids(call, environ, body)
            if ids:
                until = self.clock() + self.config.lag
                with self.lock:
                    stand_ins = {i: self.stand_in(i) for i in ids}
                    self.hidden.append(Hidden(call.service.name, _singular(noun), stand_ins, frozenset(keys), until))
                self.log(call, "lag_start", ids=ids, until=until)
        return self.answer(start_response, status, headers, body, changed=False)

    def stand_in(self, value: str) -> str:
        """A never-existing id of the same form: vpc-0123... -> vpc-fff...1, others <value>-lag<n>."""
        number = f"{next(self.counter):x}"
        match = re.fullmatch(r"([a-z]+-)([0-9a-f]{8,})", value)
        if match and len(match[2]) > len(number):
            return match[1] + "f" * (len(match[2]) - len(number)) + number
        return f"{value}-lag{number}"

    def read(self, call: Call, lagging: list[Hidden], environ: dict, start_response) -> list[bytes]:
        stand_ins = {i: s for h in lagging for i, s in h.ids.items()}
        named = self.rewrite_request(environ, stand_ins)
        status, headers, body = self.forward(environ)
        changed = False
        if named:
            back = {s: i for i, s in stand_ins.items()}
            restored = substitute(body.decode("utf-8", "surrogateescape"), back).encode("utf-8", "surrogateescape")
            changed = restored != body
            body = restored
        dropped = 0
        if status.startswith("2") and body:
            ids = set(stand_ins)
            keys = set().union(*(h.keys for h in lagging))
            body, dropped = drop_hidden(body, ids, keys)
            changed = changed or bool(dropped)
        if named or dropped:
            self.log(call, "lag", ids=sorted(named), dropped=dropped, status=int(status.split()[0]))
        return self.answer(start_response, status, headers, body, changed)

    @staticmethod
    def rewrite_request(environ: dict, stand_ins: dict[str, str]) -> set[str]:
        """Put the stand-ins in place of hidden ids the request names; returns those named."""
        named: set[str] = set()

        def swap(text: str) -> str:
            new = substitute(text, stand_ins)
            if new != text:
                named.update(i for i in stand_ins if any(e in text for e in _encodings(i)))
            return new

        for key in ("PATH_INFO", "QUERY_STRING", "RAW_URI", "REQUEST_URI"):
            if isinstance(environ.get(key), str) and environ[key]:
                environ[key] = swap(environ[key])
        body = _read_body(environ)
        if body:
            text = body.decode("utf-8", "surrogateescape")
            new = swap(text)
            if new != text:
                data = new.encode("utf-8", "surrogateescape")
                environ["wsgi.input"] = io.BytesIO(data)
                environ["CONTENT_LENGTH"] = str(len(data))
        return named
