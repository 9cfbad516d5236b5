"""Unit tests for cloudfront_s3_distribution and cloudfront_origin_access_control, against
in-process moto with the emulator's CloudFront fixes applied (scripts/emulator_fixes/cloudfront.py:
without them moto forgets an origin's OriginAccessControlId, accepts any IfMatch and deletes an
enabled distribution, so these flows could not be told from broken ones)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.module_utils import cloudfront
from ansible_collections.kumo.webstack.plugins.modules import cloudfront_origin_access_control as oac_module
from ansible_collections.kumo.webstack.plugins.modules import cloudfront_s3_distribution as module

SCRIPTS = Path(__file__).resolve().parents[4] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))
emulator_fixes = importlib.import_module("emulator_fixes")

CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0d7a4ac6-4e21-4e7e-9b1c-0e3bb6e8e2a1"
SORRY_403 = {"error_code": 403, "response_code": 503, "response_page_path": "/index.html"}


@pytest.fixture
def aws(aws_env):
    with emulator_fixes.applied(*(f.apply for f in emulator_fixes.fixes("cloudfront"))), mock_aws():
        yield boto3.client("cloudfront", region_name="us-east-1")


@pytest.fixture
def oac(aws, run_module):
    return run_module(oac_module, {"name": "sorry-pages"})["origin_access_control"]["id"]


@pytest.fixture
def site(oac):
    return {
        "name": "sorry-example-com",
        "bucket": "sorry-pages",
        "origin_path": "/example.com",
        "origin_access_control_id": oac,
        "tags": {"Stack": "sorry", "ManagedBy": "kumo.webstack"},
    }


def _ids(client):
    return [d["Id"] for d in client.list_distributions()["DistributionList"].get("Items") or []]


def _tags(client, distribution_id):
    arn = client.get_distribution(Id=distribution_id)["Distribution"]["ARN"]
    return {t["Key"]: t["Value"] for t in client.list_tags_for_resource(Resource=arn)["Tags"].get("Items") or []}


# --- origin access control ---------------------------------------------------------------


def test_oac_create_check_mode_then_create_then_no_op(aws, run_module):
    check = run_module(oac_module, {"name": "sorry-pages"}, check_mode=True, diff=True)
    assert check["changed"] is True
    assert "id" not in check["origin_access_control"]
    assert check["diff"]["after"]["signing_behavior"] == "always"
    assert aws.list_origin_access_controls()["OriginAccessControlList"]["Quantity"] == 0

    created = run_module(oac_module, {"name": "sorry-pages", "description": "sorry"})
    assert created["changed"] is True
    control = created["origin_access_control"]
    assert control["origin_type"] == "s3" and control["signing_protocol"] == "sigv4"

    again = run_module(oac_module, {"name": "sorry-pages"}, check_mode=True)
    assert again["changed"] is False, "a description left out is kept"
    assert again["origin_access_control"] == control


def test_oac_update_only_what_differs(aws, run_module):
    control_id = run_module(oac_module, {"name": "sorry-pages"})["origin_access_control"]["id"]
    check = run_module(oac_module, {"name": "sorry-pages", "signing_behavior": "never"}, check_mode=True, diff=True)
    assert check["changed"] is True
    assert check["diff"]["before"]["signing_behavior"] == "always"
    assert check["origin_access_control"]["signing_behavior"] == "never"
    assert aws.get_origin_access_control(Id=control_id)["OriginAccessControl"]["OriginAccessControlConfig"][
        "SigningBehavior"
    ] == ("always")

    updated = run_module(oac_module, {"name": "sorry-pages", "signing_behavior": "never"})
    assert updated["changed"] is True
    assert updated["origin_access_control"]["id"] == control_id
    assert updated["origin_access_control"]["signing_behavior"] == "never"
    assert run_module(oac_module, {"name": "sorry-pages", "signing_behavior": "never"})["changed"] is False


def test_oac_absent_check_mode_then_delete_then_no_op(aws, run_module):
    run_module(oac_module, {"name": "sorry-pages"})
    assert run_module(oac_module, {"name": "sorry-pages", "state": "absent"}, check_mode=True)["changed"] is True
    assert aws.list_origin_access_controls()["OriginAccessControlList"]["Quantity"] == 1
    assert run_module(oac_module, {"name": "sorry-pages", "state": "absent"})["changed"] is True
    assert aws.list_origin_access_controls()["OriginAccessControlList"]["Quantity"] == 0
    assert run_module(oac_module, {"name": "sorry-pages", "state": "absent"})["changed"] is False


def test_oac_in_use_is_refused_naming_the_distribution(aws, run_module, site):
    distribution_id = run_module(module, site)["distribution"]["id"]
    for check_mode in (True, False):
        refused = run_module(oac_module, {"name": "sorry-pages", "state": "absent"}, check_mode=check_mode)
        assert refused.failed
        assert not refused.get("changed")
        assert refused["distributions"] == [distribution_id]
        assert "still used by the origin of distribution(s) " + distribution_id in refused["msg"]
    assert aws.list_origin_access_controls()["OriginAccessControlList"]["Quantity"] == 1


def test_oac_in_use_race_is_reported_too(aws, run_module, monkeypatch):
    """CloudFront's own refusal (a distribution started using the control after the check)."""
    run_module(oac_module, {"name": "sorry-pages"})
    calls = iter([[], [{"Id": "E1RACE", "Origins": {"Items": [{"OriginAccessControlId": "x"}]}}]])
    monkeypatch.setattr(cloudfront, "list_distributions", lambda _client: next(calls))
    monkeypatch.setattr(cloudfront, "distributions_using", lambda summaries, _id: [s["Id"] for s in summaries])

    def in_use(*_args):
        from botocore.exceptions import ClientError

        error = ClientError({"Error": {"Code": "OriginAccessControlInUse", "Message": "in use"}}, "Delete")
        raise cloudfront.AnsibleCloudFrontError(message="Failed to delete origin access control", exception=error)

    monkeypatch.setattr(cloudfront, "delete_origin_access_control", in_use)
    refused = run_module(oac_module, {"name": "sorry-pages", "state": "absent"})
    assert refused.failed
    assert refused["distributions"] == ["E1RACE"]


