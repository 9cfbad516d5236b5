#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_vpc_flow_log
version_added: 0.2.0
short_description: Ensure one VPC flow log of a resource to a destination
description:
  - Creates or deletes the flow log that captures the IP traffic of a VPC, a subnet or a network
    interface into a destination (a CloudWatch Logs log group, an S3 bucket or a Firehose stream).
  - A flow log is identified by its resource and its destination; the module manages one flow log per
    pair. When the resource already has several flow logs to that destination (possible in AWS with
    other traffic types), it keeps the one that matches the settings given and deletes the others;
    when none matches, it deletes them all and creates one.
  - EC2 cannot change a flow log. When the traffic type, the IAM role, the log format or the
    aggregation interval given differ from the existing flow log's, the module deletes it and creates
    a new one (a new id; records of the few seconds in between are not captured). Only the tags are
    changed in place.
  - Tags are given at creation, so the flow log never exists untagged, and reconciled with O(tags)
    and O(purge_tags) after that.
  - Neither the log group nor the IAM role is made here; for CloudWatch Logs give a log group that
    exists and a role that C(vpc-flow-logs.amazonaws.com) may assume and that may write to it.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  resource_id:
    description:
      - Id of the VPC, subnet or network interface whose traffic is captured.
    type: str
    required: true
    version_added: 0.2.0
  resource_type:
    description:
      - Type of O(resource_id).
    type: str
    choices: [VPC, Subnet, NetworkInterface]
    default: VPC
    version_added: 0.2.0
  state:
    description:
      - Whether the flow log should exist.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.2.0
  log_destination_type:
    description:
      - Where the records go.
    type: str
    choices: [cloud-watch-logs, s3, kinesis-data-firehose]
    default: cloud-watch-logs
    version_added: 0.2.0
  log_destination:
    description:
      - ARN of the destination, for V(cloud-watch-logs) the log group's ARN
        (C(arn:aws:logs:<region>:<account>:log-group:<name>), with or without a trailing C(:*)).
      - Required with O(state=present). Left out with O(state=absent), every flow log of the resource
        is deleted, whatever its destination (before the resource itself is deleted, say).
    type: str
    version_added: 0.2.0
  deliver_logs_permission_arn:
    description:
      - ARN of the IAM role the flow logs service assumes to write to the destination. Required for
        V(cloud-watch-logs) with O(state=present).
    type: str
    version_added: 0.2.0
  traffic_type:
    description:
      - The traffic captured, accepted (V(ACCEPT)), rejected (V(REJECT)) or both (V(ALL)).
      - A flow log with another traffic type is replaced (deleted and created again).
    type: str
    choices: [ACCEPT, REJECT, ALL]
    default: ALL
    version_added: 0.2.0
  log_format:
    description:
      - The fields of a record, in the flow log format (C(${version} ${account-id} ...)).
      - Left out, a new flow log has AWS's default format and an existing one's is not compared.
    type: str
    version_added: 0.2.0
  max_aggregation_interval:
    description:
      - The longest time, in seconds, during which a flow is captured into one record, V(60) or V(600).
      - A flow log with another interval is replaced (deleted and created again).
    type: int
    choices: [60, 600]
    default: 600
    version_added: 0.2.0
attributes:
  check_mode:
    support: full
    details:
      - The resource's flow logs are read, and the task says what it would create, replace, tag or
        delete without doing it. One that would be created is returned as it would be made, without id.
  diff_mode:
    support: full
    details:
      - The flow log's settings and tags before and after.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Capture all the traffic of the VPC into its log group
  kumo.webstack.ec2_vpc_flow_log:
    resource_id: "{{ vpc.vpc.id }}"
    log_destination: "{{ log_group.arn }}"
    deliver_logs_permission_arn: "{{ role.iam_role.arn }}"
    traffic_type: ALL
    max_aggregation_interval: 600
    tags:
      Name: demo-vpc-flow-logs
      Stack: demo
      ManagedBy: kumo.webstack

- name: Stop capturing (the records already in the log group stay there)
  kumo.webstack.ec2_vpc_flow_log:
    resource_id: "{{ vpc.vpc.id }}"
    log_destination: "{{ log_group.arn }}"
    state: absent

- name: Delete every flow log of the VPC before the VPC
  kumo.webstack.ec2_vpc_flow_log:
    resource_id: "{{ vpc.vpc.id }}"
    state: absent
