"""The bot stack (seed 002) end to end: playbooks/bot.yml with the local inventory (provision
into the emulator, the twin, the webhook checked through the twin's lb), the wiring read back with
boto3, the weekend schedules run now (a second provision and twin between stop and start change
nothing and start nothing), a deploy of an image that never turns healthy under load, a good
deploy under load, and a forced teardown.

The roles' own test files check each part in detail (network's none mode, ecr, image, ecs,
parameters, schedules, loadbalancer's ip target groups); this one checks that the bot's manifest
composes them and that the twin runs what the emulator says: the service's desired count decides
how many containers of its task definition's image run behind the lb. One stack, shared by every
step: the bot kind's share of make test's budget.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from . import secret_scan
from .conftest import ROOT, record_load, run_playbook
from .test_rails_twin import Loaded, get, twin_ports
from .test_stack import alb_access_logs_checked, stack_leftovers
from .test_twin import BASE_IMAGE, remove_twin

BOT = ROOT / "playbooks" / "bot.yml"
PROVISION = ROOT / "playbooks" / "provision.yml"
DEPLOY = ROOT / "playbooks" / "bot" / "deploy.yml"
SCHEDULE_RUN = ROOT / "playbooks" / "bot" / "schedule_run.yml"
TWIN = ROOT / "playbooks" / "twin.yml"
TEARDOWN = ROOT / "playbooks" / "teardown.yml"
LOCAL = ROOT / "inventories" / "local"
# an image whose process prints a line and exits: its task never passes the health check
NEVER_HEALTHY = ROOT / "tests" / "integration" / "apps" / "imgtest"

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(BASE_IMAGE is None, reason="needs root, Docker and the base image (make image)"),
]

TOKEN = "tok-Bt7Qe2Wx9Lp4"
SECRET = "sec-Kd3Vn8Ry5Hs1"


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def bot_containers(stack: str) -> list[str]:
    """The running containers standing in for the service's tasks."""
    out = docker(
        "ps",
        "--filter",
        f"label=kumo.webstack.stack={stack}",
        "--filter",
        "label=kumo.webstack.group=bot",
        "--format",
        "{{.Names}}",
    )
    return sorted(out.split())


def image_holds(image: str, values: tuple[str, ...]) -> list[str]:
    """The values found anywhere in the image: its configuration, history and every layer."""
    found = [v for v in values if v in docker("image", "inspect", image) + docker("history", "--no-trunc", image)]
    with subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE) as save:
        tail = b""
        wanted = [v.encode() for v in values]
        while chunk := save.stdout.read(1 << 20):
            window = tail + chunk
            found += [v.decode() for v in wanted if v in window and v.decode() not in found]
            tail = chunk[-64:]
    return found


