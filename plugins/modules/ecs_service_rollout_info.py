#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecs_service_rollout_info
version_added: 0.1.0
short_description: Take one look at an ECS service's rollout and its load balancer targets
description:
  - Read an Amazon ECS service's deployments, the health of its targets in its target groups, its
    recently stopped tasks and its last events, and say whether its rollout is done, has failed, and why.
  - It takes one look and changes nothing. To wait for a rollout, call it in a loop with C(until:)
    (see the examples); Ansible prints C(FAILED - RETRYING) with the retries left at every look.
  - >-
    The rule, in full.
    RV(rollout_failed) is true when the service's status is V(INACTIVE) or V(DRAINING), or when
    RV(circuit_breaker_rolled_back) is true.
    RV(circuit_breaker_rolled_back) is true when the PRIMARY deployment's rollout state is V(FAILED),
    when its rollout state reason says it is rolling back (C(ECS deployment circuit breaker: rolling back
    to deploymentId ...)), or when one of the service's events says C(rolling back to deployment <its id>)
    (the rollback is over and the service runs the deployment it went back to, until the next deployment).
    A FAILED deployment that is not PRIMARY does not count by itself (an earlier failed rollout draining
    while its fix rolls out).
  - RV(done) is true when RV(rollout_failed) is false, the service is V(ACTIVE) and, with a desired count
    of 0 (the weekend stop), no task runs or is pending (in the service or any deployment) and no target
    group has a target that is V(healthy) or V(initial).
    With a desired count above 0, all of these hold. The service's running count equals the desired
    count with no pending task (a scale-up makes no new deployment). The PRIMARY deployment's rollout state is
    V(COMPLETED); when it has none (C(CODE_DEPLOY) or C(EXTERNAL) deployment controller, Classic Load
    Balancer), there is at most one deployment and its (else the service's) running count equals the
    desired count with no pending task. No other deployment still has a running or pending task.
    In every target group, the number of V(healthy) targets is at least the desired count and no
    target is V(initial) or V(draining) (V(unhealthy.draining) included).
  - RV(reason) is one line built from what was found when RV(rollout_failed) is true (the FAILED
    deployments and their rollout state reason, the deployment rolled back to, the last stopped
    task's reason and its containers' exit codes), else empty.
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
      - A service that does not exist (or a cluster that does not exist) fails the task, naming both.
    type: str
    required: true
    version_added: 0.1.0
  target_group_arns:
    description:
      - ARNs of the target groups whose targets must be healthy.
      - Without it, the target groups of the service's own load balancers are read.
      - V([]) reads none, so only the deployments decide RV(done).
    type: list
    elements: str
    version_added: 0.1.0
  stopped_tasks:
    description:
      - How many of the service's most recently stopped tasks to return (AWS keeps stopped tasks about an hour).
      - V(0) skips reading them (no C(ecs:ListTasks) / C(ecs:DescribeTasks) calls). At most V(100).
    type: int
    default: 5
    version_added: 0.1.0
notes:
  - Needs C(ecs:DescribeServices), C(elasticloadbalancing:DescribeTargetHealth) when there are target groups,
    and C(ecs:ListTasks) and C(ecs:DescribeTasks) when O(stopped_tasks) is above 0.
  - This module returns C(rollout_failed), not C(failed), because a module result with C(failed) set to
    true fails the task before C(until:) can look at it.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - kumo.webstack.aws_attributes.info
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Point the bot service at the new task definition
  community.aws.ecs_service:
    name: bot
    cluster: bot
    task_definition: "{{ bot_task_definition.taskdefinition.taskDefinitionArn }}"
    state: present
    wait: false

- name: Wait until the bot's rollout is complete and its targets are healthy
  kumo.webstack.ecs_service_rollout_info:
    cluster: bot
    service: bot
  register: bot_rollout
  until: bot_rollout.done or bot_rollout.rollout_failed
  retries: 60
  delay: 10
  # Running out of retries fails this task: the next one says why.
  ignore_errors: true

- name: Stop when the rollout failed or was not done in 10 minutes, saying why
  ansible.builtin.fail:
    msg: >-
      {{ bot_rollout.msg if 'done' not in bot_rollout
         else bot_rollout.reason if bot_rollout.rollout_failed
         else 'bot rollout not done after 10 minutes: deployment '
              ~ (bot_rollout.primary.rollout_state | default('missing')) ~ ', '
              ~ bot_rollout.service.running_count ~ ' of ' ~ bot_rollout.service.desired_count ~ ' tasks running, '
              ~ (bot_rollout.targets.values() | map(attribute='healthy') | list) ~ ' healthy targets' }}
  when: not (bot_rollout.done | default(false))

- name: After the weekend stop (desired count 0), wait until no task runs and no target is healthy
  kumo.webstack.ecs_service_rollout_info:
    cluster: bot
    service: bot
    stopped_tasks: 0
  register: bot_stop
  until: bot_stop.done or bot_stop.rollout_failed
  retries: 30
  delay: 10

- name: Only the deployments decide (ignore the load balancer)
  kumo.webstack.ecs_service_rollout_info:
    cluster: arn:aws:ecs:ap-northeast-1:123456789012:cluster/bot
    service: arn:aws:ecs:ap-northeast-1:123456789012:service/bot/bot
    target_group_arns: []
  register: bot_look
"""

RETURN = r"""
done:
  description:
    - Whether the rollout is complete and the targets are healthy (or, with a desired count of 0, nothing
      runs and no target is healthy), by the rule in the description. Never true with RV(rollout_failed).
  returned: always
  type: bool
  sample: false
rollout_failed:
  description:
    - Whether the rollout failed (the circuit breaker stopped it or rolled it back) or the service is
      V(INACTIVE) or V(DRAINING), by the rule in the description.
  returned: always
  type: bool
  sample: true
circuit_breaker_rolled_back:
  description:
    - Whether the deployment circuit breaker stopped the PRIMARY deployment (rollout state V(FAILED)) or
      rolled the service back to it (rollout state reason or service events), by the rule in the description.
  returned: always
  type: bool
  sample: true
reason:
  description:
    - One line explaining a failed rollout, built from what was found; empty when RV(rollout_failed) is false.
  returned: always
  type: str
  sample: >-
    deployment ecs-svc/8541017542349937133 (bot:8) FAILED: ECS deployment circuit breaker: tasks failed to
    start.; last stopped task: Essential container in task exited (container web exited 1)
service:
  description: The service, as DescribeServices returns it, in short.
  returned: always
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
      description: V(ACTIVE), V(DRAINING) or V(INACTIVE).
      type: str
      sample: ACTIVE
    desired_count:
      description: How many tasks the service should run.
      type: int
      sample: 1
    running_count:
      description: How many of its tasks are running.
      type: int
      sample: 1
    pending_count:
      description: How many of its tasks are pending.
      type: int
      sample: 0
    task_definition:
      description: ARN of the task definition the service runs (that of its PRIMARY deployment).
      type: str
      sample: arn:aws:ecs:ap-northeast-1:123456789012:task-definition/bot:8
    launch_type:
      description: V(FARGATE), V(EC2) or V(EXTERNAL); null when a capacity provider strategy is used.
      type: str
      sample: null
    capacity_provider_strategy:
      description: The capacity provider strategy (empty when a launch type is used).
      type: list
      elements: dict
      sample: [{"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    deployment_controller:
      description: V(ECS) (rolling update), V(CODE_DEPLOY) or V(EXTERNAL).
      type: str
      sample: ECS
    deployment_circuit_breaker:
      description: The deployment circuit breaker's settings (C(enable), C(rollback)), or null when not set.
      type: dict
      sample: {"enable": true, "rollback": true}
deployments:
  description: The service's deployments (PRIMARY first, as AWS lists them).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Deployment id.
      type: str
      sample: ecs-svc/8541017542349937133
    status:
      description: V(PRIMARY) (the newest) or V(ACTIVE) (older, still running tasks).
      type: str
      sample: PRIMARY
    rollout_state:
      description: V(IN_PROGRESS), V(COMPLETED) or V(FAILED); null when the service has none.
      type: str
      sample: IN_PROGRESS
    rollout_state_reason:
      description: Why the deployment is in its rollout state.
      type: str
      sample: ECS deployment ecs-svc/8541017542349937133 in progress.
    task_definition:
      description: ARN of the deployment's task definition.
      type: str
      sample: arn:aws:ecs:ap-northeast-1:123456789012:task-definition/bot:8
    desired_count:
      description: Tasks the deployment should run.
      type: int
      sample: 1
    running_count:
      description: Its running tasks.
      type: int
      sample: 0
    pending_count:
      description: Its pending tasks.
      type: int
      sample: 1
    failed_tasks:
      description: Its tasks that failed to start (what the circuit breaker counts).
      type: int
      sample: 2
    created_at:
      description: When it was created (ISO 8601, UTC).
      type: str
      sample: "2025-01-04T08:00:02Z"
    updated_at:
      description: When it was last updated (ISO 8601, UTC).
      type: str
      sample: "2025-01-04T08:03:40Z"
primary:
  description: The PRIMARY deployment, with the keys of RV(deployments); empty when the service has none.
  returned: always
  type: dict
  sample:
    id: ecs-svc/8541017542349937133
    status: PRIMARY
    rollout_state: COMPLETED
    rollout_state_reason: ECS deployment ecs-svc/8541017542349937133 completed.
    task_definition: arn:aws:ecs:ap-northeast-1:123456789012:task-definition/bot:8
    desired_count: 1
    running_count: 1
    pending_count: 0
    failed_tasks: 0
    created_at: "2025-01-04T08:00:02Z"
    updated_at: "2025-01-04T08:04:51Z"
targets:
  description:
    - For each target group read (key, its ARN), how many targets are in each state and the targets.
    - C(healthy), C(unhealthy), C(initial), C(draining) (V(unhealthy.draining) included), C(unused) and
      C(unavailable) are counts; C(targets) lists each target's C(id), C(port), C(state), C(reason) and
      C(description).
  returned: always
  type: dict
  sample:
    arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/bot/0123456789abcdef:
      healthy: 1
      unhealthy: 0
      initial: 1
      draining: 0
      unused: 0
      unavailable: 0
      targets:
        - {"id": "10.0.1.20", "port": 8080, "state": "healthy", "reason": null, "description": null}
        - id: 10.0.2.31
          port: 8080
          state: initial
          reason: Elb.RegistrationInProgress
          description: Target registration is in progress
stopped_tasks:
  description:
    - The service's most recently stopped tasks, newest first, at most O(stopped_tasks).
  returned: always
  type: list
  elements: dict
  contains:
    task_arn:
      description: ARN of the task.
      type: str
      sample: arn:aws:ecs:ap-northeast-1:123456789012:task/bot/0123456789abcdef0123456789abcdef
    task_definition:
      description: ARN of its task definition.
      type: str
      sample: arn:aws:ecs:ap-northeast-1:123456789012:task-definition/bot:8
    started_by:
      description: What started it (the deployment id for a service's task).
      type: str
      sample: ecs-svc/8541017542349937133
    last_status:
      description: Its last known status (V(STOPPED), or V(DEACTIVATING) and the like while it stops).
      type: str
      sample: STOPPED
    stopped_reason:
      description: Why it stopped.
      type: str
      sample: Essential container in task exited
    stop_code:
      description: The stop code (V(EssentialContainerExited), V(TaskFailedToStart), ...).
      type: str
      sample: EssentialContainerExited
    stopped_at:
      description: When it stopped (ISO 8601, UTC); null while it is stopping.
      type: str
      sample: "2025-01-04T08:01:12Z"
    containers:
      description: Each container's C(name), C(exit_code) and C(reason).
      type: list
      elements: dict
      sample: [{"name": "web", "exit_code": 1, "reason": null}]
events:
  description: The service's last 10 events, newest first, each with C(created_at) (ISO 8601, UTC) and C(message).
  returned: always
  type: list
  elements: dict
  sample:
    - created_at: "2025-01-04T08:03:40Z"
      message: "(service bot) (deployment ecs-svc/8541017542349937133) deployment failed: tasks failed to start."
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils import ecs  # noqa: E402


def look(module, cluster, name, params):
    """One look: the service, its targets' health and its stopped tasks, as the module returns them."""
    client = module.client("ecs")
    with ecs.reading(f"service {name} in cluster {cluster}"):
        service, missing = ecs.describe_service(client, cluster, name)
    if service is None:
        if missing == "ClusterNotFoundException":
            module.fail_json(msg=f"ECS cluster {cluster} was not found (looking for service {name})")
        module.fail_json(msg=f"ECS service {name} was not found in cluster {cluster} ({missing})")

    arns = params["target_group_arns"]
    if arns is None:
        arns = ecs.target_group_arns(service)
    target_health = {}
    if arns:
        elbv2 = module.client("elbv2")
        for arn in arns:
            with ecs.reading(f"target group {arn} of service {name}"):
                target_health[arn] = ecs.describe_target_health(elbv2, arn)

    stopped = []
    if params["stopped_tasks"]:
        where = service.get("clusterArn") or cluster
        with ecs.reading(f"service {name} in cluster {cluster}"):
            task_arns = ecs.list_stopped_tasks(client, where, service["serviceName"])
            stopped = ecs.describe_tasks(client, where, task_arns)
        stopped = ecs.recent_stopped_tasks(stopped, service["serviceName"], params["stopped_tasks"])

    result = ecs.rollout_state(service, target_health, stopped)
    result.update(
        service=ecs.service_for_output(service),
        deployments=[ecs.deployment_for_output(d) for d in service.get("deployments") or []],
        primary=ecs.deployment_for_output(ecs.primary_deployment(service)),
        targets={arn: ecs.targets_for_output(descriptions) for arn, descriptions in target_health.items()},
        stopped_tasks=[ecs.stopped_task_for_output(t) for t in stopped],
        events=ecs.events_for_output(service),
    )
    return result


def main():
    argument_spec = dict(
        cluster=dict(type="str", required=True),
        service=dict(type="str", required=True),
        target_group_arns=dict(type="list", elements="str"),
        stopped_tasks=dict(type="int", default=5),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if not 0 <= params["stopped_tasks"] <= ecs.MAX_STOPPED_TASKS:
        module.fail_json(
            msg=f"stopped_tasks must be between 0 and {ecs.MAX_STOPPED_TASKS}, not {params['stopped_tasks']}"
        )
    try:
        result = look(module, params["cluster"], params["service"], params)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
