"""The loadbalancer role (ALB, target group, listeners, alias records) end to end against the
embedded emulator, read back with boto3."""

from __future__ import annotations

import json

import pytest

from .conftest import FAIL_FAST_TIMEOUT, ROOT, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
PROVISION = PLAYBOOKS / "loadbalancer.yml"
TEARDOWN = PLAYBOOKS / "loadbalancer_teardown.yml"
ALONE = PLAYBOOKS / "loadbalancer_alone.yml"
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


def test_load_balancer_is_built_idempotent_truthful_and_torn_down(emulator, tmp_path):
    stack = "lblife"
    domain = f"{stack}.kumo-webstack.example"
    elbv2 = emulator.client("elbv2")
    route53 = emulator.client("route53")
    acm = emulator.client("acm")
    extra = {"webstack_name": stack, "webstack_state_dir": str(tmp_path), "loadbalancer_deletion_protection": True}

    # ---- --check on an empty account runs cleanly and creates nothing
    check_empty = run_playbook(PROVISION, "--check", env=emulator.env, extra_vars=extra)
    assert check_empty.rc == 0, check_empty.output[-6000:]
    assert f"target group {stack}-web and the load balancer {stack}-alb would be created" in flat(check_empty.output)
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
    assert attributes["access_logs.s3.enabled"] == "false"

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
        "target_group_arn": tg["TargetGroupArn"],
        "target_group_name": f"{stack}-web",
        "target_port": 80,
        "health_check_path": "/up",
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
        "loadbalancer_target_instance_ids": web_ids[:1],
        "loadbalancer_certificate_arn": certificate,
        "loadbalancer_zone_id": inputs["domain"]["zone_id"],
        "loadbalancer_record_names": [domain, f"www.{domain}"],
    }
    drop = run_playbook(ALONE, env=emulator.env, extra_vars=keep)
    assert drop.rc == 0, drop.output[-6000:]
    assert drop.changed > 0
    targets = elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
    assert [t["Target"]["Id"] for t in targets] == web_ids[:1]
    assert drop.changed == 1, drop.output[-6000:]

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


BAD = [
    pytest.param(
        {"loadbalancer_health_check_path": "up"},
        "loadbalancer_health_check_path must be a URL path starting with '/'",
        id="health-path-no-slash",
    ),
    pytest.param(
        {"loadbalancer_ssl_policy": ""},
        "loadbalancer_ssl_policy must name a predefined ELB security policy",
        id="ssl-policy-empty",
    ),
    pytest.param(
        {"loadbalancer_ssl_policy": "ELBSecurityPolicy-2016-08"},
        "got 'ELBSecurityPolicy-2016-08'",
        id="ssl-policy-allows-tls10",
    ),
    pytest.param(
        {"loadbalancer_ssl_policy": "Modern-TLS"},
        "loadbalancer_ssl_policy must name a predefined ELB security policy",
        id="ssl-policy-unknown",
    ),
    pytest.param(
        {"loadbalancer_deregistration_delay": -1},
        "loadbalancer_deregistration_delay must be a whole number from 0 to 3600 (seconds); got -1",
        id="deregistration-delay-negative",
    ),
    pytest.param(
        {"loadbalancer_health_check_timeout": 10},
        "loadbalancer_health_check_timeout (10) must be less than loadbalancer_health_check_interval (10)",
        id="timeout-not-below-interval",
    ),
]


@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_fails_before_any_aws_call(extra, message, dead_endpoint_env, tmp_path):
    extra_vars = {"webstack_name": "badlb", "webstack_state_dir": str(tmp_path), **extra}
    run = run_playbook(ALONE, env=dead_endpoint_env, extra_vars=extra_vars, timeout=FAIL_FAST_TIMEOUT)
    assert run.rc != 0
    out = flat(run.output)
    assert message in out, run.output[-3000:]
    assert "Could not connect" not in out and "EndpointConnectionError" not in out
