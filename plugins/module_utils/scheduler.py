# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""EventBridge Scheduler helpers shared by the scheduler_* modules.

API calls are small functions wrapped in ``SchedulerErrorHandler`` (turns botocore errors into
``AnsibleSchedulerError``; a missing resource becomes the handler's default) and
``AWSRetry.jittered_backoff`` (throttling and 5xx only). The rest are pure functions that
validate, build and compare schedule definitions, so they can be unit-tested without AWS.
"""

from __future__ import annotations

import copy
import datetime
import json
import re

try:
    import botocore.exceptions
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.waiter import BaseWaiterFactory, custom_waiter_config

from ansible_collections.kumo.webstack.plugins.module_utils.dates import UTC, date_text

# What AWS applies to a target that is created without a retry policy.
DEFAULT_MAXIMUM_EVENT_AGE_IN_SECONDS = 86400
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185

# Target keys this collection manages; any other key of an existing target (EcsParameters,
# SqsParameters, ...) is carried over unchanged while the target ARN stays the same.
MANAGED_TARGET_KEYS = ("Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig")


class AnsibleSchedulerError(AnsibleAWSError):
    pass


class SchedulerErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleSchedulerError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


def _strip(response):
    response = dict(response)
    response.pop("ResponseMetadata", None)
    return response


# ---------------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------------


@SchedulerErrorHandler.list_error_handler("get schedule")
@AWSRetry.jittered_backoff()
def get_schedule(client, name, group_name):
    """The schedule (GetSchedule answer), or None when it or its group does not exist."""
    return _strip(client.get_schedule(Name=name, GroupName=group_name))


@SchedulerErrorHandler.common_error_handler("create schedule")
@AWSRetry.jittered_backoff()
def create_schedule(client, **params):
    return client.create_schedule(**params)["ScheduleArn"]


@SchedulerErrorHandler.common_error_handler("update schedule")
@AWSRetry.jittered_backoff()
def update_schedule(client, **params):
    return client.update_schedule(**params)["ScheduleArn"]


@SchedulerErrorHandler.deletion_error_handler("delete schedule")
@AWSRetry.jittered_backoff()
def delete_schedule(client, name, group_name):
    """True once deleted; False when it was already gone."""
    client.delete_schedule(Name=name, GroupName=group_name)
    return True


@SchedulerErrorHandler.list_error_handler("list schedules", [])
@AWSRetry.jittered_backoff()
def list_schedules(client, **params):
    paginator = client.get_paginator("list_schedules")
    return paginator.paginate(**params).build_full_result().get("Schedules", [])


# ---------------------------------------------------------------------------------------------
# Schedule groups and their tags
# ---------------------------------------------------------------------------------------------


@SchedulerErrorHandler.list_error_handler("get schedule group")
@AWSRetry.jittered_backoff()
def get_schedule_group(client, name):
    """The schedule group (GetScheduleGroup answer), or None when it does not exist."""
    return _strip(client.get_schedule_group(Name=name))


@SchedulerErrorHandler.common_error_handler("create schedule group")
@AWSRetry.jittered_backoff()
def create_schedule_group(client, name, tags=None):
    params = {"Name": name}
    if tags:
        params["Tags"] = tags
    return client.create_schedule_group(**params)["ScheduleGroupArn"]


@SchedulerErrorHandler.deletion_error_handler("delete schedule group")
@AWSRetry.jittered_backoff()
def delete_schedule_group(client, name):
    """True once deletion has started; False when the group was already gone."""
    client.delete_schedule_group(Name=name)
    return True


@SchedulerErrorHandler.list_error_handler("list tags for schedule group", [])
@AWSRetry.jittered_backoff()
def list_tags_for_resource(client, arn):
    return client.list_tags_for_resource(ResourceArn=arn).get("Tags", [])


@SchedulerErrorHandler.common_error_handler("tag schedule group")
@AWSRetry.jittered_backoff()
def tag_resource(client, arn, tags):
    client.tag_resource(ResourceArn=arn, Tags=tags)
    return True


@SchedulerErrorHandler.common_error_handler("untag schedule group")
@AWSRetry.jittered_backoff()
def untag_resource(client, arn, tag_keys):
    client.untag_resource(ResourceArn=arn, TagKeys=tag_keys)
    return True


class SchedulerWaiterFactory(BaseWaiterFactory):
    """Waiters the Scheduler API does not ship. Throttling is added as ``retry`` by the base class."""

    @property
    def _waiter_model_data(self):
        return {
            "schedule_group_deleted": {
                "operation": "GetScheduleGroup",
                "delay": 5,
                "maxAttempts": 60,
                "acceptors": [
                    {"state": "success", "matcher": "error", "expected": "ResourceNotFoundException"},
                    {"state": "retry", "matcher": "path", "argument": "State", "expected": "DELETING"},
                    {"state": "retry", "matcher": "path", "argument": "State", "expected": "ACTIVE"},
                    # Scheduler's own throttling and server error codes (the base class adds the generic ones).
                    {"state": "retry", "matcher": "error", "expected": "ThrottlingException"},
                    {"state": "retry", "matcher": "error", "expected": "InternalServerException"},
                ],
            },
        }


def wait_schedule_group_deleted(client, name, timeout):
    """Wait (at most ``timeout`` seconds) until GetScheduleGroup answers ResourceNotFoundException."""
    waiter = SchedulerWaiterFactory().get_waiter(client, "schedule_group_deleted")
    try:
        waiter.wait(Name=name, WaiterConfig=custom_waiter_config(timeout, default_pause=5))
    except botocore.exceptions.WaiterError as e:
        if "Max attempts exceeded" in str(e.kwargs.get("reason", "")):
            raise AnsibleSchedulerError(
                message=f"Schedule group {name} was still being deleted after {timeout} seconds (wait_timeout)",
                exception=e,
            ) from e
        raise AnsibleSchedulerError(
            message=f"Failed while waiting for schedule group {name} to be deleted", exception=e
        ) from e


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

_CRON = re.compile(r"^cron\((?P<body>[^()]*)\)$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/#\-]+$")
_RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
_AT = re.compile(r"^at\((?P<when>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")

_EXPRESSION_FORMS = (
    "use cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 8 ? * SAT,SUN *); "
    "rate(value unit) with unit minute(s), hour(s) or day(s), e.g. rate(5 minutes); "
    "or at(yyyy-mm-ddThh:mm:ss), e.g. at(2030-01-31T09:00:00)"
)


def validate_schedule_expression(expression):
    """An error message for a malformed schedule expression, or None when it is well formed."""
    prefix = f"schedule_expression {expression!r} is not valid: "
    text = expression.strip() if isinstance(expression, str) else ""
    if text != expression or not text:
        return prefix + _EXPRESSION_FORMS
    cron = _CRON.match(text)
    if cron:
        fields = cron.group("body").split()
        if len(fields) != 6:
            return prefix + f"a cron expression has 6 fields, this one has {len(fields)}; " + _EXPRESSION_FORMS
        bad = [f for f in fields if not _CRON_FIELD.match(f)]
        if bad:
            return prefix + f"unexpected characters in cron field(s) {', '.join(bad)}"
        if (fields[2] == "?") == (fields[4] == "?"):
            return prefix + "exactly one of day-of-month (3rd field) and day-of-week (5th field) must be '?'"
        return None
    rate = _RATE.match(text)
    if rate:
        if int(rate.group("value")) < 1:
            return prefix + "the rate value must be a positive whole number"
        return None
    at = _AT.match(text)
    if at:
        try:
            datetime.datetime.strptime(at.group("when"), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return prefix + f"{at.group('when')} is not a valid date and time"
        return None
    return prefix + _EXPRESSION_FORMS


def parse_date(value, option):
    """An aware UTC datetime from an ISO 8601 string (naive means UTC).

    Raises ValueError with a message naming the option.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{option} {value!r} is not an ISO 8601 date and time; use e.g. 2030-01-31T09:00:00+09:00 "
            "or 2030-01-31T00:00:00Z (no offset means UTC)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(microsecond=0)


def serialise_input(value):
    """The string sent as Target.Input: strings as given, dicts and lists as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def _canonical_input(value):
    """Target.Input in a form where equal JSON documents compare equal, whatever their key order."""
    if value is None:
        return None
    try:
        return json.dumps(json.loads(value), sort_keys=True, separators=(", ", ": "))
    except (TypeError, ValueError):
        return value


# ---------------------------------------------------------------------------------------------
# Definitions: what CreateSchedule / UpdateSchedule take (besides Name and GroupName)
# ---------------------------------------------------------------------------------------------

_DEFAULTS = {
    "ScheduleExpressionTimezone": "UTC",
    "State": "ENABLED",
    "FlexibleTimeWindow": {"Mode": "OFF"},
    "ActionAfterCompletion": "NONE",
    "Description": "",
}

_DEFINITION_KEYS = (
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "Description",
    "State",
    "FlexibleTimeWindow",
    "Target",
    "ActionAfterCompletion",
    "KmsKeyArn",
    "StartDate",
    "EndDate",
)


def definition_from_schedule(schedule):
    """The definition held in a GetSchedule answer, with AWS's implicit defaults made explicit.

    AWS (and moto) may leave out fields at their default; filling them in keeps a schedule
    created without them from looking changed on the next run.
    """
    definition = copy.deepcopy(_DEFAULTS)
    for key in _DEFINITION_KEYS:
        if schedule.get(key) not in (None, ""):
            definition[key] = copy.deepcopy(schedule[key])
    target = definition.get("Target")
    if target is not None:
        target.setdefault(
            "RetryPolicy",
            {
                "MaximumEventAgeInSeconds": DEFAULT_MAXIMUM_EVENT_AGE_IN_SECONDS,
                "MaximumRetryAttempts": DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
            },
        )
    return definition


def build_target(target, current_target=None):
    """The Target structure for the module's O(target) option (snake_case dict)."""
    result = {"Arn": target["arn"], "RoleArn": target["role_arn"]}
    if target.get("input") is not None:
        result["Input"] = serialise_input(target["input"])
    retry = target.get("retry_policy") or {}
    result["RetryPolicy"] = {
        "MaximumEventAgeInSeconds": retry.get("maximum_event_age_in_seconds") or DEFAULT_MAXIMUM_EVENT_AGE_IN_SECONDS,
        "MaximumRetryAttempts": (
            DEFAULT_MAXIMUM_RETRY_ATTEMPTS
            if retry.get("maximum_retry_attempts") is None
            else retry["maximum_retry_attempts"]
        ),
    }
    dead_letter = (target.get("dead_letter_config") or {}).get("arn")
    if dead_letter:
        result["DeadLetterConfig"] = {"Arn": dead_letter}
    if current_target and current_target.get("Arn") == result["Arn"]:
        for key, value in current_target.items():
            if key not in MANAGED_TARGET_KEYS:
                result[key] = copy.deepcopy(value)
    return result


def build_definition(params, current=None):
    """The full desired definition: the current one (or AWS's defaults) overlaid with the options set.

    UpdateSchedule replaces the whole schedule, so what is not set in the task is kept as it
    is, and the result is always complete. Raises ValueError on a bad date option.
    """
    definition = copy.deepcopy(current) if current is not None else copy.deepcopy(_DEFAULTS)
    simple = {
        "schedule_expression": "ScheduleExpression",
        "schedule_expression_timezone": "ScheduleExpressionTimezone",
        "description": "Description",
        "action_after_completion": "ActionAfterCompletion",
    }
    for option, key in simple.items():
        if params.get(option) is not None:
            definition[key] = params[option]
    if params.get("enabled") is not None:
        definition["State"] = "ENABLED" if params["enabled"] else "DISABLED"
    window = params.get("flexible_time_window")
    if window is not None:
        if window["mode"] == "FLEXIBLE":
            definition["FlexibleTimeWindow"] = {
                "Mode": "FLEXIBLE",
                "MaximumWindowInMinutes": window["maximum_window_in_minutes"],
            }
        else:
            definition["FlexibleTimeWindow"] = {"Mode": "OFF"}
    if params.get("target") is not None:
        definition["Target"] = build_target(params["target"], (current or {}).get("Target"))
    if params.get("kms_key_arn") is not None:
        if params["kms_key_arn"]:
            definition["KmsKeyArn"] = params["kms_key_arn"]
        else:
            definition.pop("KmsKeyArn", None)
    for option, key in (("start_date", "StartDate"), ("end_date", "EndDate")):
        if params.get(option) is not None:
            if params[option]:
                definition[key] = parse_date(params[option], option)
            else:
                definition.pop(key, None)
    return definition


def comparable(definition):
    """A JSON-friendly copy of a definition in which equivalent definitions are equal."""
    if definition is None:
        return {}
    result = copy.deepcopy(definition)
    for key in ("StartDate", "EndDate"):
        if key in result:
            result[key] = date_text(result[key])
    target = result.get("Target")
    if target and "Input" in target:
        target["Input"] = _canonical_input(target["Input"])
    return result


def definition_to_request(name, group_name, definition):
    """Create/UpdateSchedule parameters for a definition (empty description left out)."""
    params = {"Name": name, "GroupName": group_name}
    for key, value in definition.items():
        if key == "Description" and not value:
            continue
        params[key] = copy.deepcopy(value)
    return params


def schedule_for_output(schedule):
    """A GetSchedule answer with dates as ISO 8601 text, ready for camel_dict_to_snake_dict."""
    result = copy.deepcopy(schedule)
    for key in ("StartDate", "EndDate", "CreationDate", "LastModificationDate"):
        if key in result:
            result[key] = date_text(result[key])
    return result