"""

RETURN = r"""
flow_log:
  description:
    - The flow log after the task, in snake_case; empty after O(state=absent).
    - In check mode, what the task would make of it (one still to be created has no id or status).
  returned: always
  type: dict
  contains:
    flow_log_id:
      description: Id of the flow log.
      returned: when the flow log exists
      type: str
      sample: fl-0123456789abcdef0
    resource_id:
      description: Id of the resource whose traffic is captured.
      returned: always, but empty after O(state=absent)
      type: str
      sample: vpc-0123456789abcdef0
    traffic_type:
      description: V(ACCEPT), V(REJECT) or V(ALL).
      returned: always, but empty after O(state=absent)
      type: str
      sample: ALL
    log_destination_type:
      description: V(cloud-watch-logs), V(s3) or V(kinesis-data-firehose).
      returned: always, but empty after O(state=absent)
      type: str
      sample: cloud-watch-logs
    log_destination:
      description: ARN of the destination (for a log group, without a trailing C(:*)).
      returned: always, but empty after O(state=absent)
      type: str
      sample: arn:aws:logs:ap-northeast-1:123456789012:log-group:/webstack/demo/vpc-flow-logs
    log_group_name:
      description: Name of the log group, for V(cloud-watch-logs).
      returned: when the flow log exists
      type: str
      sample: /webstack/demo/vpc-flow-logs
    deliver_logs_permission_arn:
      description: ARN of the IAM role that delivers the records.
      returned: always, but empty after O(state=absent)
      type: str
      sample: arn:aws:iam::123456789012:role/demo-vpc-flow-logs
    log_format:
      description: The fields of a record.
      returned: when the flow log exists or a format was given
      type: str
      sample: "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ..."
    max_aggregation_interval:
      description: Seconds during which a flow is captured into one record.
      returned: always, but empty after O(state=absent)
      type: int
      sample: 600
    flow_log_status:
      description: V(ACTIVE) once created.
      returned: when the flow log exists
      type: str
      sample: ACTIVE
    deliver_logs_status:
      description: V(SUCCESS), or V(FAILED) when the records cannot be delivered (role, destination).
      returned: when the flow log exists
      type: str
      sample: SUCCESS
    deliver_logs_error_message:
      description: Why the delivery failed, if it did.
      returned: when the flow log exists
      type: str
      sample: null
    creation_time:
      description: When the flow log was created, ISO 8601 in UTC.
      returned: when the flow log exists
      type: str
      sample: "2026-01-01T00:00:00Z"
    tags:
      description: Tags of the flow log.
      returned: always, but empty after O(state=absent)
      type: dict
      sample: {"Stack": "demo", "ManagedBy": "kumo.webstack"}
