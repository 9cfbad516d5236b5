"""scripts/diagram.py: the model as a plan (pure), rendered to PNG and SVG, redrawn only when it changes."""

from __future__ import annotations

import html
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location("diagram", Path(__file__).parents[3] / "scripts" / "diagram.py")
diagram = importlib.util.module_from_spec(SPEC)
sys.modules[SPEC.name] = diagram  # dataclasses look their module up
SPEC.loader.exec_module(diagram)

# A small rails stack as playbooks/diagram.yml writes it (documentation addresses, made-up ids)
RAILS = {
    "stack": "unit1",
    "kind": "rails",
    "region": "ap-northeast-1",
    "vpc": {"id": "vpc-1", "name": "unit1-vpc", "cidr": "10.0.0.0/16"},
    "internet_gateway": "igw-1",
    "subnets": [
        {
            "id": "subnet-pa",
            "name": "unit1-public-ap-northeast-1a",
            "az": "ap-northeast-1a",
            "tier": "public",
            "cidr": "10.0.0.0/24",
        },
        {
            "id": "subnet-pc",
            "name": "unit1-public-ap-northeast-1c",
            "az": "ap-northeast-1c",
            "tier": "public",
            "cidr": "10.0.1.0/24",
        },
        {
            "id": "subnet-qa",
            "name": "unit1-private-ap-northeast-1a",
            "az": "ap-northeast-1a",
            "tier": "private",
            "cidr": "10.0.128.0/24",
        },
        {
            "id": "subnet-qc",
            "name": "unit1-private-ap-northeast-1c",
            "az": "ap-northeast-1c",
            "tier": "private",
            "cidr": "10.0.129.0/24",
        },
    ],
    "nat_gateways": [{"id": "nat-1", "subnet_id": "subnet-pa", "public_ip": "192.0.2.10"}],
    "endpoints": [{"id": "vpce-1", "service": "s3", "type": "Gateway"}],
    "instances": [
        {
            "id": "i-b",
            "name": "unit1-bastion",
            "role": "bastion",
            "subnet_id": "subnet-pa",
            "private_ip": "10.0.0.4",
            "state": "running",
        },
        {
            "id": "i-w1",
            "name": "unit1-web-1",
            "role": "web",
            "subnet_id": "subnet-qa",
            "private_ip": "10.0.128.4",
            "state": "running",
        },
        {
            "id": "i-w2",
            "name": "unit1-web-2",
            "role": "web",
            "subnet_id": "subnet-qc",
            "private_ip": "10.0.129.4",
            "state": "running",
        },
    ],
    "load_balancers": [
        {
            "name": "unit1-alb",
            "dns_name": "unit1-alb-1.example",
            "listeners": [
                {
                    "port": 80,
                    "protocol": "HTTP",
                    "default": {"type": "redirect", "protocol": "HTTPS", "port": "443", "status": "HTTP_301"},
                    "rules": [],
                },
                {
                    "port": 443,
                    "protocol": "HTTPS",
                    "default": {"type": "forward", "target_groups": ["unit1-web"]},
                    "rules": [
                        {
                            "priority": "10",
                            "when": "host unit1.example",
                            "action": {"type": "forward", "target_groups": ["unit1-sorry"]},
                        }
                    ],
                },
            ],
            "target_groups": [
                {"name": "unit1-web", "target_type": "instance", "port": 80, "targets": ["i-w1", "i-w2"]},
                {"name": "unit1-sorry", "target_type": "instance", "port": 80, "targets": []},
            ],
        }
    ],
    "databases": [
        {
            "id": "unit1-db",
            "engine": "mysql 8.4.5",
            "class": "db.t4g.micro",
            "az": "ap-northeast-1a",
            "multi_az": False,
            "port": 3306,
        }
    ],
    "caches": [],
    "buckets": [{"name": "unit1-uploads-123456789012-ap-northeast-1", "purpose": "uploads"}],
    "distributions": [],
    "services": [],
    "repositories": [],
    "parameters": [],
    "schedules": [],
    "domain": {"zone": "unit1.example", "certificate": "unit1.example"},
}

NAMES = [
    "10.0.0.0/16",
    "unit1-public-ap-northeast-1a",
    "unit1-public-ap-northeast-1c",
    "unit1-private-ap-northeast-1a",
    "unit1-private-ap-northeast-1c",
    "unit1-bastion",
    "unit1-web-1",
    "unit1-web-2",
    "unit1-alb",
    "HTTP:80 → redirect HTTPS:443 (HTTP_301)",
    "HTTPS:443 → forward unit1-web",
    "rule 10: host unit1.example → forward unit1-sorry",
    "unit1-db",
    "unit1-uploads-123456789012-ap-northeast-1",
    "nat-1",
    "vpce-1",
]


def test_plan_names_every_part_and_wires_them():
    spec = diagram.plan(RAILS)
    text = "\n".join(spec.labels())
    for name in NAMES:
        assert name in text, name
    icons = {n.id: n.icon for n in spec.nodes()}
    assert icons["i-w1"] == "ec2" and icons["nat-1"] == "nat" and icons["rds-unit1-db"] == "rds"
    assert icons["subnet-qa-label"] == "private_subnet" and icons["subnet-pa-label"] == "public_subnet"
    edges = {(e.src, e.dst) for e in spec.edges}
    assert {("alb-unit1-alb", "i-w1"), ("alb-unit1-alb", "i-w2"), ("i-w1", "rds-unit1-db"), ("i-b", "i-w2")} <= edges
    assert ("i-w1", "vpce-1") in edges and ("vpce-1", "s3-unit1-uploads-123456789012-ap-northeast-1") in edges
    # every edge joins two drawn nodes; every icon is one the renderer knows
    assert all(e.src in icons and e.dst in icons for e in spec.edges)
    assert set(icons.values()) <= set(diagram.ICONS)


