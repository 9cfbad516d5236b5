"""kumo.webstack.scheduler_schedule against moto (flows) and botocore Stubber (request shapes, errors)."""

from __future__ import annotations

import copy
import datetime
import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.modules import scheduler_schedule

REGION = "ap-northeast-1"
ROLE = "arn:aws:iam::123456789012:role/bot-scheduler"
ECS = "arn:aws:scheduler:::aws-sdk:ecs:updateService"

START = {
    "name": "bot-weekend-start",
    "schedule_expression": "cron(0 8 ? * SAT,SUN *)",
    "schedule_expression_timezone": "Asia/Tokyo",
    "description": "Start the bot at 08:00 on Saturdays and Sundays",
    "flexible_time_window": {"mode": "OFF"},
    "target": {
        "arn": ECS,
        "role_arn": ROLE,
        "input": {"Cluster": "bot", "Service": "bot", "DesiredCount": 1},
        "retry_policy": {"maximum_event_age_in_seconds": 3600, "maximum_retry_attempts": 3},
    },
}


@pytest.fixture
def moto(aws_env):
    with mock_aws():
        yield boto3.client("scheduler", region_name=REGION)


@pytest.fixture
def stubber(module_stubber):
    return module_stubber("scheduler")


def _args(**overrides):
    args = copy.deepcopy(START)
    args.update(overrides)
    return args


def _get(client, name="bot-weekend-start", group="default"):
    return client.get_schedule(Name=name, GroupName=group)


# --- create / idempotence / update / delete (moto) --------------------------------------------


