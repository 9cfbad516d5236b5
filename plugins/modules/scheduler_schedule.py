#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: scheduler_schedule
version_added: 0.1.0
short_description: Manage Amazon EventBridge Scheduler schedules
description:
  - Create, update, disable and delete a schedule of Amazon EventBridge Scheduler.
  - A schedule runs a target on a C(cron()), C(rate()) or one-time C(at()) expression, in a time
    zone of your choice. The target may be a templated target (for example a Lambda function or an
    SQS queue) or a universal target, which calls almost any AWS API action, for example
    V(arn:aws:scheduler:::aws-sdk:ecs:updateService) to scale an ECS service.
  - The whole definition is compared with what AWS holds, and the schedule is only updated when
    something differs. C(UpdateSchedule) replaces the whole schedule, so the module always sends the
    full definition - the options you set, and the current values of those you leave out.
  - Schedules themselves cannot be tagged; tag their group with M(kumo.webstack.scheduler_schedule_group).
  - The schedule group must exist before a schedule is created in it (the V(default) group always exists).
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  name:
    description:
      - Name of the schedule, unique within its group.
    type: str
    required: true
    version_added: 0.1.0
  group_name:
    description:
      - Name of the schedule group the schedule belongs to.
    type: str
    default: default
    version_added: 0.1.0
  state:
    description:
      - Whether the schedule should exist.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  schedule_expression:
    description:
      - When the schedule runs, one of
      - V(cron(minutes hours day-of-month month day-of-week year)) with exactly one of
        day-of-month and day-of-week set to V(?), for example V(cron(0 8 ? * SAT,SUN *));
      - V(rate(value unit)) with unit V(minute), V(minutes), V(hour), V(hours), V(day) or V(days),
        for example V(rate(15 minutes));
      - V(at(yyyy-mm-ddThh:mm:ss)) for a single run, for example V(at(2030-01-31T09:00:00)).
      - The form is checked before any call to AWS.
      - Required to create a schedule. When left out, the current expression is kept.
    type: str
    version_added: 0.1.0
  schedule_expression_timezone:
    description:
      - Time zone (IANA name) in which O(schedule_expression) is evaluated, for example V(Asia/Tokyo).
      - AWS uses V(UTC) when a schedule is created without one. When left out, the current time zone is kept.
    type: str
    version_added: 0.1.0
  description:
    description:
      - Description of the schedule. Set to an empty string to remove it. When left out, the current one is kept.
    type: str
    version_added: 0.1.0
  enabled:
    description:
      - Whether the schedule runs. V(false) keeps the schedule but sets its state to C(DISABLED).
    type: bool
    default: true
    version_added: 0.1.0
  flexible_time_window:
    description:
      - Window within which the target may be invoked after the scheduled time.
      - AWS needs one; a new schedule gets O(flexible_time_window.mode=OFF) when this is left out.
        When left out on an existing schedule, the current window is kept.
    type: dict
    version_added: 0.1.0
    suboptions:
      mode:
        description:
          - V(OFF) invokes the target at the scheduled time; V(FLEXIBLE) lets AWS spread invocations
            over O(flexible_time_window.maximum_window_in_minutes).
        type: str
        choices: ['OFF', FLEXIBLE]
        required: true
        version_added: 0.1.0
      maximum_window_in_minutes:
        description:
          - Length of the window, 1 to 1440 minutes. Required with O(flexible_time_window.mode=FLEXIBLE),
            not allowed with V(OFF).
        type: int
        version_added: 0.1.0
  start_date:
    description:
      - Date and time (ISO 8601, for example V(2030-01-31T09:00:00+09:00) or V(2030-01-31T00:00:00Z);
        no offset means UTC) before which a recurring schedule does not run.
      - Set to an empty string to remove it. When left out, the current value is kept.
    type: str
    version_added: 0.1.0
  end_date:
    description:
      - Date and time (ISO 8601, as for O(start_date)) after which a recurring schedule no longer runs.
        Must be later than O(start_date).
      - Set to an empty string to remove it. When left out, the current value is kept.
    type: str
    version_added: 0.1.0
  target:
    description:
      - What the schedule invokes. Required to create a schedule. When left out, the current target is kept.
      - When set, it describes the whole target; for example leaving out O(target.input) removes the input,
        and leaving out O(target.retry_policy) restores AWS's default retry policy.
      - Settings of an existing target that this module does not manage (for example C(EcsParameters)
        of an ECS RunTask target) are kept as long as O(target.arn) does not change.
    type: dict
    version_added: 0.1.0
    suboptions:
      arn:
        description:
          - ARN of the target, for example a Lambda function or SQS queue ARN, or a universal target
            V(arn:aws:scheduler:::aws-sdk:<service>:<apiAction>) such as
            V(arn:aws:scheduler:::aws-sdk:ecs:updateService).
        type: str
        required: true
        version_added: 0.1.0
      role_arn:
        description:
          - ARN of the IAM role EventBridge Scheduler assumes to invoke the target. It must trust
            C(scheduler.amazonaws.com) and be allowed to call the target.
        type: str
        required: true
        version_added: 0.1.0
      input:
        description:
          - Input passed to the target. For a universal target, the JSON request parameters of the API action.
          - A string is sent as it is; a dictionary or list is serialised to JSON.
          - JSON inputs are compared by content, so a different key order or spacing is not a change.
        type: raw
        version_added: 0.1.0
      retry_policy:
        description:
          - How long and how often AWS retries a failed invocation.
        type: dict
        version_added: 0.1.0
        suboptions:
          maximum_event_age_in_seconds:
            description:
              - Maximum age of an event that is still retried, 60 to 86400 seconds.
            type: int
            default: 86400
            version_added: 0.1.0
          maximum_retry_attempts:
            description:
              - Maximum number of retries, 0 to 185.
            type: int
            default: 185
            version_added: 0.1.0
      dead_letter_config:
        description:
          - SQS queue that receives events which could not be delivered.
        type: dict
        version_added: 0.1.0
        suboptions:
          arn:
            description:
              - ARN of the SQS queue.
            type: str
            required: true
            version_added: 0.1.0
  action_after_completion:
    description:
      - What happens to the schedule after its last invocation (for an C(at()) schedule, or a recurring one
        past O(end_date)). V(DELETE) deletes it, V(NONE) keeps it.
      - AWS uses V(NONE) when a schedule is created without one. When left out, the current value is kept.
    type: str
    choices: [NONE, DELETE]
    version_added: 0.1.0
  kms_key_arn:
    description:
      - ARN of a customer managed KMS key to encrypt the target input with. Set to an empty string to
        go back to an AWS owned key. When left out, the current value is kept.
    type: str
    version_added: 0.1.0
