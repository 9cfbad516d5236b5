"""The schedules role (the bot stack's weekend start/stop through EventBridge Scheduler's universal
target ecs:updateService) and playbooks/bot/schedule_run.yml, end to end against the embedded
emulator, read back with boto3. The ECS service they start and stop is made here with boto3, as
the ecs role would leave it (its outputs given as ecs_outputs)."""

from __future__ import annotations

import json

import pytest

from .badinput import assert_fails_before_aws, run_role_cases
from .conftest import ROOT, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
PROVISION = PLAYBOOKS / "schedules_alone.yml"
TEARDOWN = PLAYBOOKS / "schedules_alone_teardown.yml"
SCHEDULE_RUN = ROOT / "playbooks" / "bot" / "schedule_run.yml"
ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
UPDATE_SERVICE = "arn:aws:scheduler:::aws-sdk:ecs:updateService"

pytestmark = pytest.mark.emulator


def ecs_service(ecs, cluster: str, service: str) -> dict:
    """A cluster and a running service (desired 1) in it, as ecs_outputs. moto needs a task
    definition for the service; it starts no task."""
    cluster_arn = ecs.create_cluster(clusterName=cluster)["cluster"]["clusterArn"]
    ecs.register_task_definition(
        family=service, containerDefinitions=[{"name": "bot", "image": "bot:1", "memory": 512}]
    )
    created = ecs.create_service(cluster=cluster, serviceName=service, taskDefinition=service, desiredCount=1)
    return {
        "cluster": cluster,
        "cluster_arn": cluster_arn,
        "service": service,
        "service_arn": created["service"]["serviceArn"],
    }


def desired_count(ecs, outputs: dict) -> int:
    return ecs.describe_services(cluster=outputs["cluster"], services=[outputs["service"]])["services"][0][
        "desiredCount"
    ]


