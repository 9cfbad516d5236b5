"""Unit tests for route53_domain and route53_domain_info, against moto.

Registering the domain is test set-up, done through boto3 (the modules never register).

What moto does not emulate like AWS, and how it is tested instead:
- moto answers DuplicateRequest to any second name-server update of a domain, even when the
  first one is long finished (AWS refuses only while one is still in progress). The update
  tests patch moto's duplicate check to AWS's rule (``aws_duplicate_rule``); the
  DuplicateRequest error path itself is tested with a botocore Stubber.
- moto's operations are SUCCESSFUL at once; slow and failed operations come from a Stubber.
- moto serves Route 53 Domains in every region; that the client is built for us-east-1 is
  checked on the arguments given to ``module.client``.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.route53domains.exceptions import DuplicateRequestException
from moto.route53domains.models import Route53DomainsBackend

from ansible_collections.kumo.webstack.plugins.module_utils import route53domains
from ansible_collections.kumo.webstack.plugins.modules import route53_domain as module
from ansible_collections.kumo.webstack.plugins.modules import route53_domain_info as info_module

DOMAIN = "kumo-webstack-test.com"
ZONE_NS = ["ns-1536.awsdns-00.co.uk.", "ns-0.awsdns-00.com.", "ns-512.awsdns-00.net.", "ns-1024.awsdns-00.org."]
OTHER_NS = ["ns-1.awsdns-01.com", "ns-2.awsdns-02.net"]
CONTACT = {
    "FirstName": "Kumo",
    "LastName": "Webstack",
    "ContactType": "PERSON",
    "Email": "hostmaster@example.com",
    "PhoneNumber": "+81.312345678",
    "AddressLine1": "1-1 Chiyoda",
    "City": "Tokyo",
    "CountryCode": "JP",
    "ZipCode": "100-0001",
}


@pytest.fixture
def domains(aws_env, monkeypatch):
    """moto with DOMAIN registered (test set-up); yields a route53domains client."""
    monkeypatch.setattr(route53domains, "OPERATION_POLL_DELAY", 0.01)
    with mock_aws():
        client = boto3.client("route53domains", region_name="us-east-1")
        client.register_domain(
            DomainName=DOMAIN, DurationInYears=2, AdminContact=CONTACT, RegistrantContact=CONTACT, TechContact=CONTACT
        )
        yield client


@pytest.fixture
def aws_duplicate_rule(monkeypatch):
    """Make moto refuse a duplicate request only while the earlier one is still running, as AWS does."""

    def validate(self, requested):
        operations = self._Route53DomainsBackend__operations.values()
        for operation in operations:
            if (
                operation.domain_name == requested.domain_name
                and operation.type == requested.type
                and operation.status in ("SUBMITTED", "IN_PROGRESS")
            ):
                raise DuplicateRequestException()

    monkeypatch.setattr(Route53DomainsBackend, "_Route53DomainsBackend__validate_duplicate_operations", validate)


def _name_servers(client):
    return [ns["Name"] for ns in client.get_domain_detail(DomainName=DOMAIN)["Nameservers"]]


def _operations(client):
    return client.list_operations()["Operations"]


def test_set_name_servers_check_mode_writes_nothing(domains, run_module):
    before = _name_servers(domains)
    result = run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert "operation_id" not in result
    assert result["diff"]["after"]["name_servers"] == sorted(n.rstrip(".") for n in ZONE_NS)
    assert result["diff"]["before"]["name_servers"] == sorted(before)
    assert _name_servers(domains) == before
    assert [op["Type"] for op in _operations(domains)] == ["REGISTER_DOMAIN"]


def test_set_name_servers_then_no_op(domains, run_module):
    result = run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS})
    assert result["changed"] is True, result
    assert result["operation_id"]
    assert result["name_servers"] == [n.rstrip(".") for n in ZONE_NS]
    assert result["domain"]["domain_name"] == DOMAIN
    assert result["domain"]["auto_renew"] is True
    assert "admin_contact" not in result["domain"] and "registrant_contact" not in result["domain"]
    assert _name_servers(domains) == [n.rstrip(".") for n in ZONE_NS]

    shuffled = [n.upper() for n in reversed(ZONE_NS)] + [ZONE_NS[0].rstrip(".")]
    check = run_module(module, {"domain_name": DOMAIN + ".", "name_servers": shuffled}, check_mode=True, diff=True)
    assert check["changed"] is False
    assert check["diff"]["before"] == check["diff"]["after"]
    again = run_module(module, {"domain_name": DOMAIN, "name_servers": shuffled})
    assert again["changed"] is False
    assert "operation_id" not in again
    assert [op["Type"] for op in _operations(domains)] == ["REGISTER_DOMAIN", "UPDATE_NAMESERVER"]


def test_update_name_servers_and_wait(domains, run_module, aws_duplicate_rule):
    run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS})
    result = run_module(module, {"domain_name": DOMAIN, "name_servers": OTHER_NS, "wait": True}, diff=True)
    assert result["changed"] is True, result
    assert result["operation"]["status"] == "SUCCESSFUL"
    assert result["operation"]["type"] == "UPDATE_NAMESERVER"
    assert result["operation"]["operation_id"] == result["operation_id"]
    assert result["name_servers"] == OTHER_NS
    assert result["diff"]["before"]["name_servers"] == sorted(n.rstrip(".") for n in ZONE_NS)
    assert run_module(module, {"domain_name": DOMAIN, "name_servers": OTHER_NS})["changed"] is False


def test_glue_ips_for_in_domain_name_servers(domains, run_module, aws_duplicate_rule):
    args = {
        "domain_name": DOMAIN,
        "name_servers": [f"ns1.{DOMAIN}", f"ns2.{DOMAIN}"],
        "glue_ips": {f"ns1.{DOMAIN}": ["192.0.2.53"], f"NS2.{DOMAIN}.": "198.51.100.53"},
    }
    result = run_module(module, args)
    assert result["changed"] is True, result
    assert result["domain"]["nameservers"][0]["glue_ips"] == ["192.0.2.53"]
    assert run_module(module, args)["changed"] is False
    changed_glue = dict(args, glue_ips={f"ns1.{DOMAIN}": ["192.0.2.54"], f"ns2.{DOMAIN}": ["198.51.100.53"]})
    assert run_module(module, changed_glue)["changed"] is True


def test_domain_not_registered_is_explained(domains, run_module):
    for check_mode in (False, True):
        result = run_module(module, {"domain_name": "not-ours.com", "name_servers": ZONE_NS}, check_mode=check_mode)
        assert result.failed
        assert "Domain not-ours.com is not registered in this AWS account" in result["msg"]
        assert "does not register (buy) or transfer domains" in result["msg"]
        assert "Domain is not associated with this account" in result["msg"]  # what the API said


def test_unsupported_tld_is_explained(domains, run_module):
    result = run_module(module, {"domain_name": "example.invalidtld", "name_servers": ZONE_NS})
    assert result.failed
    assert "Domain example.invalidtld is not registered in this AWS account" in result["msg"]
    assert "does not support the top-level domain" in result["msg"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"name_servers": ZONE_NS}, "missing required arguments: domain_name"),
        ({"domain_name": DOMAIN}, "missing required arguments: name_servers"),
        ({"domain_name": DOMAIN, "name_servers": ["", "."]}, "name_servers is empty"),
        (
            {"domain_name": DOMAIN, "name_servers": ZONE_NS, "glue_ips": {"ns9.example.com": ["192.0.2.1"]}},
            "glue_ips names ns9.example.com, which name_servers does not list",
        ),
        ({"domain_name": DOMAIN, "name_servers": ZONE_NS, "wait_timeout": -5}, "wait_timeout must be 0 or more"),
    ],
)
def test_argument_errors(domains, run_module, args, message):
    result = run_module(module, args)
    assert result.failed
    assert message in result["msg"]


# --- Stubber: region, slow/failed operations, DuplicateRequest ------------------------


OPERATION_ID = "2b9d7f5e-4c1a-4f0e-9d6b-7a1c3e5f9b20"


def _detail(names):
    return {
        "DomainName": DOMAIN,
        "Nameservers": [{"Name": n} for n in names],
        "StatusList": ["clientTransferProhibited"],
    }


@pytest.fixture
def stubbed(aws_env, monkeypatch):
    """A Stubber'd client handed to the module; records the arguments of module.client()."""
    monkeypatch.setattr(route53domains, "OPERATION_POLL_DELAY", 0.01)
    client = boto3.client("route53domains", region_name="us-east-1")
    calls = []

    def fake_client(self, service, *args, **kwargs):
        calls.append((service, kwargs))
        return client

    monkeypatch.setattr(module.AnsibleAWSModule, "client", fake_client)
    with Stubber(client) as stubber:
        stubber.calls = calls
        yield stubber
        stubber.assert_no_pending_responses()