notes:
  - The check mode and C(--diff) show the definition before and after, in the module's snake_case form.
  - The schedule group must already exist; with O(state=present) in check mode a missing group is reported
    as a warning (it may be created by an earlier task of the same check run).
attributes:
  check_mode:
    support: full
    details:
      - The schedule is read, and the task says whether it would be created, changed or deleted, without doing
        it. A schedule that would be created is returned as it would be made.
      - A missing schedule group is a warning in check mode (an earlier task of the same check run may create
        it) and an error otherwise.
  diff_mode:
    support: full
    details:
      - The schedule's definition before and after, in the module's snake_case form.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Start an ECS service at 08:00 and stop it at 09:00 (Asia/Tokyo) on weekends, through the
# universal target ecs:updateService. The role must allow ecs:UpdateService on the service.
- name: Start the bot service on weekend mornings
  kumo.webstack.scheduler_schedule:
    name: bot-weekend-start
    schedule_expression: "cron(0 8 ? * SAT,SUN *)"
    schedule_expression_timezone: Asia/Tokyo
    description: Start the bot at 08:00 on Saturdays and Sundays
    flexible_time_window:
      mode: "OFF"
    target:
      arn: arn:aws:scheduler:::aws-sdk:ecs:updateService
      role_arn: arn:aws:iam::123456789012:role/bot-scheduler
      input:
        Cluster: bot
        Service: bot
        DesiredCount: 1
      retry_policy:
        maximum_event_age_in_seconds: 3600
        maximum_retry_attempts: 3

- name: Stop the bot service one hour later
  kumo.webstack.scheduler_schedule:
    name: bot-weekend-stop
    schedule_expression: "cron(0 9 ? * SAT,SUN *)"
    schedule_expression_timezone: Asia/Tokyo
    target:
      arn: arn:aws:scheduler:::aws-sdk:ecs:updateService
      role_arn: arn:aws:iam::123456789012:role/bot-scheduler
      input:
        Cluster: bot
        Service: bot
        DesiredCount: 0

- name: Pause the start schedule without deleting it
  kumo.webstack.scheduler_schedule:
    name: bot-weekend-start
    enabled: false

