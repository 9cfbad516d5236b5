# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CloudFront helpers for the cloudfront_origin_access_control and cloudfront_s3_distribution modules.

API calls are small functions wrapped in ``CloudFrontErrorHandler`` (botocore errors become
``AnsibleCloudFrontError``; a missing distribution or origin access control becomes the
handler's default) and ``AWSRetry.jittered_backoff`` (throttling and 5xx only). The waiter is
a botocore waiter model written as data. The rest are pure functions: the settings a module
asks for, the settings a distribution has (both in one flat form, so they compare key by key
and read well in --diff), the DistributionConfig to send, and what the modules return.
"""

from __future__ import annotations

import copy
import datetime
import re

try:
    import botocore.exceptions
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)
from ansible_collections.amazon.aws.plugins.module_utils.waiter import BaseWaiterFactory, custom_waiter_config

# datetime.UTC needs Python 3.11; modules also run on older target Pythons.
UTC = datetime.timezone.utc  # noqa: UP017

MISSING_CODES = ["NoSuchDistribution", "NoSuchOriginAccessControl", "NoSuchResource"]

# The AWS managed cache policy "Managed-CachingOptimized": long TTLs, no query strings, cookies
# or headers in the cache key, gzip and brotli. What static pages want.
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"

# Route 53 alias records to any CloudFront distribution use this hosted zone id.
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"

# The one origin of a distribution made by cloudfront_s3_distribution.
ORIGIN_ID = "s3-origin"

# The tag that names a distribution (its identity for cloudfront_s3_distribution).
NAME_TAG = "Name"

# HTTP status codes CloudFront accepts in a custom error response.
ERROR_CODES = (400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)

# Seconds between two polls while waiting for a distribution to be Deployed. Module-level so
# tests can shorten it.
DEPLOYED_POLL_DELAY = 15

_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$")
_OAC_ID = re.compile(r"^[A-Z0-9]{1,64}$")


class AnsibleCloudFrontError(AnsibleAWSError):
    pass


class CloudFrontErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleCloudFrontError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(MISSING_CODES)


# ---------------------------------------------------------------------------------------------
# API calls: distributions
# ---------------------------------------------------------------------------------------------


@CloudFrontErrorHandler.list_error_handler("list distributions", [])
@AWSRetry.jittered_backoff()
def list_distributions(client):
    """Every distribution of the account, as ListDistributions summarises it."""
    items = []
    for page in client.get_paginator("list_distributions").paginate():
        items.extend((page.get("DistributionList") or {}).get("Items") or [])
    return items


@CloudFrontErrorHandler.list_error_handler("list tags of distribution", {})
@AWSRetry.jittered_backoff()
def list_tags(client, arn):
    return boto3_tag_list_to_ansible_dict(client.list_tags_for_resource(Resource=arn)["Tags"].get("Items") or [])


@CloudFrontErrorHandler.list_error_handler("get distribution", (None, None))
@AWSRetry.jittered_backoff()
def get_distribution(client, distribution_id):
    """(distribution, ETag), or (None, None) when it does not exist."""
    answer = client.get_distribution(Id=distribution_id)
    return answer["Distribution"], answer["ETag"]


@CloudFrontErrorHandler.common_error_handler("create distribution")
@AWSRetry.jittered_backoff()
def create_distribution(client, config, tags):
    answer = client.create_distribution_with_tags(
        DistributionConfigWithTags={
            "DistributionConfig": config,
            "Tags": {"Items": ansible_dict_to_boto3_tag_list(tags)},
        }
    )
    return answer["Distribution"], answer["ETag"]


@CloudFrontErrorHandler.common_error_handler("update distribution")
@AWSRetry.jittered_backoff()
def update_distribution(client, distribution_id, config, etag):
    answer = client.update_distribution(Id=distribution_id, IfMatch=etag, DistributionConfig=config)
    return answer["Distribution"], answer["ETag"]


@CloudFrontErrorHandler.deletion_error_handler("delete distribution")
@AWSRetry.jittered_backoff()
def delete_distribution(client, distribution_id, etag):
    """True once deleted; False when it was already gone."""
    client.delete_distribution(Id=distribution_id, IfMatch=etag)
    return True


@CloudFrontErrorHandler.common_error_handler("tag distribution")
@AWSRetry.jittered_backoff()
def tag_resource(client, arn, tags):
    client.tag_resource(Resource=arn, Tags={"Items": ansible_dict_to_boto3_tag_list(tags)})
    return True


@CloudFrontErrorHandler.common_error_handler("untag distribution")
@AWSRetry.jittered_backoff()
def untag_resource(client, arn, keys):
    client.untag_resource(Resource=arn, TagKeys={"Items": list(keys)})
    return True


# ---------------------------------------------------------------------------------------------
# API calls: origin access controls
# ---------------------------------------------------------------------------------------------


@CloudFrontErrorHandler.list_error_handler("list origin access controls", [])
@AWSRetry.jittered_backoff()
def list_origin_access_controls(client):
    items = []
    for page in client.get_paginator("list_origin_access_controls").paginate():
        items.extend((page.get("OriginAccessControlList") or {}).get("Items") or [])
    return items


@CloudFrontErrorHandler.list_error_handler("get origin access control", (None, None))
@AWSRetry.jittered_backoff()
def get_origin_access_control(client, control_id):
    """(origin access control, ETag), or (None, None) when it does not exist."""
    answer = client.get_origin_access_control(Id=control_id)
    return answer["OriginAccessControl"], answer["ETag"]


@CloudFrontErrorHandler.common_error_handler("create origin access control")
@AWSRetry.jittered_backoff()
def create_origin_access_control(client, config):
    answer = client.create_origin_access_control(OriginAccessControlConfig=config)
    return answer["OriginAccessControl"], answer["ETag"]


@CloudFrontErrorHandler.common_error_handler("update origin access control")
@AWSRetry.jittered_backoff()
def update_origin_access_control(client, control_id, config, etag):
    answer = client.update_origin_access_control(Id=control_id, IfMatch=etag, OriginAccessControlConfig=config)
    return answer["OriginAccessControl"], answer["ETag"]


@CloudFrontErrorHandler.deletion_error_handler("delete origin access control")
@AWSRetry.jittered_backoff()
def delete_origin_access_control(client, control_id, etag):
    """True once deleted; False when it was already gone."""
    client.delete_origin_access_control(Id=control_id, IfMatch=etag)
    return True


# ---------------------------------------------------------------------------------------------
# Waiter
# ---------------------------------------------------------------------------------------------


class CloudFrontWaiterFactory(BaseWaiterFactory):
    """Distribution waiters. Throttling is a ``retry`` (added by the base class), never a success."""

    @property
    def _waiter_model_data(self):
        return {
            "distribution_deployed": {
                "operation": "GetDistribution",
                "delay": DEPLOYED_POLL_DELAY,
                "maxAttempts": 60,
                "acceptors": [
                    {"state": "success", "matcher": "path", "argument": "Distribution.Status", "expected": "Deployed"},
                    {"state": "retry", "matcher": "path", "argument": "Distribution.Status", "expected": "InProgress"},
                    {"state": "failure", "matcher": "error", "expected": "NoSuchDistribution"},
                ],
            },
        }


def wait_deployed(client, distribution_id, timeout):
    """Poll GetDistribution until the distribution is Deployed, for at most ``timeout`` seconds."""
    waiter = CloudFrontWaiterFactory().get_waiter(client, "distribution_deployed")
    try:
        waiter.wait(Id=distribution_id, WaiterConfig=custom_waiter_config(timeout, default_pause=DEPLOYED_POLL_DELAY))
    except botocore.exceptions.WaiterError as e:
        if "Max attempts exceeded" in str(e.kwargs.get("reason", "")):
            raise AnsibleCloudFrontError(
                message=f"Distribution {distribution_id} was still InProgress after {timeout} seconds (wait_timeout); "
                "CloudFront usually deploys a change within a few minutes. Run the task again to wait longer "
                "(nothing is changed twice), or raise wait_timeout",
                exception=e,
            ) from e
        raise AnsibleCloudFrontError(
            message=f"Failed while waiting for distribution {distribution_id} to be Deployed", exception=e
        ) from e


# ---------------------------------------------------------------------------------------------
# Look-ups built from the calls above
# ---------------------------------------------------------------------------------------------


def find_distribution(client, name):
    """(summary, tags) of the distribution tagged Name=name, or (None, {}).

    Raises when several distributions carry the name: which one is meant cannot be told."""
    found = []
    for summary in list_distributions(client):
        tags = list_tags(client, summary["ARN"]) or {}
        if tags.get(NAME_TAG) == name:
            found.append((summary, tags))
    if len(found) > 1:
        ids = ", ".join(sorted(summary["Id"] for summary, _tags in found))
        raise AnsibleCloudFrontError(
            message=f"Several distributions are tagged {NAME_TAG}={name} ({ids}); this module manages one "
            f"distribution per name. Delete the extra ones or change their {NAME_TAG} tag"
        )
    return found[0] if found else (None, {})


def find_origin_access_control(client, name):
    """The ListOriginAccessControls summary of the control called ``name``, or None."""
    found = [item for item in list_origin_access_controls(client) if item.get("Name") == name]
    if len(found) > 1:
        ids = ", ".join(sorted(item["Id"] for item in found))
        raise AnsibleCloudFrontError(
            message=f"Several origin access controls are called {name} ({ids}); CloudFront keeps names unique, "
            "so this account is not behaving as expected"
        )
    return found[0] if found else None


def distributions_using(summaries, control_id):
    """Ids of the distributions (from ListDistributions summaries) with an origin using the control."""
    return sorted(
        summary["Id"]
        for summary in summaries
        if any(
            origin.get("OriginAccessControlId") == control_id
            for origin in (summary.get("Origins") or {}).get("Items") or []
        )
    )


# ---------------------------------------------------------------------------------------------
# Origin access controls: pure helpers
# ---------------------------------------------------------------------------------------------

_OAC_KEYS = {
    "name": "Name",
    "description": "Description",
    "origin_type": "OriginAccessControlOriginType",
    "signing_behavior": "SigningBehavior",
    "signing_protocol": "SigningProtocol",
}


def oac_settings(config):
    """An OriginAccessControlConfig (or a list summary) keyed like the module's options."""
    settings = {option: (config or {}).get(key) for option, key in _OAC_KEYS.items()}
    settings["description"] = settings["description"] or ""
    return settings


def oac_desired(params):
    """The settings the module asks for; a description left out (None) is not compared."""
    return {option: params.get(option) for option in _OAC_KEYS if params.get(option) is not None}


def oac_plan(desired, current):
    """(changed options, settings after the change)."""
    after = dict(current or {})
    after.update(desired)
    changed = sorted(option for option, value in desired.items() if (current or {}).get(option) != value)
    return changed, after


def oac_config(settings):
    """OriginAccessControlConfig for a create or an update."""
    config = {key: settings.get(option) for option, key in _OAC_KEYS.items()}
    config["Description"] = config["Description"] or ""
    return config


def oac_result(control):
    """What cloudfront_origin_access_control returns for a GetOriginAccessControl answer."""
    if not control:
        return {}
    result = {"id": control["Id"]}
    result.update(oac_settings(control.get("OriginAccessControlConfig")))
    return result


# ---------------------------------------------------------------------------------------------
# Distributions: validation
# ---------------------------------------------------------------------------------------------


def normalize_alias(name):
    return str(name).strip().rstrip(".").lower()


def validate_distribution_params(params):
    """Error messages for option values CloudFront would reject (or that would build a broken
    distribution), each naming the option."""
    problems = []
    name = params.get("name") or ""
    if not 1 <= len(name) <= 128:
        problems.append(f"name must be 1 to 128 characters, got {len(name)}")
    if params.get("state") != "present":
        return problems
    path = params.get("origin_path") or ""
    if path and (not path.startswith("/") or path.endswith("/") or len(path) > 255 or "//" in path):
        problems.append(
            f"origin_path {path!r} must start with a slash and not end with one (for example /example.com), "
            "or be empty for the bucket's root"
        )
    root = params.get("default_root_object")
    if root and root.startswith("/"):
        problems.append(f"default_root_object {root!r} is an object name without a leading slash, e.g. index.html")
    certificate = params.get("certificate_arn")
    if certificate and not _ACM_ARN.match(certificate):
        problems.append(
            f"certificate_arn {certificate!r} must be the ARN of an ACM certificate in us-east-1 "
            "(CloudFront uses certificates from that region only)"
        )
    if params.get("aliases") and not certificate:
        problems.append(
            "aliases need certificate_arn: CloudFront serves an alternate domain name only with a certificate "
            "that covers it (request one in us-east-1 with kumo.webstack.acm_certificate_request)"
        )
    control = params.get("origin_access_control_id")
    if control is not None and not _OAC_ID.match(control):
        problems.append(
            f"origin_access_control_id {control!r} is not an origin access control id (e.g. E2QWRUHAPOMQZL)"
        )
    if params.get("comment") is not None and len(params["comment"]) > 128:
        problems.append("comment must be at most 128 characters")
    seen = set()
    for response in params.get("custom_error_responses") or []:
        code = response.get("error_code")
        if code not in ERROR_CODES:
            problems.append(
                f"custom_error_responses error_code {code} is not one CloudFront accepts "
                f"({', '.join(str(c) for c in ERROR_CODES)})"
            )
        if code in seen:
            problems.append(f"custom_error_responses lists error_code {code} twice")
        seen.add(code)
        if (response.get("response_code") is None) != (response.get("response_page_path") is None):
            problems.append(
                f"custom_error_responses for {code}: response_code and response_page_path go together "
                "(CloudFront needs the page to answer with, and the status to answer it with)"
            )
        page = response.get("response_page_path")
        if page is not None and not page.startswith("/"):
            problems.append(f"custom_error_responses for {code}: response_page_path {page!r} must start with a slash")
        ttl = response.get("error_caching_min_ttl")
        if ttl is not None and ttl < 0:
            problems.append(f"custom_error_responses for {code}: error_caching_min_ttl must be 0 or more seconds")
    tags = params.get("tags") or {}
    if NAME_TAG in tags and str(tags[NAME_TAG]) != name:
        problems.append(
            f"tags sets {NAME_TAG}={tags[NAME_TAG]}, but the {NAME_TAG} tag is the distribution's identity and is "
            f"always the name ({name}); leave {NAME_TAG} out of tags"
        )
    return problems


# ---------------------------------------------------------------------------------------------
# Distributions: settings, compared key by key
# ---------------------------------------------------------------------------------------------


def s3_origin_domain(bucket, region):
    """The S3 REST endpoint of a bucket, the origin domain CloudFront signs for with OAC."""
    return f"{bucket}.s3.{region}.amazonaws.com"


def bucket_of(domain_name):
    """The bucket of an S3 origin domain (bucket.s3.region.amazonaws.com or bucket.s3.amazonaws.com)."""
    if not domain_name or ".s3." not in domain_name:
        return None
    return domain_name.split(".s3.", 1)[0]


def _error_response(error_code, response_code=None, response_page_path=None, error_caching_min_ttl=10):
    return {
        "error_code": int(error_code),
        "response_code": str(response_code) if response_code not in (None, "") else None,
        "response_page_path": response_page_path or None,
        "error_caching_min_ttl": int(error_caching_min_ttl) if error_caching_min_ttl is not None else 10,
    }


def desired_settings(params, bucket_region):
    """The settings cloudfront_s3_distribution asks for, in the form current_settings() reads.

    A comment left out (None) is not compared; everything else has a value (its default)."""
    certificate = params.get("certificate_arn") or None
    settings = {
        "enabled": bool(params.get("enabled", True)),
        "aliases": sorted({normalize_alias(a) for a in params.get("aliases") or []}),
        "origins": [
            {
                "domain_name": s3_origin_domain(params["bucket"], bucket_region),
                "origin_path": params.get("origin_path") or "",
                "origin_access_control_id": params.get("origin_access_control_id") or "",
            }
        ],
        "cache_behaviors": [],
        "default_root_object": params.get("default_root_object") or "",
        "viewer_protocol_policy": "redirect-to-https",
        "cache_policy_id": params.get("cache_policy_id") or CACHING_OPTIMIZED_POLICY_ID,
        "price_class": params.get("price_class") or "PriceClass_200",
        "http_version": params.get("http_version") or "http2and3",
        "ipv6": bool(params.get("ipv6", True)),
        "certificate_arn": certificate,
        "custom_error_responses": sorted(
            (
                _error_response(
                    r["error_code"],
                    r.get("response_code"),
                    r.get("response_page_path"),
                    r.get("error_caching_min_ttl"),
                )
                for r in params.get("custom_error_responses") or []
            ),
            key=lambda r: r["error_code"],
        ),
    }
    # With CloudFront's default certificate, CloudFront itself sets the security policy (TLSv1).
    if certificate:
        settings["minimum_protocol_version"] = params.get("minimum_protocol_version") or "TLSv1.2_2021"
    if params.get("comment") is not None:
        settings["comment"] = params["comment"]
    return settings


def _items(container):
    return (container or {}).get("Items") or []


def _origin_settings(origin):
    return {
        "domain_name": origin.get("DomainName"),
        "origin_path": origin.get("OriginPath") or "",
        "origin_access_control_id": origin.get("OriginAccessControlId") or "",
    }


def current_settings(config):
    """A DistributionConfig's settings, keyed like desired_settings(). The origin the default
    cache behaviour targets comes first."""
    config = config or {}
    behaviour = config.get("DefaultCacheBehavior") or {}
    target = behaviour.get("TargetOriginId")
    origins = sorted(_items(config.get("Origins")), key=lambda o: (o.get("Id") != target, o.get("Id") or ""))
    certificate = config.get("ViewerCertificate") or {}
    certificate_arn = None
    if not certificate.get("CloudFrontDefaultCertificate"):
        certificate_arn = certificate.get("ACMCertificateArn") or certificate.get("IAMCertificateId") or None
    settings = {
        "enabled": bool(config.get("Enabled")),
        "comment": config.get("Comment") or "",
        "aliases": sorted(normalize_alias(a) for a in _items(config.get("Aliases"))),
        "origins": [_origin_settings(o) for o in origins],
        "cache_behaviors": [b.get("PathPattern") for b in _items(config.get("CacheBehaviors"))],
        "default_root_object": config.get("DefaultRootObject") or "",
        "viewer_protocol_policy": behaviour.get("ViewerProtocolPolicy"),
        "cache_policy_id": behaviour.get("CachePolicyId") or None,
        "price_class": config.get("PriceClass"),
        "http_version": config.get("HttpVersion"),
        "ipv6": bool(config.get("IsIPV6Enabled")),
        "certificate_arn": certificate_arn,
        "custom_error_responses": sorted(
            (
                _error_response(
                    r["ErrorCode"],
                    r.get("ResponseCode"),
                    r.get("ResponsePagePath"),
                    r.get("ErrorCachingMinTTL"),
                )
                for r in _items(config.get("CustomErrorResponses"))
            ),
            key=lambda r: r["error_code"],
        ),
    }
    if certificate_arn:
        settings["minimum_protocol_version"] = certificate.get("MinimumProtocolVersion")
    return settings


def plan_changes(desired, current):
    """(options that differ, sorted; the settings once changed)."""
    after = copy.deepcopy(current)
    if not desired.get("certificate_arn"):
        after.pop("minimum_protocol_version", None)
    after.update(copy.deepcopy(desired))
    changed = sorted(key for key, value in desired.items() if current.get(key) != value)
    return changed, after


# ---------------------------------------------------------------------------------------------
# Distributions: the DistributionConfig to send
# ---------------------------------------------------------------------------------------------

# DefaultCacheBehavior keys a cache policy replaces (CloudFront refuses them beside CachePolicyId).
_LEGACY_CACHE_KEYS = ("ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL")


def _origin(settings, current_origin):
    origin = {
        key: copy.deepcopy(value)
        for key, value in (current_origin or {}).items()
        if key not in ("CustomOriginConfig", "VpcOriginConfig")
    }
    s3_config = dict(origin.get("S3OriginConfig") or {})
    # With origin access control the legacy origin access identity must be empty (not absent).
    s3_config["OriginAccessIdentity"] = ""
    origin.update(
        {
            "Id": ORIGIN_ID,
            "DomainName": settings["domain_name"],
            "OriginPath": settings["origin_path"],
            "S3OriginConfig": s3_config,
            "OriginAccessControlId": settings["origin_access_control_id"],
        }
    )
    return origin


def _list(items):
    return {"Quantity": len(items), "Items": items} if items else {"Quantity": 0}


def build_config(settings, current_config=None, caller_reference=None, default_comment=""):
    """The DistributionConfig for a create (``current_config`` None) or an update.

    Settings this module manages come from ``settings`` (desired_settings()); what it does not
    manage (logging, geo restrictions, web ACL, the cache behaviour's function associations...)
    is kept from ``current_config``. Other origins and cache behaviours are removed: the
    distribution has one S3 origin."""
    current_config = current_config or {}
    config = copy.deepcopy(current_config)
    current_origin = next((o for o in _items(current_config.get("Origins")) if o.get("Id") == ORIGIN_ID), None)

    config["CallerReference"] = current_config.get("CallerReference") or caller_reference
    config["Comment"] = settings.get("comment", current_config.get("Comment", default_comment)) or ""
    config["Enabled"] = settings["enabled"]
    config["Aliases"] = _list(list(settings["aliases"]))
    config["DefaultRootObject"] = settings["default_root_object"]
    config["Origins"] = _list([_origin(settings["origins"][0], current_origin)])
    config["CacheBehaviors"] = {"Quantity": 0}
    config.setdefault("OriginGroups", {"Quantity": 0})

    behaviour = {
        k: v for k, v in (current_config.get("DefaultCacheBehavior") or {}).items() if k not in _LEGACY_CACHE_KEYS
    }
    behaviour.setdefault("Compress", True)
    behaviour.setdefault(
        "AllowedMethods",
        {"Quantity": 2, "Items": ["GET", "HEAD"], "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
    )
    behaviour.update(
        {
            "TargetOriginId": ORIGIN_ID,
            "ViewerProtocolPolicy": settings["viewer_protocol_policy"],
            "CachePolicyId": settings["cache_policy_id"],
        }
    )
    config["DefaultCacheBehavior"] = behaviour

    config["CustomErrorResponses"] = _list(
        [
            {
                key: value
                for key, value in (
                    ("ErrorCode", r["error_code"]),
                    ("ResponsePagePath", r["response_page_path"]),
                    ("ResponseCode", r["response_code"]),
                    ("ErrorCachingMinTTL", r["error_caching_min_ttl"]),
                )
                if value is not None
            }
            for r in settings["custom_error_responses"]
        ]
    )
    config["PriceClass"] = settings["price_class"]
    config["HttpVersion"] = settings["http_version"]
    config["IsIPV6Enabled"] = settings["ipv6"]
    if settings.get("certificate_arn"):
        config["ViewerCertificate"] = {
            "CloudFrontDefaultCertificate": False,
            "ACMCertificateArn": settings["certificate_arn"],
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": settings["minimum_protocol_version"],
        }
    else:
        config["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True}
    return config


def caller_reference(name, now=None):
    """A CallerReference for a new distribution: its name and the time, unique per creation (so a
    name can be used again after its distribution was deleted)."""
    now = now or datetime.datetime.now(UTC)
    return f"kumo.webstack:{name}:{now.strftime('%Y%m%dT%H%M%S.%fZ')}"


# ---------------------------------------------------------------------------------------------
# Distributions: what the module returns
# ---------------------------------------------------------------------------------------------


def bucket_policy_statement(bucket, origin_path, distribution_arn):
    """The S3 bucket policy statement that lets this distribution (and only it) read the
    objects under its origin path, through origin access control."""
    if not bucket or not distribution_arn:
        return None
    partition = distribution_arn.split(":")[1]
    return {
        "Sid": "CloudFrontRead" + distribution_arn.rsplit("/", 1)[-1],
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": f"arn:{partition}:s3:::{bucket}{origin_path or ''}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def _iso(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def distribution_result(distribution, tags, settings=None):
    """What cloudfront_s3_distribution returns for a GetDistribution answer, in one flat dict.

    ``settings`` (check mode) replaces what the answer's DistributionConfig says: the settings
    the distribution would get; ``distribution`` is None for one that does not exist yet."""
    if distribution is None and settings is None:
        return {}
    if settings is None:
        settings = current_settings(distribution.get("DistributionConfig"))
    origin = (settings.get("origins") or [{}])[0]
    distribution = distribution or {}
    arn = distribution.get("ARN")
    bucket = bucket_of(origin.get("domain_name"))
    result = {
        "id": distribution.get("Id"),
        "arn": arn,
        "domain_name": distribution.get("DomainName"),
        "hosted_zone_id": CLOUDFRONT_HOSTED_ZONE_ID,
        "status": distribution.get("Status"),
        "last_modified_time": _iso(distribution.get("LastModifiedTime")),
        "bucket": bucket,
        "origin_domain_name": origin.get("domain_name"),
        "origin_path": origin.get("origin_path", ""),
        "origin_access_control_id": origin.get("origin_access_control_id") or None,
        "tags": dict(tags or {}),
        "bucket_policy_statement": bucket_policy_statement(bucket, origin.get("origin_path"), arn),
    }
    for key in (
        "enabled",
        "comment",
        "aliases",
        "default_root_object",
        "price_class",
        "http_version",
        "ipv6",
        "cache_policy_id",
        "viewer_protocol_policy",
        "certificate_arn",
        "minimum_protocol_version",
        "custom_error_responses",
    ):
        result[key] = settings.get(key)
    return result


def diff_view(settings, tags):
    """What --diff shows for a distribution."""
    if settings is None:
        return {}
    view = copy.deepcopy(settings)
    view["tags"] = dict(tags or {})
    return view