def test_client_is_built_for_us_east_1_whatever_the_region(stubbed, run_module):
    stubbed.add_response("get_domain_detail", _detail(ZONE_NS), {"DomainName": DOMAIN})
    result = run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS, "region": "ap-northeast-1"})
    assert result["changed"] is False
    assert result["domain"]["transfer_lock"] is True
    assert stubbed.calls == [("route53domains", {"region": "us-east-1"})]


def test_domains_region_override(stubbed, run_module):
    stubbed.add_response("get_domain_detail", _detail(ZONE_NS))
    run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS, "domains_region": "us-west-2"})
    assert stubbed.calls == [("route53domains", {"region": "us-west-2"})]


def test_update_sends_normalised_name_servers_in_order(stubbed, run_module):
    stubbed.add_response("get_domain_detail", _detail(OTHER_NS))
    stubbed.add_response(
        "update_domain_nameservers",
        {"OperationId": OPERATION_ID},
        {"DomainName": DOMAIN, "Nameservers": [{"Name": n.rstrip(".")} for n in ZONE_NS]},
    )
    stubbed.add_response("get_domain_detail", _detail(ZONE_NS))
    result = run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS + [ZONE_NS[1].upper()]})
    assert result["changed"] is True
    assert result["operation_id"] == OPERATION_ID


