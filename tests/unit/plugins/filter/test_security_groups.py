from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.filter.security_groups import security_group_errors, security_group_rules

from ...manifest import render_manifest

ADMIN = ["203.0.113.10/32"]
CHAT = [
    {
        "name": "alb",
        "description": "load balancer",
        "ingress": [{"ports": 443, "cidrs": ["0.0.0.0/0"], "description": "HTTPS"}],
        "egress": [{"ports": 8000, "group": "chat", "description": "chat port"}],
    },
    {
        "name": "chat",
        "description": "chat servers",
        "ingress": [{"ports": "8000", "group": "alb", "description": "chat port from the ALB"}],
        "egress": [{"proto": "all", "cidrs": ["0.0.0.0/0"], "description": "all out"}],
    },
    {
        "name": "redis",
        "description": "redis",
        "ingress": [{"ports": 6379, "group": "chat", "description": "Redis from the chat servers"}],
    },
]


def test_a_valid_list_has_no_errors():
    assert security_group_errors(CHAT) == []


def test_the_rails_manifest_is_valid():
    groups = render_manifest("rails", "security_groups_groups")
    assert [g["name"] for g in groups] == ["alb", "web", "bastion", "db"]
    assert security_group_errors(groups, ADMIN) == []
    ids = {"alb": "sg-a", "web": "sg-w", "bastion": "sg-b", "db": "sg-d"}
    assert security_group_rules(groups[3], ids) == {
        "rules": [
            {
                "proto": "tcp",
                "from_port": 3306,
                "to_port": 3306,
                "group_id": "sg-w",
                "rule_desc": "MySQL from the web hosts",
            }
        ],
        "rules_egress": [],
    }
    assert len(security_group_rules(groups[0], ids)["rules"]) == 4


def test_the_rails_manifest_with_sorry_servers_is_valid():
    groups = render_manifest("rails", "security_groups_groups", sorry_pages_domains=[{"name": "www.example.com"}])
    assert [g["name"] for g in groups] == ["alb", "web", "bastion", "db", "sorry"]
    assert security_group_errors(groups, ADMIN) == []
    ids = {"alb": "sg-a", "web": "sg-w", "bastion": "sg-b", "db": "sg-d", "sorry": "sg-s"}
    # the ALB may reach the sorry servers on 80 (besides the web hosts); they take HTTP from it only
    assert [r["group_id"] for r in security_group_rules(groups[0], ids)["rules_egress"]] == ["sg-w", "sg-s"]
    sorry_in = security_group_rules(groups[4], ids)["rules"]
    assert [(r["from_port"], r["group_id"]) for r in sorry_in] == [(80, "sg-a"), (22, "sg-b")]


def with_change(change):
    groups = copy.deepcopy(CHAT)
    change(groups)
    return groups


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda g: g[1].update(name="alb"), "security_groups_groups[1]: the name 'alb' is used twice"),
        (lambda g: g[1].update(name="Chat_1"), "security_groups_groups[1]: name must be 1-63 lowercase"),
        (lambda g: g[2].pop("description"), "security_groups_groups[2] (redis) needs a description"),
        (
            lambda g: g[2]["ingress"][0].update(group="chatt"),
            "security_groups_groups[2] (redis) ingress rule 1 ('Redis from the chat servers') references group"
            " 'chatt', which is not in the list (alb, chat, redis)",
        ),
        (lambda g: g[0]["egress"][0].update(ports=70000), "egress rule 1 ('chat port'): ports must be a port"),
        (lambda g: g[0]["egress"][0].update(ports="9-8"), "ports must be a port from 1 to 65535 or a range"),
        (lambda g: g[0]["egress"][0].pop("ports"), "got None"),
        (lambda g: g[1]["egress"][0].update(ports=22), "proto all covers every port, so it takes no ports"),
        (lambda g: g[0]["ingress"][0].update(proto="icmp"), "proto must be one of tcp, udp, all; got 'icmp'"),
        (lambda g: g[0]["ingress"][0].pop("description"), "ingress rule 1 needs a description"),
        (lambda g: g[0]["ingress"][0].update(description="  "), "needs a description"),
        (lambda g: g[0]["ingress"][0].update(group="chat"), "must name exactly one of group"),
        (lambda g: g[0]["ingress"][0].pop("cidrs"), "got none"),
        (lambda g: g[0]["ingress"][0].update(cidrs=["10.0.0.1/8"]), "cidrs must hold IPv4 CIDRs: '10.0.0.1/8' has"),
        (lambda g: g[0]["ingress"][0].update(cidrs="0.0.0.0/0"), "cidrs must be a list of CIDRs"),
        (
            lambda g: g[0]["ingress"].append({"ports": 80, "cidrs_ipv6": ["0.0.0.0/0"], "description": "x"}),
            "cidrs_ipv6 must hold IPv6 CIDRs",
        ),
        (lambda g: g[0]["ingress"][0].update(port=443), "has unknown keys port"),
        (lambda g: g[0].update(rules=[]), "(alb) has unknown keys rules"),
        (lambda g: g[0].update(ingress={"ports": 1}), "ingress must be a list of rules"),
        (lambda g: g.append("db"), "security_groups_groups[3] must be a dict"),
        (
            lambda g: g[1]["ingress"].append({"ports": "20-30", "cidrs": ["0.0.0.0/0"], "description": "wide"}),
            "ingress rule 2 ('wide') opens SSH (port 22) to 0.0.0.0/0, the whole internet",
        ),
        (
            lambda g: g[1]["ingress"].append({"proto": "all", "cidrs_ipv6": ["::/0"], "description": "any"}),
            "opens SSH (port 22) to ::/0",
        ),
    ],
)
def test_each_problem_is_named(change, fragment):
    errors = security_group_errors(with_change(change), ADMIN)
    assert any(fragment in e for e in errors), errors


