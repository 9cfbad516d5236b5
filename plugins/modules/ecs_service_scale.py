#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecs_service_scale
version_added: 0.1.0
short_description: Set the desired task count of an existing Amazon ECS service, and nothing else
description:
  - Set the desired count of an existing ECS service with the one call C(UpdateService) given
    C(cluster), C(service) and C(desiredCount) only, the call EventBridge Scheduler's universal
    target V(arn:aws:scheduler:::aws-sdk:ecs:updateService) makes for a start/stop schedule.
  - The service is read first, and the call is made only when its desired count differs, so a
    second run changes nothing. Everything else about the service (task definition, load balancers,
    network configuration, capacity provider strategy, deployment settings) is left as it is, and
    no new deployment is forced.
  - It does not wait for tasks to start or stop. To wait, follow it with
    M(kumo.webstack.ecs_service_rollout_info) in an C(until:) loop.
  - To create a service or change anything else about it, use M(community.aws.ecs_service).
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  cluster:
    description:
      - Name or ARN of the ECS cluster.
    type: str
    required: true
    version_added: 0.1.0
  service:
    description:
      - Name or ARN of the ECS service.
      - A service that does not exist, or is deleted or being deleted, fails the task, naming it and its cluster.
    type: str
    required: true
    version_added: 0.1.0
  desired_count:
    description:
      - How many tasks the service should run, V(0) or more. V(0) stops the service without deleting it.
    type: int
    required: true
    version_added: 0.1.0
notes:
  - Needs C(ecs:DescribeServices), and C(ecs:UpdateService) on the service when its desired count changes.
  - A service with the C(DAEMON) scheduling strategy runs one task per container instance and has no
    desired count to set; the module fails for one.
attributes:
  check_mode:
    support: full
    details:
      - The service is read, and the task says whether its desired count would change, without changing it.
  diff_mode:
    support: full
    details:
      - The desired count before and after.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Stop the bot service for the week (its tasks stop, the service stays)
  kumo.webstack.ecs_service_scale:
    cluster: bot
    service: bot
    desired_count: 0

- name: Start it again with one task
  kumo.webstack.ecs_service_scale:
    cluster: bot
    service: bot
    desired_count: 1
  register: bot_scale

- name: Wait until the task runs and its targets are healthy
  kumo.webstack.ecs_service_rollout_info:
    cluster: bot
    service: bot
  register: bot_rollout
  until: bot_rollout.done or bot_rollout.rollout_failed
  retries: 60
  delay: 10
  when: bot_scale is changed

# Make the call a start/stop schedule makes, with its own input (see playbooks/bot/schedule_run.yml)
- name: Read the start schedule
  kumo.webstack.scheduler_schedule_info:
    name: start
    group_name: bot
  register: bot_start

- name: Make the schedule's ecs:updateService call
  kumo.webstack.ecs_service_scale:
    cluster: "{{ (bot_start.schedules[0].target.input | from_json).Cluster }}"
    service: "{{ (bot_start.schedules[0].target.input | from_json).Service }}"
    desired_count: "{{ (bot_start.schedules[0].target.input | from_json).DesiredCount }}"
"""

RETURN = r"""
previous_desired_count:
  description: The service's desired count before the task.
  returned: success
  type: int
  sample: 0
service:
  description:
    - The service after the task (in check mode, as it would be), as M(kumo.webstack.ecs_service_rollout_info)
      returns it.
  returned: success
  type: dict
  contains:
    service_name:
      description: Name of the service.
      type: str
      sample: bot
    service_arn:
      description: ARN of the service.
      type: str
      sample: arn:aws:ecs:ap-northeast-1:123456789012:service/bot/bot
    cluster_arn:
      description: ARN of its cluster.
      type: str
      sample: arn:aws:ecs:ap-northeast-1:123456789012:cluster/bot
    status:
      description: V(ACTIVE).
      type: str
      sample: ACTIVE
    desired_count:
      description: The desired count, as set.
      type: int
      sample: 1
    running_count:
      description: Tasks running when the service was last read (the new count takes a while to show here).
      type: int
      sample: 0
    pending_count:
      description: Tasks pending when the service was last read.
      type: int
      sample: 1
    task_definition:
      description: ARN of its task definition (unchanged).
      type: str
      sample: arn:aws:ecs:ap-northeast-1:123456789012:task-definition/bot:3
    launch_type:
      description: Its launch type, when it has one.
      type: str
      sample: FARGATE
    capacity_provider_strategy:
      description: Its capacity provider strategy (unchanged).
      type: list
      elements: dict
      sample: [{"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    deployment_controller:
      description: V(ECS), V(CODE_DEPLOY) or V(EXTERNAL).
      type: str
      sample: ECS
    deployment_circuit_breaker:
      description: C(enable) and C(rollback) of its circuit breaker, or null.
      type: dict
      sample: {"enable": true, "rollback": true}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils import ecs  # noqa: E402


def scale(module, cluster, name, desired_count):
    client = module.client("ecs")
    with ecs.reading(f"service {name} in cluster {cluster}"):
        service, missing = ecs.describe_service(client, cluster, name)
    if service is None:
        if missing == "ClusterNotFoundException":
            module.fail_json(msg=f"ECS cluster {cluster} was not found (looking for service {name})")
        module.fail_json(msg=f"ECS service {name} was not found in cluster {cluster} ({missing})")
    if service.get("status") in ecs.GONE:
        module.fail_json(
            msg=f"ECS service {name} in cluster {cluster} is {service['status']} (deleted or being deleted); "
            "its desired count cannot be set"
        )
    if service.get("schedulingStrategy") == "DAEMON":
        module.fail_json(
            msg=f"ECS service {name} in cluster {cluster} uses the DAEMON scheduling strategy "
            "(one task per container instance): it has no desired count to set"
        )

    before = service.get("desiredCount") or 0
    result = {"changed": before != desired_count, "previous_desired_count": before}
    if module._diff:
        result["diff"] = {"before": {"desired_count": before}, "after": {"desired_count": desired_count}}
    if result["changed"] and module.check_mode:
        service = dict(service, desiredCount=desired_count)
    elif result["changed"]:
        with ecs.reading(f"service {name} in cluster {cluster}"):
            service = ecs.update_desired_count(client, cluster, name, desired_count)
    result["service"] = ecs.service_for_output(service)
    return result


def main():
    argument_spec = dict(
        cluster=dict(type="str", required=True),
        service=dict(type="str", required=True),
        desired_count=dict(type="int", required=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["desired_count"] < 0:
        module.fail_json(msg=f"desired_count must be 0 or more, not {params['desired_count']}")
    try:
        result = scale(module, params["cluster"], params["service"], params["desired_count"])
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
