"""The ecs role (seed 002's bot service on Fargate Spot behind an IP target group) end to end
against the embedded emulator, read back with boto3.

The prerequisites (a VPC, two subnets, a security group, an IP target group) are made here with
boto3: the network, security_groups and loadbalancer roles have their own tests. The emulator runs
no task: its fix scripts/emulator_fixes/ecs.py completes each deployment at once and registers a
target per task, so the role's await sees a rollout complete.
"""

from __future__ import annotations

import json

import pytest

from .badinput import assert_fails_before_aws, run_role_cases
from .conftest import ROOT, provision_converges, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
PROVISION = PLAYBOOKS / "ecs_alone.yml"
TEARDOWN = PLAYBOOKS / "ecs_alone_teardown.yml"
ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
STACK = "ecslife"
FAMILY = f"{STACK}-bot"
LOG_GROUP = f"/ecs/{STACK}/bot"
REPOSITORY = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/kumo/bot"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/kumo/bot"
PARAMETERS = [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{STACK}/{name}" for name in ("ACCESS_TOKEN", "CHANNEL_SECRET")]
BUCKET = f"arn:aws:s3:::{STACK}-uploads"
TAGS = {"Stack": STACK, "ManagedBy": "kumo.webstack"}
HEALTH = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)"

pytestmark = pytest.mark.emulator


def prerequisites(emulator) -> dict:
    """What the network, security_groups and loadbalancer roles would give the role."""
    ec2, elbv2 = emulator.client("ec2"), emulator.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in ((1, "a"), (2, "c"))
    ]
    group = ec2.create_security_group(GroupName=f"{STACK}-bot", Description="bot tasks", VpcId=vpc)["GroupId"]
    target_group = elbv2.create_target_group(
        Name=f"{STACK}-bot", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip", HealthCheckPath="/health"
    )["TargetGroups"][0]["TargetGroupArn"]
    return {"subnets": subnets, "group": group, "target_group": target_group}


def tag_dict(tags, key="key", value="value") -> dict[str, str]:
    return {t[key]: t[value] for t in tags or []}


def active_revisions(ecs, family: str = FAMILY) -> list[str]:
    return ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]


def cluster_status(ecs, name: str = STACK) -> str:
    found = ecs.describe_clusters(clusters=[name])["clusters"]
    return found[0]["status"] if found else "MISSING"


def service_status(ecs) -> str:
    if cluster_status(ecs) == "MISSING":
        return "MISSING"
    found = ecs.describe_services(cluster=STACK, services=["bot"])["services"]
    return found[0]["status"] if found else "MISSING"


def role_names(iam) -> list[str]:
    return sorted(r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"{STACK}-"))


def log_groups(logs, prefix: str) -> list[str]:
    return [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]]


def inline_policy(iam, role: str) -> list[dict]:
    """The role's one inline policy's statements (and no managed policy)."""
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    return iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]["Statement"]


def assert_nothing_of_the_stack(emulator) -> None:
    ecs, iam, logs = emulator.client("ecs"), emulator.client("iam"), emulator.client("logs")
    assert cluster_status(ecs) in ("MISSING", "INACTIVE")
    assert service_status(ecs) in ("MISSING", "INACTIVE")
    assert active_revisions(ecs) == []
    assert role_names(iam) == []
    assert log_groups(logs, LOG_GROUP) == []