- name: Run a Lambda function once, then delete the schedule
  kumo.webstack.scheduler_schedule:
    name: one-off-report
    group_name: reports
    schedule_expression: "at(2030-01-31T09:00:00)"
    schedule_expression_timezone: Asia/Tokyo
    action_after_completion: DELETE
    flexible_time_window:
      mode: FLEXIBLE
      maximum_window_in_minutes: 15
    target:
      arn: arn:aws:lambda:ap-northeast-1:123456789012:function:report
      role_arn: arn:aws:iam::123456789012:role/report-scheduler
      input: '{"kind": "monthly"}'
      dead_letter_config:
        arn: arn:aws:sqs:ap-northeast-1:123456789012:report-dlq

- name: Delete a schedule
  kumo.webstack.scheduler_schedule:
    name: bot-weekend-stop
    state: absent
"""

RETURN = r"""
schedule:
  description:
    - The schedule as AWS describes it after the task, in snake_case; empty after O(state=absent).
    - In check mode, for a schedule that does not exist yet, the definition that would be created.
  returned: always
  type: dict
  contains:
    arn:
      description: ARN of the schedule.
      returned: when the schedule exists
      type: str
      sample: arn:aws:scheduler:ap-northeast-1:123456789012:schedule/default/bot-weekend-start
    name:
      description: Name of the schedule.
      returned: when the schedule exists
      type: str
      sample: bot-weekend-start
    group_name:
      description: Name of its schedule group.
      returned: when the schedule exists
      type: str
      sample: default
    description:
      description: Description of the schedule.
      returned: when set
      type: str
      sample: Start the bot at 08:00 on Saturdays and Sundays
    schedule_expression:
      description: The schedule expression.
      returned: when the schedule exists
      type: str
      sample: cron(0 8 ? * SAT,SUN *)
    schedule_expression_timezone:
      description: Time zone of the expression.
      returned: when the schedule exists
      type: str
      sample: Asia/Tokyo
    state:
      description: V(ENABLED) or V(DISABLED).
      returned: when the schedule exists
      type: str
      sample: ENABLED
    flexible_time_window:
      description: The flexible time window.
      returned: when the schedule exists
      type: dict
      sample: {"mode": "OFF"}
    target:
      description: The target; its C(input) is the JSON text AWS holds.
      returned: when the schedule exists
      type: dict
      sample:
        arn: arn:aws:scheduler:::aws-sdk:ecs:updateService
        role_arn: arn:aws:iam::123456789012:role/bot-scheduler
        input: '{"Cluster": "bot", "DesiredCount": 1, "Service": "bot"}'
        retry_policy:
          maximum_event_age_in_seconds: 3600
          maximum_retry_attempts: 3
    action_after_completion:
      description: V(NONE) or V(DELETE).
      returned: when the schedule exists
      type: str
      sample: NONE
    kms_key_arn:
      description: KMS key that encrypts the target input.
      returned: when set
      type: str
    start_date:
      description: Start date, ISO 8601 in UTC.
      returned: when set
      type: str
      sample: "2030-01-01T00:00:00Z"
    end_date:
      description: End date, ISO 8601 in UTC.
      returned: when set
      type: str
      sample: "2030-12-31T00:00:00Z"
    creation_date:
      description: When the schedule was created, ISO 8601 in UTC.
      returned: when the schedule exists
      type: str
      sample: "2025-01-01T00:00:00Z"
    last_modification_date:
      description: When the schedule was last changed, ISO 8601 in UTC.
      returned: when the schedule exists
      type: str
      sample: "2025-01-01T00:00:00Z"
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils.scheduler import (  # noqa: E402
    build_definition,
    comparable,
    create_schedule,
    definition_from_schedule,
    definition_to_request,
    delete_schedule,
    get_schedule,
    get_schedule_group,
    parse_date,
    schedule_for_output,
    update_schedule,
    validate_schedule_expression,
)


def _snake(value):
    return camel_dict_to_snake_dict(value or {}, ignore_list=["Tags"])


