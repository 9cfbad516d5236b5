from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.filter.twin_lb import (
    twin_lb_backends,
    twin_lb_frontends,
    twin_lb_target_group_arns,
)


def target(tid, port=80, state="healthy"):
    return {"target": {"id": tid, "port": port}, "target_health": {"state": state}}


WEB_TG = {
    "target_group_name": "s-web",
    "target_group_arn": "arn:tg/web",
    "port": 80,
    "protocol": "HTTP",
    "target_type": "instance",
    "health_check_path": "/up",
    "health_check_interval_seconds": 7,
    "health_check_timeout_seconds": 4,
    "healthy_threshold_count": 3,
    "unhealthy_threshold_count": 4,
    "matcher": {"http_code": "200"},
    "targets_health_description": [target("i-2"), target("i-1"), target("i-9", state="draining"), target("i-x")],
}
IP_TG = {
    "target_group_name": "s-api",
    "target_group_arn": "arn:tg/api",
    "port": 8000,
    "target_type": "ip",
    "health_check_port": "8001",
    "matcher": {"http_code": "200-202,302"},
    "targets_health_description": [target("10.0.1.7", 8000), target("10.0.1.7", 8002), target("10.0.9.9", 8000)],
}
CONTAINERS = [
    {"name": "s-web-1", "instance_id": "i-1", "aws_ip": "10.0.1.7"},
    {"name": "s-web-2", "instance_id": "i-2", "aws_ip": ""},
    {"name": "s-web-9", "instance_id": "i-9"},
]


def test_backends_map_instance_and_ip_targets():
    web, api = twin_lb_backends([WEB_TG, IP_TG], CONTAINERS)
    assert [s["name"] for s in web["servers"]] == ["i-1", "i-2"]  # sorted, draining i-9 left out
    assert web["unmapped"] == ["i-x"]
    assert web["lines"] == [
        "balance roundrobin",
        "# health check every 7s, timeout 4s, healthy after 3, unhealthy after 4",
        "option httpchk GET /up",
        "http-check expect status 200",
        "timeout check 4s",
        "default-server check inter 7s rise 3 fall 4 resolvers docker init-addr last,libc,none",
        "server i-1 s-web-1:80",
        "server i-2 s-web-2:80",
    ]
    # one address on two ports: two servers named after the port; health check on its own port
    assert [(s["name"], s["address"], s["port"]) for s in api["servers"]] == [
        ("10.0.1.7-8000", "s-web-1", 8000),
        ("10.0.1.7-8002", "s-web-1", 8002),
    ]
    assert api["unmapped"] == ["10.0.9.9"]
    assert api["health_check_port"] == 8001
    assert "http-check expect rstatus ^(200|201|202|302)$" in api["lines"]
    assert any(line.endswith("port 8001 resolvers docker init-addr last,libc,none") for line in api["lines"])


def test_backend_with_cookie_stickiness():
    sticky = {"stickiness_enabled": "true", "stickiness_type": "lb_cookie"}
    sticky["stickiness_lb_cookie_duration_seconds"] = "600"
    tg = dict(WEB_TG, **sticky)
    (backend,) = twin_lb_backends([tg], CONTAINERS)
    assert 'cookie AWSALB insert indirect nocache httponly attr "Max-Age=600"' in backend["lines"]
    assert backend["lines"][-2:] == ["server i-1 s-web-1:80 cookie i-1", "server i-2 s-web-2:80 cookie i-2"]
    (plain,) = twin_lb_backends([dict(tg, stickiness_enabled="false")], CONTAINERS)
    assert not any("cookie" in line for line in plain["lines"])


def test_backend_without_health_check_or_servers():
    tg = dict(WEB_TG, health_check_enabled=False, targets_health_description=[])
    (backend,) = twin_lb_backends([tg], [])
    assert backend["health_check_port"] is None
    assert backend["lines"][1] == "default-server resolvers docker init-addr last,libc,none"
    assert backend["lines"][-1].startswith("# no target")


def test_bad_matcher_and_containers():
    with pytest.raises(AnsibleFilterError, match="matcher"):
        twin_lb_backends([dict(WEB_TG, matcher={"http_code": "2xx"})], CONTAINERS)
    with pytest.raises(AnsibleFilterError, match="with a name"):
        twin_lb_backends([WEB_TG], [{"instance_id": "i-1"}])


def rule(priority, conditions, action):
    return {"priority": str(priority), "conditions": conditions, "actions": [action], "is_default": False}


FORWARD_WEB = {"type": "forward", "target_group_arn": "arn:tg/web"}
LISTENERS = [
    {
        "port": 443,
        "protocol": "HTTPS",
        "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "default_actions": [FORWARD_WEB],
        "rules": [
            rule(
                20,
                [{"field": "path-pattern", "path_pattern_config": {"values": ["/maint*"]}}],
                {
                    "type": "fixed-response",
                    "fixed_response_config": {
                        "status_code": "503",
                        "content_type": "text/html",
                        "message_body": "it's",
                    },
                },
            ),
            rule(
                10,
                [
                    {"field": "host-header", "host_header_config": {"values": ["api.example", "*.api.example"]}},
                    {"field": "path-pattern", "values": ["/v?/*"]},
                ],
                {
                    "type": "forward",
                    "order": 2,
                    "forward_config": {
                        "target_groups": [
                            {"target_group_arn": "arn:tg/web", "weight": 1},
                            {"target_group_arn": "arn:tg/api", "weight": 9},
                        ]
                    },
                },
            ),
            rule(
                30,
                [{"field": "http-request-method", "http_request_method_config": {"values": ["POST"]}}],
                {
                    "type": "redirect",
                    "redirect_config": {"path": "/new/#{path}", "query": "", "status_code": "HTTP_302"},
                },
            ),
            {"priority": "default", "is_default": True, "conditions": [], "actions": [FORWARD_WEB]},
        ],
    },
    {
        "port": 80,
        "protocol": "HTTP",
        "default_actions": [
            {"type": "redirect", "redirect_config": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}}
        ],
        "rules": [],
    },
]