def test_oac_bad_name_fails_before_any_call(aws_env, run_module, no_api):
    result = run_module(oac_module, {"name": "x" * 65})
    assert result.failed and "name must be 1 to 64 characters" in result["msg"]


# --- distribution: create and compare ----------------------------------------------------


def test_create_check_mode_creates_nothing(aws, run_module, site):
    check = run_module(module, site, check_mode=True, diff=True)
    assert check["changed"] is True
    assert check["distribution"]["id"] is None
    assert check["distribution"]["bucket_policy_statement"] is None
    assert check["diff"]["before"] == {}
    assert check["diff"]["after"]["comment"] == "sorry-example-com"
    assert check["diff"]["after"]["tags"] == {
        "Name": "sorry-example-com",
        "Stack": "sorry",
        "ManagedBy": "kumo.webstack",
    }
    assert _ids(aws) == []


def test_create_then_second_run_is_a_no_op(aws, run_module, site, oac):
    created = run_module(module, site, diff=True)
    assert created["changed"] is True, created
    distribution = created["distribution"]
    assert distribution["status"] == "Deployed", "waited"
    assert distribution["origin_access_control_id"] == oac
    assert distribution["origin_domain_name"] == "sorry-pages.s3.ap-northeast-1.amazonaws.com"
    assert distribution["bucket_policy_statement"]["Condition"] == {
        "StringEquals": {"AWS:SourceArn": distribution["arn"]}
    }
    assert distribution["bucket_policy_statement"]["Resource"] == "arn:aws:s3:::sorry-pages/example.com/*"
    assert distribution["tags"] == {"Name": "sorry-example-com", "Stack": "sorry", "ManagedBy": "kumo.webstack"}
    assert created["diff"]["after"]["origins"][0]["origin_access_control_id"] == oac

    config = aws.get_distribution_config(Id=distribution["id"])["DistributionConfig"]
    assert config["CallerReference"].startswith("kumo.webstack:sorry-example-com:")
    assert config["ViewerCertificate"]["CloudFrontDefaultCertificate"] is True
    assert config["PriceClass"] == "PriceClass_200"

    for check_mode in (True, False):
        again = run_module(module, dict(site, aliases=[]), check_mode=check_mode)
        assert again["changed"] is False, again
        assert again["distribution"]["id"] == distribution["id"]
    assert _ids(aws) == [distribution["id"]]


def test_create_without_wait_returns_in_progress(aws, run_module, site):
    created = run_module(module, dict(site, wait=False))
    assert created["distribution"]["status"] == "InProgress"


def test_update_changes_in_place_with_diff(aws, run_module, site):
    distribution_id = run_module(module, site)["distribution"]["id"]
    before_etag = aws.get_distribution(Id=distribution_id)["ETag"]
    wanted = dict(
        site,
        custom_error_responses=[SORRY_403],
        aliases=["Sorry.Example.com"],
        certificate_arn=CERT_ARN,
        comment="Sorry page",
        tags={"Stack": "sorry", "Owner": "web"},
    )
    check = run_module(module, wanted, check_mode=True, diff=True)
    assert check["changed"] is True
    assert check["diff"]["before"]["custom_error_responses"] == []
    assert check["diff"]["after"]["aliases"] == ["sorry.example.com"]
    assert check["distribution"]["certificate_arn"] == CERT_ARN
    assert aws.get_distribution(Id=distribution_id)["ETag"] == before_etag, "nothing written in check mode"

    updated = run_module(module, wanted)
    assert updated["changed"] is True
    distribution = updated["distribution"]
    assert distribution["id"] == distribution_id
    assert distribution["status"] == "Deployed"
    assert distribution["custom_error_responses"] == [
        {"error_code": 403, "response_code": "503", "response_page_path": "/index.html", "error_caching_min_ttl": 10}
    ]
    assert distribution["minimum_protocol_version"] == "TLSv1.2_2021"
    assert _tags(aws, distribution_id) == {"Name": "sorry-example-com", "Stack": "sorry", "Owner": "web"}
    assert run_module(module, wanted)["changed"] is False

    # tags left out are not managed; purge_tags=false only adds.
    assert run_module(module, dict(wanted, tags=None))["changed"] is False
    assert run_module(module, dict(wanted, tags={"Extra": "1"}, purge_tags=False))["changed"] is True
    assert _tags(aws, distribution_id)["Extra"] == "1"
    assert _tags(aws, distribution_id)["Name"] == "sorry-example-com", "the identity is never purged"


