"""Unit tests for plugins/module_utils/acm.py: pure helpers, look-ups against moto, waiters
against botocore Stubber (moto cannot hold a certificate without validation records, or
fail one)."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.acm.models import acm_backends

from ansible_collections.kumo.webstack.plugins.module_utils import acm

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555"


def _record(name):
    return {"Name": f"_x.{name}.", "Type": "CNAME", "Value": "_y.acm-validations.aws."}


def _certificate(status="PENDING_VALIDATION", records=True, **extra):
    options = []
    for name in ("example.com", "*.example.com", "www.example.com"):
        option = {"DomainName": name, "ValidationMethod": "DNS", "ValidationStatus": "PENDING_VALIDATION"}
        if records:
            option["ResourceRecord"] = _record(name[2:] if name.startswith("*.") else name)
        options.append(option)
    certificate = {
        "CertificateArn": ARN,
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["example.com", "*.example.com", "www.example.com"],
        "Status": status,
        "Type": "AMAZON_ISSUED",
        "KeyAlgorithm": "RSA_2048",
        "DomainValidationOptions": options,
    }
    certificate.update(extra)
    return {"Certificate": certificate}


@pytest.fixture
def stubbed(aws_env):
    client = boto3.client("acm", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def fast_polls(monkeypatch):
    monkeypatch.setattr(acm, "RECORDS_POLL_DELAY", 0.01)
    monkeypatch.setattr(acm, "ISSUED_POLL_DELAY", 0.01)


# --- pure helpers -----------------------------------------------------------------------


def test_requested_domains_is_a_normalised_set():
    assert acm.requested_domains("Example.COM.", ["www.example.com", "example.com", "WWW.example.com."]) == {
        "example.com",
        "www.example.com",
    }


def test_validation_records_share_one_record_for_wildcard_and_base():
    records = acm.validation_records(_certificate()["Certificate"])
    assert records == [
        {
            "name": "_x.example.com.",
            "type": "CNAME",
            "value": "_y.acm-validations.aws.",
            "domains": ["*.example.com", "example.com"],
        },
        {
            "name": "_x.www.example.com.",
            "type": "CNAME",
            "value": "_y.acm-validations.aws.",
            "domains": ["www.example.com"],
        },
    ]


def test_validation_records_skip_options_without_a_record_yet():
    assert acm.validation_records(_certificate(records=False)["Certificate"]) == []
    assert acm.validation_records({}) == []


def test_certificate_to_result_keeps_tag_keys_and_serialises_dates():
    when = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    result = acm.certificate_to_result(_certificate(NotAfter=when)["Certificate"], {"ManagedBy": "kumo.webstack"})
    assert result["not_after"] == "2025-01-02T03:04:05+00:00"
    assert result["tags"] == {"ManagedBy": "kumo.webstack"}
    assert result["certificate_arn"] == ARN
    assert len(result["validation_records"]) == 2


def test_certificate_state_for_diff():
    state = acm.certificate_state(_certificate()["Certificate"], {"a": "1"})
    assert state["domain_name"] == "example.com"
    assert state["subject_alternative_names"] == ["*.example.com", "www.example.com"]
    assert acm.certificate_state(None, {}) == {}


def test_carries_tags_compares_values_as_strings():
    assert acm.carries_tags({"n": "1", "x": "y"}, {"n": 1})
    assert not acm.carries_tags({"n": "2"}, {"n": 1})
    assert acm.carries_tags({}, None)


# --- look-ups against moto --------------------------------------------------------------


@mock_aws
def test_find_certificates_is_order_insensitive_and_skips_dead_ones(aws_env):
    client = boto3.client("acm", region_name=REGION)
    live = client.request_certificate(
        DomainName="example.com", ValidationMethod="DNS", SubjectAlternativeNames=["www.example.com"]
    )["CertificateArn"]
    dead = client.request_certificate(
        DomainName="www.example.com", ValidationMethod="DNS", SubjectAlternativeNames=["example.com"]
    )["CertificateArn"]
    other = client.request_certificate(DomainName="example.com", ValidationMethod="DNS")["CertificateArn"]
    acm_backends[ACCOUNT][REGION]._certificates[dead].status = "FAILED"

    found = acm.find_certificates(client, {"www.example.com", "example.com"}, key_algorithm="RSA_2048")
    assert [c["CertificateArn"] for c, _ in found] == [live]

    every = acm.find_certificates(client, {"www.example.com", "example.com"}, statuses=None)
    assert {c["CertificateArn"] for c, _ in every} == {live, dead}
    assert other not in {c["CertificateArn"] for c, _ in every}


@mock_aws
def test_find_certificates_prefers_match_tags_then_tags(aws_env):
    client = boto3.client("acm", region_name=REGION)
    arns = {}
    for stack in ("a", "b"):
        arns[stack] = client.request_certificate(
            DomainName="example.com", ValidationMethod="DNS", Tags=[{"Key": "Stack", "Value": stack}]
        )["CertificateArn"]
    domains = {"example.com"}
    assert [c["CertificateArn"] for c, _ in acm.find_certificates(client, domains, match_tags={"Stack": "b"})] == [
        arns["b"]
    ]
    assert acm.find_certificates(client, domains, match_tags={"Stack": "c"}) == []
    first, _tags = acm.find_certificates(client, domains, tags={"Stack": "a"})[0]
    assert first["CertificateArn"] == arns["a"]


@mock_aws
def test_list_matching_certificates_by_san_status_tags_and_arn(aws_env):
    client = boto3.client("acm", region_name=REGION)
    arn = client.request_certificate(
        DomainName="example.com",
        ValidationMethod="DNS",
        SubjectAlternativeNames=["www.example.com"],
        Tags=[{"Key": "Stack", "Value": "a"}],
    )["CertificateArn"]
    client.request_certificate(DomainName="other.example.org", ValidationMethod="DNS")
    assert [c["CertificateArn"] for c, _ in acm.list_matching_certificates(client, domain_name="WWW.example.com.")] == [
        arn
    ]
    assert acm.list_matching_certificates(client, domain_name="example.com", statuses=["ISSUED"]) == []
    assert acm.list_matching_certificates(client, tags={"Stack": "b"}) == []
    assert len(acm.list_matching_certificates(client)) == 2
    assert acm.list_matching_certificates(client, arn=arn.replace("-", "0")) == []


@mock_aws
def test_delete_certificate_already_gone_is_false(aws_env):
    client = boto3.client("acm", region_name=REGION)
    assert acm.delete_certificate(client, ARN) is False


# --- request shapes and waiters (Stubber) --------------------------------------------


def test_list_certificates_asks_for_every_key_type(stubbed):
    client, stubber = stubbed
    stubber.add_response(
        "list_certificates",
        {"CertificateSummaryList": []},
        {"Includes": {"keyTypes": list(acm.ALL_KEY_TYPES)}, "CertificateStatuses": ["ISSUED"]},
    )
    assert acm.list_certificates(client, ["ISSUED"]) == []


def test_request_certificate_sends_dns_key_algorithm_and_tags(stubbed):
    client, stubber = stubbed
    stubber.add_response(
        "request_certificate",
        {"CertificateArn": ARN},
        {
            "DomainName": "example.com",
            "ValidationMethod": "DNS",
            "KeyAlgorithm": "EC_prime256v1",
            "SubjectAlternativeNames": ["www.example.com"],
            "Tags": [{"Key": "Stack", "Value": "a"}],
        },
    )
    assert acm.request_certificate(client, "example.com", ["www.example.com"], "EC_prime256v1", {"Stack": "a"}) == ARN


def test_request_certificate_error_is_named(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("request_certificate", "LimitExceededException", "too many certificates")
    with pytest.raises(acm.AnsibleACMError, match="Failed to request certificate"):
        acm.request_certificate(client, "example.com", [], "RSA_2048")


def test_wait_for_validation_records_polls_until_records_appear(stubbed, fast_polls):
    client, stubber = stubbed
    stubber.add_client_error("describe_certificate", "ResourceNotFoundException", "not yet")
    stubber.add_response("describe_certificate", _certificate(records=False))
    stubber.add_response("describe_certificate", _certificate())
    acm.wait_for_validation_records(client, ARN, timeout=10)


def test_wait_for_validation_records_retries_throttling(stubbed, fast_polls):
    client, stubber = stubbed
    stubber.add_client_error("describe_certificate", "ThrottlingException", "slow down")
    stubber.add_response("describe_certificate", _certificate())
    acm.wait_for_validation_records(client, ARN, timeout=10)


def test_wait_for_validation_records_times_out_with_advice(stubbed, monkeypatch):
    client, stubber = stubbed
    monkeypatch.setattr(acm, "RECORDS_POLL_DELAY", 1)
    stubber.add_response("describe_certificate", _certificate(records=False))
    stubber.add_response("describe_certificate", _certificate(records=False))
    with pytest.raises(acm.AnsibleACMError, match="did not provide the DNS validation records .* within 1 seconds"):
        acm.wait_for_validation_records(client, ARN, timeout=1)


def test_wait_for_validation_records_reports_failed_certificate(stubbed, fast_polls):
    client, stubber = stubbed
    stubber.add_response(
        "describe_certificate", _certificate(status="FAILED", records=False, FailureReason="CAA_ERROR")
    )
    with pytest.raises(acm.AnsibleACMError, match="is FAILED \\(FailureReason: CAA_ERROR\\)"):
        acm.wait_for_validation_records(client, ARN, timeout=10)


def test_wait_for_issued_until_issued(stubbed, fast_polls):
    client, stubber = stubbed
    stubber.add_response("describe_certificate", _certificate())
    stubber.add_client_error("describe_certificate", "ThrottlingException", "slow down")
    stubber.add_response("describe_certificate", _certificate(status="ISSUED"))
    acm.wait_for_issued(client, ARN, timeout=10)


def test_wait_for_issued_fails_fast_on_terminal_status(stubbed, fast_polls):
    client, stubber = stubbed
    stubber.add_response("describe_certificate", _certificate(status="VALIDATION_TIMED_OUT"))
    with pytest.raises(acm.AnsibleACMError, match="is VALIDATION_TIMED_OUT; ACM will not issue it"):
        acm.wait_for_issued(client, ARN, timeout=100)


def test_wait_for_issued_reports_deleted_certificate(stubbed, fast_polls):
    client, stubber = stubbed
    stubber.add_client_error("describe_certificate", "ResourceNotFoundException", "gone")
    with pytest.raises(acm.AnsibleACMError, match="was deleted while waiting"):
        acm.wait_for_issued(client, ARN, timeout=100)


def test_wait_for_issued_times_out_with_what_to_check(stubbed, monkeypatch):
    client, stubber = stubbed
    monkeypatch.setattr(acm, "ISSUED_POLL_DELAY", 1)
    stubber.add_response("describe_certificate", _certificate())
    stubber.add_response("describe_certificate", _certificate())
    with pytest.raises(acm.AnsibleACMError) as error:
        acm.wait_for_issued(client, ARN, timeout=1)
    assert "Timed out after 1 seconds" in str(error.value)
    assert "status: PENDING_VALIDATION" in str(error.value)
    assert "validation_records" in str(error.value)


def test_wait_error_other_than_acceptors_is_wrapped(stubbed, fast_polls):
    client, stubber = stubbed
    stubber.add_client_error("describe_certificate", "AccessDeniedException", "no")
    with pytest.raises(acm.AnsibleACMError, match="while waiting"):
        acm.wait_for_issued(client, ARN, timeout=10)


def test_find_certificates_uses_summary_names_before_describing(stubbed):
    """AWS lists the names in SubjectAlternativeNameSummaries: a certificate whose names differ
    is skipped without a DescribeCertificate call (none is queued)."""
    client, stubber = stubbed
    summary = {
        "CertificateArn": ARN,
        "DomainName": "example.com",
        "SubjectAlternativeNameSummaries": ["example.com", "api.example.com"],
        "HasAdditionalSubjectAlternativeNames": False,
        "Status": "ISSUED",
        "Type": "AMAZON_ISSUED",
        "KeyAlgorithm": "RSA_2048",
    }
    stubber.add_response("list_certificates", {"CertificateSummaryList": [summary]})
    assert acm.find_certificates(client, {"example.com", "www.example.com"}) == []


def test_find_certificates_skips_other_key_algorithms_and_imported(stubbed):
    client, stubber = stubbed
    base = {"CertificateArn": ARN, "DomainName": "example.com", "Status": "ISSUED"}
    stubber.add_response(
        "list_certificates",
        {
            "CertificateSummaryList": [
                dict(base, Type="AMAZON_ISSUED", KeyAlgorithm="RSA_2048"),
                dict(base, Type="IMPORTED", KeyAlgorithm="EC_prime256v1"),
            ]
        },
    )
    assert acm.find_certificates(client, {"example.com"}, key_algorithm="EC_prime256v1") == []