def test_bot_stack_end_to_end(emulator, tmp_path):
    stack = "botkind"
    ports = twin_ports()
    extra = {
        "webstack_kind": "bot",
        "webstack_name": stack,
        "webstack_domain": f"{stack}.kumo-webstack.example",
        "webstack_state_dir": str(tmp_path / "state"),
        "webstack_secrets_dir": str(tmp_path / "secrets"),
        "bot_access_token": TOKEN,
        "bot_channel_secret": SECRET,
        "twin_lb_http_port": ports["twin_lb_http_port"],
        "twin_lb_https_port": ports["twin_lb_https_port"],
    }
    env = dict(emulator.env, WEBSTACK_BASE_IMAGE_REF=BASE_IMAGE)
    url = f"https://127.0.0.1:{ports['twin_lb_https_port']}"
    try:
        # ---- provision, twin and the webhook through the lb, with -vvv (issue 18, part 5): neither
        # the bot's two secrets (given) nor any generated one in the whole output, the state
        # directory, or the twin's containers (configured environment, every command line)
        first = run_playbook(BOT, "-i", str(LOCAL), "-vvv", env=env, extra_vars=extra, timeout=1800)
        assert first.rc == 0, first.output[-8000:]
        assert "reply reached the Messaging API with the access token" in first.output, first.output[-4000:]
        found = {"bot_access_token": TOKEN, "bot_channel_secret": SECRET}
        found.update(secret_scan.generated_secrets(tmp_path / "secrets"))
        places = secret_scan.assert_none_leaked(stack, found, {"bot.yml -vvv output": first.output}, tmp_path / "state")
        assert places > 3, places  # the output, outputs.json, the lb and the bot's task
        out = json.loads((tmp_path / "state" / stack / "outputs.json").read_text())
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
        # the ALB's access logs go to the stack's log bucket (the storage role's, beside the bot's bucket)
        logs = alb_access_logs_checked(emulator, stack, out)
        assert out["storage"]["bucket"] == f"{stack}-uploads-123456789012-ap-northeast-1", out["storage"]

        # ---- the task definition runs the pushed image and names the secrets, never their values
        taskdef = ecs.describe_task_definition(taskDefinition=out["ecs"]["task_definition_arn"])["taskDefinition"]
        (container,) = taskdef["containerDefinitions"]
        assert container["image"] == out["image"]["uri"]
        images = emulator.client("ecr").describe_images(repositoryName=out["ecr"]["repositories"]["bot"]["name"])
        assert out["image"]["tag"] in [t for i in images["imageDetails"] for t in i.get("imageTags", [])]
        task_env = {e["name"]: e["value"] for e in container["environment"]}
        assert task_env["BOT_ACCESS_TOKEN_PARAMETER"] == f"/{stack}/ACCESS_TOKEN"
        assert task_env["BOT_CHANNEL_SECRET_PARAMETER"] == f"/{stack}/CHANNEL_SECRET"
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
        s3_resources = {
            r for st in statements if any(a.startswith("s3:") for a in st["Action"]) for r in st["Resource"]
        }
        assert s3_resources == {out["storage"]["arn"], out["storage"]["arn"] + "/*"}

        # ---- the weekend schedules call ecs:updateService on this service
        scheduler = emulator.client("scheduler")
        for name, count, hour in (("start", 1, 8), ("stop", 0, 9)):
            schedule = scheduler.get_schedule(GroupName=stack, Name=name)
            assert schedule["ScheduleExpression"] == f"cron(0 {hour} ? * SAT,SUN *)"
            assert schedule["ScheduleExpressionTimezone"] == "Asia/Tokyo"
            assert schedule["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:ecs:updateService"
            assert json.loads(schedule["Target"]["Input"]) == {
                "Cluster": out["ecs"]["cluster"],
                "Service": out["ecs"]["service"],
                "DesiredCount": count,
            }

        # ---- the twin: one container of the task definition's image per desired task; neither its
        # environment nor its image holds a secret (the bot reads them from SSM at start)
        (task,) = bot_containers(stack)
        inspected = docker("inspect", task)
        assert TOKEN not in inspected and SECRET not in inspected
        assert json.loads(inspected)[0]["Config"]["Image"] == out["image"]["uri"]
        assert image_holds(out["image"]["uri"], (TOKEN, SECRET)) == []

        # ---- the weekend stop: no task, the target group empty, the lb answers 503; start: healthy again
        elbv2 = emulator.client("elbv2")
        stop = run_playbook(SCHEDULE_RUN, "-i", str(LOCAL), env=env, extra_vars={**extra, "schedule": "stop"})
        assert stop.rc == 0, stop.output[-8000:]
        assert bot_containers(stack) == []
        assert elbv2.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"] == []
        assert get(url + "/health")[0] == 503

        # ---- a second run, while stopped, changes nothing and starts nothing (the schedules own the
        # desired count): the provision, then the twin (bot.yml's smoke check would wait for a bot)
        for playbook in (PROVISION, TWIN):
            again = run_playbook(playbook, "-i", str(LOCAL), env=env, extra_vars=extra, timeout=1800)
            assert again.rc == 0, again.output[-8000:]
            assert again.changed == 0, again.output[-8000:]
        assert bot_containers(stack) == []
        start = run_playbook(SCHEDULE_RUN, "-i", str(LOCAL), env=env, extra_vars={**extra, "schedule": "start"})
        assert start.rc == 0, start.output[-8000:]
        assert len(bot_containers(stack)) == 1
        assert len(elbv2.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]) == 1
        assert get(url + "/health") == (200, "ok\n")

        # ---- a deploy of an image that never turns healthy fails, saying why, while the running
        # revision keeps serving: 0 failed requests
        (before,) = bot_containers(stack)
        with Loaded(url + "/health") as during_bad:
            bad = run_playbook(
                DEPLOY, "-i", str(LOCAL), env=env, extra_vars={**extra, "image_app_dir": str(NEVER_HEALTHY)}
            )
        assert bad.rc != 0, bad.output[-8000:]
        assert "did not become healthy in the twin" in bad.output, bad.output[-8000:]
        assert "its output: kumo imgtest" in bad.output, bad.output[-8000:]
        record_load("bot during the failed deploy", during_bad.result)
        during_bad.assert_no_failure()
        assert bot_containers(stack) == [before]

        # ---- a good deploy (the bot's own image again, a new revision) rolls over under load
        with Loaded(url + "/health") as during_good:
            good = run_playbook(DEPLOY, "-i", str(LOCAL), env=env, extra_vars=extra)
        assert good.rc == 0, good.output[-8000:]
        record_load("bot during the good deploy", during_good.result)
        during_good.assert_no_failure()
        (after,) = bot_containers(stack)
        assert after != before

        # ---- the twin goes, then a forced teardown leaves nothing tagged with the stack (the
        # repository holds the image and the bucket is the bot's data: both go only when forced, and
        # the log bucket, which holds the bucket's server access logs, with them)
        gone = run_playbook(TWIN, "-i", str(LOCAL), env=env, extra_vars={**extra, "twin_state": "absent"})
        assert gone.rc == 0, gone.output[-6000:]
        down = run_playbook(
            TEARDOWN,
            env=emulator.env,
            extra_vars={**extra, "webstack_teardown_force_delete_data": True},
            timeout=1800,
        )
        assert down.rc == 0, down.output[-8000:]
        assert "KEPT:" not in down.output, down.output[-4000:]
        assert stack_leftovers(emulator, stack) == {}
        assert logs not in [b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]]
        assert docker("ps", "-aq", "--filter", f"label=kumo.webstack.stack={stack}").split() == []
    finally:
        remove_twin(stack)
