from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.filter.target_group import FilterModule, target_group_drift

# A target group as community.aws.elb_target_group_info returns it (attributes as strings)
GROUP = {
    "target_group_name": "shop-web",
    "port": 80,
    "vpc_id": "vpc-1",
    "health_check_protocol": "HTTP",
    "health_check_port": "traffic-port",
    "health_check_path": "/up",
    "health_check_interval_seconds": 10,
    "health_check_timeout_seconds": 5,
    "healthy_threshold_count": 2,
    "unhealthy_threshold_count": 2,
    "deregistration_delay_timeout_seconds": "30",
    "matcher": {"http_code": "200"},
    "tags": {"Stack": "shop", "ManagedBy": "kumo.webstack", "Name": "shop-web"},
}
TAGS = {"Stack": "shop", "ManagedBy": "kumo.webstack", "Name": "shop-web"}


def want(**changes):
    """What loadbalancer/tasks/target_group.yml asks for, with the role's defaults."""
    wanted = {
        "port": 80,
        "vpc_id": "vpc-1",
        "health_check_protocol": "HTTP",
        "health_check_port": "traffic-port",
        "health_check_path": "/up",
        "health_check_interval_seconds": 10,
        "health_check_timeout_seconds": 5,
        "healthy_threshold_count": 2,
        "unhealthy_threshold_count": 2,
        "deregistration_delay_timeout_seconds": "30",
    }
    wanted.update(changes)
    return wanted


def group(**changes):
    out = copy.deepcopy(GROUP)
    for key, value in changes.items():
        if value is None:
            out.pop(key)
        else:
            out[key] = value
    return out


def drift(current, wanted=None, matcher="200", targets=("i-1", "i-2"), registered=("i-1", "i-2"), tags=TAGS):
    return target_group_drift(
        current, wanted or want(), matcher=matcher, targets=list(targets), registered=list(registered), tags=tags
    )


# Each expected list is what the Jinja program in target_group.yml returned for the same input
# before this filter replaced it (ansible-core 2.19).
def test_in_step_and_absent_groups_have_no_drift():
    assert drift(GROUP) == []
    assert drift({}) == []


def test_attributes_in_the_order_given():
    assert drift(GROUP, want(port=8080, deregistration_delay_timeout_seconds="60")) == [
        "port 80 -> 8080",
        "deregistration_delay_timeout_seconds 30 -> 60",
    ]
    assert drift(
        GROUP,
        want(
            vpc_id="vpc-2",
            health_check_path="/health",
            health_check_interval_seconds=30,
            health_check_timeout_seconds=10,
            healthy_threshold_count=3,
            unhealthy_threshold_count=5,
        ),
    ) == [
        "vpc_id vpc-1 -> vpc-2",
        "health_check_path /up -> /health",
        "health_check_interval_seconds 10 -> 30",
        "health_check_timeout_seconds 5 -> 10",
        "healthy_threshold_count 2 -> 3",
        "unhealthy_threshold_count 2 -> 5",
    ]
    current = group(health_check_protocol="HTTPS", health_check_port="8080")
    assert drift(current) == ["health_check_protocol HTTPS -> HTTP", "health_check_port 8080 -> traffic-port"]


def test_missing_and_null_attributes():
    assert drift(group(port=None, health_check_path=None)) == ["port - -> 80", "health_check_path - -> /up"]
    current = group()
    current["health_check_path"] = None
    assert drift(current) == ["health_check_path None -> /up"]
    # a missing attribute agrees with an empty wanted value, as default('') did
    assert drift(group(port=None), {"port": ""}) == []


def test_values_are_compared_with_their_types():
    # the info result gives the deregistration delay as a string: an int differs
    assert drift(group(deregistration_delay_timeout_seconds=30)) == ["deregistration_delay_timeout_seconds 30 -> 30"]


def test_matcher_codes_compare_as_a_set():
    assert drift(GROUP, matcher="302,200") == ["matcher 200 -> 302,200"]
    assert drift(group(matcher={"http_code": "200,302"}), matcher="302,200") == []
    assert drift(group(matcher={"http_code": "200,302"}), matcher=200) == ["matcher 200,302 -> 200"]
    assert drift(group(matcher=None)) == ["matcher - -> 200"]
    assert drift(group(matcher={})) == ["matcher - -> 200"]
    assert drift(group(matcher={"http_code": "302"}), matcher=None) == []


def test_targets_to_register_and_deregister_each_once_in_order():
    assert drift(GROUP, targets=["i-3", "i-1", "i-3"], registered=["i-1", "i-2", "i-2"]) == [
        "register i-3",
        "deregister i-2",
    ]
    assert drift(GROUP, targets=[], registered=["i-2", "i-1"]) == ["deregister i-2, i-1"]
    assert drift(GROUP, targets=["i-9"], registered=[]) == ["register i-9"]
    assert target_group_drift(GROUP, want(), matcher="200", tags=TAGS) == []


def test_tags_missing_or_different_extra_ignored():
    tags = {"Stack": "shop", "ManagedBy": "kumo.webstack", "Owner": "me", "Name": "shop-web"}
    assert drift(group(tags={"Stack": "shop"}), tags=tags) == ["tags ManagedBy, Owner, Name"]
    assert drift(group(tags=None)) == ["tags Stack, ManagedBy, Name"]
    assert drift(group(tags={**TAGS, "Name": "other", "Extra": "x"})) == ["tags Name"]
    assert drift(group(tags={}), tags=None) == []


def test_every_kind_of_drift_in_order():
    current = group(port=81, matcher={"http_code": "302"}, tags={"Stack": "shop"})
    assert drift(current, targets=["i-1", "i-3"]) == [
        "port 81 -> 80",
        "matcher 302 -> 200",
        "register i-3",
        "deregister i-2",
        "tags ManagedBy, Name",
    ]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (([GROUP], want()), {}, "the input must be a target group as elb_target_group_info returns it"),
        ((None, want()), {}, "got NoneType"),
        ((GROUP, ["port"]), {}, "the wanted attributes must be a dict"),
        ((GROUP, want()), {"targets": ["i-1"]}, "give both targets"),
        ((GROUP, want()), {"registered": ["i-1"]}, "give both targets"),
        ((GROUP, want()), {"targets": "i-1", "registered": []}, "targets must be a list of target ids"),
        ((GROUP, want()), {"targets": [], "registered": {"i-1": 1}}, "registered must be a list of target ids"),
        ((GROUP, want()), {"targets": [1], "registered": []}, "targets must hold target ids"),
        ((GROUP, want()), {"matcher": ["200"]}, "matcher must be HTTP codes"),
        ((GROUP, want()), {"tags": ["Stack"]}, "tags must be a dict"),
    ],
)
def test_bad_arguments_say_what_is_wrong(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match="^target_group_drift: ") as err:
        target_group_drift(*args, **kwargs)
    assert message in str(err.value)


def test_bad_arguments_fail_even_without_a_group():
    with pytest.raises(AnsibleFilterError, match="give both targets"):
        target_group_drift({}, want(), targets=[])


def test_filter_is_registered():
    assert FilterModule().filters() == {"target_group_drift": target_group_drift}