def validate_params(module):
    """Check what AWS would reject, before any call, with a message naming the option."""
    params = module.params
    if params["state"] != "present":
        return
    expression = params.get("schedule_expression")
    if expression is not None:
        problem = validate_schedule_expression(expression)
        if problem:
            module.fail_json(msg=problem)
    window = params.get("flexible_time_window")
    if window:
        minutes = window.get("maximum_window_in_minutes")
        if window["mode"] == "OFF" and minutes is not None:
            module.fail_json(
                msg="flexible_time_window.maximum_window_in_minutes is only allowed with "
                "flexible_time_window.mode=FLEXIBLE"
            )
        if window["mode"] == "FLEXIBLE" and not 1 <= minutes <= 1440:
            module.fail_json(msg=f"flexible_time_window.maximum_window_in_minutes must be 1 to 1440, got {minutes}")
    target = params.get("target")
    if target:
        retry = target.get("retry_policy") or {}
        age = retry.get("maximum_event_age_in_seconds")
        if age is not None and not 60 <= age <= 86400:
            module.fail_json(msg=f"target.retry_policy.maximum_event_age_in_seconds must be 60 to 86400, got {age}")
        attempts = retry.get("maximum_retry_attempts")
        if attempts is not None and not 0 <= attempts <= 185:
            module.fail_json(msg=f"target.retry_policy.maximum_retry_attempts must be 0 to 185, got {attempts}")
        if target.get("input") is not None and target["input"] == "":
            module.fail_json(msg="target.input must not be empty; leave it out to send no input")
    dates = {}
    for option in ("start_date", "end_date"):
        if params.get(option):
            try:
                dates[option] = parse_date(params[option], option)
            except ValueError as e:
                module.fail_json(msg=str(e))
    if len(dates) == 2 and dates["end_date"] <= dates["start_date"]:
        module.fail_json(msg=f"end_date ({params['end_date']}) must be later than start_date ({params['start_date']})")


def ensure_present(client, module):
    name = module.params["name"]
    group_name = module.params["group_name"]

    current = get_schedule(client, name, group_name)
    if current is None and (not module.params.get("schedule_expression") or not module.params.get("target")):
        module.fail_json(
            msg=f"Schedule {group_name}/{name} does not exist; set schedule_expression and target to create it."
        )
    current_definition = definition_from_schedule(current) if current else None
    desired = build_definition(module.params, current_definition)
    before, after = comparable(current_definition), comparable(desired)

    result = {"changed": before != after}
    if module._diff:
        result["diff"] = {"before": _snake(before), "after": _snake(after)}
    if not result["changed"]:
        module.exit_json(schedule=_snake(schedule_for_output(current)), **result)

    if current is None:
        group = get_schedule_group(client, group_name)
        if group is None or group.get("State") == "DELETING":
            problem = (
                f"Schedule group {group_name} does not exist (or is being deleted); create it first with "
                "kumo.webstack.scheduler_schedule_group, or use the 'default' group."
            )
            if not module.check_mode:
                module.fail_json(msg=problem)
            module.warn(problem)

    if module.check_mode:
        planned = dict(after, Name=name, GroupName=group_name)
        if current is not None:
            planned = dict(schedule_for_output(current), **after)
        module.exit_json(schedule=_snake(planned), **result)

    request = definition_to_request(name, group_name, desired)
    if current is None:
        create_schedule(client, **request)
    else:
        update_schedule(client, **request)
    schedule = get_schedule(client, name, group_name)
    module.exit_json(schedule=_snake(schedule_for_output(schedule or {})), **result)


def ensure_absent(client, module):
    name = module.params["name"]
    group_name = module.params["group_name"]
    current = get_schedule(client, name, group_name)
    result = {"changed": current is not None, "schedule": {}}
    if module._diff:
        before = comparable(definition_from_schedule(current)) if current else {}
        result["diff"] = {"before": _snake(before), "after": {}}
    if current is None or module.check_mode:
        module.exit_json(**result)
    result["changed"] = delete_schedule(client, name, group_name)
    module.exit_json(**result)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        group_name=dict(type="str", default="default"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        schedule_expression=dict(type="str"),
        schedule_expression_timezone=dict(type="str"),
        description=dict(type="str"),
        enabled=dict(type="bool", default=True),
        flexible_time_window=dict(
            type="dict",
            options=dict(
                mode=dict(type="str", choices=["OFF", "FLEXIBLE"], required=True),
                maximum_window_in_minutes=dict(type="int"),
            ),
            required_if=[["mode", "FLEXIBLE", ["maximum_window_in_minutes"]]],
        ),
        start_date=dict(type="str"),
        end_date=dict(type="str"),
        target=dict(
            type="dict",
            options=dict(
                arn=dict(type="str", required=True),
                role_arn=dict(type="str", required=True),
                input=dict(type="raw"),
                retry_policy=dict(
                    type="dict",
                    options=dict(
                        maximum_event_age_in_seconds=dict(type="int", default=86400),
                        maximum_retry_attempts=dict(type="int", default=185),
                    ),
                ),
                dead_letter_config=dict(type="dict", options=dict(arn=dict(type="str", required=True))),
            ),
        ),
        action_after_completion=dict(type="str", choices=["NONE", "DELETE"]),
        kms_key_arn=dict(type="str", no_log=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate_params(module)
    client = module.client("scheduler")
    try:
        if module.params["state"] == "present":
            ensure_present(client, module)
        else:
            ensure_absent(client, module)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
