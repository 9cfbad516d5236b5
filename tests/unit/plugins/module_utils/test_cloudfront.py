"""Unit tests for plugins/module_utils/cloudfront.py: the pure helpers (settings, comparison, the
DistributionConfig sent, results), request shapes and the waiter with botocore's Stubber, and the
look-ups against in-process moto."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.module_utils import cloudfront

ACCOUNT = "123456789012"
DIST_ID = "E1A2B3C4D5E6F7"
DIST_ARN = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{DIST_ID}"
OAC_ID = "E2QWRUHAPOMQZL"
CERT_ARN = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0d7a4ac6-4e21-4e7e-9b1c-0e3bb6e8e2a1"


def params(**overrides):
    """The module's parameters with their defaults."""
    base = {
        "name": "sorry-example-com",
        "state": "present",
        "comment": None,
        "bucket": "sorry-pages",
        "bucket_region": None,
        "origin_path": "/example.com",
        "origin_access_control_id": OAC_ID,
        "aliases": [],
        "certificate_arn": None,
        "minimum_protocol_version": "TLSv1.2_2021",
        "default_root_object": "index.html",
        "custom_error_responses": [],
        "cache_policy_id": cloudfront.CACHING_OPTIMIZED_POLICY_ID,
        "price_class": "PriceClass_200",
        "http_version": "http2and3",
        "ipv6": True,
        "enabled": True,
        "tags": None,
        "purge_tags": True,
    }
    base.update(overrides)
    return base


SORRY_403 = {"error_code": 403, "response_code": 503, "response_page_path": "/index.html", "error_caching_min_ttl": 10}


def aws_config(**overrides):
    """A DistributionConfig as GetDistributionConfig answers for what the module creates."""
    config = {
        "CallerReference": "kumo.webstack:sorry-example-com:20250101T000000.000000Z",
        "Aliases": {"Quantity": 0},
        "DefaultRootObject": "index.html",
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "s3-origin",
                    "DomainName": "sorry-pages.s3.ap-northeast-1.amazonaws.com",
                    "OriginPath": "/example.com",
                    "CustomHeaders": {"Quantity": 0},
                    "S3OriginConfig": {"OriginAccessIdentity": "", "OriginReadTimeout": 30},
                    "ConnectionAttempts": 3,
                    "ConnectionTimeout": 10,
                    "OriginShield": {"Enabled": False},
                    "OriginAccessControlId": OAC_ID,
                }
            ],
        },
        "OriginGroups": {"Quantity": 0},
        "DefaultCacheBehavior": {
            "TargetOriginId": "s3-origin",
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {
                "Quantity": 2,
                "Items": ["HEAD", "GET"],
                "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]},
            },
            "Compress": True,
            "FunctionAssociations": {"Quantity": 0},
            "CachePolicyId": cloudfront.CACHING_OPTIMIZED_POLICY_ID,
        },
        "CacheBehaviors": {"Quantity": 0},
        "CustomErrorResponses": {"Quantity": 0},
        "Comment": "sorry-example-com",
        "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
        "PriceClass": "PriceClass_200",
        "Enabled": True,
        "ViewerCertificate": {
            "CloudFrontDefaultCertificate": True,
            "SSLSupportMethod": "vip",
            "MinimumProtocolVersion": "TLSv1",
            "CertificateSource": "cloudfront",
        },
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "",
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
    }
    config.update(overrides)
    return config


