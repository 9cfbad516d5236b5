"""kumo.webstack.elb_listener_rules against moto: one owner's rules on a shared listener."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.modules import elb_listener_rules

REGION = "ap-northeast-1"
OURS = {"Stack": "sorry", "ManagedBy": "kumo.webstack"}


@pytest.fixture
def listener(aws_env):
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        elbv2 = boto3.client("elbv2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"][
                "SubnetId"
            ]
            for i, az in ((1, "a"), (2, "c"))
        ]
        lb = elbv2.create_load_balancer(Name="shop-alb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        tg = elbv2.create_target_group(Name="sorry-web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
        arn = elbv2.create_listener(
            LoadBalancerArn=lb,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[
                {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"}}
            ],
        )["Listeners"][0]["ListenerArn"]
        yield elbv2, arn, tg["TargetGroupArn"]


def rule(name, priority, tg=None, hosts=("www.example.com",), status="503"):
    action = (
        {"Type": "forward", "TargetGroupArn": tg}
        if tg
        else {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": status, "ContentType": "text/plain"}}
    )
    return {
        "name": name,
        "priority": priority,
        "conditions": [{"Field": "host-header", "HostHeaderConfig": {"Values": list(hosts)}}],
        "actions": [action],
    }


def ours(elbv2, arn):
    out = {}
    for r in elbv2.describe_rules(ListenerArn=arn)["Rules"]:
        if r["IsDefault"]:
            continue
        (desc,) = elbv2.describe_tags(ResourceArns=[r["RuleArn"]])["TagDescriptions"]
        tags = {t["Key"]: t["Value"] for t in desc["Tags"]}
        out[tags.get("Name", "?")] = (int(r["Priority"]), tags)
    return out


def test_create_check_idempotent_change_and_delete(run_module, listener):
    elbv2, arn, tg = listener
    args = {"listener_arn": arn, "match_tags": OURS, "rules": [rule("sorry-www", 10, tg), rule("sorry-closed", 20)]}
    checked = run_module(elb_listener_rules, args, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["changes"] == ["create sorry-www (priority 10)", "create sorry-closed (priority 20)"]
    assert ours(elbv2, arn) == {}

    created = run_module(elb_listener_rules, args)
    assert created["changed"] is True
    assert [r["name"] for r in created["rules"]] == ["sorry-www", "sorry-closed"]
    assert all(r["arn"] for r in created["rules"])
    found = ours(elbv2, arn)
    assert found["sorry-www"] == (10, dict(OURS, Name="sorry-www"))
    assert found["sorry-closed"][0] == 20

    assert run_module(elb_listener_rules, args, check_mode=True)["changed"] is False
    assert run_module(elb_listener_rules, args)["changed"] is False

    moved = {**args, "rules": [rule("sorry-www", 15, tg), rule("sorry-closed", 20, status="502")]}
    changed = run_module(elb_listener_rules, moved, diff=True)
    assert changed["changes"] == ["move sorry-www from priority 10 to 15", "change sorry-closed"]
    assert ours(elbv2, arn)["sorry-www"][0] == 15
    assert run_module(elb_listener_rules, moved)["changed"] is False

    dropped = run_module(elb_listener_rules, {**args, "rules": [rule("sorry-www", 15, tg)]})
    assert dropped["changes"] == ["delete sorry-closed (priority 20)"]
    assert set(ours(elbv2, arn)) == {"sorry-www"}

    gone = run_module(elb_listener_rules, {**args, "rules": []})
    assert gone["changed"] is True
    assert ours(elbv2, arn) == {}


def test_other_owners_rules_are_left_alone_and_their_priorities_refused(run_module, listener):
    elbv2, arn, tg = listener
    run_module(
        elb_listener_rules, {"listener_arn": arn, "match_tags": {"Stack": "shop"}, "rules": [rule("shop-api", 5)]}
    )
    run_module(elb_listener_rules, {"listener_arn": arn, "match_tags": OURS, "rules": [rule("sorry-www", 10, tg)]})
    clash = run_module(
        elb_listener_rules, {"listener_arn": arn, "match_tags": OURS, "rules": [rule("sorry-www", 5, tg)]}
    )
    assert clash.failed
    assert (
        "Priority 5 of rule sorry-www is held by a rule that is not this owner's (its Stack or Name tag: shop)"
        in clash["msg"]
    )
    run_module(elb_listener_rules, {"listener_arn": arn, "match_tags": OURS, "rules": []})
    assert set(ours(elbv2, arn)) == {"shop-api"}


def test_bad_arguments_fail_without_api_calls(run_module, no_api, aws_env):
    base = {"listener_arn": "arn:x", "match_tags": OURS}
    dup = run_module(elb_listener_rules, {**base, "rules": [rule("a", 1), rule("a", 2)]})
    assert dup.failed and "must be unique" in dup["msg"]
    low = run_module(elb_listener_rules, {**base, "rules": [rule("a", 0)]})
    assert low.failed and "from 1 to 50000" in low["msg"]
    empty = run_module(elb_listener_rules, {**base, "match_tags": {}, "rules": []})
    assert empty.failed and "match_tags must hold at least one tag" in empty["msg"]