def test_ecs_lifecycle(emulator, tmp_path):
    ecs, iam, logs, elbv2 = (emulator.client(s) for s in ("ecs", "iam", "logs", "elbv2"))
    base = prerequisites(emulator)
    extra = {
        "webstack_name": STACK,
        "webstack_state_dir": str(tmp_path),
        "ecs_image": f"{IMAGE}:1a2b3c4",
        "ecs_image_repository_arn": REPOSITORY,
        "ecs_subnet_ids": base["subnets"],
        "ecs_security_group_ids": [base["group"]],
        "ecs_target_group_arn": base["target_group"],
        "ecs_task_parameter_arns": PARAMETERS,
        "ecs_task_bucket_arn": BUCKET,
        "ecs_environment": {
            "BOT_ACCESS_TOKEN_PARAMETER": f"/{STACK}/ACCESS_TOKEN",
            "BOT_CHANNEL_SECRET_PARAMETER": f"/{STACK}/CHANNEL_SECRET",
            "BOT_LOG_LEVEL": "INFO",
        },
    }
    # another stack's cluster, family and log group, which nothing here may touch
    ecs.create_cluster(clusterName="other", tags=[{"key": "Stack", "value": "other"}])
    ecs.register_task_definition(
        family="other-bot", containerDefinitions=[{"name": "bot", "image": "other:1", "memory": 512}]
    )
    logs.create_log_group(logGroupName="/ecs/other/bot", tags={"Stack": "other"})

    # ---- check mode on an empty account creates nothing
    check_empty = run_playbook(PROVISION, "--check", env=emulator.env, extra_vars=extra)
    assert check_empty.rc == 0, check_empty.output[-6000:]
    assert check_empty.changed > 0
    assert "service bot would be created" in check_empty.output
    assert_nothing_of_the_stack(emulator)

    # ---- first run, then a second one and --check --diff that change nothing
    provision_converges(PROVISION, emulator.env, extra)

    cluster = ecs.describe_clusters(clusters=[STACK], include=["TAGS"])["clusters"][0]
    assert cluster["status"] == "ACTIVE"
    assert cluster["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert cluster["defaultCapacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    assert tag_dict(cluster["tags"]) == TAGS

    described = ecs.describe_task_definition(taskDefinition=FAMILY, include=["TAGS"])
    task = described["taskDefinition"]
    assert task["taskDefinitionArn"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{FAMILY}:1"
    assert (task["cpu"], task["memory"]) == ("256", "2048")
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["networkMode"] == "awsvpc"
    assert task["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"}
    assert task["executionRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{FAMILY}-execution"
    assert task["taskRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{FAMILY}-task"
    assert tag_dict(described["tags"]) == TAGS
    (container,) = task["containerDefinitions"]
    assert container["name"] == "bot"
    assert container["image"] == f"{IMAGE}:1a2b3c4"
    assert container["essential"] is True
    assert container["portMappings"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
    # names only: the values of the secrets are read by the app from SSM
    assert tag_dict(container["environment"], "name", "value") == extra["ecs_environment"]
    assert container["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {"awslogs-group": LOG_GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"},
    }
    assert container["healthCheck"] == {
        "command": ["CMD", "/opt/kumo-bot/venv/bin/python", "-c", HEALTH],
        "interval": 10,
        "timeout": 3,
        "retries": 3,
        "startPeriod": 10,
    }
    assert container["stopTimeout"] == 30

    service = ecs.describe_services(cluster=STACK, services=["bot"], include=["TAGS"])["services"][0]
    assert service["status"] == "ACTIVE"
    assert service["desiredCount"] == 1
    assert service["taskDefinition"] == task["taskDefinitionArn"]
    assert service["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    assert "launchType" not in service
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    assert sorted(network["subnets"]) == sorted(base["subnets"])
    assert network["securityGroups"] == [base["group"]]
    assert network["assignPublicIp"] == "ENABLED"
    assert service["loadBalancers"] == [
        {"targetGroupArn": base["target_group"], "containerName": "bot", "containerPort": 8080}
    ]
    assert service["healthCheckGracePeriodSeconds"] == 60
    assert service["propagateTags"] == "SERVICE"
    assert tag_dict(service["tags"]) == TAGS
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    health = elbv2.describe_target_health(TargetGroupArn=base["target_group"])["TargetHealthDescriptions"]
    assert [h["TargetHealth"]["State"] for h in health] == ["healthy"]

    for role in (f"{FAMILY}-execution", f"{FAMILY}-task"):
        described_role = iam.get_role(RoleName=role)["Role"]
        assert described_role["AssumeRolePolicyDocument"]["Statement"] == [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ]
        assert tag_dict(described_role["Tags"], "Key", "Value") == TAGS
    log_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}"
    assert inline_policy(iam, f"{FAMILY}-execution") == [
        {"Sid": "GetRegistryToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Sid": "PullImage",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            "Resource": REPOSITORY,
        },
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_arn, f"{log_arn}:log-stream:*"],
        },
    ]
    assert inline_policy(iam, f"{FAMILY}-task") == [
        {
            "Sid": "ReadParameters",
            "Effect": "Allow",
            "Action": ["ssm:GetParameters", "ssm:GetParameter"],
            "Resource": PARAMETERS,
        },
        {"Sid": "ListBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET},
        {
            "Sid": "ReadWriteObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"{BUCKET}/*",
        },
    ]

    (group,) = logs.describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]
    assert group["retentionInDays"] == 30
    assert logs.list_tags_log_group(logGroupName=LOG_GROUP)["tags"] == TAGS

    outputs = json.loads((tmp_path / "ecs_outputs.json").read_text())
    assert outputs == {
        "cluster": STACK,
        "cluster_arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{STACK}",
        "service": "bot",
        "service_arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{STACK}/bot",
        "task_definition_arn": task["taskDefinitionArn"],
        "family": FAMILY,
        "container_name": "bot",
        "container_port": 8080,
        "log_group": LOG_GROUP,
        "execution_role_arn": task["executionRoleArn"],
        "task_role_arn": task["taskRoleArn"],
    }

    # ---- a new image: exactly one new revision, and the service rolls it out
    deployment = service["deployments"][0]["id"]
    new_image = {**extra, "ecs_image": f"{IMAGE}:5d6e7f8"}
    updated = run_playbook(PROVISION, env=emulator.env, extra_vars=new_image)
    assert updated.rc == 0, updated.output[-6000:]
    assert updated.changed > 0
    revisions = sorted(active_revisions(ecs))
    assert [arn.rsplit(":", 1)[1] for arn in revisions] == ["1", "2"]
    service = ecs.describe_services(cluster=STACK, services=["bot"])["services"][0]
    assert service["taskDefinition"] == revisions[1]
    assert (
        ecs.describe_task_definition(taskDefinition=revisions[1])["taskDefinition"]["containerDefinitions"][0]["image"]
        == f"{IMAGE}:5d6e7f8"
    )
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    assert service["deployments"][0]["id"] != deployment
    assert json.loads((tmp_path / "ecs_outputs.json").read_text())["task_definition_arn"] == revisions[1]

    # ---- teardown removes the stack's own and nothing else; a second one changes nothing
    teardown_extra = {"webstack_name": STACK, "webstack_state_dir": str(tmp_path)}
    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=teardown_extra)
    assert down.rc == 0, down.output[-6000:]
    assert down.changed > 0
    assert_nothing_of_the_stack(emulator)
    assert elbv2.describe_target_health(TargetGroupArn=base["target_group"])["TargetHealthDescriptions"] == []
    down2 = run_playbook(TEARDOWN, env=emulator.env, extra_vars=teardown_extra)
    assert down2.rc == 0, down2.output[-6000:]
    assert down2.changed == 0, down2.output[-6000:]
    assert cluster_status(ecs, "other") == "ACTIVE"
    assert active_revisions(ecs, "other-bot") != []
    assert log_groups(logs, "/ecs/other/bot") == ["/ecs/other/bot"]


# A valid service to break one variable of at a time (the endpoint is dead: nothing may reach it).
GOOD = {
    "webstack_name": "badecs",
    "ecs_image": f"{IMAGE}:1a2b3c4",
    "ecs_subnet_ids": ["subnet-0123456789abcdef0"],
    "ecs_security_group_ids": ["sg-0123456789abcdef0"],
    "ecs_target_group_arn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/badecs-bot/0123456789abcdef",
}

BAD = [
    pytest.param(
        {"ecs_image": ""}, "ecs_image must be the full URI of the image with a tag or a digest", id="image-missing"
    ),
    pytest.param(
        {"ecs_image_repository_arn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/other"},
        "ecs_image_repository_arn must be empty (an image from a public registry) or the ARN of the ECR repository",
        id="repository-mismatch",
    ),
    pytest.param(
        {"ecs_task_memory": 4096},
        "a memory (MiB) allowed with it (256 takes 512, 1024, 2048); got cpu 256, memory 4096.",
        id="task-size",
    ),
    pytest.param(
        {"ecs_environment": {"BOT_ACCESS_TOKEN": "tok-Q7x2Lm9vRk3e"}},
        "ecs_environment: BOT_ACCESS_TOKEN looks like a secret.",
        id="environment-secret",
    ),
    pytest.param(
        {"ecs_cpu_architecture": "ARM64"},
        "ecs_cpu_architecture ARM64 cannot run on Fargate Spot",
        id="arm64-on-spot",
    ),
    pytest.param(
        {"ecs_subnet_ids": None},
        "ecs_subnet_ids must list 1-16 subnet ids (subnet-...) to run the tasks in; got []. Run the network role first",
        id="subnets-missing",
    ),
]


@pytest.fixture(scope="module")
def bad_cases(dead_endpoint_env, tmp_path_factory):
    """Every BAD case in one ansible-playbook run (badinput.py), the ecs role alone."""
    return run_role_cases(
        "ecs", BAD, env=dead_endpoint_env, tmp_path=tmp_path_factory.mktemp("ecs-cases"), base_vars=GOOD
    )


@pytest.mark.xdist_group("ecs_bad_input")
@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_fails_before_any_aws_call(extra, message, bad_cases, request):
    result = bad_cases[request.node.callspec.id]
    assert_fails_before_aws(result, message)
    assert "tok-Q7x2Lm9vRk3e" not in result.msg
    assert not any(result.case_dir.rglob("*_outputs.json"))