def test_not_a_list():
    assert "security_groups_groups must be a list" in security_group_errors({"name": "x"})[0]


def test_world_ssh_is_accepted_when_allowed_and_not_checked_on_egress_or_other_ports():
    groups = with_change(lambda g: g[1]["ingress"].append({"ports": 22, "cidrs": ["0.0.0.0/0"], "description": "s"}))
    assert security_group_errors(groups, allow_world_ssh=True) == []
    groups = with_change(lambda g: g[1]["egress"].append({"ports": 22, "cidrs": ["0.0.0.0/0"], "description": "s"}))
    assert security_group_errors(groups) == []
    groups = with_change(lambda g: g[1]["ingress"].append({"ports": 23, "cidrs": ["0.0.0.0/0"], "description": "s"}))
    assert security_group_errors(groups) == []
    groups = with_change(
        lambda g: g[1]["ingress"].append({"proto": "udp", "ports": 22, "cidrs": ["0.0.0.0/0"], "description": "s"})
    )
    assert security_group_errors(groups) == []


ADMIN_RULE = [{"name": "jump", "description": "j", "ingress": [{"ports": 22, "admin": True, "description": "ssh"}]}]


@pytest.mark.parametrize(
    ("admin", "fragment"),
    [
        (None, "must list the CIDRs allowed to SSH to the bastion"),
        ([], "must list the CIDRs allowed to SSH to the bastion, e.g."),
        ("10.0.0.0/8", 'got "10.0.0.0/8"'),
        (["10.0.0.1"], "must hold IPv4 networks in CIDR form (e.g. 203.0.113.10/32): '10.0.0.1' has no prefix"),
        (
            ["10.0.0.0/8", "0.0.0.0/0"],
            "contains 0.0.0.0/0, which opens SSH on the jump to the whole internet. List your own addresses",
        ),
    ],
)
def test_admin_cidrs_are_checked_once_a_rule_uses_them(admin, fragment):
    errors = security_group_errors(ADMIN_RULE, admin)
    assert any(fragment in e for e in errors), errors
    assert security_group_errors(ADMIN_RULE, ["0.0.0.0/0"], allow_world_ssh=True) == []
    assert security_group_errors(CHAT, admin) == []  # no admin rule: not needed


def test_rules_resolve_groups_and_sources():
    ids = {"alb": "sg-1", "chat": "sg-2", "redis": "sg-3"}
    assert security_group_rules(CHAT[0], ids) == {
        "rules": [{"proto": "tcp", "from_port": 443, "to_port": 443, "cidr_ip": ["0.0.0.0/0"], "rule_desc": "HTTPS"}],
        "rules_egress": [
            {"proto": "tcp", "from_port": 8000, "to_port": 8000, "group_id": "sg-2", "rule_desc": "chat port"}
        ],
    }
    assert security_group_rules(CHAT[1], ids)["rules_egress"] == [
        {"proto": "all", "cidr_ip": ["0.0.0.0/0"], "rule_desc": "all out"}
    ]
    assert security_group_rules(CHAT[2], ids) == {
        "rules": [
            {
                "proto": "tcp",
                "from_port": 6379,
                "to_port": 6379,
                "group_id": "sg-2",
                "rule_desc": "Redis from the chat servers",
            }
        ],
        "rules_egress": [],
    }


def test_rules_admin_ranges_and_empty_lists():
    group = {
        "name": "x",
        "description": "x",
        "ingress": [
            {"ports": "8000-8010", "admin": True, "description": "admin"},
            {"ports": 80, "cidrs": [], "description": "nobody"},
            {"ports": 80, "cidrs_ipv6": ["::/0"], "description": "v6"},
        ],
    }
    assert security_group_rules(group, {}, admin_cidrs=ADMIN)["rules"] == [
        {"proto": "tcp", "from_port": 8000, "to_port": 8010, "cidr_ip": ADMIN, "rule_desc": "admin"},
        {"proto": "tcp", "from_port": 80, "to_port": 80, "cidr_ipv6": ["::/0"], "rule_desc": "v6"},
    ]
    assert security_group_rules(group, {})["rules"][0]["cidr_ipv6"] == ["::/0"]  # no admin CIDRs: left out


def test_rules_need_every_referenced_id():
    with pytest.raises(AnsibleFilterError, match="no id for group 'chat'"):
        security_group_rules(CHAT[0], {"alb": "sg-1"})
    with pytest.raises(AnsibleFilterError, match="takes a group"):
        security_group_rules([], {})