def test_update_refused_by_an_etag_race_says_so(aws, run_module, site, monkeypatch):
    run_module(module, site)
    original = cloudfront.get_distribution

    def stale(client, distribution_id):
        distribution, _etag = original(client, distribution_id)
        return distribution, "STALE"

    monkeypatch.setattr(cloudfront, "get_distribution", stale)
    result = run_module(module, dict(site, comment="changed"))
    assert result.failed
    assert "was changed by someone else" in result["msg"]


def test_bad_input_fails_before_any_call(aws_env, run_module, no_api):
    bad = {
        "name": "sorry",
        "bucket": "b",
        "origin_access_control_id": "E2QWRUHAPOMQZL",
        "aliases": ["sorry.example.com"],
        "origin_path": "example.com/",
    }
    result = run_module(module, bad)
    assert result.failed
    assert "aliases need certificate_arn" in result["msg"]
    assert "origin_path 'example.com/'" in result["msg"]
    missing = run_module(module, {"name": "sorry", "bucket": "b"})
    assert missing.failed and "origin_access_control_id" in missing["msg"]


# --- distribution: delete ---------------------------------------------------------------


def test_absent_without_wait_disables_and_says_so_then_deletes(aws, run_module, site):
    distribution_id = run_module(module, site)["distribution"]["id"]
    absent = {"name": site["name"], "state": "absent"}

    check = run_module(module, absent, check_mode=True, diff=True)
    assert check["changed"] is True
    assert check["diff"]["before"]["enabled"] is True and check["diff"]["after"] == {}
    assert aws.get_distribution_config(Id=distribution_id)["DistributionConfig"]["Enabled"] is True

    left = run_module(module, dict(absent, wait=False))
    assert left["changed"] is True
    assert left["deleted"] is False
    assert left["distribution"]["status"] == "InProgress"
    assert left["distribution"]["enabled"] is False
    assert "run this task again" in str(left.get("warnings"))
    assert _ids(aws) == [distribution_id]

    deleted = run_module(module, absent)
    assert deleted["changed"] is True and deleted["deleted"] is True
    assert deleted["distribution"] == {}
    assert _ids(aws) == []
    again = run_module(module, absent)
    assert again["changed"] is False and again["deleted"] is False


def test_absent_waits_for_the_disabled_distribution(aws, run_module, site, monkeypatch):
    run_module(module, site)
    waited = []
    original = cloudfront.wait_deployed
    monkeypatch.setattr(cloudfront, "wait_deployed", lambda *args: waited.append(args[1]) or original(*args))
    deleted = run_module(module, {"name": site["name"], "state": "absent"})
    assert deleted["deleted"] is True
    assert len(waited) == 1, "disabled, waited until Deployed, then deleted"


def test_absent_refused_by_cloudfront_says_why(aws, run_module, site, monkeypatch):
    run_module(module, site)
    # Someone enables the distribution again between the wait and the delete.
    original = cloudfront.get_distribution

    def enabled_again(client, distribution_id):
        distribution, etag = original(client, distribution_id)
        config = dict(distribution["DistributionConfig"], Enabled=True)
        answer = client.update_distribution(Id=distribution_id, IfMatch=etag, DistributionConfig=config)
        return answer["Distribution"], answer["ETag"]

    monkeypatch.setattr(
        cloudfront, "wait_deployed", lambda *_args: monkeypatch.setattr(cloudfront, "get_distribution", enabled_again)
    )
    refused = run_module(module, {"name": site["name"], "state": "absent"})
    assert refused.failed
    assert "not yet disabled and Deployed" in refused["msg"]


def test_absent_without_wait_on_a_disabled_distribution_still_deploying_changes_nothing(
    aws, run_module, site, monkeypatch
):
    distribution_id = run_module(module, dict(site, enabled=False))["distribution"]["id"]
    original = cloudfront.get_distribution

    def deploying(client, wanted):
        distribution, etag = original(client, wanted)
        return dict(distribution, Status="InProgress"), etag

    monkeypatch.setattr(cloudfront, "get_distribution", deploying)
    left = run_module(module, {"name": site["name"], "state": "absent", "wait": False})
    assert left["changed"] is False, "it was already disabled"
    assert left["deleted"] is False
    assert "still deploying" in str(left.get("warnings"))
    assert _ids(aws) == [distribution_id]
