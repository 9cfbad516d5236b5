"""Unit tests for plugins/module_utils/route53domains.py."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.kumo.webstack.plugins.module_utils import route53domains


@pytest.fixture
def stubbed(aws_env):
    client = boto3.client("route53domains", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_desired_nameservers_normalise_dedupe_and_keep_order():
    request, wanted = route53domains.desired_nameservers(
        ["NS-2.example.net.", "ns-1.example.org", "ns-2.example.net", ""], {"ns-1.example.org.": "192.0.2.1"}
    )
    assert request == [{"Name": "ns-2.example.net"}, {"Name": "ns-1.example.org", "GlueIps": ["192.0.2.1"]}]
    assert wanted == {"ns-2.example.net": [], "ns-1.example.org": ["192.0.2.1"]}


def test_nameserver_map_ignores_order_and_case():
    current = route53domains.nameserver_map([{"Name": "B.example.net."}, {"Name": "a.example.org", "GlueIps": []}])
    assert current == route53domains.desired_nameservers(["a.example.org", "b.example.net"])[1]


def test_domain_to_result_drops_contacts_and_adds_fields():
    when = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    detail = {
        "DomainName": "example.com",
        "Nameservers": [{"Name": "ns-1.example.net."}],
        "AdminContact": {"FirstName": "Private"},
        "RegistrantContact": {"FirstName": "Private"},
        "TechContact": {"FirstName": "Private"},
        "BillingContact": {"FirstName": "Private"},
        "ExpirationDate": when,
        "StatusList": ["clientTransferProhibited", "clientDeleteProhibited"],
    }
    result = route53domains.domain_to_result(detail)
    assert "Private" not in str(result)
    assert result["name_servers"] == ["ns-1.example.net"]
    assert result["expiration_date"] == "2030-01-01T00:00:00+00:00"
    assert result["transfer_lock"] is True
    assert route53domains.transfer_lock({"StatusList": ["ok"]}) is False


def test_describe_registered_domain_keeps_invalid_input_for_a_held_domain(stubbed):
    """InvalidInput for a domain the account does hold is not 'not registered': the API error stays."""
    client, stubber = stubbed
    stubber.add_client_error("get_domain_detail", "InvalidInput", "Something else is wrong")
    stubber.add_response("list_domains", {"Domains": [{"DomainName": "example.com"}]})
    with pytest.raises(route53domains.AnsibleRoute53DomainsError) as error:
        route53domains.describe_registered_domain(client, "example.com")
    assert "Failed to get domain detail" in str(error.value)


def test_describe_registered_domain_not_registered(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_domain_detail", "InvalidInput", "Domain example.com not found")
    stubber.add_response("list_domains", {"Domains": []})
    with pytest.raises(route53domains.AnsibleRoute53DomainsError, match="is not registered in this AWS account"):
        route53domains.describe_registered_domain(client, "example.com")


def test_describe_registered_domain_other_errors_pass_through(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_domain_detail", "AccessDeniedException", "no")
    with pytest.raises(route53domains.AnsibleRoute53DomainsError, match="Failed to get domain detail"):
        route53domains.describe_registered_domain(client, "example.com")


def test_list_domains_pages(stubbed):
    client, stubber = stubbed
    stubber.add_response("list_domains", {"Domains": [{"DomainName": "a.com"}], "NextPageMarker": "m"})
    stubber.add_response("list_domains", {"Domains": [{"DomainName": "b.com"}]}, {"Marker": "m"})
    assert [d["DomainName"] for d in route53domains.list_domains(client)] == ["a.com", "b.com"]
