"""kumo.webstack.scheduler_schedule_info against moto."""

from __future__ import annotations

import json

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.modules import scheduler_schedule_info

REGION = "ap-northeast-1"
ROLE = "arn:aws:iam::123456789012:role/bot-scheduler"
ECS = "arn:aws:scheduler:::aws-sdk:ecs:updateService"


def _create(client, name, group="default", state="ENABLED", count=1):
    client.create_schedule(
        Name=name,
        GroupName=group,
        ScheduleExpression="cron(0 8 ? * SAT,SUN *)",
        ScheduleExpressionTimezone="Asia/Tokyo",
        FlexibleTimeWindow={"Mode": "OFF"},
        State=state,
        Target={"Arn": ECS, "RoleArn": ROLE, "Input": json.dumps({"Cluster": "bot", "DesiredCount": count})},
    )


@pytest.fixture
def moto(aws_env):
    with mock_aws():
        client = boto3.client("scheduler", region_name=REGION)
        client.create_schedule_group(Name="bot-schedules")
        _create(client, "bot-start", "bot-schedules")
        _create(client, "bot-stop", "bot-schedules", state="DISABLED", count=0)
        _create(client, "other", "default")
        yield client


def test_one_schedule_by_name(run_module, moto):
    result = run_module(scheduler_schedule_info, {"name": "bot-start", "group_name": "bot-schedules"})
    assert result["changed"] is False
    [schedule] = result["schedules"]
    assert schedule["name"] == "bot-start"
    assert schedule["schedule_expression_timezone"] == "Asia/Tokyo"
    assert json.loads(schedule["target"]["input"]) == {"Cluster": "bot", "DesiredCount": 1}
    assert schedule["creation_date"].endswith("Z")


def test_name_defaults_to_the_default_group(run_module, moto):
    assert [s["name"] for s in run_module(scheduler_schedule_info, {"name": "other"})["schedules"]] == ["other"]
    assert run_module(scheduler_schedule_info, {"name": "bot-start"})["schedules"] == []


def test_unknown_name_or_group_is_empty(run_module, moto):
    assert run_module(scheduler_schedule_info, {"name": "nope"})["schedules"] == []
    assert run_module(scheduler_schedule_info, {"name": "bot-start", "group_name": "nope"})["schedules"] == []


def test_list_all_with_full_definitions(run_module, moto):
    result = run_module(scheduler_schedule_info, {})
    assert [(s["group_name"], s["name"]) for s in result["schedules"]] == [
        ("bot-schedules", "bot-start"),
        ("bot-schedules", "bot-stop"),
        ("default", "other"),
    ]
    # Full definitions, not ListSchedules summaries.
    assert all("input" in s["target"] for s in result["schedules"])


def test_filters(run_module, moto):
    by_group = run_module(scheduler_schedule_info, {"group_name": "bot-schedules"})
    assert [s["name"] for s in by_group["schedules"]] == ["bot-start", "bot-stop"]
    by_prefix = run_module(scheduler_schedule_info, {"name_prefix": "bot-s"})
    assert [s["name"] for s in by_prefix["schedules"]] == ["bot-start", "bot-stop"]
    disabled = run_module(scheduler_schedule_info, {"group_name": "bot-schedules", "enabled": False})
    assert [s["name"] for s in disabled["schedules"]] == ["bot-stop"]
    enabled = run_module(scheduler_schedule_info, {"enabled": True})
    assert [s["name"] for s in enabled["schedules"]] == ["bot-start", "other"]


def test_error_is_reported(run_module, aws_env, monkeypatch):
    client = boto3.client("scheduler", region_name=REGION)
    monkeypatch.setattr(AnsibleAWSModule, "client", lambda self, service, **kwargs: client)
    with Stubber(client) as stubber:
        stubber.add_client_error("list_schedules", "AccessDeniedException", "not authorized", 403)
        result = run_module(scheduler_schedule_info, {})
    assert result.failed
    assert result["msg"].startswith("Failed to list schedules")