@pytest.fixture
def stubbed(aws_env):
    client = boto3.client("cloudfront", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


# --- validation -------------------------------------------------------------------------


def test_validate_accepts_the_defaults_and_a_full_site():
    assert cloudfront.validate_distribution_params(params()) == []
    full = params(aliases=["sorry.example.com"], certificate_arn=CERT_ARN, custom_error_responses=[SORRY_403])
    assert cloudfront.validate_distribution_params(full) == []
    assert cloudfront.validate_distribution_params(params(origin_path="")) == []


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"origin_path": "example.com"}, "origin_path 'example.com' must start with a slash"),
        ({"origin_path": "/example.com/"}, "origin_path '/example.com/' must start with a slash"),
        ({"default_root_object": "/index.html"}, "default_root_object '/index.html' is an object name"),
        ({"aliases": ["sorry.example.com"]}, "aliases need certificate_arn"),
        (
            {"certificate_arn": CERT_ARN.replace("us-east-1", "ap-northeast-1")},
            "must be the ARN of an ACM certificate in us-east-1",
        ),
        ({"origin_access_control_id": "oac-123"}, "origin_access_control_id 'oac-123' is not"),
        ({"comment": "x" * 129}, "comment must be at most 128 characters"),
        ({"custom_error_responses": [dict(SORRY_403, error_code=418)]}, "error_code 418 is not one CloudFront"),
        ({"custom_error_responses": [SORRY_403, SORRY_403]}, "lists error_code 403 twice"),
        (
            {"custom_error_responses": [{"error_code": 403, "response_code": 503, "response_page_path": None}]},
            "response_code and response_page_path go together",
        ),
        ({"custom_error_responses": [dict(SORRY_403, response_page_path="index.html")]}, "must start with a slash"),
        ({"custom_error_responses": [dict(SORRY_403, error_caching_min_ttl=-1)]}, "error_caching_min_ttl must be 0"),
        ({"tags": {"Name": "other"}}, "the Name tag is the distribution's identity"),
        ({"name": ""}, "name must be 1 to 128 characters"),
    ],
)
def test_validate_names_the_option(overrides, expected):
    problems = cloudfront.validate_distribution_params(params(**overrides))
    assert any(expected in p for p in problems), problems


def test_validate_absent_checks_only_the_name():
    assert cloudfront.validate_distribution_params(params(state="absent", origin_path="bad", bucket=None)) == []


# --- settings and comparison --------------------------------------------------------------


def test_desired_matches_what_aws_answers_for_it():
    desired = cloudfront.desired_settings(params(), "ap-northeast-1")
    current = cloudfront.current_settings(aws_config())
    changed, after = cloudfront.plan_changes(desired, current)
    assert changed == []
    assert after == current
    assert desired["origins"] == [
        {
            "domain_name": "sorry-pages.s3.ap-northeast-1.amazonaws.com",
            "origin_path": "/example.com",
            "origin_access_control_id": OAC_ID,
        }
    ]
    assert "comment" not in desired, "a comment left out is not compared"
    assert "minimum_protocol_version" not in desired, "CloudFront sets TLSv1 with its default certificate"


def test_error_responses_compare_as_a_set_with_string_status():
    four = dict(SORRY_403, error_code=404)
    desired = cloudfront.desired_settings(params(custom_error_responses=[four, SORRY_403]), "ap-northeast-1")
    config = aws_config(
        CustomErrorResponses={
            "Quantity": 2,
            "Items": [
                {"ErrorCode": 403, "ResponsePagePath": "/index.html", "ResponseCode": "503", "ErrorCachingMinTTL": 10},
                {"ErrorCode": 404, "ResponsePagePath": "/index.html", "ResponseCode": "503", "ErrorCachingMinTTL": 10},
            ],
        }
    )
    assert cloudfront.plan_changes(desired, cloudfront.current_settings(config))[0] == []
    assert [r["error_code"] for r in desired["custom_error_responses"]] == [403, 404]
    assert desired["custom_error_responses"][0]["response_code"] == "503"


def test_plan_lists_each_difference_and_the_state_after():
    desired = cloudfront.desired_settings(
        params(
            custom_error_responses=[SORRY_403],
            comment="Sorry",
            aliases=["Sorry.Example.com."],
            certificate_arn=CERT_ARN,
        ),
        "ap-northeast-1",
    )
    changed, after = cloudfront.plan_changes(desired, cloudfront.current_settings(aws_config()))
    assert changed == [
        "aliases",
        "certificate_arn",
        "comment",
        "custom_error_responses",
        "minimum_protocol_version",
    ]
    assert after["aliases"] == ["sorry.example.com"]
    assert after["minimum_protocol_version"] == "TLSv1.2_2021"


def test_plan_drops_the_security_policy_with_the_certificate():
    with_cert = aws_config(
        ViewerCertificate={
            "CloudFrontDefaultCertificate": False,
            "ACMCertificateArn": CERT_ARN,
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2021",
        }
    )
    current = cloudfront.current_settings(with_cert)
    assert current["certificate_arn"] == CERT_ARN
    changed, after = cloudfront.plan_changes(cloudfront.desired_settings(params(), "ap-northeast-1"), current)
    assert changed == ["certificate_arn"]
    assert "minimum_protocol_version" not in after