def test_create_check_mode_writes_nothing(run_module, moto):
    result = run_module(scheduler_schedule, _args(), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["schedule_expression"] == "cron(0 8 ? * SAT,SUN *)"
    assert result["schedule"]["name"] == "bot-weekend-start"
    assert moto.list_schedules()["Schedules"] == []


def test_create_then_idempotent(run_module, moto):
    result = run_module(scheduler_schedule, _args())
    assert result["changed"] is True
    schedule = result["schedule"]
    assert schedule["arn"].endswith(":schedule/default/bot-weekend-start")
    assert schedule["state"] == "ENABLED"
    assert schedule["schedule_expression_timezone"] == "Asia/Tokyo"
    assert schedule["flexible_time_window"] == {"mode": "OFF"}
    assert schedule["target"]["arn"] == ECS
    assert json.loads(schedule["target"]["input"]) == {"Cluster": "bot", "Service": "bot", "DesiredCount": 1}
    assert schedule["target"]["retry_policy"] == {"maximum_event_age_in_seconds": 3600, "maximum_retry_attempts": 3}
    assert json.loads(_get(moto)["Target"]["Input"])["DesiredCount"] == 1

    again = run_module(scheduler_schedule, _args(), check_mode=True)
    assert again["changed"] is False
    again = run_module(scheduler_schedule, _args())
    assert again["changed"] is False
    assert again["schedule"]["arn"] == schedule["arn"]


def test_input_compared_by_content(run_module, moto):
    run_module(scheduler_schedule, _args())
    as_text = _args()
    as_text["target"]["input"] = '{ "DesiredCount": 1, "Service": "bot", "Cluster": "bot" }'
    assert run_module(scheduler_schedule, as_text)["changed"] is False
    reordered = _args()
    reordered["target"]["input"] = {"DesiredCount": 1, "Service": "bot", "Cluster": "bot"}
    assert run_module(scheduler_schedule, reordered)["changed"] is False


def test_update_sends_whole_definition_and_reports_diff(run_module, moto):
    run_module(scheduler_schedule, _args())
    stop = _args(schedule_expression="cron(0 9 ? * SAT,SUN *)")
    stop["target"]["input"] = {"Cluster": "bot", "Service": "bot", "DesiredCount": 0}

    checked = run_module(scheduler_schedule, stop, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert _get(moto)["ScheduleExpression"] == "cron(0 8 ? * SAT,SUN *)"  # nothing written

    result = run_module(scheduler_schedule, stop, diff=True)
    assert result["changed"] is True
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["schedule_expression"] == "cron(0 8 ? * SAT,SUN *)"
    assert after["schedule_expression"] == "cron(0 9 ? * SAT,SUN *)"
    assert json.loads(after["target"]["input"])["DesiredCount"] == 0
    current = _get(moto)
    assert current["ScheduleExpression"] == "cron(0 9 ? * SAT,SUN *)"
    # The untouched parts of the definition were sent too.
    assert current["ScheduleExpressionTimezone"] == "Asia/Tokyo"
    assert current["Description"] == START["description"]
    assert current["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3}
    assert run_module(scheduler_schedule, stop)["changed"] is False


def test_disable_with_name_only_keeps_the_rest(run_module, moto):
    run_module(scheduler_schedule, _args())
    result = run_module(scheduler_schedule, {"name": "bot-weekend-start", "enabled": False}, diff=True)
    assert result["changed"] is True
    assert result["schedule"]["state"] == "DISABLED"
    assert result["diff"]["before"]["state"] == "ENABLED"
    assert result["diff"]["after"]["state"] == "DISABLED"
    current = _get(moto)
    assert current["State"] == "DISABLED"
    assert current["ScheduleExpression"] == START["schedule_expression"]
    assert json.loads(current["Target"]["Input"])["Cluster"] == "bot"
    assert run_module(scheduler_schedule, {"name": "bot-weekend-start", "enabled": False})["changed"] is False
    # enabled defaults to true: repeating the full definition enables it again.
    assert run_module(scheduler_schedule, _args())["changed"] is True
    assert _get(moto)["State"] == "ENABLED"


def test_flexible_window_dates_and_removals(run_module, moto):
    args = _args(
        flexible_time_window={"mode": "FLEXIBLE", "maximum_window_in_minutes": 15},
        start_date="2030-01-01T09:00:00+09:00",
        end_date="2030-12-31T00:00:00Z",
    )
    result = run_module(scheduler_schedule, args)
    assert result["changed"] is True
    assert result["schedule"]["flexible_time_window"] == {"mode": "FLEXIBLE", "maximum_window_in_minutes": 15}
    assert result["schedule"]["start_date"] == "2030-01-01T00:00:00Z"
    assert result["schedule"]["end_date"] == "2030-12-31T00:00:00Z"
    # The same instant written another way is no change.
    same = dict(args, start_date="2030-01-01T00:00:00Z", end_date="2030-12-31T09:00:00+09:00")
    assert run_module(scheduler_schedule, same)["changed"] is False

    removed = run_module(scheduler_schedule, _args(end_date="", description=""))
    assert removed["changed"] is True
    current = _get(moto)
    assert "EndDate" not in current and "Description" not in current
    assert current["StartDate"] == datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


def test_dead_letter_queue_and_input_removal(run_module, moto):
    args = _args()
    args["target"]["dead_letter_config"] = {"arn": "arn:aws:sqs:ap-northeast-1:123456789012:bot-dlq"}
    run_module(scheduler_schedule, args)
    assert _get(moto)["Target"]["DeadLetterConfig"] == {"Arn": "arn:aws:sqs:ap-northeast-1:123456789012:bot-dlq"}
    bare = _args(target={"arn": ECS, "role_arn": ROLE})
    result = run_module(scheduler_schedule, bare, diff=True)
    assert result["changed"] is True
    target = _get(moto)["Target"]
    assert "DeadLetterConfig" not in target and "Input" not in target
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}


def test_unmanaged_target_settings_are_kept(run_module, moto):
    ecs_run_task = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/bot"
    moto.create_schedule(
        Name="task",
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": ecs_run_task,
            "RoleArn": ROLE,
            "EcsParameters": {"TaskDefinitionArn": "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/t:1"},
        },
    )
    result = run_module(
        scheduler_schedule,
        {"name": "task", "description": "nightly", "target": {"arn": ecs_run_task, "role_arn": ROLE}},
    )
    assert result["changed"] is True
    assert _get(moto, "task")["Target"]["EcsParameters"]["TaskDefinitionArn"].endswith("task-definition/t:1")


def test_schedule_in_named_group(run_module, moto):
    moto.create_schedule_group(Name="bot-schedules")
    result = run_module(scheduler_schedule, _args(group_name="bot-schedules"))
    assert result["changed"] is True
    assert result["schedule"]["group_name"] == "bot-schedules"
    assert _get(moto, group="bot-schedules")["Name"] == "bot-weekend-start"


def test_delete_check_mode_then_delete_then_again(run_module, moto):
    run_module(scheduler_schedule, _args())
    gone = {"name": "bot-weekend-start", "state": "absent"}
    checked = run_module(scheduler_schedule, gone, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["schedule_expression"] == START["schedule_expression"]
    assert checked["diff"]["after"] == {}
    assert _get(moto)["Name"] == "bot-weekend-start"

    result = run_module(scheduler_schedule, gone)
    assert result["changed"] is True
    assert result["schedule"] == {}
    assert moto.list_schedules()["Schedules"] == []

    assert run_module(scheduler_schedule, gone, check_mode=True)["changed"] is False
    assert run_module(scheduler_schedule, gone)["changed"] is False
    # A schedule of a group that does not exist is absent too.
    assert run_module(scheduler_schedule, dict(gone, group_name="no-such-group"))["changed"] is False


# --- error paths --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"schedule_expression": "cron(0 8 * * SAT,SUN *)"}, "exactly one of day-of-month"),
        ({"schedule_expression": "every day"}, "schedule_expression 'every day' is not valid"),
        (
            {"flexible_time_window": {"mode": "OFF", "maximum_window_in_minutes": 5}},
            "maximum_window_in_minutes is only allowed with flexible_time_window.mode=FLEXIBLE",
        ),
        (
            {"flexible_time_window": {"mode": "FLEXIBLE", "maximum_window_in_minutes": 2000}},
            "flexible_time_window.maximum_window_in_minutes must be 1 to 1440, got 2000",
        ),
        ({"flexible_time_window": {"mode": "FLEXIBLE"}}, "mode is FLEXIBLE but all of the following are missing"),
        ({"start_date": "tomorrow"}, "start_date 'tomorrow' is not an ISO 8601 date and time"),
        (
            {"start_date": "2030-02-01T00:00:00Z", "end_date": "2030-01-01T00:00:00Z"},
            "end_date (2030-01-01T00:00:00Z) must be later than start_date (2030-02-01T00:00:00Z)",
        ),
    ],
)
def test_invalid_options_fail_before_any_api_call(run_module, aws_env, no_api, overrides, message):
    result = run_module(scheduler_schedule, _args(**overrides))
    assert result.failed
    assert message in result["msg"]