def test_plan_puts_subnets_in_their_az_and_the_instances_in_their_subnet():
    spec = diagram.plan(RAILS)
    (region,) = spec.root.clusters
    (vpc,) = (c for c in region.clusters if c.label.startswith("VPC "))
    assert vpc.label == "VPC unit1-vpc  10.0.0.0/16"
    azs = {c.label: c for c in vpc.clusters}
    assert set(azs) == {"AZ ap-northeast-1a", "AZ ap-northeast-1c"}
    subnets = {s.label: {n.id for n in s.nodes} for s in azs["AZ ap-northeast-1c"].clusters}
    assert subnets == {
        "public subnet unit1-public-ap-northeast-1c": {"subnet-pc-label"},
        "private subnet unit1-private-ap-northeast-1c": {"subnet-qc-label", "i-w2"},
    }


def test_plan_of_the_other_kinds():
    bot = {
        "stack": "bot1",
        "kind": "bot",
        "region": "ap-northeast-1",
        "vpc": {"id": "vpc-2", "cidr": "10.1.0.0/16"},
        "subnets": [{"id": "subnet-1", "az": "ap-northeast-1a", "tier": "public", "cidr": "10.1.0.0/24"}],
        "load_balancers": [
            {
                "name": "bot1-alb",
                "listeners": [],
                "target_groups": [{"name": "bot1-bot", "target_type": "ip", "port": 8080, "targets": []}],
            }
        ],
        "services": [{"cluster": "bot1", "name": "bot", "launch": "FARGATE_SPOT", "desired": 1}],
        "repositories": [{"name": "bot1/bot"}],
        "parameters": ["/bot1/ACCESS_TOKEN", "/bot1/CHANNEL_SECRET"],
        "schedules": [{"name": "start", "expression": "cron(0 8 ? * SAT,SUN *)"}],
        "buckets": [{"name": "bot1-data", "purpose": "bot"}],
    }
    spec = diagram.plan(bot)
    icons = {n.id: n.icon for n in spec.nodes()}
    assert icons["ecs-bot"] == "fargate" and icons["ecr-bot1/bot"] == "ecr" and icons["scheduler"] == "scheduler"
    edges = {(e.src, e.dst) for e in spec.edges}
    assert {("alb-bot1-alb", "ecs-bot"), ("scheduler", "ecs-bot"), ("ecs-bot", "ssm")} <= edges

    chat = {
        "stack": "c1",
        "kind": "chat",
        "caches": [{"id": "c1-redis", "engine": "redis", "nodes": 2}],
        "instances": [{"id": "i-c", "name": "c1-chat-1", "role": "chat"}],
    }
    assert ("i-c", "cache-c1-redis") in {(e.src, e.dst) for e in diagram.plan(chat).edges}

    sorry = {
        "stack": "s1",
        "kind": "sorry",
        "buckets": [{"name": "s1-sorry", "purpose": "sorry pages"}],
        "distributions": [
            {
                "id": "E1",
                "domain_name": "d1.cloudfront.net",
                "aliases": ["a.s1.example"],
                "origin": "s1-sorry.s3.ap-northeast-1.amazonaws.com",
            }
        ],
        "instances": [{"id": "i-s", "name": "s1-sorry-1", "role": "sorry"}],
    }
    edges = {(e.src, e.dst) for e in diagram.plan(sorry).edges}
    assert {("cf-E1", "s3-s1-sorry"), ("i-s", "cf-E1")} <= edges


needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz (dot) is not installed: make venv")


@needs_dot
def test_render_writes_png_and_svg_naming_the_stack_and_redraws_only_on_change(tmp_path):
    first = diagram.render(RAILS, tmp_path)
    assert first["changed"]
    png, svg = Path(first["png"]), Path(first["svg"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    text = html.unescape(svg.read_text())
    for name in NAMES:
        assert name in text, name
    # self-contained: the icons inlined, no path of this machine
    assert "data:image/png;base64," in text and "site-packages" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diagram.png", "diagram.svg"]

    mtime = png.stat().st_mtime_ns
    again = diagram.render(json.loads(json.dumps(RAILS)), tmp_path)
    assert not again["changed"] and png.stat().st_mtime_ns == mtime

    changed = json.loads(json.dumps(RAILS))
    changed["instances"][1]["state"] = "stopped"
    third = diagram.render(changed, tmp_path)
    assert third["changed"] and third["digest"] != first["digest"]
    assert "(stopped)" in html.unescape(svg.read_text())


@needs_dot
def test_main_prints_what_it_did(tmp_path, capsys):
    model = tmp_path / "model.json"
    model.write_text(json.dumps(RAILS))
    assert diagram.main([str(model), str(tmp_path / "out")]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is True
    assert diagram.main([str(model), str(tmp_path / "out")]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is False
