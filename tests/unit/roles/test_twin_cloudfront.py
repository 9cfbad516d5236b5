"""roles/twin/files/cloudfront.py, the twin's CloudFront + S3 stand-in: its pure logic (which
distribution a name is, which key a path is, which error response applies, what the bucket
policy lets CloudFront read) and its SigV4 signature. The integration test (test_twin.py) runs it."""

from __future__ import annotations

import datetime
import importlib.util
import json
from pathlib import Path
from unittest import mock

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SPEC = importlib.util.spec_from_file_location(
    "twin_cloudfront", Path(__file__).parents[3] / "roles" / "twin" / "files" / "cloudfront.py"
)
cloudfront = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(cloudfront)

BUCKET = "shop-sorry-123456789012-ap-northeast-1"
ARN = "arn:aws:cloudfront::123456789012:distribution/"


def distribution(did, *, alias=None, prefix="www", control="E2OAC", root="index.html", errors=((403, "503"),)):
    """A Distribution as GetDistribution answers (the fields the stand-in reads)."""
    return {
        "Id": did,
        "ARN": ARN + did,
        "DomainName": f"{did.lower()}.cloudfront.net",
        "DistributionConfig": {
            "Enabled": True,
            "Aliases": {"Quantity": 1, "Items": [alias]} if alias else {"Quantity": 0},
            "DefaultRootObject": root,
            "Origins": {
                "Quantity": 2,
                "Items": [
                    {"Id": "other", "DomainName": "other.s3.ap-northeast-1.amazonaws.com", "OriginPath": ""},
                    {
                        "Id": "s3",
                        "DomainName": f"{BUCKET}.s3.ap-northeast-1.amazonaws.com",
                        "OriginPath": f"/{prefix}" if prefix else "",
                        "OriginAccessControlId": control,
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    },
                ],
            },
            "DefaultCacheBehavior": {"TargetOriginId": "s3"},
            "CustomErrorResponses": {
                "Quantity": len(errors),
                "Items": [
                    {"ErrorCode": code, "ResponsePagePath": "/index.html", "ResponseCode": response}
                    for code, response in errors
                ],
            },
        },
    }


def grant(did, prefix="www"):
    """The statement the sorry pages role puts in the bucket policy for one distribution."""
    return {
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/{prefix}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": ARN + did}},
    }


DENY_HTTP = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


@pytest.fixture
def config():
    """Two distributions of one bucket; the policy lets only the first read."""
    raw = {
        "s3_endpoint": "http://172.18.0.1:5000/",
        "region": "ap-northeast-1",
        "distributions": [
            distribution("E1WWW", alias="WWW-Shop.sorry.example."),
            distribution("E2API", prefix="api", errors=()),
        ],
        "policies": {BUCKET: json.dumps({"Version": "2012-10-17", "Statement": [DENY_HTTP, grant("E1WWW")]})},
    }
    return cloudfront.render(raw)


def test_render_maps_each_name_to_its_distribution(config):
    assert config["s3_endpoint"] == "http://172.18.0.1:5000"
    assert config["hosts"] == {
        "e1www.cloudfront.net": "E1WWW",
        "e2api.cloudfront.net": "E2API",
        "www-shop.sorry.example": "E1WWW",
    }
    www, api = config["distributions"]["E1WWW"], config["distributions"]["E2API"]
    assert www["bucket"] == BUCKET and www["origin_path"] == "/www"  # the default behaviour's origin
    assert www["origin_access_control_id"] == "E2OAC"
    assert www["error_responses"] == {"403": {"response_code": 503, "page_path": "/index.html"}}
    assert (www["readable"], www["listable"]) == (True, False)
    assert (api["readable"], api["error_responses"]) == (False, {})  # no grant for its ARN


@pytest.mark.parametrize(
    "statements, service, context, resource, allowed",
    [
        (
            [DENY_HTTP, grant("E1")],
            "cloudfront.amazonaws.com",
            {"aws:SourceArn": ARN + "E1", "aws:SecureTransport": "false"},
            "www/*",
            False,
        ),
        (
            [DENY_HTTP, grant("E1")],
            "cloudfront.amazonaws.com",
            {"aws:SourceArn": ARN + "E1", "aws:SecureTransport": "true"},
            "www/*",
            True,
        ),
        ([grant("E1")], "cloudfront.amazonaws.com", {"aws:SourceArn": ARN + "E2"}, "www/*", False),  # other ARN
        ([grant("E1")], "cloudfront.amazonaws.com", {}, "www/*", False),  # no SourceArn at all
        ([grant("E1")], None, {"aws:SourceArn": ARN + "E1"}, "www/*", False),  # anonymous, not CloudFront
        ([grant("E1")], "cloudfront.amazonaws.com", {"aws:SourceArn": ARN + "E1"}, "api/*", False),  # other prefix
        ([grant("E1", prefix="*")], "cloudfront.amazonaws.com", {"aws:sourcearn": ARN + "E1"}, "www/*", True),
        ([dict(grant("E1"), Resource=f"arn:aws:s3:::{BUCKET}/www/index.html")], "cloudfront.amazonaws.com",
         {"aws:SourceArn": ARN + "E1"}, "www/*", False),  # one key only: not the whole origin path
        ([dict(grant("E1"), Principal="*", Condition={})], None, {}, "www/*", True),  # public read
        ([dict(grant("E1"), Condition={"ArnLike": {"aws:SourceArn": ARN + "*"}})], "cloudfront.amazonaws.com",
         {"aws:SourceArn": ARN + "E9"}, "www/*", True),
        ([dict(grant("E1"), Condition={"StringEqualsIfExists": {"aws:SourceAccount": "1"}})],
         "cloudfront.amazonaws.com", {}, "www/*", True),
        ([dict(grant("E1"), Condition={"NumericLessThan": {"aws:EpochTime": "1"}})],
         "cloudfront.amazonaws.com", {"aws:EpochTime": "0"}, "www/*", False),  # not modelled: never holds
        ([dict(grant("E1"), Effect="Deny", Condition={}), grant("E1")], "cloudfront.amazonaws.com",
         {"aws:SourceArn": ARN + "E1"}, "www/*", False),  # a Deny wins
        ([], "cloudfront.amazonaws.com", {"aws:SourceArn": ARN + "E1"}, "www/*", False),
    ],
)  # fmt: skip
def test_policy_allows(statements, service, context, resource, allowed):
    policy = {"Version": "2012-10-17", "Statement": statements}
    target = f"arn:aws:s3:::{BUCKET}/{resource}"
    assert cloudfront.policy_allows(policy, "s3:GetObject", target, service, context) is allowed
    assert cloudfront.policy_allows(None, "s3:GetObject", target, service, context) is False


