#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: scheduler_schedule_group
version_added: 0.1.0
short_description: Manage Amazon EventBridge Scheduler schedule groups and their tags
description:
  - Create and delete a schedule group of Amazon EventBridge Scheduler, and manage its tags.
  - Schedule groups are the taggable unit of EventBridge Scheduler (schedules themselves take no tags),
    so tag the group to mark which stack its schedules belong to.
  - B(Deleting a group deletes every schedule in it.)
  - The V(default) group always exists and cannot be deleted; the module refuses O(state=absent) for it.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  name:
    description:
      - Name of the schedule group.
    type: str
    required: true
    version_added: 0.1.0
  state:
    description:
      - Whether the schedule group should exist.
      - V(absent) deletes the group B(and all the schedules in it).
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  wait:
    description:
      - Wait until a deleted group (with its schedules) is gone. AWS deletes groups asynchronously,
        and a group cannot be created again under the same name until then.
      - With O(state=present), a group that is still being deleted is waited for and then created again;
        with O(wait=false) the module fails instead.
    type: bool
    default: true
    version_added: 0.1.0
  wait_timeout:
    description:
      - How many seconds to wait for a deletion to finish.
    type: int
    default: 300
    version_added: 0.1.0
attributes:
  check_mode:
    support: full
    details:
      - The schedule group is read, and the task says whether it would be created, retagged or deleted,
        without doing it. O(wait) is ignored.
  diff_mode:
    support: full
    details:
      - The group's name and tags before and after.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the schedule group of the bot stack
  kumo.webstack.scheduler_schedule_group:
    name: bot-schedules
    tags:
      Stack: bot
      ManagedBy: kumo.webstack

- name: Add a tag and keep the others
  kumo.webstack.scheduler_schedule_group:
    name: bot-schedules
    tags:
      Owner: platform
    purge_tags: false

- name: Delete the group and every schedule in it
  kumo.webstack.scheduler_schedule_group:
    name: bot-schedules
    state: absent
"""

RETURN = r"""
schedule_group:
  description: The schedule group after the task, in snake_case; empty after O(state=absent).
  returned: always
  type: dict
  contains:
    arn:
      description: ARN of the group.
      returned: when the group exists
      type: str
      sample: arn:aws:scheduler:ap-northeast-1:123456789012:schedule-group/bot-schedules
    name:
      description: Name of the group.
      returned: when the group exists
      type: str
      sample: bot-schedules
    state:
      description: V(ACTIVE), or V(DELETING) while AWS deletes it.
      returned: when the group exists
      type: str
      sample: ACTIVE
    creation_date:
      description: When the group was created, ISO 8601 in UTC (AWS gives none for the V(default) group).
      returned: when known
      type: str
      sample: "2025-01-01T00:00:00Z"
    last_modification_date:
      description: When the group was last changed, ISO 8601 in UTC.
      returned: when known
      type: str
      sample: "2025-01-01T00:00:00Z"
    tags:
      description: Tags of the group.
      returned: when the group exists
      type: dict
      sample: {"Stack": "bot", "ManagedBy": "kumo.webstack"}
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (  # noqa: E402
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

from ansible_collections.kumo.webstack.plugins.module_utils.scheduler import (  # noqa: E402
    create_schedule_group,
    delete_schedule_group,
    get_schedule_group,
    list_tags_for_resource,
    schedule_for_output,
    tag_resource,
    untag_resource,
    wait_schedule_group_deleted,
)


def describe_group(client, name):
    """The group with its tags as a dict (snake_case), or None."""
    group = get_schedule_group(client, name)
    if group is None:
        return None
    tags = boto3_tag_list_to_ansible_dict(list_tags_for_resource(client, group["Arn"]))
    result = camel_dict_to_snake_dict(schedule_for_output(group))
    result["tags"] = tags
    return result


def ensure_present(client, module):
    name = module.params["name"]
    tags = module.params["tags"]
    purge_tags = module.params["purge_tags"]

    current = describe_group(client, name)
    if current is not None and current.get("state") == "DELETING":
        if not module.params["wait"]:
            module.fail_json(
                msg=f"Schedule group {name} is still being deleted; retry when it is gone, or set wait=true."
            )
        if not module.check_mode:
            wait_schedule_group_deleted(client, name, module.params["wait_timeout"])
        current = None

    if current is None:
        after = {"name": name, "tags": tags or {}}
        result = {"changed": True}
        if module._diff:
            result["diff"] = {"before": {}, "after": after}
        if module.check_mode:
            module.exit_json(schedule_group=after, **result)
        create_schedule_group(client, name, ansible_dict_to_boto3_tag_list(tags) if tags else None)
        module.exit_json(schedule_group=describe_group(client, name) or {}, **result)

    to_set, to_unset = {}, []
    if tags is not None:
        to_set, to_unset = compare_aws_tags(current["tags"], tags, purge_tags)
    after_tags = {k: v for k, v in current["tags"].items() if k not in to_unset}
    after_tags.update(to_set)
    result = {"changed": bool(to_set or to_unset)}
    if module._diff:
        result["diff"] = {
            "before": {"name": name, "tags": current["tags"]},
            "after": {"name": name, "tags": after_tags},
        }
    if not result["changed"] or module.check_mode:
        module.exit_json(schedule_group=dict(current, tags=after_tags), **result)
    if to_unset:
        untag_resource(client, current["arn"], to_unset)
    if to_set:
        tag_resource(client, current["arn"], ansible_dict_to_boto3_tag_list(to_set))
    module.exit_json(schedule_group=describe_group(client, name) or {}, **result)


def ensure_absent(client, module):
    name = module.params["name"]
    if name == "default":
        module.fail_json(
            msg="The 'default' schedule group always exists and cannot be deleted; "
            "delete its schedules with kumo.webstack.scheduler_schedule state=absent instead."
        )
    current = describe_group(client, name)
    result = {"changed": current is not None and current.get("state") != "DELETING", "schedule_group": {}}
    if module._diff:
        result["diff"] = {"before": {"name": name, "tags": current["tags"]} if current else {}, "after": {}}
    if current is None or module.check_mode:
        module.exit_json(**result)
    if result["changed"]:
        result["changed"] = delete_schedule_group(client, name)
    if module.params["wait"]:
        wait_schedule_group_deleted(client, name, module.params["wait_timeout"])
    module.exit_json(**result)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
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
