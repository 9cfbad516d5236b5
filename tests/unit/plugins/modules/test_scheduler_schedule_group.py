"""kumo.webstack.scheduler_schedule_group against moto, and Stubber for the asynchronous deletion."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.modules import scheduler_schedule_group

REGION = "ap-northeast-1"
TAGS = {"Stack": "bot", "ManagedBy": "kumo.webstack"}
ARN = "arn:aws:scheduler:ap-northeast-1:123456789012:schedule-group/bot-schedules"


@pytest.fixture
def moto(aws_env):
    with mock_aws():
        yield boto3.client("scheduler", region_name=REGION)


@pytest.fixture
def stubber(module_stubber):
    return module_stubber("scheduler")


def _tags(client, name="bot-schedules"):
    arn = client.get_schedule_group(Name=name)["Arn"]
    return {t["Key"]: t["Value"] for t in client.list_tags_for_resource(ResourceArn=arn)["Tags"]}


def test_create_check_mode_then_create_then_idempotent(run_module, moto):
    args = {"name": "bot-schedules", "tags": TAGS}
    checked = run_module(scheduler_schedule_group, args, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"] == {"before": {}, "after": {"name": "bot-schedules", "tags": TAGS}}
    assert [g["Name"] for g in moto.list_schedule_groups()["ScheduleGroups"]] == ["default"]

    created = run_module(scheduler_schedule_group, args)
    assert created["changed"] is True
    group = created["schedule_group"]
    assert group["arn"] == ARN
    assert group["name"] == "bot-schedules"
    assert group["state"] == "ACTIVE"
    assert group["tags"] == TAGS
    assert "creation_date" in group
    assert _tags(moto) == TAGS

    assert run_module(scheduler_schedule_group, args, check_mode=True)["changed"] is False
    again = run_module(scheduler_schedule_group, args)
    assert again["changed"] is False
    assert again["schedule_group"]["tags"] == TAGS


def test_tags_left_out_are_not_touched(run_module, moto):
    run_module(scheduler_schedule_group, {"name": "bot-schedules", "tags": TAGS})
    result = run_module(scheduler_schedule_group, {"name": "bot-schedules"})
    assert result["changed"] is False
    assert _tags(moto) == TAGS


def test_add_tag_without_purge(run_module, moto):
    run_module(scheduler_schedule_group, {"name": "bot-schedules", "tags": TAGS})
    args = {"name": "bot-schedules", "tags": {"Owner": "platform"}, "purge_tags": False}
    checked = run_module(scheduler_schedule_group, args, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["after"]["tags"] == dict(TAGS, Owner="platform")
    assert _tags(moto) == TAGS  # check mode wrote nothing

    result = run_module(scheduler_schedule_group, args)
    assert result["changed"] is True
    assert result["schedule_group"]["tags"] == dict(TAGS, Owner="platform")
    assert run_module(scheduler_schedule_group, args)["changed"] is False


def test_purge_and_change_tags(run_module, moto):
    run_module(scheduler_schedule_group, {"name": "bot-schedules", "tags": dict(TAGS, Owner="platform")})
    args = {"name": "bot-schedules", "tags": {"Stack": "bot2", "ManagedBy": "kumo.webstack"}}
    result = run_module(scheduler_schedule_group, args, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["tags"] == dict(TAGS, Owner="platform")
    assert _tags(moto) == {"Stack": "bot2", "ManagedBy": "kumo.webstack"}
    assert run_module(scheduler_schedule_group, args)["changed"] is False
    cleared = run_module(scheduler_schedule_group, {"name": "bot-schedules", "tags": {}})
    assert cleared["changed"] is True
    assert _tags(moto) == {}


def test_delete_removes_the_group_and_its_schedules(run_module, moto):
    run_module(scheduler_schedule_group, {"name": "bot-schedules", "tags": TAGS})
    moto.create_schedule(
        Name="s",
        GroupName="bot-schedules",
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": "arn:aws:sqs:ap-northeast-1:123456789012:q", "RoleArn": "arn:aws:iam::123456789012:role/r"},
    )
    args = {"name": "bot-schedules", "state": "absent"}
    checked = run_module(scheduler_schedule_group, args, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"] == {"before": {"name": "bot-schedules", "tags": TAGS}, "after": {}}
    assert moto.get_schedule_group(Name="bot-schedules")["State"] == "ACTIVE"

    result = run_module(scheduler_schedule_group, args)
    assert result["changed"] is True
    assert result["schedule_group"] == {}
    assert [g["Name"] for g in moto.list_schedule_groups()["ScheduleGroups"]] == ["default"]
    assert moto.list_schedules()["Schedules"] == []

    assert run_module(scheduler_schedule_group, args, check_mode=True)["changed"] is False
    assert run_module(scheduler_schedule_group, args)["changed"] is False


def test_default_group_cannot_be_deleted(run_module, moto):
    result = run_module(scheduler_schedule_group, {"name": "default", "state": "absent"})
    assert result.failed
    assert "The 'default' schedule group always exists and cannot be deleted" in result["msg"]


def test_default_group_present_is_no_change(run_module, moto):
    result = run_module(scheduler_schedule_group, {"name": "default"})
    assert result["changed"] is False
    assert result["schedule_group"]["name"] == "default"


# --- AWS deletes groups asynchronously: moto deletes at once, so Stubber plays the DELETING state.


def _group(state):
    return {"Arn": ARN, "Name": "bot-schedules", "State": state}


def _group_exists(stubber, state="ACTIVE", tags=()):
    stubber.add_response("get_schedule_group", _group(state), {"Name": "bot-schedules"})
    stubber.add_response("list_tags_for_resource", {"Tags": list(tags)}, {"ResourceArn": ARN})


def _group_gone(stubber):
    stubber.add_client_error("get_schedule_group", "ResourceNotFoundException", "not found", 404)


def test_delete_waits_until_the_group_is_gone(run_module, stubber):
    _group_exists(stubber)
    stubber.add_response("delete_schedule_group", {}, {"Name": "bot-schedules"})
    stubber.add_response("get_schedule_group", _group("DELETING"), {"Name": "bot-schedules"})
    _group_gone(stubber)
    result = run_module(scheduler_schedule_group, {"name": "bot-schedules", "state": "absent"})
    assert result["changed"] is True


def test_delete_wait_timeout_message(run_module, stubber):
    _group_exists(stubber)
    stubber.add_response("delete_schedule_group", {}, {"Name": "bot-schedules"})
    for _ in range(4):  # wait_timeout 3 -> 1 s pause, 4 polls
        stubber.add_response("get_schedule_group", _group("DELETING"), {"Name": "bot-schedules"})
    result = run_module(scheduler_schedule_group, {"name": "bot-schedules", "state": "absent", "wait_timeout": 3})
    assert result.failed
    assert result["msg"].startswith("Schedule group bot-schedules was still being deleted after 3 seconds")


def test_delete_of_a_group_already_deleting_is_no_change(run_module, stubber):
    _group_exists(stubber, state="DELETING")
    result = run_module(scheduler_schedule_group, {"name": "bot-schedules", "state": "absent", "wait": False})
    assert result["changed"] is False


def test_present_while_deleting_waits_then_creates(run_module, stubber):
    _group_exists(stubber, state="DELETING")
    _group_gone(stubber)
    stubber.add_response(
        "create_schedule_group",
        {"ScheduleGroupArn": ARN},
        {"Name": "bot-schedules", "Tags": [{"Key": "Stack", "Value": "bot"}]},
    )
    _group_exists(stubber, tags=[{"Key": "Stack", "Value": "bot"}])
    result = run_module(scheduler_schedule_group, {"name": "bot-schedules", "tags": {"Stack": "bot"}})
    assert result["changed"] is True
    assert result["schedule_group"]["tags"] == {"Stack": "bot"}


def test_present_while_deleting_without_wait_fails(run_module, stubber):
    _group_exists(stubber, state="DELETING")
    result = run_module(scheduler_schedule_group, {"name": "bot-schedules", "wait": False})
    assert result.failed
    assert result["msg"] == (
        "Schedule group bot-schedules is still being deleted; retry when it is gone, or set wait=true."
    )


def test_tagging_error_is_reported(run_module, stubber):
    _group_exists(stubber)
    stubber.add_client_error("tag_resource", "AccessDeniedException", "not authorized to tag", 403)
    result = run_module(scheduler_schedule_group, {"name": "bot-schedules", "tags": {"Stack": "bot"}})
    assert result.failed
    assert result["msg"].startswith("Failed to tag schedule group")