def test_without_origin_access_control_only_a_public_policy_lets_it_read():
    public = dict(grant("E1"), Principal={"AWS": "*"}, Condition={})
    for statements, readable in (([grant("E1")], False), ([public], True)):
        raw = {
            "s3_endpoint": "http://s3",
            "region": "ap-northeast-1",
            "distributions": [distribution("E1", prefix="www", control="")],
            "policies": {BUCKET: {"Statement": statements}},
        }
        assert cloudfront.render(raw)["distributions"]["E1"]["readable"] is readable


@pytest.mark.parametrize(
    "origin_path, root, target, key",
    [
        ("/www", "index.html", "/", "www/index.html"),
        ("/www", "index.html", "/?v=2", "www/index.html"),  # the query string is not forwarded
        ("/www", "index.html", "/css/a%20b.css?x=1", "www/css/a b.css"),
        ("/www", "index.html", "/sub/", "www/sub/"),  # the root object only at the top
        ("", "index.html", "/img/x.png", "img/x.png"),
        ("", "", "/", ""),  # the bucket itself: never read
    ],
)
def test_object_key(origin_path, root, target, key):
    assert cloudfront.object_key({"origin_path": origin_path, "default_root_object": root}, target) == key


def test_error_response(config):
    www = config["distributions"]["E1WWW"]
    assert cloudfront.error_response(www, 403) == {"response_code": 503, "page_path": "/index.html"}
    assert cloudfront.error_response(www, 404) is None


def fake_s3(objects, calls=None):
    def fetch(bucket, key):
        if calls is not None:
            calls.append(key)
        if key == "www/broken":
            return 500, {}, b"S3 failed"
        if (bucket, key) in objects:
            return 200, {"Content-Type": "text/html", "ETag": '"1"'}, objects[(bucket, key)]
        return 404, {}, b"<Error><Code>NoSuchKey</Code></Error>"

    return fetch


def test_respond(config):
    calls = []
    fetch = fake_s3({(BUCKET, "www/index.html"): b"sorry", (BUCKET, "api/index.html"): b"api"}, calls)
    status, headers, body = cloudfront.respond(config, "www-shop.sorry.example:443", "GET", "/", fetch)
    assert (status, headers["Content-Type"], body) == (200, "text/html", b"sorry")
    assert headers["X-Cache"] == "Miss from cloudfront"
    # a missing key: S3 hides it (403), the custom error response sends the page with 503
    assert cloudfront.respond(config, "e1www.cloudfront.net", "GET", "/missing", fetch)[::2] == (503, b"sorry")
    assert calls[-2:] == ["www/missing", "www/index.html"]
    # S3's own failure has no custom error response: it passes through, as CloudFront's error page
    status, headers, body = cloudfront.respond(config, "e1www.cloudfront.net", "GET", "/broken", fetch)
    assert (status, headers["X-Cache"]) == (500, "Error from cloudfront") and b"could not be satisfied" in body
    # a name no distribution has, and a method the default behaviour does not allow
    assert cloudfront.respond(config, "evil.example", "GET", "/", fetch)[0] == 403
    assert cloudfront.respond(config, "e1www.cloudfront.net", "POST", "/", fetch)[0] == 403
    # the policy does not let the second distribution read: S3 is not even asked
    calls.clear()
    assert cloudfront.respond(config, "e2api.cloudfront.net", "GET", "/", fetch)[0] == 403
    assert calls == []


def test_respond_with_list_bucket_or_an_unreadable_error_page(config):
    www = config["distributions"]["E1WWW"]
    fetch = fake_s3({})
    # the 403 has a custom error response, but its page is missing too: the original error
    status, _, body = cloudfront.respond(config, "e1www.cloudfront.net", "GET", "/", fetch)
    assert status == 403 and b"could not be satisfied" in body
    # ListBucket granted: a missing key is 404, which has no custom error response here
    www["listable"] = True
    assert cloudfront.respond(config, "e1www.cloudfront.net", "GET", "/missing", fetch)[0] == 404
    www["enabled"] = False  # a disabled distribution answers like an unknown name
    assert cloudfront.site_for(config, "e1www.cloudfront.net") is None


def test_sigv4_matches_botocore():
    url = f"http://172.18.0.1:5000/{BUCKET}/www/a%20b.html"
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    ours = cloudfront.sigv4_headers("GET", url, "ap-northeast-1", now, key=("AKID", "secret"))
    request = AWSRequest(method="GET", url=url)
    with mock.patch("botocore.auth.get_current_datetime", return_value=now.replace(tzinfo=None)):
        S3SigV4Auth(Credentials("AKID", "secret"), "s3", "ap-northeast-1").add_auth(request)
    assert ours["authorization"] == request.headers["Authorization"]