def test_other_origins_and_behaviours_are_differences():
    config = aws_config()
    other = {"Id": "alb", "DomainName": "shop.example.com", "OriginPath": ""}
    config["Origins"] = {"Quantity": 2, "Items": [other, config["Origins"]["Items"][0]]}
    config["CacheBehaviors"] = {"Quantity": 1, "Items": [{"PathPattern": "/api/*", "TargetOriginId": "alb"}]}
    current = cloudfront.current_settings(config)
    assert current["origins"][0]["domain_name"].startswith("sorry-pages."), "the default behaviour's origin first"
    changed, _after = cloudfront.plan_changes(cloudfront.desired_settings(params(), "ap-northeast-1"), current)
    assert changed == ["cache_behaviors", "origins"]


# --- the DistributionConfig sent ------------------------------------------------------------


def test_build_config_for_a_create():
    settings = cloudfront.desired_settings(
        params(custom_error_responses=[SORRY_403], aliases=["sorry.example.com"], certificate_arn=CERT_ARN),
        "ap-northeast-1",
    )
    settings["comment"] = "sorry-example-com"
    config = cloudfront.build_config(settings, caller_reference="ref")
    assert config["CallerReference"] == "ref"
    assert config["Origins"]["Items"] == [
        {
            "Id": "s3-origin",
            "DomainName": "sorry-pages.s3.ap-northeast-1.amazonaws.com",
            "OriginPath": "/example.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
            "OriginAccessControlId": OAC_ID,
        }
    ]
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["TargetOriginId"] == "s3-origin"
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["CachePolicyId"] == cloudfront.CACHING_OPTIMIZED_POLICY_ID
    assert behaviour["AllowedMethods"]["Items"] == ["GET", "HEAD"]
    assert config["CustomErrorResponses"] == {
        "Quantity": 1,
        "Items": [
            {"ErrorCode": 403, "ResponsePagePath": "/index.html", "ResponseCode": "503", "ErrorCachingMinTTL": 10}
        ],
    }
    assert config["ViewerCertificate"] == {
        "CloudFrontDefaultCertificate": False,
        "ACMCertificateArn": CERT_ARN,
        "SSLSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert config["Aliases"] == {"Quantity": 1, "Items": ["sorry.example.com"]}
    assert (config["PriceClass"], config["HttpVersion"], config["IsIPV6Enabled"]) == (
        "PriceClass_200",
        "http2and3",
        True,
    )
    assert config["Comment"] == "sorry-example-com"
    # What was sent reads back as what was asked for.
    assert cloudfront.plan_changes(settings, cloudfront.current_settings(config))[0] == []


def test_build_config_for_an_update_keeps_what_it_does_not_manage():
    current = aws_config(
        WebACLId="arn:aws:wafv2:us-east-1:123456789012:global/webacl/sorry/1",
        Logging={"Enabled": True, "IncludeCookies": False, "Bucket": "logs.s3.amazonaws.com", "Prefix": "cf/"},
    )
    current["DefaultCacheBehavior"]["ForwardedValues"] = {"QueryString": False, "Cookies": {"Forward": "none"}}
    current["DefaultCacheBehavior"]["MinTTL"] = 0
    current["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] = "67f7725c-6f97-4210-82d7-5512b31e9d03"
    settings = cloudfront.desired_settings(params(enabled=False, custom_error_responses=[SORRY_403]), "ap-northeast-1")
    _changed, after = cloudfront.plan_changes(settings, cloudfront.current_settings(current))
    config = cloudfront.build_config(after, current)
    assert config["CallerReference"] == current["CallerReference"]
    assert config["WebACLId"] == current["WebACLId"]
    assert config["Logging"] == current["Logging"]
    assert config["Comment"] == "sorry-example-com", "an existing comment is kept"
    assert config["Enabled"] is False
    behaviour = config["DefaultCacheBehavior"]
    assert "ForwardedValues" not in behaviour and "MinTTL" not in behaviour, "CloudFront refuses them with a policy"
    assert behaviour["ResponseHeadersPolicyId"] == "67f7725c-6f97-4210-82d7-5512b31e9d03"
    origin = config["Origins"]["Items"][0]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": "", "OriginReadTimeout": 30}
    assert origin["OriginShield"] == {"Enabled": False}
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert current["Enabled"] is True, "the current config is not changed in place"


def test_caller_reference_is_unique_per_creation():
    when = datetime.datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=cloudfront.UTC)
    assert cloudfront.caller_reference("sorry", when) == "kumo.webstack:sorry:20250102T030405.000006Z"


# --- results ---------------------------------------------------------------------------------


def test_bucket_policy_statement():
    statement = cloudfront.bucket_policy_statement("sorry-pages", "/example.com", DIST_ARN)
    assert statement == {
        "Sid": f"CloudFrontRead{DIST_ID}",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::sorry-pages/example.com/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": DIST_ARN}},
    }
    assert cloudfront.bucket_policy_statement("b", "", DIST_ARN)["Resource"] == "arn:aws:s3:::b/*"
    china = DIST_ARN.replace("arn:aws:", "arn:aws-cn:")
    assert cloudfront.bucket_policy_statement("b", "", china)["Resource"] == "arn:aws-cn:s3:::b/*"
    assert cloudfront.bucket_policy_statement("b", "", None) is None


def test_distribution_result():
    distribution = {
        "Id": DIST_ID,
        "ARN": DIST_ARN,
        "Status": "Deployed",
        "DomainName": "d111111abcdef8.cloudfront.net",
        "LastModifiedTime": datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=cloudfront.UTC),
        "DistributionConfig": aws_config(),
    }
    result = cloudfront.distribution_result(distribution, {"Name": "sorry-example-com"})
    assert result["id"] == DIST_ID
    assert result["arn"] == DIST_ARN
    assert result["domain_name"] == "d111111abcdef8.cloudfront.net"
    assert result["hosted_zone_id"] == "Z2FDTNDATAQYW2"
    assert result["status"] == "Deployed"
    assert result["last_modified_time"] == "2025-01-02T03:04:05Z"
    assert result["bucket"] == "sorry-pages"
    assert result["origin_path"] == "/example.com"
    assert result["origin_access_control_id"] == OAC_ID
    assert result["bucket_policy_statement"]["Resource"] == "arn:aws:s3:::sorry-pages/example.com/*"
    assert result["certificate_arn"] is None
    assert result["tags"] == {"Name": "sorry-example-com"}


