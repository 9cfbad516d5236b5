"""Pure helpers and API wrappers of module_utils/scheduler.py."""

from __future__ import annotations

import datetime
import json

import boto3
import botocore.waiter
import pytest
from botocore.stub import Stubber

from ansible_collections.kumo.webstack.plugins.module_utils import scheduler

UTC = datetime.UTC
ROLE = "arn:aws:iam::123456789012:role/scheduler"
ECS = "arn:aws:scheduler:::aws-sdk:ecs:updateService"


# --- schedule expressions -------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 8 ? * SAT,SUN *)",
        "cron(0/15 * * * ? *)",
        "cron(0 9 L * ? 2030-2031)",
        "cron(0 10 ? * 6#3 *)",
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(2 hours)",
        "rate(1 day)",
        "at(2030-01-31T09:00:00)",
    ],
)
def test_valid_expressions(expression):
    assert scheduler.validate_schedule_expression(expression) is None


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("cron(0 8 * * SAT)", "a cron expression has 6 fields, this one has 5"),
        ("cron(0 8 * * SAT,SUN *)", "exactly one of day-of-month (3rd field) and day-of-week (5th field) must be '?'"),
        ("cron(0 8 ? * ? *)", "exactly one of day-of-month"),
        ("cron(0 8 ? * SAT;SUN *)", "unexpected characters in cron field(s) SAT;SUN"),
        ("rate(0 minutes)", "the rate value must be a positive whole number"),
        ("rate(5 weeks)", "use cron("),
        ("rate(five minutes)", "use cron("),
        ("at(2030-02-30T09:00:00)", "2030-02-30T09:00:00 is not a valid date and time"),
        ("at(2030-01-31 09:00:00)", "use cron("),
        ("0 8 * * *", "use cron("),
        (" rate(5 minutes)", "use cron("),
        ("", "use cron("),
    ],
)
def test_invalid_expressions(expression, fragment):
    message = scheduler.validate_schedule_expression(expression)
    assert message.startswith(f"schedule_expression {expression!r} is not valid: ")
    assert fragment in message


# --- dates and inputs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-01-31T09:00:00+09:00", datetime.datetime(2030, 1, 31, 0, 0, tzinfo=UTC)),
        ("2030-01-31T00:00:00Z", datetime.datetime(2030, 1, 31, 0, 0, tzinfo=UTC)),
        ("2030-01-31T00:00:00", datetime.datetime(2030, 1, 31, 0, 0, tzinfo=UTC)),
        ("2030-01-31 00:00:00.750", datetime.datetime(2030, 1, 31, 0, 0, tzinfo=UTC)),
    ],
)
def test_parse_date(text, expected):
    assert scheduler.parse_date(text, "start_date") == expected


def test_parse_date_error_names_option():
    with pytest.raises(ValueError, match=r"end_date 'next monday' is not an ISO 8601 date and time"):
        scheduler.parse_date("next monday", "end_date")


def test_serialise_input():
    assert scheduler.serialise_input(None) is None
    assert scheduler.serialise_input('{"b": 1, "a": 2}') == '{"b": 1, "a": 2}'
    assert json.loads(scheduler.serialise_input({"b": 1, "a": [1, 2]})) == {"b": 1, "a": [1, 2]}


def test_comparable_inputs_ignore_key_order_and_spacing():
    one = {"Target": {"Arn": ECS, "RoleArn": ROLE, "Input": '{"Cluster":"c","Service":"s","DesiredCount":1}'}}
    two = {"Target": {"Arn": ECS, "RoleArn": ROLE, "Input": '{ "DesiredCount": 1, "Service": "s", "Cluster": "c" }'}}
    three = {"Target": {"Arn": ECS, "RoleArn": ROLE, "Input": '{"Cluster":"c","Service":"s","DesiredCount":0}'}}
    assert scheduler.comparable(one) == scheduler.comparable(two)
    assert scheduler.comparable(one) != scheduler.comparable(three)
    # Text that is not JSON is compared as text.
    assert scheduler.comparable({"Target": {"Input": "plain"}})["Target"]["Input"] == "plain"
    assert scheduler.comparable(None) == {}


def test_comparable_dates_are_utc_text():
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    result = scheduler.comparable({"StartDate": datetime.datetime(2030, 1, 1, 9, 0, 0, 123, tzinfo=tokyo)})
    assert result == {"StartDate": "2030-01-01T00:00:00Z"}
    assert scheduler.comparable({"EndDate": datetime.datetime(2030, 1, 1)}) == {"EndDate": "2030-01-01T00:00:00Z"}


