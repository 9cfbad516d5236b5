"""The loadbalancer role's topology filters: checks, defaults, actions and rules."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.filter.elb import (
    elb_action,
    elb_rules,
    elb_target_groups,
    elb_topology_errors,
)

DEFAULTS = {
    "port": 80,
    "protocol": "HTTP",
    "target_type": "instance",
    "deregistration_delay": 30,
    "health_check": {
        "path": "/up",
        "matcher": "200",
        "interval": 10,
        "timeout": 5,
        "healthy_threshold": 2,
        "unhealthy_threshold": 2,
    },
}
WEB = {"name": "web", "targets": {"instance_group": "web"}}
BOT = {"name": "bot", "target_type": "ip", "port": 8080, "health_check": {"path": "/health"}}


def errors(groups=(WEB,), action=None, rules=(), attached=False):
    return elb_topology_errors(list(groups), action or {}, list(rules), "shop", DEFAULTS, attached)


def test_rails_and_bot_data_pass():
    assert errors() == []
    assert errors([WEB, BOT], {"type": "forward", "target_group": "web"}) == []
    rule = {
        "name": "bot",
        "priority": 10,
        "hosts": ["bot.example.com"],
        "paths": ["/callback"],
        "action": {"type": "forward", "target_group": "bot"},
    }
    assert errors([WEB, BOT], rules=[rule]) == []


@pytest.mark.parametrize(
    ("groups", "action", "rules", "message"),
    [
        ([{"name": "Web"}], None, [], "loadbalancer_target_groups[0] (Web): name must be lowercase"),
        (
            [{"name": "averyveryveryveryverylongname"}],
            None,
            [],
            "AWS name shop-averyveryveryveryverylongname is longer than 32",
        ),
        ([WEB, WEB], None, [], "name web is used by more than one group"),
        ([{"name": "web", "prot": "HTTP"}], None, [], "has unknown keys prot"),
        (
            [{"name": "web", "health_check": {"interval": 5}}],
            None,
            [],
            "health_check.timeout (5) must be less than health_check.interval (5)",
        ),
        (
            [{"name": "web", "health_check": {"matcher": "600"}}],
            None,
            [],
            "health_check.matcher must list HTTP codes from 200 to 499",
        ),
        (
            [{"name": "bot", "target_type": "ip", "targets": {"ids": ["i-0abc"]}}],
            None,
            [],
            "target 'i-0abc' is not an IPv4 address",
        ),
        (
            [{"name": "bot", "target_type": "ip", "targets": {"instance_group": "web"}}],
            None,
            [],
            "the group's target_type is ip",
        ),
        ([{"name": "web", "targets": {"ids": ["10.0.0.1"]}}], None, [], "target '10.0.0.1' is not an instance id"),
        (
            [WEB],
            {"type": "forward", "target_group": "api"},
            [],
            "forwards to target group 'api', which is not in loadbalancer_target_groups (names: web)",
        ),
        (
            [WEB],
            {"type": "fixed-response", "status_code": 302},
            [],
            "status_code must be an HTTP status 2XX, 4XX or 5XX; got 302",
        ),
        (
            [WEB],
            {"type": "redirect", "status_code": "HTTP_307"},
            [],
            "status_code of a redirect must be HTTP_301 or HTTP_302",
        ),
        ([WEB], {"type": "proxy"}, [], "type must be forward, fixed-response or redirect"),
    ],
)
def test_mistakes_are_named(groups, action, rules, message):
    found = errors(groups, action, rules)
    assert any(message in e for e in found), found


def test_rule_mistakes():
    ok = {"type": "fixed-response", "status_code": 503}
    rules = [
        {"name": "a", "priority": 10, "paths": ["/x"], "action": ok},
        {"name": "b", "priority": 10, "paths": ["/y"], "action": ok},
        {"name": "c", "priority": 50001, "hosts": ["c.example"], "action": ok},
        {"name": "d", "priority": 1, "action": ok},
        {"name": "e", "priority": 2, "hosts": ["a", "b", "c"], "paths": ["/1", "/2", "/3"], "action": ok},
        {"name": "a", "priority": 3, "paths": ["/z"], "action": {"type": "forward", "target_group": "nope"}},
    ]
    found = errors(rules=rules)
    text = "\n".join(found)
    assert "loadbalancer_listener_rules[1] (b): priority 10 is also the priority of rule a" in text
    assert "loadbalancer_listener_rules[2] (c): priority must be a whole number from 1 to 50000" in text
    assert "loadbalancer_listener_rules[3] (d): give hosts, paths or both" in text
    assert "loadbalancer_listener_rules[4] (e): 6 host and path values; AWS allows 5" in text
    assert "loadbalancer_listener_rules[5] (a): name a is used by more than one rule" in text
    assert "loadbalancer_listener_rules[5] (a) action: forwards to target group 'nope'" in text


def test_attached_refuses_a_default_action():
    found = errors(action={"type": "forward", "target_group": "web"}, attached=True)
    assert found == [
        "loadbalancer_default_action is set, but with loadbalancer_existing_alb the listeners are the other stack's"
        " and are left alone; route with loadbalancer_listener_rules instead"
    ]


def test_not_lists():
    found = elb_topology_errors("web", {}, "x", "shop")
    assert found[0].startswith("loadbalancer_target_groups must be a list")
    assert found[1].startswith("loadbalancer_listener_rules must be a list")


def test_target_groups_fill_defaults_and_resolve_targets():
    instances = {"web": [{"instance_id": "i-1"}, {"instance_id": "i-2"}], "bastion": {"instance_id": "i-9"}}
    groups = [
        {**WEB, "targets": {"instance_group": ["web", "bastion"], "ids": ["i-2", "i-3"]}},
        {**BOT, "stickiness": {"enabled": True}},
        {"name": "gone", "targets": {"instance_group": "none"}},
    ]
    web, bot, gone = elb_target_groups(groups, "shop", DEFAULTS, instances)
    assert web == {
        "name": "web",
        "aws_name": "shop-web",
        "target_type": "instance",
        "protocol": "HTTP",
        "port": 80,
        "health_check": {
            "path": "/up",
            "matcher": "200",
            "interval": 10,
            "timeout": 5,
            "healthy_threshold": 2,
            "unhealthy_threshold": 2,
        },
        "deregistration_delay": 30,
        "stickiness": {"enabled": False, "duration": None},
        "targets": ["i-1", "i-2", "i-9", "i-3"],
    }
    assert (bot["target_type"], bot["port"], bot["health_check"]["path"], bot["targets"]) == (
        "ip",
        8080,
        "/health",
        None,
    )
    assert bot["health_check"]["interval"] == 10
    assert bot["stickiness"] == {"enabled": True, "duration": None}
    assert gone["targets"] == []
    with pytest.raises(AnsibleFilterError):
        elb_target_groups("web", "shop")


def test_actions():
    assert elb_action({"type": "forward", "target_group": "web"}, {"web": "arn:tg"}) == {
        "Type": "forward",
        "TargetGroupArn": "arn:tg",
    }
    assert elb_action({"type": "fixed-response", "status_code": 503}, {}) == {
        "Type": "fixed-response",
        "FixedResponseConfig": {"StatusCode": "503", "ContentType": "text/plain"},
    }
    assert elb_action(
        {"type": "fixed-response", "status_code": "200", "content_type": "text/html", "body": "<p>x</p>"}, {}
    )["FixedResponseConfig"] == {"StatusCode": "200", "ContentType": "text/html", "MessageBody": "<p>x</p>"}
    assert elb_action({"type": "redirect", "host": "www.example.com", "status_code": 302}, {}) == {
        "Type": "redirect",
        "RedirectConfig": {
            "Protocol": "#{protocol}",
            "Port": "#{port}",
            "Host": "www.example.com",
            "Path": "/#{path}",
            "Query": "#{query}",
            "StatusCode": "HTTP_302",
        },
    }
    with pytest.raises(AnsibleFilterError, match="target group 'web' has no ARN yet"):
        elb_action({"type": "forward", "target_group": "web"}, {"web": ""})
    with pytest.raises(AnsibleFilterError, match="not an action"):
        elb_action({"type": "drop"}, {})


def test_rules():
    rules = [
        {
            "name": "www",
            "priority": "10",
            "hosts": ["www.example.com"],
            "paths": ["/a/*"],
            "action": {"type": "forward", "target_group": "web"},
        },
        {
            "name": "closed",
            "priority": 20,
            "paths": ["/closed"],
            "action": {"type": "fixed-response", "status_code": 503},
        },
    ]
    www, closed = elb_rules(rules, "shop", {"web": "arn:tg"})
    assert www == {
        "name": "shop-www",
        "priority": 10,
        "conditions": [
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["www.example.com"]}},
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/a/*"]}},
        ],
        "actions": [{"Type": "forward", "TargetGroupArn": "arn:tg"}],
    }
    assert closed["conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/closed"]}}]
    with pytest.raises(AnsibleFilterError):
        elb_rules({}, "shop", {})