@pytest.mark.parametrize(
    ("target_overrides", "message"),
    [
        ({"retry_policy": {"maximum_event_age_in_seconds": 30}}, "maximum_event_age_in_seconds must be 60 to 86400"),
        ({"retry_policy": {"maximum_retry_attempts": 200}}, "maximum_retry_attempts must be 0 to 185, got 200"),
        ({"input": ""}, "target.input must not be empty"),
    ],
)
def test_invalid_target_fails_before_any_api_call(run_module, aws_env, no_api, target_overrides, message):
    args = _args()
    args["target"].update(target_overrides)
    result = run_module(scheduler_schedule, args)
    assert result.failed
    assert message in result["msg"]


def test_create_needs_expression_and_target(run_module, moto):
    result = run_module(scheduler_schedule, {"name": "new", "schedule_expression": "rate(1 day)"})
    assert result.failed
    assert result["msg"] == "Schedule default/new does not exist; set schedule_expression and target to create it."


def test_missing_group_fails_with_advice(run_module, moto):
    result = run_module(scheduler_schedule, _args(group_name="no-such-group"))
    assert result.failed
    assert "Schedule group no-such-group does not exist" in result["msg"]
    assert "kumo.webstack.scheduler_schedule_group" in result["msg"]


def test_missing_group_only_warns_in_check_mode(run_module, moto):
    result = run_module(scheduler_schedule, _args(group_name="no-such-group"), check_mode=True)
    assert result["changed"] is True
    assert "Schedule group no-such-group does not exist" in str(result.get("warnings"))