def test_distribution_result_in_check_mode_before_creation():
    settings = cloudfront.desired_settings(params(), "ap-northeast-1")
    result = cloudfront.distribution_result(None, {"Name": "n"}, settings)
    assert result["id"] is None and result["arn"] is None
    assert result["bucket_policy_statement"] is None
    assert result["bucket"] == "sorry-pages"
    assert cloudfront.distribution_result(None, {}) == {}


def test_bucket_of():
    assert cloudfront.bucket_of("sorry-pages.s3.ap-northeast-1.amazonaws.com") == "sorry-pages"
    assert cloudfront.bucket_of("sorry.pages.s3.amazonaws.com") == "sorry.pages"
    assert cloudfront.bucket_of("shop.example.com") is None
    assert cloudfront.bucket_of(None) is None


# --- origin access controls ------------------------------------------------------------------


def test_oac_settings_plan_and_config():
    summary = {
        "Id": OAC_ID,
        "Name": "sorry-pages",
        "SigningProtocol": "sigv4",
        "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3",
    }
    current = cloudfront.oac_settings(summary)
    assert current["description"] == ""
    wanted = {"name": "sorry-pages", "description": None, "origin_type": "s3"}
    wanted.update(signing_behavior="always", signing_protocol="sigv4")
    assert cloudfront.oac_plan(cloudfront.oac_desired(wanted), current) == ([], current)
    changed, after = cloudfront.oac_plan(cloudfront.oac_desired(dict(wanted, signing_behavior="no-override")), current)
    assert changed == ["signing_behavior"]
    assert cloudfront.oac_config(after) == {
        "Name": "sorry-pages",
        "Description": "",
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "no-override",
        "SigningProtocol": "sigv4",
    }
    assert cloudfront.oac_result({"Id": OAC_ID, "OriginAccessControlConfig": summary})["id"] == OAC_ID
    assert cloudfront.oac_result(None) == {}


