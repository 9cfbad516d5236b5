from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.filter import cidr


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("10.0.0.0/16", ""),
        ("10.0.0.0", "no prefix length"),
        ("10.0.0.1/16", "host bits set (did you mean 10.0.0.0/16?)"),
        ("10.0.300.0/24", "not an IPv4 address range"),
        ("10.0.0.0/33", "invalid prefix length"),
        ("fd00::/64", "not an IPv4 address range"),
    ],
)
def test_cidr_error(value, fragment):
    message = cidr.cidr_error(value)
    if fragment:
        assert fragment in message
    else:
        assert message == ""


def test_cidr_within():
    assert cidr.cidr_within("10.0.1.0/24", "10.0.0.0/16")
    assert not cidr.cidr_within("10.1.0.0/24", "10.0.0.0/16")
    assert not cidr.cidr_within("10.0.0.0/15", "10.0.0.0/16")


def test_cidr_overlaps_names_each_pair():
    found = cidr.cidr_overlaps(["10.0.0.0/24", "10.0.0.128/25", "10.0.1.0/24", "10.0.0.0/23"])
    assert found == [
        "10.0.0.0/24 overlaps 10.0.0.128/25",
        "10.0.0.0/24 overlaps 10.0.0.0/23",
        "10.0.0.128/25 overlaps 10.0.0.0/23",
        "10.0.1.0/24 overlaps 10.0.0.0/23",
    ]
    assert cidr.cidr_overlaps(["10.0.0.0/24", "10.0.1.0/24"]) == []


def test_subnet_plan_for_a_16():
    plan = cidr.cidr_subnet_plan("10.0.0.0/16", 24, 2)
    assert plan == {
        "public": ["10.0.0.0/24", "10.0.1.0/24"],
        "private": ["10.0.128.0/24", "10.0.129.0/24"],
    }


def test_subnet_plan_for_a_small_vpc():
    plan = cidr.cidr_subnet_plan("172.16.4.0/22", 24, 2)
    assert plan == {
        "public": ["172.16.4.0/24", "172.16.5.0/24"],
        "private": ["172.16.6.0/24", "172.16.7.0/24"],
    }


def test_subnet_plan_rejects_what_cannot_fit():
    with pytest.raises(AnsibleFilterError, match="too few"):
        cidr.cidr_subnet_plan("10.0.0.0/23", 24, 2)
    with pytest.raises(AnsibleFilterError, match="must be longer"):
        cidr.cidr_subnet_plan("10.0.0.0/24", 24, 2)