replaced:
  description: Ids of the flow logs deleted because a setting differed (or because they were extra).
  returned: always
  type: list
  elements: str
  sample: ["fl-0123456789abcdef0"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import (  # noqa: E402
    add_ec2_tags,
    remove_ec2_tags,
)
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (  # noqa: E402
    boto3_tag_specifications,
    compare_aws_tags,
)

from ansible_collections.kumo.webstack.plugins.module_utils.vpc import (  # noqa: E402
    create_flow_log,
    delete_flow_logs,
    describe_flow_logs,
    flow_log_differences,
    flow_log_for_output,
    log_group_arn,
)

# The settings a flow log is created with and compared on (tags are handled apart).
SETTINGS = ("traffic_type", "deliver_logs_permission_arn", "log_format", "max_aggregation_interval")


def wanted_settings(params):
    return {key: params[key] for key in SETTINGS}


def flow_logs_to_destination(client, params):
    """The resource's flow logs to the destination given (every one of them when none is given),
    oldest first, as the module returns them."""
    destination = log_group_arn(params["log_destination"])
    found = [
        flow_log_for_output(f)
        for f in describe_flow_logs(client, params["resource_id"])
        if destination is None
        or (
            log_group_arn(f.get("LogDestination")) == destination
            and f.get("LogDestinationType", "cloud-watch-logs") == params["log_destination_type"]
        )
    ]
    return sorted(found, key=lambda f: (f["creation_time"] or "", f["flow_log_id"] or ""))


def comparable(flow_log):
    if not flow_log:
        return {}
    keys = ("resource_id", "log_destination_type", "log_destination", *SETTINGS, "tags")
    return {k: flow_log.get(k) for k in keys}


def create(client, module, params):
    request = {
        "ResourceIds": [params["resource_id"]],
        "ResourceType": params["resource_type"],
        "TrafficType": params["traffic_type"],
        "LogDestinationType": params["log_destination_type"],
        "LogDestination": log_group_arn(params["log_destination"]),
        "MaxAggregationInterval": params["max_aggregation_interval"],
    }
    if params["deliver_logs_permission_arn"]:
        request["DeliverLogsPermissionArn"] = params["deliver_logs_permission_arn"]
    if params["log_format"]:
        request["LogFormat"] = params["log_format"]
    if params["tags"]:
        request["TagSpecifications"] = boto3_tag_specifications(params["tags"], ["vpc-flow-log"])
    answer = create_flow_log(client, **request)
    if answer.get("Unsuccessful"):
        error = answer["Unsuccessful"][0].get("Error", {})
        module.fail_json(
            msg=(
                f"EC2 did not create the flow log of {params['resource_id']} to {params['log_destination']}: "
                f"{error.get('Code', '')} {error.get('Message', '')}".strip()
            )
        )
    created = answer.get("FlowLogIds") or []
    for flow_log in flow_logs_to_destination(client, params):
        if flow_log["flow_log_id"] in created:
            return flow_log
    return {}


def ensure_present(client, module):
    params = module.params
    if params["log_destination_type"] == "cloud-watch-logs" and not params["deliver_logs_permission_arn"]:
        module.fail_json(msg="deliver_logs_permission_arn is required for a flow log to CloudWatch Logs.")
    wanted = wanted_settings(params)
    found = flow_logs_to_destination(client, params)
    keep = next((f for f in found if not flow_log_differences(f, wanted)), None)
    extra = [f["flow_log_id"] for f in found if keep is None or f["flow_log_id"] != keep["flow_log_id"]]
    before = comparable(found[0]) if found and keep is None else comparable(keep)

    to_set, to_unset = {}, []
    if keep is None:
        after = {
            "resource_id": params["resource_id"],
            "log_destination_type": params["log_destination_type"],
            "log_destination": log_group_arn(params["log_destination"]),
            **wanted,
            "tags": dict(params["tags"] or {}),
        }
    else:
        after = dict(keep)
        if params["tags"] is not None:
            to_set, to_unset = compare_aws_tags(keep["tags"], params["tags"], params["purge_tags"])
        after["tags"] = {k: v for k, v in keep["tags"].items() if k not in to_unset}
        after["tags"].update(to_set)

    changed = keep is None or bool(extra) or bool(to_set) or bool(to_unset)
    result = {"changed": changed, "replaced": extra}
    if module._diff:
        result["diff"] = {"before": before, "after": comparable(after)}
    if not changed or module.check_mode:
        module.exit_json(flow_log=after, **result)

    if extra:
        delete_flow_logs(client, extra)
    if keep is None:
        after = create(client, module, params)
    else:
        if to_unset:
            remove_ec2_tags(client, module, keep["flow_log_id"], to_unset)
        if to_set:
            add_ec2_tags(client, module, keep["flow_log_id"], to_set)
        after = next(
            (f for f in flow_logs_to_destination(client, params) if f["flow_log_id"] == keep["flow_log_id"]), after
        )
    module.exit_json(flow_log=after, **result)


def ensure_absent(client, module):
    found = flow_logs_to_destination(client, module.params)
    ids = [f["flow_log_id"] for f in found]
    result = {"changed": bool(ids), "replaced": [], "flow_log": {}}
    if module._diff:
        result["diff"] = {"before": comparable(found[0]) if found else {}, "after": {}}
    if ids and not module.check_mode:
        result["changed"] = delete_flow_logs(client, ids)
    module.exit_json(**result)


def main():
    argument_spec = dict(
        resource_id=dict(type="str", required=True),
        resource_type=dict(type="str", choices=["VPC", "Subnet", "NetworkInterface"], default="VPC"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        log_destination_type=dict(
            type="str", choices=["cloud-watch-logs", "s3", "kinesis-data-firehose"], default="cloud-watch-logs"
        ),
        log_destination=dict(type="str"),
        deliver_logs_permission_arn=dict(type="str"),
        traffic_type=dict(type="str", choices=["ACCEPT", "REJECT", "ALL"], default="ALL"),
        log_format=dict(type="str"),
        max_aggregation_interval=dict(type="int", choices=[60, 600], default=600),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["log_destination"])],
    )
    client = module.client("ec2")
    try:
        if module.params["state"] == "present":
            ensure_present(client, module)
        else:
            ensure_absent(client, module)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