# --- request shapes and AWS errors (Stubber) ---------------------------------------------------

CURRENT = {
    "Arn": "arn:aws:scheduler:ap-northeast-1:123456789012:schedule/default/bot-weekend-start",
    "Name": "bot-weekend-start",
    "GroupName": "default",
    "ScheduleExpression": "cron(0 8 ? * SAT,SUN *)",
    "ScheduleExpressionTimezone": "Asia/Tokyo",
    "Description": START["description"],
    "State": "ENABLED",
    "FlexibleTimeWindow": {"Mode": "OFF"},
    "ActionAfterCompletion": "NONE",
    "Target": {
        "Arn": ECS,
        "RoleArn": ROLE,
        "Input": '{"Cluster": "bot", "DesiredCount": 1, "Service": "bot"}',
        "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3},
    },
}
GET = {"Name": "bot-weekend-start", "GroupName": "default"}


def test_update_of_action_after_completion_sends_full_definition(run_module, stubber):
    # moto 5.2.5 ignores ActionAfterCompletion in UpdateSchedule, so the request is checked here.
    stubber.add_response("get_schedule", CURRENT, GET)
    expected = {
        "Name": "bot-weekend-start",
        "GroupName": "default",
        "ScheduleExpression": "cron(0 8 ? * SAT,SUN *)",
        "ScheduleExpressionTimezone": "Asia/Tokyo",
        "Description": START["description"],
        "State": "ENABLED",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Target": CURRENT["Target"],
    }
    stubber.add_response("update_schedule", {"ScheduleArn": CURRENT["Arn"]}, expected)
    stubber.add_response("get_schedule", dict(CURRENT, ActionAfterCompletion="DELETE"), GET)
    result = run_module(scheduler_schedule, {"name": "bot-weekend-start", "action_after_completion": "DELETE"})
    assert result["changed"] is True
    assert result["schedule"]["action_after_completion"] == "DELETE"


def test_update_check_mode_makes_no_write_call(run_module, stubber):
    # Only the read is queued: a write would make the Stubber raise.
    stubber.add_response("get_schedule", CURRENT, GET)
    result = run_module(
        scheduler_schedule,
        {"name": "bot-weekend-start", "kms_key_arn": "arn:aws:kms:ap-northeast-1:123456789012:key/k"},
        check_mode=True,
    )
    assert result["changed"] is True
    assert result["schedule"]["kms_key_arn"].endswith(":key/k")


def test_aws_rejection_is_reported(run_module, stubber):
    stubber.add_response("get_schedule", CURRENT, GET)
    stubber.add_client_error(
        "update_schedule", "ValidationException", "Invalid Schedule Expression Timezone Mars/Base.", 400
    )
    result = run_module(scheduler_schedule, {"name": "bot-weekend-start", "schedule_expression_timezone": "Mars/Base"})
    assert result.failed
    assert result["msg"].startswith("Failed to update schedule")
    assert "Mars/Base" in result["msg"]
    assert result["error"]["code"] == "ValidationException"


def test_access_denied_on_read_is_reported(run_module, stubber):
    stubber.add_client_error("get_schedule", "AccessDeniedException", "User is not authorized", 403)
    result = run_module(scheduler_schedule, {"name": "bot-weekend-start", "state": "absent"})
    assert result.failed
    assert result["msg"].startswith("Failed to get schedule")


def test_delete_race_is_not_a_change(run_module, stubber):
    stubber.add_response("get_schedule", CURRENT, GET)
    stubber.add_client_error("delete_schedule", "ResourceNotFoundException", "gone", 404)
    result = run_module(scheduler_schedule, {"name": "bot-weekend-start", "state": "absent"})
    assert result["changed"] is False