def test_duplicate_request_says_to_wait(stubbed, run_module):
    stubbed.add_response("get_domain_detail", _detail(OTHER_NS))
    stubbed.add_client_error("update_domain_nameservers", "DuplicateRequest", "The request is already in progress")
    result = run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS})
    assert result.failed
    assert f"still processing an earlier request for domain {DOMAIN} (DuplicateRequest)" in result["msg"]


def test_other_update_error_is_reported(stubbed, run_module):
    stubbed.add_response("get_domain_detail", _detail(OTHER_NS))
    stubbed.add_client_error("update_domain_nameservers", "TLDRulesViolation", "The registry refuses these servers")
    result = run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS})
    assert result.failed
    assert result["msg"].startswith("Failed to update domain name servers")
    assert "registry refuses" in result["msg"]


def _operation(status, message=None):
    operation = {"OperationId": OPERATION_ID, "Status": status, "Type": "UPDATE_NAMESERVER", "DomainName": DOMAIN}
    if message:
        operation["Message"] = message
    return operation


def test_wait_polls_until_successful(stubbed, run_module):
    stubbed.add_response("get_domain_detail", _detail(OTHER_NS))
    stubbed.add_response("update_domain_nameservers", {"OperationId": OPERATION_ID})
    stubbed.add_response("get_operation_detail", _operation("SUBMITTED"), {"OperationId": OPERATION_ID})
    stubbed.add_client_error("get_operation_detail", "ThrottlingException", "slow down")
    stubbed.add_response("get_operation_detail", _operation("IN_PROGRESS"))
    stubbed.add_response("get_operation_detail", _operation("SUCCESSFUL"))
    stubbed.add_response("get_operation_detail", _operation("SUCCESSFUL"))
    stubbed.add_response("get_domain_detail", _detail(ZONE_NS))
    result = run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS, "wait": True, "wait_timeout": 30})
    assert result["changed"] is True, result
    assert result["operation"]["status"] == "SUCCESSFUL"


def test_wait_reports_failed_operation(stubbed, run_module):
    stubbed.add_response("get_domain_detail", _detail(OTHER_NS))
    stubbed.add_response("update_domain_nameservers", {"OperationId": OPERATION_ID})
    stubbed.add_response(
        "get_operation_detail", _operation("FAILED", "Name server ns-0.awsdns-00.com is not reachable")
    )
    result = run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS, "wait": True})
    assert result.failed
    assert f"Operation {OPERATION_ID} (UPDATE_NAMESERVER) on domain {DOMAIN} ended in FAILED" in result["msg"]
    assert "not reachable" in result["msg"]