def test_distributions_using():
    summaries = [
        {"Id": "A", "Origins": {"Items": [{"Id": "s3", "OriginAccessControlId": OAC_ID}]}},
        {"Id": "B", "Origins": {"Items": [{"Id": "s3", "OriginAccessControlId": ""}]}},
        {"Id": "C", "Origins": {"Quantity": 0}},
    ]
    assert cloudfront.distributions_using(summaries, OAC_ID) == ["A"]
    assert cloudfront.distributions_using([], OAC_ID) == []


# --- request shapes and the waiter (Stubber) -------------------------------------------------


def test_create_distribution_sends_the_tags_in_the_create_call(stubbed):
    client, stubber = stubbed
    config = cloudfront.build_config(
        dict(cloudfront.desired_settings(params(), "ap-northeast-1"), comment="c"), caller_reference="ref"
    )
    answer = {"Id": DIST_ID, "ARN": DIST_ARN, "Status": "InProgress", "DomainName": "d.cloudfront.net"}
    answer.update(LastModifiedTime=datetime.datetime(2025, 1, 1), InProgressInvalidationBatches=0)
    answer["DistributionConfig"] = config
    stubber.add_response(
        "create_distribution_with_tags",
        {"Distribution": answer, "ETag": "E1"},
        {
            "DistributionConfigWithTags": {
                "DistributionConfig": config,
                "Tags": {"Items": [{"Key": "Name", "Value": "sorry"}]},
            }
        },
    )
    distribution, etag = cloudfront.create_distribution(client, config, {"Name": "sorry"})
    assert (distribution["Id"], etag) == (DIST_ID, "E1")


def test_update_and_delete_send_the_etag(stubbed):
    client, stubber = stubbed
    config = aws_config()
    answer = {"Id": DIST_ID, "ARN": DIST_ARN, "Status": "InProgress", "DomainName": "d.cloudfront.net"}
    answer.update(LastModifiedTime=datetime.datetime(2025, 1, 1), InProgressInvalidationBatches=0)
    answer["DistributionConfig"] = config
    stubber.add_response(
        "update_distribution",
        {"Distribution": answer, "ETag": "E2"},
        {"Id": DIST_ID, "IfMatch": "E1", "DistributionConfig": config},
    )
    stubber.add_response("delete_distribution", {}, {"Id": DIST_ID, "IfMatch": "E2"})
    stubber.add_client_error("delete_distribution", "NoSuchDistribution", http_status_code=404)
    assert cloudfront.update_distribution(client, DIST_ID, config, "E1")[1] == "E2"
    assert cloudfront.delete_distribution(client, DIST_ID, "E2") is True
    assert cloudfront.delete_distribution(client, DIST_ID, "E2") is False, "already gone"


def test_tags_calls(stubbed):
    client, stubber = stubbed
    stubber.add_response(
        "list_tags_for_resource", {"Tags": {"Items": [{"Key": "Name", "Value": "s"}]}}, {"Resource": DIST_ARN}
    )
    stubber.add_response(
        "tag_resource", {}, {"Resource": DIST_ARN, "Tags": {"Items": [{"Key": "Stack", "Value": "sorry"}]}}
    )
    stubber.add_response("untag_resource", {}, {"Resource": DIST_ARN, "TagKeys": {"Items": ["Old"]}})
    assert cloudfront.list_tags(client, DIST_ARN) == {"Name": "s"}
    cloudfront.tag_resource(client, DIST_ARN, {"Stack": "sorry"})
    cloudfront.untag_resource(client, DIST_ARN, ["Old"])


def test_delete_origin_access_control_in_use_raises_with_the_code(stubbed):
    client, stubber = stubbed
    stubber.add_client_error(
        "delete_origin_access_control",
        "OriginAccessControlInUse",
        http_status_code=409,
        expected_params={"Id": OAC_ID, "IfMatch": "E1"},
    )
    stubber.add_client_error("delete_origin_access_control", "NoSuchOriginAccessControl", http_status_code=404)
    with pytest.raises(cloudfront.AnsibleCloudFrontError) as raised:
        cloudfront.delete_origin_access_control(client, OAC_ID, "E1")
    assert raised.value.exception.response["Error"]["Code"] == "OriginAccessControlInUse"
    assert cloudfront.delete_origin_access_control(client, OAC_ID, "E1") is False


def _distribution(status):
    return {
        "Distribution": {
            "Id": DIST_ID,
            "ARN": DIST_ARN,
            "Status": status,
            "DomainName": "d.cloudfront.net",
            "LastModifiedTime": datetime.datetime(2025, 1, 1),
            "InProgressInvalidationBatches": 0,
            "DistributionConfig": aws_config(),
        },
        "ETag": "E1",
    }


