from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.filter.sorry import sorry_domains, sorry_site_domains, sorry_zone_id


def test_defaults_are_filled_in():
    (domain,) = sorry_domains([{"name": "www.example.com"}], "sorry.example.com", "/pages")
    assert domain == {
        "name": "www.example.com",
        "label": "www-example-com",
        "status": 503,
        "retry_after": 3600,
        "source_dir": "/pages",
        "prefix": "www-example-com",
        "alias": "www-example-com.sorry.example.com",
    }


def test_given_values_are_kept_and_no_subdomain_means_no_alias():
    given = {"name": "old.example.com", "label": "old", "status": "200", "retry_after": 60, "source_dir": "/closed"}
    (domain,) = sorry_domains([given], "", "/pages")
    assert (domain["label"], domain["status"], domain["retry_after"]) == ("old", 200, 60)
    assert (domain["source_dir"], domain["alias"]) == ("/closed", "")


@pytest.mark.parametrize("bad", ["www.example.com", [{"label": "x"}], ["www.example.com"]])
def test_bad_input_is_refused(bad):
    with pytest.raises(AnsibleFilterError, match="sorry_domains"):
        sorry_domains(bad)


def test_site_domains_keep_what_the_site_reads():
    outputs = [
        {
            "name": "www.example.com",
            "label": "www-example-com",
            "status": 503,
            "retry_after": 3600,
            "alias": "www-example-com.sorry.example.com",
            "origin": "www-example-com.sorry.example.com",
            "distribution_id": "E1",
        }
    ]
    assert sorry_site_domains(outputs) == [
        {"name": "www.example.com", "origin": "www-example-com.sorry.example.com", "status": 503, "retry_after": 3600}
    ]
    with pytest.raises(AnsibleFilterError, match="item 0 must be a domain of sorry_pages_outputs"):
        sorry_site_domains([{"name": "www.example.com"}])


def test_zone_of_a_subdomain_is_the_longest_public_suffix():
    zones = [
        {"Id": "/hostedzone/ZROOT", "Name": "example.", "Config": {"PrivateZone": False}},
        {"Id": "/hostedzone/ZSHOP", "Name": "shop.example.", "Config": {"PrivateZone": False}},
        {"Id": "/hostedzone/ZPRIV", "Name": "sorry.shop.example.", "Config": {"PrivateZone": True}},
        {"Id": "/hostedzone/ZOTHER", "Name": "op.example.", "Config": {"PrivateZone": False}},
    ]
    assert sorry_zone_id(zones, "sorry.shop.example") == "ZSHOP"
    assert sorry_zone_id(zones, "Sorry.Shop.Example.") == "ZSHOP"
    assert sorry_zone_id(zones, "sorry.other.test") == ""
    assert sorry_zone_id(zones, "shop.example") == "ZSHOP"
