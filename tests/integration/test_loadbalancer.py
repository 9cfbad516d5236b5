"""The loadbalancer role (ALB, target group, listeners, alias records) end to end against the
embedded emulator, read back with boto3.

The load balancers stand on the worker's shared network and security groups (the shared_base
fixture), in front of stand-ins for what the compute and domain roles publish (two instances, a
hosted zone and an issued certificate: tests/integration/playbooks/loadbalancer.yml). The teardown
removes the load balancer and those stand-ins, never the shared network or security groups."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import FAIL_FAST_TIMEOUT, ROOT, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
PROVISION = PLAYBOOKS / "loadbalancer.yml"
TEARDOWN = PLAYBOOKS / "loadbalancer_teardown.yml"
ALONE = PLAYBOOKS / "loadbalancer_alone.yml"
MAINTENANCE = ROOT / "playbooks" / "maintenance.yml"
POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"

pytestmark = pytest.mark.emulator


def flat(output: str) -> str:
    return " ".join(output.split())


def tags_of(elbv2, arn: str) -> dict[str, str]:
    (desc,) = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"]
    return {t["Key"]: t["Value"] for t in desc["Tags"]}


def stack_elbv2(elbv2, stack: str) -> list[str]:
    """ARNs of every load balancer and target group tagged Stack=<stack>."""
    arns = [lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]]
    arns += [tg["TargetGroupArn"] for tg in elbv2.describe_target_groups()["TargetGroups"]]
    return [arn for arn in arns if tags_of(elbv2, arn).get("Stack") == stack]


def alias_records(route53, dns_name: str) -> list[tuple[str, str, str]]:
    """(zone, name, type) of every alias record, in any zone, that points at dns_name."""
    found = []
    for zone in route53.list_hosted_zones()["HostedZones"]:
        for record in route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]:
            target = record.get("AliasTarget", {}).get("DNSName", "")
            if target.lower().rstrip(".") == dns_name.lower().rstrip("."):
                found.append((zone["Name"], record["Name"].rstrip("."), record["Type"]))
    return sorted(found)


def base_inputs(shared_base: dict) -> dict:
    """The shared network and security groups, as extra vars for loadbalancer.yml."""
    return {k: shared_base[k] for k in ("network_outputs", "security_groups_outputs")}


def test_load_balancer_is_built_idempotent_truthful_and_torn_down(emulator, shared_base, tmp_path):
    stack = "lblife"
    domain = f"{stack}.kumo-webstack.example"
    elbv2 = emulator.client("elbv2")
    route53 = emulator.client("route53")
    acm = emulator.client("acm")
    # the storage role's log bucket, as it publishes it (deletion protection is on by default); the
    # emulator checks neither that the bucket exists nor its policy (test_storage.py checks that)
    logs = f"{stack}-logs-123456789012-ap-northeast-1"
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "storage_outputs": {"log_bucket": logs, "alb_log_prefix": "alb"},
        **base_inputs(shared_base),
    }

    # ---- --check on an empty account (no network given) runs cleanly and creates nothing
    empty = {k: v for k, v in extra.items() if k not in ("network_outputs", "security_groups_outputs")}
    check_empty = run_playbook(PROVISION, "--check", env=emulator.env, extra_vars=empty)
    assert check_empty.rc == 0, check_empty.output[-6000:]
    assert f"target groups {stack}-web and the load balancer {stack}-alb would be created" in flat(check_empty.output)
    assert stack_elbv2(elbv2, stack) == []
    assert not (tmp_path / "loadbalancer_outputs.json").exists()

    # ---- start without waiting then await (as provision.yml does); then the role waiting by
    # itself finds nothing to change; then --check --diff predicts nothing
    first = run_playbook(PROVISION, env=emulator.env, extra_vars={**extra, "loadbalancer_wait": False})
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    second = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-6000:]
    check = run_playbook(PROVISION, "--check", "--diff", env=emulator.env, extra_vars=extra)
    assert check.rc == 0, check.output[-6000:]
    assert check.changed == 0, check.output[-6000:]

    outputs = json.loads((tmp_path / "loadbalancer_outputs.json").read_text())
    inputs = json.loads((tmp_path / "loadbalancer_inputs.json").read_text())
    web_ids = [w["instance_id"] for w in inputs["compute"]["web"]]
    certificate = inputs["domain"]["certificate_arn"]
    assert len(web_ids) == 2

    # ---- the ALB: internet-facing, both public subnets, the ALB group, hardened attributes
    (alb,) = elbv2.describe_load_balancers(Names=[f"{stack}-alb"])["LoadBalancers"]
    assert alb["Scheme"] == "internet-facing" and alb["Type"] == "application"
    assert alb["IpAddressType"] == "ipv4"
    assert alb["State"]["Code"] == "active"
    assert {az["SubnetId"] for az in alb["AvailabilityZones"]} == set(inputs["network"]["subnets"]["public"].values())
    assert alb["SecurityGroups"] == [inputs["security_groups"]["alb"]]
    assert tags_of(elbv2, alb["LoadBalancerArn"]) == {
        "Name": f"{stack}-alb",
        "Stack": stack,
        "ManagedBy": "kumo.webstack",
    }
    attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=alb["LoadBalancerArn"])["Attributes"]
    }
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["routing.http2.enabled"] == "true"
    assert attributes["idle_timeout.timeout_seconds"] == "60"
    assert attributes["deletion_protection.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    assert (attributes["access_logs.s3.bucket"], attributes["access_logs.s3.prefix"]) == (logs, "alb")

    # ---- listeners: 80 redirects to HTTPS (301, host/path/query kept); 443 TLS 1.2+ to the group
    listeners = {
        lst["Port"]: lst for lst in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    }
    assert set(listeners) == {80, 443}
    assert listeners[80]["Protocol"] == "HTTP"
    (redirect,) = listeners[80]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"] == {
        "Protocol": "HTTPS",
        "Port": "443",
        "Host": "#{host}",
        "Path": "/#{path}",
        "Query": "#{query}",
        "StatusCode": "HTTP_301",
    }
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert [c["CertificateArn"] for c in https["Certificates"]] == [certificate]
    assert https["SslPolicy"] == POLICY
    (forward,) = https["DefaultActions"]
    assert forward["Type"] == "forward"

    # ---- the target group: HTTP to port 80, health check, short drain, no stickiness, both hosts
    (tg,) = elbv2.describe_target_groups(LoadBalancerArn=alb["LoadBalancerArn"])["TargetGroups"]
    assert forward["TargetGroupArn"] == tg["TargetGroupArn"]
    assert tg["TargetGroupName"] == f"{stack}-web"
    assert (tg["Protocol"], tg["Port"], tg["TargetType"]) == ("HTTP", 80, "instance")
    assert tg["VpcId"] == inputs["network"]["vpc_id"]
    assert tg["HealthCheckProtocol"] == "HTTP" and tg["HealthCheckPort"] == "traffic-port"
    assert tg["HealthCheckPath"] == "/up"
    assert tg["Matcher"] == {"HttpCode": "200"}
    assert (tg["HealthCheckIntervalSeconds"], tg["HealthCheckTimeoutSeconds"]) == (10, 5)
    assert (tg["HealthyThresholdCount"], tg["UnhealthyThresholdCount"]) == (2, 2)
    tg_attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])["Attributes"]
    }
    assert tg_attributes["deregistration_delay.timeout_seconds"] == "30"
    assert tg_attributes["stickiness.enabled"] == "false"
    assert tags_of(elbv2, tg["TargetGroupArn"]) == {
        "Name": f"{stack}-web",
        "Stack": stack,
        "ManagedBy": "kumo.webstack",
    }
    targets = elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
    assert sorted(t["Target"]["Id"] for t in targets) == sorted(web_ids)
    assert {t["Target"]["Port"] for t in targets} == {80}

    # ---- alias records: A and AAAA for the name and its www, evaluating target health
    zone_id = inputs["domain"]["zone_id"]
    records = {
        (r["Name"].rstrip("."), r["Type"]): r
        for r in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        if "AliasTarget" in r
    }
    assert set(records) == {(domain, "A"), (domain, "AAAA"), (f"www.{domain}", "A"), (f"www.{domain}", "AAAA")}
    for record in records.values():
        assert record["AliasTarget"] == {
            "HostedZoneId": alb["CanonicalHostedZoneId"],
            "DNSName": alb["DNSName"].lower() + ".",
            "EvaluateTargetHealth": True,
        }

    # ---- the published facts
    assert outputs == {
        "arn": alb["LoadBalancerArn"],
        "dns_name": alb["DNSName"],
        "canonical_hosted_zone_id": alb["CanonicalHostedZoneId"],
        "attached": False,
        "target_group_arn": tg["TargetGroupArn"],
        "target_group_name": f"{stack}-web",
        "target_port": 80,
        "health_check_path": "/up",
        "target_groups": {
            "web": {
                "arn": tg["TargetGroupArn"],
                "name": f"{stack}-web",
                "port": 80,
                "protocol": "HTTP",
                "target_type": "instance",
                "health_check_path": "/up",
            }
        },
        "rules": {},
        "listeners": {"http": listeners[80]["ListenerArn"], "https": listeners[443]["ListenerArn"]},
        "ssl_policy": POLICY,
        "url": f"https://{domain}",
    }
    in_use = acm.describe_certificate(CertificateArn=certificate)["Certificate"]["InUseBy"]
    assert in_use == [alb["LoadBalancerArn"]]

    # ---- the role alone, every input given explicitly (and waiting by itself): an instance
    # dropped from the list is deregistered, nothing else changes
    keep = {
        **extra,
        "loadbalancer_vpc_id": inputs["network"]["vpc_id"],
        "loadbalancer_subnet_ids": list(inputs["network"]["subnets"]["public"].values()),
        "loadbalancer_security_group_id": inputs["security_groups"]["alb"],
        "loadbalancer_instance_groups": {"web": [{"instance_id": web_ids[0]}]},
        "loadbalancer_certificate_arn": certificate,
        "loadbalancer_zone_id": inputs["domain"]["zone_id"],
        "loadbalancer_record_names": [domain, f"www.{domain}"],
    }
    # a drift first: deletion protection switched off behind the role's back; --check --diff says
    # it would change the load balancer, and the run that drops the instance turns it on again
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=alb["LoadBalancerArn"], Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}]
    )
    drift = run_playbook(ALONE, "--check", "--diff", env=emulator.env, extra_vars=keep)
    assert drift.rc == 0, drift.output[-6000:]
    assert drift.changed > 0, drift.output[-6000:]
    assert re.search(r"TASK \[[^\]]*Ensure the internet-facing load balancer[^\]]*\] \**\nchanged:", drift.output), (
        drift.output[-6000:]
    )
    drop = run_playbook(ALONE, env=emulator.env, extra_vars=keep)
    assert drop.rc == 0, drop.output[-6000:]
    assert drop.changed > 0
    targets = elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
    assert [t["Target"]["Id"] for t in targets] == web_ids[:1]
    attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=alb["LoadBalancerArn"])["Attributes"]
    }
    assert attributes["deletion_protection.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    assert drop.changed == 2, drop.output[-6000:]

    # ---- maintenance on a stack without sorry servers (playbooks/maintenance.yml, no twin): a
    # rule at priority 1 answers every path with a fixed 503 and the inline page; off removes it;
    # each way twice, the second changing nothing
    state = tmp_path / stack
    state.mkdir()
    (state / "outputs.json").write_text(
        json.dumps(
            {
                "stack": stack,
                "kind": "rails",
                "region": "ap-northeast-1",
                "parts": {"loadbalancer": "loadbalancer"},
                "loadbalancer": outputs,
            }
        )
    )
    switch = {"webstack_name": stack, "webstack_state_dir": str(tmp_path), "webstack_twin": False}
    for state_wanted, changes in (("on", 1), ("on", 0), ("off", 1), ("off", 0)):
        run = run_playbook(MAINTENANCE, env=emulator.env, extra_vars={**switch, "maintenance": state_wanted})
        assert run.rc == 0 and run.changed == changes, (state_wanted, run.output[-6000:])
        rules = [
            r for r in elbv2.describe_rules(ListenerArn=listeners[443]["ListenerArn"])["Rules"] if not r["IsDefault"]
        ]
        if state_wanted == "on":
            (rule,) = rules
            assert rule["Priority"] == "1"
            assert rule["Conditions"][0]["PathPatternConfig"]["Values"] == ["/*"]
            (action,) = rule["Actions"]
            fixed = action["FixedResponseConfig"]
            assert (action["Type"], fixed["StatusCode"], fixed["ContentType"]) == ("fixed-response", "503", "text/html")
            assert "ただいまメンテナンス中です" in fixed["MessageBody"] and len(fixed["MessageBody"]) <= 1024
            tags = {
                t["Key"]: t["Value"]
                for t in elbv2.describe_tags(ResourceArns=[rule["RuleArn"]])["TagDescriptions"][0]["Tags"]
            }
            assert tags["Stack"] == stack and tags["ManagedBy"] == "kumo.webstack.maintenance"
        else:
            assert rules == []

    # ---- teardown: records, then the protected ALB (protection lifted), then the target group;
    # the test zone is deleted after it, which fails while an alias record is left in it
    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert down.rc == 0, down.output[-6000:]
    assert down.changed > 0
    out = flat(down.output)
    for name in (domain, f"www.{domain}"):
        for kind in ("A", "AAAA"):
            assert f"changed: [localhost] => (item={kind} {name}.)" in out, down.output[-6000:]
    assert "Lift the deletion protection" in out
    assert stack_elbv2(elbv2, stack) == []
    assert alias_records(route53, alb["DNSName"]) == []

    again = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert again.rc == 0, again.output[-6000:]
    assert again.changed == 0, again.output[-6000:]


def rules_of(elbv2, listener_arn: str) -> dict[str, dict]:
    """Name tag -> rule (with its tags) of every non-default rule of the listener."""
    out = {}
    for rule in elbv2.describe_rules(ListenerArn=listener_arn)["Rules"]:
        if rule["IsDefault"]:
            continue
        tags = tags_of(elbv2, rule["RuleArn"])
        out[tags.get("Name", rule["RuleArn"])] = {**rule, "Tags": tags}
    return out


def values(rule: dict, field: str) -> list[str]:
    for condition in rule["Conditions"]:
        if condition["Field"] == field:
            config = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig"}[field]
            return sorted(condition.get(config, {}).get("Values") or condition.get("Values") or [])
    return []


def test_ip_group_rules_fixed_responses_and_a_second_stack_attached(emulator, shared_base, tmp_path):
    stack, other = "lbdata", "lbattach"
    domain = f"{stack}.kumo-webstack.example"
    elbv2 = emulator.client("elbv2")
    route53 = emulator.client("route53")
    topology = {
        "loadbalancer_target_groups": [
            {"name": "web", "targets": {"instance_group": "web"}},
            {
                "name": "bot",
                "target_type": "ip",
                "port": 8080,
                "health_check": {"path": "/health", "matcher": "200-299"},
                "deregistration_delay": 10,
                "stickiness": {"enabled": True},
            },
        ],
        "loadbalancer_default_action": {
            "type": "fixed-response",
            "status_code": 404,
            "content_type": "text/plain",
            "body": "no route",
        },
        "loadbalancer_listener_rules": [
            {
                "name": "bot",
                "priority": 10,
                "hosts": [f"bot.{domain}"],
                "paths": ["/callback", "/health"],
                "action": {"type": "forward", "target_group": "bot"},
            },
            {
                "name": "closed",
                "priority": 20,
                "paths": ["/closed/*"],
                "action": {
                    "type": "fixed-response",
                    "status_code": 503,
                    "content_type": "text/html",
                    "body": "<h1>closed</h1>",
                },
            },
            {
                "name": "old",
                "priority": 30,
                "paths": ["/old"],
                "action": {"type": "redirect", "host": f"www.{domain}", "path": "/new", "status_code": "HTTP_302"},
            },
        ],
    }
    extra = {"webstack_name": stack, "webstack_state_dir": str(tmp_path), **base_inputs(shared_base), **topology}

    first = run_playbook(PROVISION, env=emulator.env, extra_vars={**extra, "loadbalancer_wait": False})
    assert first.rc == 0, first.output[-6000:]
    outputs = json.loads((tmp_path / "loadbalancer_outputs.json").read_text())
    inputs = json.loads((tmp_path / "loadbalancer_inputs.json").read_text())
    web_ids = sorted(w["instance_id"] for w in inputs["compute"]["web"])

    # ---- the ip group, left empty by the role; ECS would register the tasks: stand in for it
    (bot,) = elbv2.describe_target_groups(Names=[f"{stack}-bot"])["TargetGroups"]
    assert (bot["TargetType"], bot["Protocol"], bot["Port"]) == ("ip", "HTTP", 8080)
    assert (bot["HealthCheckPath"], bot["Matcher"]) == ("/health", {"HttpCode": "200-299"})
    assert (bot["HealthCheckIntervalSeconds"], bot["HealthCheckTimeoutSeconds"]) == (10, 5)
    bot_attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_target_group_attributes(TargetGroupArn=bot["TargetGroupArn"])["Attributes"]
    }
    assert bot_attributes["deregistration_delay.timeout_seconds"] == "10"
    assert bot_attributes["stickiness.enabled"] == "true"
    assert elbv2.describe_target_health(TargetGroupArn=bot["TargetGroupArn"])["TargetHealthDescriptions"] == []
    assert tags_of(elbv2, bot["TargetGroupArn"]) == {
        "Name": f"{stack}-bot",
        "Stack": stack,
        "ManagedBy": "kumo.webstack",
    }
    (web,) = elbv2.describe_target_groups(Names=[f"{stack}-web"])["TargetGroups"]
    targets = elbv2.describe_target_health(TargetGroupArn=web["TargetGroupArn"])["TargetHealthDescriptions"]
    assert sorted(t["Target"]["Id"] for t in targets) == web_ids
    elbv2.register_targets(TargetGroupArn=bot["TargetGroupArn"], Targets=[{"Id": "10.0.11.25", "Port": 8080}])

    # ---- the HTTPS listener's default action is a fixed response; the rules as given, tagged
    (alb,) = elbv2.describe_load_balancers(Names=[f"{stack}-alb"])["LoadBalancers"]
    listeners = {
        lst["Port"]: lst for lst in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    }
    assert set(listeners) == {80, 443}
    assert listeners[443]["DefaultActions"] == [
        {
            "Type": "fixed-response",
            "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no route"},
        }
    ]
    https = listeners[443]["ListenerArn"]
    rules = rules_of(elbv2, https)
    assert set(rules) == {f"{stack}-bot", f"{stack}-closed", f"{stack}-old"}
    for name, rule in rules.items():
        assert rule["Tags"] == {"Name": name, "Stack": stack, "ManagedBy": "kumo.webstack"}
    bot_rule, closed, old = rules[f"{stack}-bot"], rules[f"{stack}-closed"], rules[f"{stack}-old"]
    assert (bot_rule["Priority"], closed["Priority"], old["Priority"]) == ("10", "20", "30")
    assert values(bot_rule, "host-header") == [f"bot.{domain}"]
    assert values(bot_rule, "path-pattern") == ["/callback", "/health"]
    assert [(a["Type"], a.get("TargetGroupArn")) for a in bot_rule["Actions"]] == [("forward", bot["TargetGroupArn"])]
    assert values(closed, "path-pattern") == ["/closed/*"] and values(closed, "host-header") == []
    (fixed,) = closed["Actions"]
    assert fixed["FixedResponseConfig"] == {
        "StatusCode": "503",
        "ContentType": "text/html",
        "MessageBody": "<h1>closed</h1>",
    }
    (redirect,) = old["Actions"]
    assert redirect["RedirectConfig"] == {
        "Protocol": "#{protocol}",
        "Port": "#{port}",
        "Host": f"www.{domain}",
        "Path": "/new",
        "Query": "#{query}",
        "StatusCode": "HTTP_302",
    }

    # ---- second run and --check --diff change nothing; the target ECS registered stays
    second = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-6000:]
    check = run_playbook(PROVISION, "--check", "--diff", env=emulator.env, extra_vars=extra)
    assert check.rc == 0, check.output[-6000:]
    assert check.changed == 0, check.output[-6000:]
    targets = elbv2.describe_target_health(TargetGroupArn=bot["TargetGroupArn"])["TargetHealthDescriptions"]
    assert [t["Target"]["Id"] for t in targets] == ["10.0.11.25"]
    outputs = json.loads((tmp_path / "loadbalancer_outputs.json").read_text())
    assert outputs["target_group_arn"] == web["TargetGroupArn"]  # no forward by default: the first group
    assert outputs["target_groups"]["bot"] == {
        "arn": bot["TargetGroupArn"],
        "name": f"{stack}-bot",
        "port": 8080,
        "protocol": "HTTP",
        "target_type": "ip",
        "health_check_path": "/health",
    }
    assert outputs["rules"] == {
        "bot": {"arn": bot_rule["RuleArn"], "priority": 10},
        "closed": {"arn": closed["RuleArn"], "priority": 20},
        "old": {"arn": old["RuleArn"], "priority": 30},
    }

    # ---- a second stack attaches a target group, a rule and its name to this stack's ALB
    zone_id = inputs["domain"]["zone_id"]
    attach = {
        "webstack_name": other,
        "webstack_state_dir": str(tmp_path / other),
        "loadbalancer_existing_alb": f"{stack}-alb",
        "loadbalancer_target_groups": [{"name": "sorry", "targets": {"ids": web_ids[:1]}}],
        "loadbalancer_default_action": {},
        "loadbalancer_listener_rules": [
            {
                "name": "sorry",
                "priority": 5,
                "hosts": [f"sorry.{domain}"],
                "action": {"type": "forward", "target_group": "sorry"},
            }
        ],
        "loadbalancer_zone_id": zone_id,
        "loadbalancer_record_names": [f"sorry.{domain}"],
        "loadbalancer_certificate_arn": "",
        # settings of a load balancer of its own: the other stack's keeps its attributes
        "loadbalancer_deletion_protection": False,
        "loadbalancer_access_logs_bucket": f"{other}-logs-123456789012-ap-northeast-1",
        "loadbalancer_access_logs_prefix": "alb",
    }
    before = elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    attributes_before = elbv2.describe_load_balancer_attributes(LoadBalancerArn=alb["LoadBalancerArn"])["Attributes"]
    attached = run_playbook(ALONE, env=emulator.env, extra_vars=attach)
    assert attached.rc == 0, attached.output[-6000:]
    assert attached.changed > 0
    again = run_playbook(ALONE, env=emulator.env, extra_vars=attach)
    assert again.rc == 0 and again.changed == 0, again.output[-6000:]
    check = run_playbook(ALONE, "--check", "--diff", env=emulator.env, extra_vars=attach)
    assert check.rc == 0 and check.changed == 0, check.output[-6000:]
    (sorry,) = elbv2.describe_target_groups(Names=[f"{other}-sorry"])["TargetGroups"]
    assert sorry["VpcId"] == inputs["network"]["vpc_id"]
    assert sorry["LoadBalancerArns"] == [alb["LoadBalancerArn"]]
    assert tags_of(elbv2, sorry["TargetGroupArn"])["Stack"] == other
    rules = rules_of(elbv2, https)
    assert set(rules) == {f"{stack}-bot", f"{stack}-closed", f"{stack}-old", f"{other}-sorry"}
    assert rules[f"{other}-sorry"]["Priority"] == "5"
    assert rules[f"{other}-sorry"]["Tags"]["Stack"] == other
    names = {name for _zone, name, _type in alias_records(route53, alb["DNSName"])}
    assert names == {domain, f"www.{domain}", f"sorry.{domain}"}
    assert elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"] == before
    attributes = elbv2.describe_load_balancer_attributes(LoadBalancerArn=alb["LoadBalancerArn"])["Attributes"]
    assert attributes == attributes_before
    assert {"Key": "deletion_protection.enabled", "Value": "true"} in attributes

    # ---- the first stack drops a rule: only that one goes, the other stack's stays
    fewer = {**extra, "loadbalancer_listener_rules": topology["loadbalancer_listener_rules"][:2]}
    dropped = run_playbook(ALONE, env=emulator.env, extra_vars={**fewer, **alone_inputs(inputs, domain)})
    assert dropped.rc == 0, dropped.output[-6000:]
    assert set(rules_of(elbv2, https)) == {f"{stack}-bot", f"{stack}-closed", f"{other}-sorry"}

    # ---- tearing the second stack down removes only its part; the ALB and its listeners stay
    detach = {**attach, "loadbalancer_state": "absent"}
    down = run_playbook(ALONE, env=emulator.env, extra_vars=detach)
    assert down.rc == 0, down.output[-6000:]
    assert stack_elbv2(elbv2, other) == []
    assert set(rules_of(elbv2, https)) == {f"{stack}-bot", f"{stack}-closed"}
    assert elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"] == before
    names = {name for _zone, name, _type in alias_records(route53, alb["DNSName"])}
    assert names == {domain, f"www.{domain}"}
    gone = run_playbook(ALONE, env=emulator.env, extra_vars=detach)
    assert gone.rc == 0 and gone.changed == 0, gone.output[-6000:]

    # ---- teardown of the first stack: both of its groups (the ip one too) and the ALB go
    teardown = run_playbook(
        TEARDOWN, env=emulator.env, extra_vars={"webstack_name": stack, "webstack_state_dir": str(tmp_path)}
    )
    assert teardown.rc == 0, teardown.output[-6000:]
    assert stack_elbv2(elbv2, stack) == []


def alone_inputs(inputs: dict, domain: str) -> dict:
    """Every input of the role given explicitly, as the roles before it published them."""
    return {
        "loadbalancer_vpc_id": inputs["network"]["vpc_id"],
        "loadbalancer_subnet_ids": list(inputs["network"]["subnets"]["public"].values()),
        "loadbalancer_security_group_id": inputs["security_groups"]["alb"],
        "loadbalancer_instance_groups": inputs["compute"],
        "loadbalancer_certificate_arn": inputs["domain"]["certificate_arn"],
        "loadbalancer_zone_id": inputs["domain"]["zone_id"],
        "loadbalancer_record_names": [domain, f"www.{domain}"],
    }


# Each case: the variables it sets, and the message its failure must show. One playbook run
# (playbooks/loadbalancer_bad_input.yml) takes them all, against a dead endpoint.
RULE = {"name": "r", "priority": 10, "paths": ["/x"], "action": {"type": "fixed-response", "status_code": 503}}
WEB = {"name": "web", "targets": {"instance_group": "web"}}
BAD = {
    "health-path-no-slash": (
        {"loadbalancer_health_check_path": "up"},
        "loadbalancer_health_check_path must be a URL path starting with '/'",
    ),
    "ssl-policy-empty": (
        {"loadbalancer_ssl_policy": ""},
        "loadbalancer_ssl_policy must name a predefined ELB security policy",
    ),
    "ssl-policy-allows-tls10": (
        {"loadbalancer_ssl_policy": "ELBSecurityPolicy-2016-08"},
        "got 'ELBSecurityPolicy-2016-08'",
    ),
    "ssl-policy-unknown": (
        {"loadbalancer_ssl_policy": "Modern-TLS"},
        "loadbalancer_ssl_policy must name a predefined ELB security policy",
    ),
    "deregistration-delay-negative": (
        {"loadbalancer_deregistration_delay": -1},
        "loadbalancer_deregistration_delay must be a whole number from 0 to 3600 (seconds); got -1",
    ),
    "timeout-not-below-interval": (
        {"loadbalancer_health_check_timeout": 10},
        "loadbalancer_health_check_timeout (10) must be less than loadbalancer_health_check_interval (10)",
    ),
    "default-action-unknown-group": (
        {"loadbalancer_default_action": {"type": "forward", "target_group": "app"}},
        "loadbalancer_default_action: forwards to target group 'app', which is not in loadbalancer_target_groups"
        " (names: web)",
    ),
    "rule-action-unknown-group": (
        {"loadbalancer_listener_rules": [{**RULE, "action": {"type": "forward", "target_group": "sorry"}}]},
        "loadbalancer_listener_rules[0] (r) action: forwards to target group 'sorry'",
    ),
    "rule-priorities-duplicate": (
        {"loadbalancer_listener_rules": [RULE, {**RULE, "name": "s"}]},
        "loadbalancer_listener_rules[1] (s): priority 10 is also the priority of rule r; each rule needs its own",
    ),
    "rule-priority-zero": (
        {"loadbalancer_listener_rules": [{**RULE, "priority": 0}]},
        "loadbalancer_listener_rules[0] (r): priority must be a whole number from 1 to 50000",
    ),
    "rule-priority-too-high": (
        {"loadbalancer_listener_rules": [{**RULE, "priority": 50001}]},
        "loadbalancer_listener_rules[0] (r): priority must be a whole number from 1 to 50000",
    ),
    "rule-without-condition": (
        {"loadbalancer_listener_rules": [{"name": "r", "priority": 1, "action": RULE["action"]}]},
        "loadbalancer_listener_rules[0] (r): give hosts, paths or both",
    ),
    "fixed-response-status-302": (
        {"loadbalancer_listener_rules": [{**RULE, "action": {"type": "fixed-response", "status_code": 302}}]},
        "status_code must be an HTTP status 2XX, 4XX or 5XX; got 302",
    ),
    "fixed-response-content-type": (
        {"loadbalancer_default_action": {"type": "fixed-response", "status_code": 503, "content_type": "image/gif"}},
        "loadbalancer_default_action: content_type must be one of text/plain",
    ),
    "redirect-status-307": (
        {"loadbalancer_default_action": {"type": "redirect", "host": "example.com", "status_code": "HTTP_307"}},
        "status_code of a redirect must be HTTP_301 or HTTP_302",
    ),
    "ip-group-with-instance-ids": (
        {
            "loadbalancer_target_groups": [
                WEB,
                {"name": "bot", "target_type": "ip", "targets": {"ids": ["i-0123456789abcdef0"]}},
            ]
        },
        "loadbalancer_target_groups[1] (bot): target 'i-0123456789abcdef0' is not an IPv4 address",
    ),
    "ip-group-with-instance-group": (
        {
            "loadbalancer_target_groups": [
                WEB,
                {"name": "bot", "target_type": "ip", "targets": {"instance_group": "web"}},
            ]
        },
        "targets.instance_group gives instance ids, but the group's target_type is ip",
    ),
    "target-group-duplicate": (
        {"loadbalancer_target_groups": [WEB, WEB]},
        "loadbalancer_target_groups[1] (web): name web is used by more than one group",
    ),
    "target-group-name-too-long": (
        {"loadbalancer_target_groups": [{"name": "sorry-servers-of-the-shop-x"}], "loadbalancer_default_action": {}},
        "the target group's AWS name badlb-sorry-servers-of-the-shop-x is longer than 32 characters",
    ),
    "existing-alb-with-default-action": (
        {"loadbalancer_existing_alb": "shop-alb"},
        "loadbalancer_default_action is set, but with loadbalancer_existing_alb the listeners are the other stack's",
    ),
    "access-logs-bad-bucket": (
        {"loadbalancer_access_logs_bucket": "Logs_Bucket"},
        "loadbalancer_access_logs_bucket (default: storage_outputs.log_bucket) must be an S3 bucket name",
    ),
    "access-logs-prefix-awslogs": (
        {"loadbalancer_access_logs_bucket": "shop-logs", "loadbalancer_access_logs_prefix": "alb/AWSLogs"},
        "must not start or end with '/' nor contain 'AWSLogs'; got bucket 'shop-logs' and prefix 'alb/AWSLogs'",
    ),
    "existing-alb-bad-name": (
        {"loadbalancer_existing_alb": "shop_alb!", "loadbalancer_default_action": {}},
        "loadbalancer_existing_alb must be empty (the stack builds its own load balancer) or the name or ARN",
    ),
}
BAD_INPUT = PLAYBOOKS / "loadbalancer_bad_input.yml"


def test_bad_input_fails_before_any_aws_call(dead_endpoint_env, tmp_path):
    results_file = tmp_path / "results.json"
    cases = [{"id": case, "vars": case_vars} for case, (case_vars, _message) in BAD.items()]
    listed = (PLAYBOOKS / "tasks" / "loadbalancer_bad_case.yml").read_text()
    for case in cases:
        for name in case["vars"]:
            assert f"        {name}:" in listed, (
                f"{case['id']} sets {name}, which tasks/loadbalancer_bad_case.yml does not pass on"
            )
    run = run_playbook(
        BAD_INPUT,
        env=dead_endpoint_env,
        extra_vars={"lbbad_cases": cases, "lbbad_results_file": str(results_file)},
        timeout=FAIL_FAST_TIMEOUT,
    )
    assert run.rc == 0, run.output[-6000:]
    results = json.loads(results_file.read_text())
    assert sorted(results) == sorted(BAD)
    for case, (_vars, message) in BAD.items():
        result = results[case]
        assert result["failed"], f"{case}: the role accepted the bad input"
        out = flat(" ".join(result["messages"]))
        assert message in out, f"{case}: {out[-2000:]}"
        assert "Could not connect" not in out and "EndpointConnectionError" not in out, f"{case}: {out[-2000:]}"