def frontends():
    backends = twin_lb_backends([WEB_TG, IP_TG], CONTAINERS)
    return twin_lb_frontends(LISTENERS, backends, {"80": "18080", 443: 18443}, "/r")


def test_target_group_arns_from_default_actions_and_rules():
    assert twin_lb_target_group_arns(LISTENERS) == ["arn:tg/web", "arn:tg/api"]


def test_http_listener_redirects_to_the_published_https_port():
    http = frontends()[0]
    assert (http["name"], http["published"]) == ("listener_80", 18080)
    assert http["lines"][-2:] == [
        "http-request redirect code 301 location 'https://%[req.hdr(host),field(1,:)]:18443%[path]?%[query]'"
        " if { query -m found }",
        "http-request redirect code 301 location 'https://%[req.hdr(host),field(1,:)]:18443%[path]'",
    ]


def test_rules_in_priority_order_then_routes():
    https = frontends()[1]
    lines = https["lines"]
    sets = [line for line in lines if "set-var(txn.rule)" in line]
    assert sets == [
        "http-request set-var(txn.rule) int(10) if !{ var(txn.rule) -m found } rule10_1 rule10_2",
        "http-request set-var(txn.rule) int(20) if !{ var(txn.rule) -m found } rule20_1",
        "http-request set-var(txn.rule) int(30) if !{ var(txn.rule) -m found } rule30_1",
    ]
    assert "acl rule10_1 req.hdr(host),field(1,:) -m reg -i '^api\\.example$'" in lines
    assert "acl rule10_1 req.hdr(host),field(1,:) -m reg -i '^.*\\.api\\.example$'" in lines
    assert "acl rule10_2 path -m reg '^/v./.*$'" in lines
    assert "acl rule30_1 method -m str 'POST'" in lines
    body = next(iter(https["responses"]))
    assert https["responses"] == {body: "it's"}
    assert (
        f"http-request return status 503 content-type 'text/html' file '/r/{body}' if {{ var(txn.rule) -m int 20 }}"
        in lines
    )
    assert (
        "http-request redirect code 302 location 'https://%[req.hdr(host),field(1,:)]:18443/new/%[path,regsub(^/,)]'"
        " if { var(txn.rule) -m int 30 }" in lines
    )
    # the heaviest target group of a weighted forward; backends chosen after every http-request rule
    assert lines[-3:] == [
        "use_backend s-api if { var(txn.rule) -m int 10 }",
        "# default action: forward",
        "default_backend s-web",
    ]
    first_route = lines.index("use_backend s-api if { var(txn.rule) -m int 10 }")
    assert all(not line.startswith("http-request") for line in lines[first_route:])


def test_fixed_response_default_and_other_conditions():
    listener = {
        "port": 80,
        "protocol": "HTTP",
        "default_actions": [{"type": "fixed-response", "fixed_response_config": {"status_code": "404"}}],
        "rules": [
            rule(
                1,
                [
                    {"field": "source-ip", "source_ip_config": {"values": ["10.0.0.0/8"]}},
                    {"field": "http-header", "http_header_config": {"http_header_name": "X-Env", "values": ["b*"]}},
                    {"field": "query-string", "query_string_config": {"values": [{"key": "v", "value": "2"}]}},
                ],
                {"type": "redirect", "redirect_config": {"host": "other.example", "port": "8443", "protocol": "HTTPS"}},
            )
        ],
    }
    (front,) = twin_lb_frontends([listener], [], {80: 18080})
    assert "acl rule1_1 src '10.0.0.0/8'" in front["lines"]
    assert "acl rule1_2 req.hdr(X-Env) -m reg -i '^b.*$'" in front["lines"]
    assert "acl rule1_3 url_param(v) -m reg -i '^2$'" in front["lines"]
    # another host: its own port, not the twin's
    assert any("location 'https://other.example:8443%[path]'" in line for line in front["lines"])
    assert front["lines"][-1] == "http-request return status 404 if !{ var(txn.rule) -m found }"
    assert front["responses"] == {}


@pytest.mark.parametrize(
    ("listener", "message"),
    [
        ({"port": 443, "default_actions": [{"type": "forward", "target_group_arn": "arn:nope"}]}, "not among"),
        ({"port": 80, "default_actions": [{"type": "authenticate-oidc"}]}, "no forward, redirect"),
        (
            {
                "port": 80,
                "default_actions": [FORWARD_WEB],
                "rules": [rule(1, [{"field": "cookie", "values": ["x"]}], FORWARD_WEB)],
            },
            "condition field 'cookie'",
        ),
    ],
)
def test_bad_listeners(listener, message):
    backends = twin_lb_backends([WEB_TG], CONTAINERS)
    with pytest.raises(AnsibleFilterError, match=message):
        twin_lb_frontends([listener], backends, {80: 1, 443: 2})