def test_wait_times_out_with_what_to_do(stubbed, run_module, monkeypatch):
    monkeypatch.setattr(route53domains, "OPERATION_POLL_DELAY", 1)
    stubbed.add_response("get_domain_detail", _detail(OTHER_NS))
    stubbed.add_response("update_domain_nameservers", {"OperationId": OPERATION_ID})
    stubbed.add_response("get_operation_detail", _operation("IN_PROGRESS"))
    stubbed.add_response("get_operation_detail", _operation("IN_PROGRESS"))
    result = run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS, "wait": True, "wait_timeout": 1})
    assert result.failed
    assert "Timed out after 1 seconds waiting for operation" in result["msg"]
    assert "status: IN_PROGRESS" in result["msg"]


def test_wait_reports_api_error(stubbed, run_module):
    stubbed.add_response("get_domain_detail", _detail(OTHER_NS))
    stubbed.add_response("update_domain_nameservers", {"OperationId": OPERATION_ID})
    stubbed.add_client_error("get_operation_detail", "AccessDeniedException", "no")
    result = run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS, "wait": True})
    assert result.failed
    assert f"Failed to get operation {OPERATION_ID} while waiting: AccessDeniedException" in result["msg"]


# --- info -------------------------------------------------------------------------------


def test_info_detail_list_and_operation(domains, run_module):
    changed = run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS})

    detail = run_module(info_module, {"domain_name": DOMAIN.upper() + ".", "region": "ap-northeast-1"})
    assert detail["changed"] is False
    assert detail["domain"]["name_servers"] == [n.rstrip(".") for n in ZONE_NS]
    assert detail["domain"]["auto_renew"] is True
    assert detail["domain"]["transfer_lock"] is False  # moto's StatusList has no clientTransferProhibited
    assert detail["domain"]["expiration_date"] > detail["domain"]["creation_date"]
    assert not {"admin_contact", "registrant_contact", "tech_contact", "billing_contact"} & set(detail["domain"])
    assert "domains" not in detail

    listing = run_module(info_module, {})
    assert [d["domain_name"] for d in listing["domains"]] == [DOMAIN]
    assert set(listing["domains"][0]) >= {"auto_renew", "transfer_lock", "expiry"}

    operation = run_module(info_module, {"operation_id": changed["operation_id"]})
    assert operation["operation"]["status"] == "SUCCESSFUL"
    assert operation["operation"]["domain_name"] == DOMAIN


def test_info_missing_domain_and_operation(domains, run_module):
    missing = run_module(info_module, {"domain_name": "not-ours.com"})
    assert missing.failed
    assert "Domain not-ours.com is not registered in this AWS account" in missing["msg"]
    unknown = run_module(info_module, {"operation_id": OPERATION_ID})
    assert unknown.failed
    assert unknown["msg"].startswith("Failed to get operation detail")


def test_info_uses_us_east_1(aws_env, run_module, monkeypatch):
    client = boto3.client("route53domains", region_name="us-east-1")
    calls = []

    def fake_client(self, service, *args, **kwargs):
        calls.append((service, kwargs))
        return client

    monkeypatch.setattr(info_module.AnsibleAWSModule, "client", fake_client)
    with Stubber(client) as stubber:
        stubber.add_response("list_domains", {"Domains": []})
        assert run_module(info_module, {"region": "eu-west-1"})["domains"] == []
    assert calls == [("route53domains", {"region": "us-east-1"})]


def test_moto_refuses_any_second_update(domains, run_module):
    """Documents moto's deviation (see the module docstring): without aws_duplicate_rule the
    second change is refused, and the module's DuplicateRequest message is what the user sees."""
    run_module(module, {"domain_name": DOMAIN, "name_servers": ZONE_NS})
    result = run_module(module, {"domain_name": DOMAIN, "name_servers": OTHER_NS})
    assert result.failed
    assert "(DuplicateRequest)" in result["msg"]
    assert result["changed"] is True  # a change was due; it was refused
