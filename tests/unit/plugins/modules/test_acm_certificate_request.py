"""Unit tests for acm_certificate_request and acm_certificate_request_info, against moto.

What moto cannot do is simulated instead:
- a certificate used by a load balancer: moto's ACM backend is told so directly
  (``set_certificate_in_use_by``, what moto's classic ELB calls), and DeleteCertificate's
  ResourceInUseException (moto never raises it) comes from a botocore Stubber;
- EC key algorithms: moto always issues RSA_2048 keys, so requesting EC_* is checked with a
  Stubber (request shape, and that an RSA certificate is not reused).
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws, settings
from moto.acm.models import acm_backends

from ansible_collections.kumo.webstack.plugins.module_utils import acm
from ansible_collections.kumo.webstack.plugins.modules import acm_certificate_request as module
from ansible_collections.kumo.webstack.plugins.modules import acm_certificate_request_info as info_module

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
SITE = {
    "domain_name": "example.com",
    "subject_alternative_names": ["www.example.com", "*.example.com"],
    "tags": {"Stack": "rails", "ManagedBy": "kumo.webstack"},
}


@pytest.fixture
def aws(aws_env, monkeypatch):
    monkeypatch.setattr(acm, "RECORDS_POLL_DELAY", 0.01)
    monkeypatch.setattr(acm, "ISSUED_POLL_DELAY", 0.05)
    with mock_aws():
        yield boto3.client("acm", region_name=REGION)


def _backend(region=REGION):
    return acm_backends[ACCOUNT][region]


def _arns(client):
    return sorted(c["CertificateArn"] for c in client.list_certificates()["CertificateSummaryList"])


def _tags(client, arn):
    return {t["Key"]: t.get("Value") for t in client.list_tags_for_certificate(CertificateArn=arn)["Tags"]}


# --- present ------------------------------------------------------------------------------


def test_create_check_mode_requests_nothing(aws, run_module):
    result = run_module(module, SITE, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["certificate_arn"] is None
    assert result["validation_records"] == []
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["subject_alternative_names"] == ["*.example.com", "www.example.com"]
    assert _arns(aws) == []


def test_create_then_second_run_is_a_no_op(aws, run_module):
    first = run_module(module, SITE, diff=True)
    assert first["changed"] is True, first
    arn = first["certificate_arn"]
    assert _arns(aws) == [arn]
    assert first["status"] == "PENDING_VALIDATION"
    assert first["certificate"]["tags"] == SITE["tags"]
    assert first["diff"]["before"] == {}
    assert first["diff"]["after"]["certificate_arn"] == arn
    # *.example.com and example.com share one record: 2 records for 3 names.
    assert len(first["domain_validation_options"]) == 3
    assert [r["domains"] for r in first["validation_records"]] == [
        ["*.example.com", "example.com"],
        ["www.example.com"],
    ]
    assert all(r["type"] == "CNAME" and r["name"].endswith(".") for r in first["validation_records"])

    again = dict(SITE, subject_alternative_names=["*.EXAMPLE.com", "www.example.com.", "example.com"])
    check = run_module(module, again, check_mode=True)
    assert check["changed"] is False
    assert check["certificate_arn"] == arn
    second = run_module(module, again)
    assert second["changed"] is False
    assert second["certificate_arn"] == arn
    assert second["validation_records"] == first["validation_records"]
    assert _arns(aws) == [arn]


def test_primary_name_may_be_any_name_of_the_set(aws, run_module):
    first = run_module(module, SITE)
    swapped = dict(SITE, domain_name="www.example.com", subject_alternative_names=["example.com", "*.example.com"])
    assert run_module(module, swapped)["certificate_arn"] == first["certificate_arn"]


def test_different_name_set_requests_another_certificate(aws, run_module):
    first = run_module(module, SITE)
    other = run_module(module, dict(SITE, subject_alternative_names=["www.example.com"]))
    assert other["changed"] is True
    assert other["certificate_arn"] != first["certificate_arn"]


def test_failed_certificates_are_not_reused(aws, run_module):
    first = run_module(module, SITE)
    _backend()._certificates[first["certificate_arn"]].status = "FAILED"
    second = run_module(module, SITE)
    assert second["changed"] is True
    assert second["certificate_arn"] != first["certificate_arn"]


def test_issued_certificate_is_reused(aws, run_module, monkeypatch):
    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 0)
    first = run_module(module, SITE)
    second = run_module(module, SITE)
    assert second["changed"] is False
    assert second["status"] == "ISSUED"
    assert second["certificate_arn"] == first["certificate_arn"]


def test_update_tags_check_mode_then_apply_then_purge(aws, run_module):
    arn = run_module(module, SITE)["certificate_arn"]
    new_tags = {"Stack": "rails", "Owner": "web"}

    check = run_module(module, dict(SITE, tags=new_tags), check_mode=True, diff=True)
    assert check["changed"] is True
    assert check["diff"]["after"]["tags"] == new_tags
    assert _tags(aws, arn) == SITE["tags"]  # nothing written

    updated = run_module(module, dict(SITE, tags=new_tags), diff=True)
    assert updated["changed"] is True
    assert updated["certificate_arn"] == arn
    assert updated["certificate"]["tags"] == new_tags
    assert updated["diff"]["before"]["tags"] == SITE["tags"]
    assert _tags(aws, arn) == new_tags

    assert run_module(module, dict(SITE, tags=new_tags))["changed"] is False

    kept = run_module(module, dict(SITE, tags={"Extra": "1"}, purge_tags=False))
    assert kept["changed"] is True
    assert _tags(aws, arn) == dict(new_tags, Extra="1")

    assert run_module(module, dict(SITE, tags=None))["changed"] is False  # tags not managed


def test_match_tags_keeps_stacks_apart(aws, run_module):
    rails = run_module(module, dict(SITE, match_tags=["Stack"]))
    sorry = run_module(module, dict(SITE, tags={"Stack": "sorry"}, match_tags=["Stack"]))
    assert sorry["changed"] is True
    assert sorry["certificate_arn"] != rails["certificate_arn"]
    again = run_module(module, dict(SITE, match_tags=["Stack"]))
    assert again["changed"] is False
    assert again["certificate_arn"] == rails["certificate_arn"]
    # Without match_tags, the certificate carrying the given tags wins.
    assert run_module(module, dict(SITE, tags={"Stack": "sorry"}))["certificate_arn"] == sorry["certificate_arn"]


def test_manage_by_arn_only_tags(aws, run_module):
    arn = run_module(module, SITE)["certificate_arn"]
    result = run_module(module, {"certificate_arn": arn, "tags": {"Stack": "rails"}})
    assert result["changed"] is True
    assert _tags(aws, arn) == {"Stack": "rails"}
    assert run_module(module, {"certificate_arn": arn})["changed"] is False


def test_wait_until_issued(aws, run_module, monkeypatch):
    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 0.2)
    result = run_module(module, dict(SITE, wait=True, wait_timeout=30))
    assert result["changed"] is True
    assert result["status"] == "ISSUED"


def test_wait_times_out_with_what_to_do(aws, run_module, monkeypatch):
    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 3600)
    result = run_module(module, dict(SITE, wait=True, wait_timeout=0))
    assert result.failed
    assert "Timed out after 0 seconds waiting for certificate" in result["msg"]
    assert "status: PENDING_VALIDATION" in result["msg"]
    assert len(_arns(aws)) == 1  # requested; the next run finds it


def test_region_override_us_east_1(aws, run_module):
    result = run_module(module, dict(SITE, region="us-east-1"))
    assert result["changed"] is True
    assert result["certificate_arn"].startswith("arn:aws:acm:us-east-1:")
    assert _arns(aws) == []  # nothing in ap-northeast-1
    assert run_module(module, dict(SITE, region="us-east-1"))["changed"] is False
    assert (
        run_module(info_module, {"region": "us-east-1"})["certificates"][0]["certificate_arn"]
        == (result["certificate_arn"])
    )


# --- absent -------------------------------------------------------------------------------


def test_delete_by_arn_check_mode_then_delete_then_again(aws, run_module):
    arn = run_module(module, SITE)["certificate_arn"]
    check = run_module(module, {"state": "absent", "certificate_arn": arn}, check_mode=True, diff=True)
    assert check["changed"] is True
    assert check["certificate_arns"] == [arn]
    assert check["diff"]["before"]["certificates"][0]["certificate_arn"] == arn
    assert _arns(aws) == [arn]

    deleted = run_module(module, {"state": "absent", "certificate_arn": arn})
    assert deleted["changed"] is True
    assert _arns(aws) == []
    again = run_module(module, {"state": "absent", "certificate_arn": arn})
    assert again["changed"] is False
    assert again["certificate_arns"] == []


def test_delete_by_name_set_removes_failed_ones_too(aws, run_module):
    first = run_module(module, SITE)["certificate_arn"]
    _backend()._certificates[first].status = "FAILED"
    second = run_module(module, SITE)["certificate_arn"]
    other = run_module(module, dict(SITE, subject_alternative_names=[]))["certificate_arn"]
    absent = dict(SITE, state="absent")
    check = run_module(module, absent, check_mode=True)
    assert check["changed"] is True
    assert sorted(check["certificate_arns"]) == sorted([first, second])
    assert len(_arns(aws)) == 3
    assert run_module(module, absent)["changed"] is True
    assert _arns(aws) == [other]
    assert run_module(module, absent)["changed"] is False


def test_delete_refuses_while_in_use_and_names_the_users(aws, run_module):
    arn = run_module(module, SITE)["certificate_arn"]
    lb = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:loadbalancer/app/rails/0123456789abcdef"
    _backend().set_certificate_in_use_by(arn, lb)
    for check_mode in (True, False):
        result = run_module(module, {"state": "absent", "certificate_arn": arn}, check_mode=check_mode)
        assert result.failed
        assert f"{arn} is used by {lb}" in result["msg"]
        assert "Remove it from these resources first" in result["msg"]
        assert result["in_use_by"] == {arn: [lb]}
    assert _arns(aws) == [arn]


# --- Stubber: what moto cannot emulate ----------------------------------------------


@pytest.fixture
def stubbed(aws_env, monkeypatch):
    monkeypatch.setattr(acm, "RECORDS_POLL_DELAY", 0.01)
    client = boto3.client("acm", region_name=REGION)
    monkeypatch.setattr(module.AnsibleAWSModule, "client", lambda self, *args, **kwargs: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555"


def _described(arn=ARN, key="RSA_2048", in_use=()):
    return {
        "Certificate": {
            "CertificateArn": arn,
            "DomainName": "example.com",
            "SubjectAlternativeNames": ["example.com"],
            "Status": "ISSUED",
            "Type": "AMAZON_ISSUED",
            "KeyAlgorithm": key,
            "InUseBy": list(in_use),
            "DomainValidationOptions": [
                {
                    "DomainName": "example.com",
                    "ValidationMethod": "DNS",
                    "ResourceRecord": {"Name": "_a.example.com.", "Type": "CNAME", "Value": "_b.acm-validations.aws."},
                }
            ],
        }
    }


def test_delete_resource_in_use_exception_is_explained(stubbed, run_module):
    lb = "arn:aws:cloudfront::123456789012:distribution/E1ABCDEF"
    stubbed.add_response("describe_certificate", _described())
    stubbed.add_client_error(
        "delete_certificate", "ResourceInUseException", "in use", expected_params={"CertificateArn": ARN}
    )
    stubbed.add_response("describe_certificate", _described(in_use=[lb]))
    result = run_module(module, {"state": "absent", "certificate_arn": ARN})
    assert result.failed
    assert f"{ARN} is used by {lb}" in result["msg"]


def test_ec_key_request_does_not_reuse_rsa_certificate(stubbed, run_module):
    rsa = {"CertificateArn": ARN, "DomainName": "example.com", "Type": "AMAZON_ISSUED", "KeyAlgorithm": "RSA_2048"}
    ec_arn = ARN.replace("1111", "9999")
    stubbed.add_response("list_certificates", {"CertificateSummaryList": [rsa]})
    stubbed.add_response(
        "request_certificate",
        {"CertificateArn": ec_arn},
        {"DomainName": "example.com", "ValidationMethod": "DNS", "KeyAlgorithm": "EC_prime256v1"},
    )
    stubbed.add_response("describe_certificate", _described(ec_arn, key="EC_prime256v1"))  # records ready
    stubbed.add_response("describe_certificate", _described(ec_arn, key="EC_prime256v1"))
    stubbed.add_response("list_tags_for_certificate", {})
    result = run_module(module, {"domain_name": "example.com", "key_algorithm": "EC_prime256v1"})
    assert result["changed"] is True
    assert result["certificate_arn"] == ec_arn
    assert result["certificate"]["key_algorithm"] == "EC_prime256v1"


def test_check_mode_tag_update_makes_no_write_call(stubbed, run_module):
    summary = {"CertificateArn": ARN, "DomainName": "example.com", "Type": "AMAZON_ISSUED", "KeyAlgorithm": "RSA_2048"}
    stubbed.add_response("list_certificates", {"CertificateSummaryList": [summary]})
    stubbed.add_response("describe_certificate", _described())
    stubbed.add_response("list_tags_for_certificate", {"Tags": [{"Key": "Stack", "Value": "old"}]})
    stubbed.add_response("describe_certificate", _described())
    stubbed.add_response("list_tags_for_certificate", {"Tags": [{"Key": "Stack", "Value": "old"}]})
    # No add/remove tags response is queued: a write would fail the test.
    result = run_module(module, {"domain_name": "example.com", "tags": {"Stack": "new"}}, check_mode=True)
    assert result["changed"] is True
    assert result["certificate_arn"] == ARN


def test_request_error_is_reported(stubbed, run_module):
    stubbed.add_response("list_certificates", {"CertificateSummaryList": []})
    stubbed.add_client_error("request_certificate", "LimitExceededException", "You have reached the certificate quota")
    result = run_module(module, {"domain_name": "example.com"})
    assert result.failed
    assert result["msg"].startswith("Failed to request certificate")
    assert "certificate quota" in result["msg"]


# --- argument errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        ({}, "one of the following is required: domain_name, certificate_arn"),
        ({"certificate_arn": ARN, "subject_alternative_names": ["a.example.com"]}, "needs domain_name"),
        ({"domain_name": "example.com", "match_tags": ["Stack"]}, "match_tags names Stack, which tags does not set"),
        ({"domain_name": "example.com", "wait_timeout": -1}, "wait_timeout must be 0 or more seconds"),
        ({"domain_name": "example.com", "key_algorithm": "RSA_4096"}, "value of key_algorithm must be one of"),
    ],
)
def test_argument_errors(aws, run_module, args, message):
    result = run_module(module, args)
    assert result.failed
    assert message in result["msg"]


def test_unknown_arn_is_an_error(aws, run_module):
    result = run_module(module, {"certificate_arn": ARN})
    assert result.failed
    assert f"Certificate {ARN} does not exist in region {REGION}" in result["msg"]


def test_arn_with_other_names_is_an_error(aws, run_module):
    arn = run_module(module, SITE)["certificate_arn"]
    result = run_module(module, {"certificate_arn": arn, "domain_name": "example.com"})
    assert result.failed
    assert "covers *.example.com, example.com, www.example.com, not example.com" in result["msg"]


# --- info -----------------------------------------------------------------------------


def test_info_filters(aws, run_module):
    site = run_module(module, SITE)["certificate_arn"]
    other = run_module(module, {"domain_name": "other.example.org", "tags": {"Stack": "chat"}})["certificate_arn"]

    everything = run_module(info_module, {})
    assert everything["changed"] is False
    assert sorted(c["certificate_arn"] for c in everything["certificates"]) == sorted([site, other])

    by_san = run_module(info_module, {"domain_name": "WWW.example.com."})["certificates"]
    assert [c["certificate_arn"] for c in by_san] == [site]
    assert by_san[0]["tags"] == SITE["tags"]
    assert [r["domains"] for r in by_san[0]["validation_records"]] == [
        ["*.example.com", "example.com"],
        ["www.example.com"],
    ]

    assert [c["certificate_arn"] for c in run_module(info_module, {"tags": {"Stack": "chat"}})["certificates"]] == [
        other
    ]
    assert run_module(info_module, {"statuses": ["ISSUED"]})["certificates"] == []
    assert run_module(info_module, {"certificate_arn": site})["certificates"][0]["status"] == "PENDING_VALIDATION"
    assert run_module(info_module, {"certificate_arn": ARN})["certificates"] == []
    assert run_module(info_module, {"certificate_arn": site, "domain_name": "other.example.org"})["certificates"] == []


def test_info_error_is_reported(aws_env, run_module, monkeypatch):
    client = boto3.client("acm", region_name=REGION)
    monkeypatch.setattr(info_module.AnsibleAWSModule, "client", lambda self, *args, **kwargs: client)
    with Stubber(client) as stubber:
        stubber.add_client_error("list_certificates", "AccessDeniedException", "not allowed")
        result = run_module(info_module, {})
    assert result.failed
    assert result["msg"].startswith("Failed to list certificates")