def groups(scheduler) -> list[str]:
    return sorted(g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"])


def role_names(iam) -> list[str]:
    return sorted(r["RoleName"] for r in iam.list_roles()["Roles"])


def test_schedules_lifecycle(emulator, tmp_path):
    stack = "schlife"
    scheduler, iam, ecs = emulator.client("scheduler"), emulator.client("iam"), emulator.client("ecs")
    service = ecs_service(ecs, stack, "bot")
    # the days in another order than the expressions list them
    extra = {"webstack_name": stack, "webstack_state_dir": str(tmp_path), "ecs_outputs": service}
    extra["schedules_days"] = ["SUN", "SAT"]
    role = f"{stack}-scheduler"
    group_arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{stack}"

    # ---- check mode on an empty account creates nothing
    check_empty = run_playbook(PROVISION, "--check", env=emulator.env, extra_vars=extra)
    assert check_empty.rc == 0, check_empty.output[-6000:]
    assert check_empty.changed > 0
    assert groups(scheduler) == ["default"]
    assert role not in role_names(iam)

    # ---- first run
    first = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0

    # read back: the group and its tags
    assert groups(scheduler) == ["default", stack]
    tags = scheduler.list_tags_for_resource(ResourceArn=group_arn)["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"Stack": stack, "ManagedBy": "kumo.webstack"}

    # the role: trusted by the Scheduler for this account's group only, allowed exactly the service
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
    got = iam.get_role(RoleName=role)["Role"]
    assert got["Arn"] == role_arn
    assert got["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Sid": "SchedulerOfThisGroup",
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": group_arn}},
        }
    ]
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == [f"{stack}-scheduler-ecs"]
    policy = iam.get_role_policy(RoleName=role, PolicyName=f"{stack}-scheduler-ecs")["PolicyDocument"]
    assert policy["Statement"] == [
        {
            "Sid": "StartStopTheService",
            "Effect": "Allow",
            "Action": "ecs:UpdateService",
            "Resource": service["service_arn"],
        }
    ]
    assert service["service_arn"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{stack}/bot"

    # the schedules
    expected = {
        "start": ("cron(0 8 ? * SAT,SUN *)", 1, 3600),
        "stop": ("cron(0 9 ? * SAT,SUN *)", 0, 82800),
    }
    for name, (expression, count, age) in expected.items():
        got = scheduler.get_schedule(Name=name, GroupName=stack)
        assert got["ScheduleExpression"] == expression
        assert got["ScheduleExpressionTimezone"] == "Asia/Tokyo"
        assert got["State"] == "ENABLED"
        assert got["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert got["Target"]["Arn"] == UPDATE_SERVICE
        assert got["Target"]["RoleArn"] == role_arn
        assert json.loads(got["Target"]["Input"]) == {"Cluster": stack, "Service": "bot", "DesiredCount": count}
        assert got["Target"]["RetryPolicy"]["MaximumEventAgeInSeconds"] == age
        assert got["Arn"] == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{stack}/{name}"
    assert sorted(s["Name"] for s in scheduler.list_schedules(GroupName=stack)["Schedules"]) == ["start", "stop"]

    outputs = json.loads((tmp_path / "schedules_outputs.json").read_text())
    schedule_arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{stack}"
    assert outputs == {
        "group": stack,
        "role_arn": role_arn,
        "schedules": {
            name: {
                "name": name,
                "arn": f"{schedule_arn}/{name}",
                "expression": expected[name][0],
                "timezone": "Asia/Tokyo",
                "state": "ENABLED",
            }
            for name in ("start", "stop")
        },
    }

    # ---- a second run and --check --diff change nothing
    second = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-6000:]
    check = run_playbook(PROVISION, "--check", "--diff", env=emulator.env, extra_vars=extra)
    assert check.rc == 0, check.output[-6000:]
    assert check.changed == 0, check.output[-6000:]

    # ---- schedule_run makes each schedule's call: stop, then start
    run_vars = {"webstack_name": stack}
    stop = run_playbook(SCHEDULE_RUN, env=emulator.env, extra_vars={**run_vars, "schedule": "stop"})
    assert stop.rc == 0, stop.output[-6000:]
    assert stop.changed == 1, stop.output[-6000:]
    said = "ECS UpdateService made: cluster={} service=bot desiredCount={} (desired count was {})."
    assert said.format(stack, 0, 1) in " ".join(stop.output.split()), stop.output[-3000:]
    assert desired_count(ecs, service) == 0
    start = run_playbook(SCHEDULE_RUN, env=emulator.env, extra_vars={**run_vars, "schedule": "start"})
    assert start.rc == 0, start.output[-6000:]
    assert start.changed == 1, start.output[-6000:]
    assert said.format(stack, 1, 0) in " ".join(start.output.split()), start.output[-3000:]
    assert desired_count(ecs, service) == 1

    # ---- teardown removes the schedules, the group and the role; again, it changes nothing
    teardown_extra = {"webstack_name": stack, "webstack_state_dir": str(tmp_path)}
    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=teardown_extra)
    assert down.rc == 0, down.output[-6000:]
    assert down.changed > 0
    assert groups(scheduler) == ["default"]
    assert scheduler.list_schedules()["Schedules"] == []
    assert role not in role_names(iam)
    down2 = run_playbook(TEARDOWN, env=emulator.env, extra_vars=teardown_extra)
    assert down2.rc == 0, down2.output[-6000:]
    assert down2.changed == 0, down2.output[-6000:]
    assert desired_count(ecs, service) == 1  # the service is the ecs role's: left as it was


SERVICE = {"cluster": "bad", "service": "bot"}
BAD = [
    pytest.param(
        {"schedules_start_time": "8:00", "ecs_outputs": SERVICE},
        'schedules_start_time must be a time of day HH:MM (24-hour, e.g. "08:00"); got "8:00".',
        id="time-format",
    ),
    pytest.param(
        {"schedules_stop_time": 540, "ecs_outputs": SERVICE},
        'schedules_stop_time must be a time of day HH:MM (24-hour, e.g. "08:00"); got 540. In YAML, quote it',
        id="time-unquoted",
    ),
    pytest.param(
        {"schedules_stop_time": "08:00", "ecs_outputs": SERVICE},
        "schedules_stop_time must differ from schedules_start_time; both are '08:00'.",
        id="times-equal",
    ),
    pytest.param(
        {"schedules_start_time": "22:00", "schedules_stop_time": "06:00", "ecs_outputs": SERVICE},
        "schedules_stop_time (06:00) is earlier than schedules_start_time (22:00): both schedules run on "
        "schedules_days (SAT, SUN), so a run across midnight is stopped the next day only when",
        id="night-not-every-day",
    ),
    pytest.param(
        {"schedules_days": ["SAT", "SUNDAY"], "ecs_outputs": SERVICE},
        "value of schedules_days must be one or more of: MON, TUE, WED, THU, FRI, SAT, SUN. Got no match for: SUNDAY",
        id="day-unknown",
    ),
    pytest.param(
        {"schedules_days": [], "ecs_outputs": SERVICE},
        "schedules_days must be a list of one or more of MON, TUE, WED, THU, FRI, SAT, SUN",
        id="days-empty",
    ),
    pytest.param(
        {"schedules_timezone": "Tokyo time", "ecs_outputs": SERVICE},
        "schedules_timezone must be an IANA time zone name such as Asia/Tokyo",
        id="timezone",
    ),
    pytest.param(
        {"schedules_desired_count": 0, "ecs_outputs": SERVICE},
        "schedules_desired_count must be a whole number of tasks, 1 or more",
        id="count-zero",
    ),
    pytest.param(
        {
            "ecs_outputs": {
                **SERVICE,
                "service_arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/bad/other",
            }
        },
        "schedules_service_arn (default: ecs_outputs.service_arn) must be the ARN of the ECS service bot in "
        "cluster bad in the schedules' region ap-northeast-1",
        id="service-arn-other",
    ),
    pytest.param(
        {},
        "The schedules need the ECS service they start and stop: schedules_cluster (default: ecs_outputs.cluster",
        id="service-unknown",
    ),
]


@pytest.fixture(scope="module")
def bad_cases(dead_endpoint_env, tmp_path_factory):
    """Every BAD case in one ansible-playbook run (badinput.py), the schedules role alone."""
    return run_role_cases(
        "schedules",
        BAD,
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("schedules-cases"),
        base_vars={"webstack_name": "badsched"},
    )


@pytest.mark.xdist_group("schedules_bad_input")
@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_fails_before_any_aws_call(extra, message, bad_cases, request):
    result = bad_cases[request.node.callspec.id]
    assert_fails_before_aws(result, message)