# --- definitions ----------------------------------------------------------------------------


def test_definition_from_schedule_fills_aws_defaults():
    schedule = {
        "Arn": "arn:aws:scheduler:ap-northeast-1:123456789012:schedule/default/x",
        "Name": "x",
        "ScheduleExpression": "rate(1 day)",
        "Target": {"Arn": ECS, "RoleArn": ROLE},
        "CreationDate": datetime.datetime(2025, 1, 1, tzinfo=UTC),
    }
    assert scheduler.definition_from_schedule(schedule) == {
        "ScheduleExpression": "rate(1 day)",
        "ScheduleExpressionTimezone": "UTC",
        "State": "ENABLED",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "NONE",
        "Description": "",
        "Target": {
            "Arn": ECS,
            "RoleArn": ROLE,
            "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
        },
    }


def test_build_target_defaults_and_dead_letter():
    target = scheduler.build_target(
        {
            "arn": ECS,
            "role_arn": ROLE,
            "input": {"Cluster": "c"},
            "retry_policy": {"maximum_event_age_in_seconds": 3600, "maximum_retry_attempts": 0},
            "dead_letter_config": {"arn": "arn:aws:sqs:ap-northeast-1:123456789012:dlq"},
        }
    )
    assert target == {
        "Arn": ECS,
        "RoleArn": ROLE,
        "Input": '{"Cluster": "c"}',
        "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 0},
        "DeadLetterConfig": {"Arn": "arn:aws:sqs:ap-northeast-1:123456789012:dlq"},
    }
    bare = scheduler.build_target({"arn": ECS, "role_arn": ROLE})
    assert bare["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert "Input" not in bare and "DeadLetterConfig" not in bare


def test_build_target_keeps_unmanaged_settings_of_the_same_target_only():
    current = {"Arn": "arn:aws:ecs:ap-northeast-1:123456789012:cluster/c", "RoleArn": ROLE}
    current["EcsParameters"] = {"TaskDefinitionArn": "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/t:1"}
    current["Input"] = "old"
    same = scheduler.build_target({"arn": current["Arn"], "role_arn": ROLE}, current)
    assert same["EcsParameters"] == current["EcsParameters"]
    assert "Input" not in same  # managed: left out means removed
    other = scheduler.build_target({"arn": ECS, "role_arn": ROLE}, current)
    assert "EcsParameters" not in other


def _params(**kwargs):
    base = dict(
        schedule_expression=None,
        schedule_expression_timezone=None,
        description=None,
        enabled=None,
        flexible_time_window=None,
        target=None,
        action_after_completion=None,
        kms_key_arn=None,
        start_date=None,
        end_date=None,
    )
    base.update(kwargs)
    return base


def test_build_definition_new_schedule_uses_aws_defaults():
    definition = scheduler.build_definition(
        _params(schedule_expression="rate(1 day)", target={"arn": ECS, "role_arn": ROLE}, enabled=True)
    )
    assert definition["ScheduleExpressionTimezone"] == "UTC"
    assert definition["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert definition["State"] == "ENABLED"
    assert definition["ActionAfterCompletion"] == "NONE"


def test_build_definition_keeps_what_is_not_set_and_removes_empty_strings():
    current = {
        "ScheduleExpression": "rate(1 day)",
        "ScheduleExpressionTimezone": "Asia/Tokyo",
        "Description": "old",
        "State": "ENABLED",
        "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5},
        "ActionAfterCompletion": "NONE",
        "KmsKeyArn": "arn:aws:kms:ap-northeast-1:123456789012:key/k",
        "StartDate": datetime.datetime(2030, 1, 1, tzinfo=UTC),
        "EndDate": datetime.datetime(2031, 1, 1, tzinfo=UTC),
        "Target": {"Arn": ECS, "RoleArn": ROLE, "Input": "{}"},
    }
    definition = scheduler.build_definition(
        _params(enabled=False, description="", kms_key_arn="", end_date="", flexible_time_window={"mode": "OFF"}),
        current,
    )
    assert definition["State"] == "DISABLED"
    assert definition["ScheduleExpressionTimezone"] == "Asia/Tokyo"
    assert definition["Target"] == current["Target"]
    assert definition["StartDate"] == current["StartDate"]
    assert definition["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert "KmsKeyArn" not in definition and "EndDate" not in definition
    request = scheduler.definition_to_request("n", "g", definition)
    assert "Description" not in request
    assert request["Name"] == "n" and request["GroupName"] == "g"
    assert current["Description"] == "old"  # the input is not modified


def test_build_definition_flexible_window_and_dates():
    definition = scheduler.build_definition(
        _params(
            flexible_time_window={"mode": "FLEXIBLE", "maximum_window_in_minutes": 30},
            start_date="2030-01-01T09:00:00+09:00",
        )
    )
    assert definition["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30}
    assert definition["StartDate"] == datetime.datetime(2030, 1, 1, tzinfo=UTC)


def test_schedule_for_output_dates():
    out = scheduler.schedule_for_output(
        {"Name": "x", "CreationDate": datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)}
    )
    assert out == {"Name": "x", "CreationDate": "2025-01-02T03:04:05Z"}


# --- API wrappers and their error handling (Stubber) ------------------------------------------


@pytest.fixture
def stubbed(aws_env, monkeypatch):
    monkeypatch.setattr(botocore.waiter.time, "sleep", lambda _seconds: None)
    client = boto3.client("scheduler", region_name="ap-northeast-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_get_schedule_missing_is_none(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_schedule", "ResourceNotFoundException", "Schedule x does not exist.", 404)
    assert scheduler.get_schedule(client, "x", "default") is None


def test_get_schedule_other_error_raises(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_schedule", "AccessDeniedException", "not allowed", 403)
    with pytest.raises(scheduler.AnsibleSchedulerError, match="Failed to get schedule"):
        scheduler.get_schedule(client, "x", "default")


def test_delete_schedule_already_gone_is_false(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("delete_schedule", "ResourceNotFoundException", "gone", 404)
    assert scheduler.delete_schedule(client, "x", "default") is False


def test_create_schedule_conflict_raises(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("create_schedule", "ConflictException", "Schedule x already exists.", 409)
    with pytest.raises(scheduler.AnsibleSchedulerError, match="Failed to create schedule") as raised:
        scheduler.create_schedule(
            client,
            Name="x",
            ScheduleExpression="rate(1 day)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": ECS, "RoleArn": ROLE},
        )
    assert "already exists" in str(raised.value)


def _group(state):
    return {"Arn": "arn:aws:scheduler:ap-northeast-1:123456789012:schedule-group/g", "Name": "g", "State": state}


def test_wait_schedule_group_deleted_polls_until_gone(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_schedule_group", _group("DELETING"), {"Name": "g"})
    stubber.add_client_error("get_schedule_group", "ThrottlingException", "slow down", 400)
    stubber.add_response("get_schedule_group", _group("DELETING"), {"Name": "g"})
    stubber.add_client_error("get_schedule_group", "ResourceNotFoundException", "gone", 404)
    scheduler.wait_schedule_group_deleted(client, "g", 60)


def test_wait_schedule_group_deleted_times_out(stubbed):
    client, stubber = stubbed
    # timeout 3 s -> pause 1 s, 4 attempts
    for _ in range(4):
        stubber.add_response("get_schedule_group", _group("DELETING"), {"Name": "g"})
    with pytest.raises(
        scheduler.AnsibleSchedulerError,
        match=r"Schedule group g was still being deleted after 3 seconds \(wait_timeout\)",
    ):
        scheduler.wait_schedule_group_deleted(client, "g", 3)


def test_wait_schedule_group_deleted_unexpected_error(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_schedule_group", "AccessDeniedException", "no", 403)
    with pytest.raises(
        scheduler.AnsibleSchedulerError, match="Failed while waiting for schedule group g to be deleted"
    ):
        scheduler.wait_schedule_group_deleted(client, "g", 30)


def test_tag_wrappers_send_the_right_shape(stubbed):
    client, stubber = stubbed
    arn = _group("ACTIVE")["Arn"]
    stubber.add_response("list_tags_for_resource", {"Tags": [{"Key": "a", "Value": "1"}]}, {"ResourceArn": arn})
    stubber.add_response("tag_resource", {}, {"ResourceArn": arn, "Tags": [{"Key": "b", "Value": "2"}]})
    stubber.add_response("untag_resource", {}, {"ResourceArn": arn, "TagKeys": ["a"]})
    assert scheduler.list_tags_for_resource(client, arn) == [{"Key": "a", "Value": "1"}]
    assert scheduler.tag_resource(client, arn, [{"Key": "b", "Value": "2"}])
    assert scheduler.untag_resource(client, arn, ["a"])
