"""The bot stack (seed 002) through playbooks/provision.yml and teardown.yml with
webstack_kind=bot, read back with boto3.

The roles' own test files check each part in detail (network's none mode, ecr, image, ecs,
parameters, schedules, loadbalancer's ip target groups); this one checks that the bot's manifest
composes them: every part is there and wired to the others, no secret value reaches the output
or outputs.json, a second provision changes nothing, and a forced teardown leaves nothing tagged
with the stack. Three runs: the bot kind's share of make test's budget.
"""

from __future__ import annotations

import json

import pytest

from .conftest import ROOT, run_playbook
from .test_stack import stack_leftovers

PROVISION = ROOT / "playbooks" / "provision.yml"
TEARDOWN = ROOT / "playbooks" / "teardown.yml"

pytestmark = pytest.mark.emulator

TOKEN = "tok-Bt7Qe2Wx9Lp4"
SECRET = "sec-Kd3Vn8Ry5Hs1"


def test_bot_stack_is_wired_idempotent_and_torn_down(emulator, tmp_path):
    stack = "botkind"
    extra = {
        "webstack_kind": "bot",
        "webstack_name": stack,
        "webstack_domain": f"{stack}.kumo-webstack.example",
        "webstack_state_dir": str(tmp_path / "state"),
        "webstack_secrets_dir": str(tmp_path / "secrets"),
        "bot_access_token": TOKEN,
        "bot_channel_secret": SECRET,
    }

    # ---- first provision, with -v: no secret value in the output
    first = run_playbook(PROVISION, "-v", env=emulator.env, extra_vars=extra, timeout=1800)
    assert first.rc == 0, first.output[-8000:]
    for value in (TOKEN, SECRET):
        assert value not in first.output, "a secret value was printed"
    raw = (tmp_path / "state" / stack / "outputs.json").read_text()
    assert TOKEN not in raw and SECRET not in raw
    out = json.loads(raw)
    assert out["kind"] == "bot"
    assert out["webhook_url"].endswith("/callback")

    # ---- the network: public subnets for the tasks, no NAT gateway, no Elastic IP
    ec2 = emulator.client("ec2")
    tag = [{"Name": "tag:Stack", "Values": [stack]}]
    assert not [n for n in ec2.describe_nat_gateways(Filters=tag)["NatGateways"] if n["State"] != "deleted"]
    assert ec2.describe_addresses(Filters=tag)["Addresses"] == []

    # ---- the service: Fargate Spot, circuit breaker with rollback, public subnets with public IPs,
    # the bot's group only, behind the ip target group the HTTPS listener forwards to
    ecs = emulator.client("ecs")
    (service,) = ecs.describe_services(cluster=out["ecs"]["cluster"], services=[out["ecs"]["service"]])["services"]
    assert service["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    breaker = service["deploymentConfiguration"]["deploymentCircuitBreaker"]
    assert breaker == {"enable": True, "rollback": True}
    vpc = service["networkConfiguration"]["awsvpcConfiguration"]
    assert vpc["assignPublicIp"] == "ENABLED"
    assert sorted(vpc["subnets"]) == sorted(out["network"]["subnets"]["public"].values())
    assert vpc["securityGroups"] == [out["security_groups"]["bot"]]
    tg_arn = out["loadbalancer"]["target_groups"]["bot"]["arn"]
    assert service["loadBalancers"] == [{"targetGroupArn": tg_arn, "containerName": "bot", "containerPort": 8080}]
    elbv2 = emulator.client("elbv2")
    (tg,) = elbv2.describe_target_groups(TargetGroupArns=[tg_arn])["TargetGroups"]
    assert tg["TargetType"] == "ip" and tg["HealthCheckPath"] == "/health"
    listeners = elbv2.describe_listeners(LoadBalancerArn=out["loadbalancer"]["arn"])["Listeners"]
    https = next(li for li in listeners if li["Port"] == 443)
    assert https["DefaultActions"][0]["TargetGroupArn"] == tg_arn

    # ---- the task definition runs the pushed image and names the secrets, never their values
    taskdef = ecs.describe_task_definition(taskDefinition=out["ecs"]["task_definition_arn"])["taskDefinition"]
    (container,) = taskdef["containerDefinitions"]
    assert container["image"] == out["image"]["uri"]
    images = emulator.client("ecr").describe_images(repositoryName=out["ecr"]["repositories"]["bot"]["name"])
    assert out["image"]["tag"] in [t for i in images["imageDetails"] for t in i.get("imageTags", [])]
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["BOT_ACCESS_TOKEN_PARAMETER"] == f"/{stack}/ACCESS_TOKEN"
    assert env["BOT_CHANNEL_SECRET_PARAMETER"] == f"/{stack}/CHANNEL_SECRET"
    assert TOKEN not in json.dumps(taskdef) and SECRET not in json.dumps(taskdef)

    # ---- the task role may read exactly the two parameters and use the stack's bucket only
    iam = emulator.client("iam")
    role = out["ecs"]["task_role_arn"].split("/")[-1]
    statements = [
        {key: [st[key]] if isinstance(st[key], str) else st[key] for key in ("Action", "Resource")}
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
        for st in iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]["Statement"]
    ]
    ssm_resources = sorted(
        r for st in statements if any(a.startswith("ssm:") for a in st["Action"]) for r in st["Resource"]
    )
    assert ssm_resources == sorted(out["parameters"]["arns"])
    s3_resources = {r for st in statements if any(a.startswith("s3:") for a in st["Action"]) for r in st["Resource"]}
    assert s3_resources == {out["storage"]["arn"], out["storage"]["arn"] + "/*"}

    # ---- the weekend schedules call ecs:updateService on this service
    scheduler = emulator.client("scheduler")
    for name, count in (("start", 1), ("stop", 0)):
        schedule = scheduler.get_schedule(GroupName=stack, Name=name)
        assert schedule["ScheduleExpressionTimezone"] == "Asia/Tokyo"
        assert schedule["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:ecs:updateService"
        assert json.loads(schedule["Target"]["Input"]) == {
            "Cluster": out["ecs"]["cluster"],
            "Service": out["ecs"]["service"],
            "DesiredCount": count,
        }

    # ---- a second provision changes nothing
    second = run_playbook(PROVISION, env=emulator.env, extra_vars=extra, timeout=1800)
    assert second.rc == 0, second.output[-8000:]
    assert second.changed == 0, second.output[-8000:]

    # ---- a forced teardown leaves nothing tagged with the stack (the repository holds the image
    # and the bucket is the bot's data: both go only when forced)
    down = run_playbook(
        TEARDOWN,
        env=emulator.env,
        extra_vars={**extra, "webstack_teardown_force_delete_data": True},
        timeout=1800,
    )
    assert down.rc == 0, down.output[-8000:]
    assert stack_leftovers(emulator, stack) == {}