@pytest.fixture
def no_sleep(monkeypatch):
    import botocore.waiter

    monkeypatch.setattr(botocore.waiter.time, "sleep", lambda _seconds: None)


def test_wait_deployed_polls_through_in_progress_and_throttling(stubbed, no_sleep):
    client, stubber = stubbed
    stubber.add_response("get_distribution", _distribution("InProgress"), {"Id": DIST_ID})
    stubber.add_client_error("get_distribution", "Throttling", http_status_code=400)
    stubber.add_response("get_distribution", _distribution("Deployed"), {"Id": DIST_ID})
    cloudfront.wait_deployed(client, DIST_ID, 60)


def test_wait_deployed_times_out_with_what_to_do(stubbed, no_sleep):
    client, stubber = stubbed
    config = cloudfront.custom_waiter_config(30, default_pause=cloudfront.DEPLOYED_POLL_DELAY)
    for _attempt in range(config["MaxAttempts"]):
        stubber.add_response("get_distribution", _distribution("InProgress"), {"Id": DIST_ID})
    with pytest.raises(cloudfront.AnsibleCloudFrontError) as raised:
        cloudfront.wait_deployed(client, DIST_ID, 30)
    assert "still InProgress after 30 seconds" in raised.value.message
    assert "Run the task again" in raised.value.message


def test_wait_deployed_fails_when_the_distribution_is_gone(stubbed, no_sleep):
    client, stubber = stubbed
    stubber.add_client_error("get_distribution", "NoSuchDistribution", http_status_code=404)
    with pytest.raises(cloudfront.AnsibleCloudFrontError) as raised:
        cloudfront.wait_deployed(client, DIST_ID, 60)
    assert "Failed while waiting" in raised.value.message


# --- look-ups against moto -------------------------------------------------------------------


def _create(client, name, tags=None, reference=None):
    settings = dict(cloudfront.desired_settings(params(name=name), "ap-northeast-1"), comment=name)
    config = cloudfront.build_config(settings, caller_reference=reference or name)
    return cloudfront.create_distribution(client, config, dict(tags or {}, Name=name))[0]


@mock_aws
def test_find_distribution_by_its_name_tag(aws_env):
    client = boto3.client("cloudfront", region_name="us-east-1")
    assert cloudfront.find_distribution(client, "sorry-example-com") == (None, {})
    mine = _create(client, "sorry-example-com", {"Stack": "sorry"})
    _create(client, "sorry-example-org")
    summary, tags = cloudfront.find_distribution(client, "sorry-example-com")
    assert summary["Id"] == mine["Id"]
    assert tags == {"Name": "sorry-example-com", "Stack": "sorry"}


@mock_aws
def test_find_distribution_refuses_two_with_one_name(aws_env):
    client = boto3.client("cloudfront", region_name="us-east-1")
    first = _create(client, "twin", reference="one")
    second = _create(client, "twin", reference="two")
    with pytest.raises(cloudfront.AnsibleCloudFrontError) as raised:
        cloudfront.find_distribution(client, "twin")
    assert first["Id"] in raised.value.message and second["Id"] in raised.value.message


@mock_aws
def test_find_origin_access_control_by_name(aws_env):
    client = boto3.client("cloudfront", region_name="us-east-1")
    assert cloudfront.find_origin_access_control(client, "sorry-pages") is None
    config = cloudfront.oac_config(
        {"name": "sorry-pages", "origin_type": "s3", "signing_behavior": "always", "signing_protocol": "sigv4"}
    )
    control, etag = cloudfront.create_origin_access_control(client, config)
    assert etag
    assert cloudfront.find_origin_access_control(client, "sorry-pages")["Id"] == control["Id"]
    assert cloudfront.get_origin_access_control(client, control["Id"])[0]["Id"] == control["Id"]
    assert cloudfront.get_origin_access_control(client, "E0000000000000") == (None, None)
    # moto (without the emulator's fix) accepts a second control with the same name.
    cloudfront.create_origin_access_control(client, config)
    with pytest.raises(cloudfront.AnsibleCloudFrontError):
        cloudfront.find_origin_access_control(client, "sorry-pages")
