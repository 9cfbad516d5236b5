#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: scheduler_schedule_info
version_added: 0.1.0
short_description: Read Amazon EventBridge Scheduler schedules
description:
  - Return the full definition of one schedule, or of every schedule that matches the filters.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  name:
    description:
      - Name of one schedule to return (in O(group_name), or the V(default) group).
      - An unknown name returns an empty list, not an error.
    type: str
    version_added: 0.1.0
  group_name:
    description:
      - Only schedules of this group. Without O(name), schedules of all groups are returned.
    type: str
    version_added: 0.1.0
  name_prefix:
    description:
      - Only schedules whose name starts with this prefix. Ignored when O(name) is set.
    type: str
    version_added: 0.1.0
  enabled:
    description:
      - Only enabled (V(true)) or only disabled (V(false)) schedules. Ignored when O(name) is set.
    type: bool
    version_added: 0.1.0
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - kumo.webstack.aws_attributes.info
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the weekend start schedule of the bot
  kumo.webstack.scheduler_schedule_info:
    name: bot-weekend-start
  register: bot_start

- name: Show when it runs
  ansible.builtin.debug:
    msg: "{{ bot_start.schedules[0].schedule_expression }} ({{ bot_start.schedules[0].schedule_expression_timezone }})"
  when: bot_start.schedules | length > 0

- name: List the disabled schedules of the bot group
  kumo.webstack.scheduler_schedule_info:
    group_name: bot-schedules
    name_prefix: bot-
    enabled: false
  register: paused
"""

RETURN = r"""
schedules:
  description:
    - The matching schedules, sorted by group and name, each as M(kumo.webstack.scheduler_schedule)
      returns it (snake_case, dates as ISO 8601 in UTC).
  returned: always
  type: list
  elements: dict
  sample:
    - arn: arn:aws:scheduler:ap-northeast-1:123456789012:schedule/default/bot-weekend-start
      name: bot-weekend-start
      group_name: default
      schedule_expression: cron(0 8 ? * SAT,SUN *)
      schedule_expression_timezone: Asia/Tokyo
      state: ENABLED
      flexible_time_window: {"mode": "OFF"}
      action_after_completion: NONE
      target:
        arn: arn:aws:scheduler:::aws-sdk:ecs:updateService
        role_arn: arn:aws:iam::123456789012:role/bot-scheduler
        input: '{"Cluster": "bot", "DesiredCount": 1, "Service": "bot"}'
        retry_policy: {"maximum_event_age_in_seconds": 86400, "maximum_retry_attempts": 185}
      creation_date: "2025-01-01T00:00:00Z"
      last_modification_date: "2025-01-01T00:00:00Z"
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils.scheduler import (  # noqa: E402
    get_schedule,
    list_schedules,
    schedule_for_output,
)


def find_schedules(client, params):
    if params.get("name"):
        schedule = get_schedule(client, params["name"], params.get("group_name") or "default")
        return [schedule] if schedule else []
    filters = {}
    if params.get("group_name"):
        filters["GroupName"] = params["group_name"]
    if params.get("name_prefix"):
        filters["NamePrefix"] = params["name_prefix"]
    if params.get("enabled") is not None:
        filters["State"] = "ENABLED" if params["enabled"] else "DISABLED"
    summaries = sorted(list_schedules(client, **filters), key=lambda s: (s.get("GroupName", ""), s["Name"]))
    schedules = []
    for summary in summaries:
        schedule = get_schedule(client, summary["Name"], summary.get("GroupName") or "default")
        if schedule:  # deleted between the list and the get
            schedules.append(schedule)
    return schedules


def main():
    argument_spec = dict(
        name=dict(type="str"),
        group_name=dict(type="str"),
        name_prefix=dict(type="str"),
        enabled=dict(type="bool"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("scheduler")
    try:
        schedules = find_schedules(client, module.params)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(
        changed=False,
        schedules=[camel_dict_to_snake_dict(schedule_for_output(s), ignore_list=["Tags"]) for s in schedules],
    )


if __name__ == "__main__":
    main()
