"""plugins/module_utils/topology.py: the checks the topology filters share."""

from __future__ import annotations

import re

import pytest

from ansible_collections.kumo.webstack.plugins.module_utils.topology import check_named_item, is_list, unknown_keys

NAME = re.compile(r"^[a-z]+$")


@pytest.mark.parametrize(("value", "expected"), [([], True), ((1,), True), ("ab", False), (b"ab", False), ({}, False)])
def test_is_list_takes_lists_not_strings(value, expected):
    assert is_list(value) is expected


def test_unknown_keys_names_them_and_what_is_allowed():
    assert unknown_keys("x[0] (web)", {"name": 1}, {"name", "count"}) == []
    assert unknown_keys("x[0] (web)", {"name": 1, "port": 2, "subnet": 3}, {"name", "count"}) == [
        "x[0] (web) has unknown keys port, subnet (allowed: count, name)"
    ]


def test_check_named_item_checks_shape_name_and_uniqueness():
    seen, errors = set(), []
    args = ("groups", "name, count", NAME, "lowercase letters", seen, errors)
    assert check_named_item(args[0], 0, {"name": "web"}, *args[1:]) == ("groups[0] (web)", "web")
    assert errors == []
    assert check_named_item(args[0], 1, {"name": "web"}, *args[1:]) == ("groups[1] (web)", None)
    assert check_named_item(args[0], 2, {"name": "Web1"}, *args[1:]) == ("groups[2] (Web1)", None)
    assert check_named_item(args[0], 3, {"name": ["a"]}, *args[1:]) == ("groups[3] (['a'])", None)
    assert check_named_item(args[0], 4, "web", *args[1:]) == (None, None)
    assert errors == [
        "groups[1]: the name 'web' is used twice (names must be unique)",
        "groups[2]: name must be lowercase letters; got 'Web1'",
        "groups[3]: name must be lowercase letters; got ['a']",
        "groups[4] must be a dict (name, count); got 'web'",
    ]
