# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ECS service helpers for the ecs_service_rollout_info and ecs_service_scale modules.

API calls are small functions wrapped in ``ECSErrorHandler`` (botocore errors become
``AnsibleECSError``) and ``AWSRetry.jittered_backoff`` (throttling and 5xx only). The rest are
pure functions over the raw DescribeServices / DescribeTargetHealth / DescribeTasks answers:
the one rule that decides whether a rollout is done or failed (``rollout_state``), the one-line
reason, and the snake_case output, so they can be unit-tested without AWS.
"""

from __future__ import annotations

import contextlib
import datetime
import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.kumo.webstack.plugins.module_utils.dates import UTC, date_text

# How many of the service's events are returned (newest first).
EVENTS = 10
# ListTasks answers at most 100 task ARNs a page and DescribeTasks takes at most 100.
MAX_STOPPED_TASKS = 100

# Target health states, counted per target group. "unhealthy.draining" counts as draining.
TARGET_STATES = ("healthy", "unhealthy", "initial", "draining", "unused", "unavailable")
# Service states in which it will never run its tasks again (deleted, or being deleted).
GONE = ("INACTIVE", "DRAINING")

_ROLLING_BACK = re.compile(r"rolling back", re.IGNORECASE)
_ROLLBACK_EVENT = re.compile(r"rolling back to deployment (?P<id>\S+?)\.?$", re.IGNORECASE)
_DEPLOYMENT_FAILED_EVENT = re.compile(r"deployment failed", re.IGNORECASE)


class AnsibleECSError(AnsibleAWSError):
    pass


class ECSErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleECSError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ClusterNotFoundException")


@contextlib.contextmanager
def reading(what):
    """Add what was being read to an AnsibleAWSError's message: "Failed to ... (what)"."""
    try:
        yield
    except AnsibleAWSError as e:
        raise AnsibleECSError(message=f"{e.message} ({what})", exception=e.exception) from e


# ---------------------------------------------------------------------------------------------
# API calls
# ---------------------------------------------------------------------------------------------


@ECSErrorHandler.list_error_handler("describe ECS service", (None, "ClusterNotFoundException"))
@AWSRetry.jittered_backoff()
def describe_service(client, cluster, service):
    """(service, None), or (None, why) when it cannot be found: DescribeServices's failure
    reason (MISSING) or ClusterNotFoundException."""
    answer = client.describe_services(cluster=cluster, services=[service])
    for found in answer.get("services", []):
        return found, None
    failures = answer.get("failures") or [{}]
    return None, failures[0].get("reason") or "MISSING"


@ECSErrorHandler.common_error_handler("update ECS service")
@AWSRetry.jittered_backoff()
def update_desired_count(client, cluster, service, desired_count):
    """UpdateService with the desired count and nothing else (no new deployment is forced); the
    service as UpdateService answers it."""
    return client.update_service(cluster=cluster, service=service, desiredCount=desired_count)["service"]


@ECSErrorHandler.common_error_handler("describe target health")
@AWSRetry.jittered_backoff()
def describe_target_health(client, target_group_arn):
    return client.describe_target_health(TargetGroupArn=target_group_arn).get("TargetHealthDescriptions", [])


@ECSErrorHandler.common_error_handler("list stopped tasks")
@AWSRetry.jittered_backoff()
def list_stopped_tasks(client, cluster, service_name):
    """The ARNs of the service's stopped tasks (AWS keeps them about an hour), one page of at most 100."""
    answer = client.list_tasks(
        cluster=cluster, serviceName=service_name, desiredStatus="STOPPED", maxResults=MAX_STOPPED_TASKS
    )
    return answer.get("taskArns", [])


@ECSErrorHandler.common_error_handler("describe stopped tasks")
@AWSRetry.jittered_backoff()
def describe_tasks(client, cluster, task_arns):
    if not task_arns:
        return []
    return client.describe_tasks(cluster=cluster, tasks=task_arns[:MAX_STOPPED_TASKS]).get("tasks", [])


# ---------------------------------------------------------------------------------------------
# Reading the answers
# ---------------------------------------------------------------------------------------------


def target_group_arns(service):
    """The target groups of the service's load balancers, in order, each once."""
    arns = []
    for balancer in service.get("loadBalancers") or []:
        arn = balancer.get("targetGroupArn")
        if arn and arn not in arns:
            arns.append(arn)
    return arns


def primary_deployment(service):
    """The PRIMARY deployment (raw), or None (CODE_DEPLOY / EXTERNAL services have none)."""
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY":
            return deployment
    return None


def _epoch(value):
    if isinstance(value, datetime.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return None


def recent_stopped_tasks(tasks, service_name, count):
    """The ``count`` most recently stopped tasks of the service, newest first.

    Tasks of another group are left out: AWS's ListTasks already filters on the service (its
    tasks are in group "service:<name>"), so this changes nothing there, but an emulator that
    ignores the filter would otherwise report other services' tasks."""
    group = f"service:{service_name}"
    mine = [t for t in tasks if t.get("group") in (None, group)]

    def when(task):
        for key in ("stoppedAt", "stoppingAt", "executionStoppedAt", "createdAt"):
            stamp = _epoch(task.get(key))
            if stamp is not None:
                return stamp
        return float("-inf")

    return sorted(mine, key=when, reverse=True)[: max(count, 0)]


def target_counts(descriptions):
    """{state: number of targets} for every state of TARGET_STATES."""
    counts = dict.fromkeys(TARGET_STATES, 0)
    for description in descriptions:
        state = (description.get("TargetHealth") or {}).get("State") or ""
        if state.endswith("draining"):
            state = "draining"
        if state in counts:
            counts[state] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# The rule
# ---------------------------------------------------------------------------------------------


def circuit_breaker_rolled_back(service):
    """True when the deployment circuit breaker stopped the rollout or rolled the service back.

    Any of, about the PRIMARY deployment only:
    - its rolloutState is FAILED (the breaker stopped the rollout and did not, or could not, roll back);
    - its rolloutStateReason says it is rolling back ("ECS deployment circuit breaker: rolling back
      to deploymentId ecs-svc/..."): the PRIMARY is the deployment the breaker went back to;
    - an event says "rolling back to deployment <its id>": the rollback is over and the service
      still runs the deployment it rolled back to (until the next deployment).
    A FAILED deployment that is not PRIMARY does not count by itself: after a failed rollout
    without rollback, the next deployment (the fix) is PRIMARY while the failed one drains.
    """
    primary = primary_deployment(service)
    if primary is None:
        return False
    if primary.get("rolloutState") == "FAILED":
        return True
    if _ROLLING_BACK.search(primary.get("rolloutStateReason") or ""):
        return True
    for event in service.get("events") or []:
        match = _ROLLBACK_EVENT.search((event.get("message") or "").strip())
        if match and match.group("id") == primary.get("id"):
            return True
    return False


def _running(deployment_or_service):
    return (deployment_or_service.get("runningCount") or 0) + (deployment_or_service.get("pendingCount") or 0)


def is_done(service, target_health):
    """The ``done`` half of the rule (see rollout_state); True or False, failures aside."""
    if service.get("status") != "ACTIVE":
        return False
    desired = service.get("desiredCount") or 0
    deployments = service.get("deployments") or []
    counts = [target_counts(descriptions) for descriptions in target_health.values()]
    if desired == 0:
        return (
            _running(service) == 0
            and all(_running(d) == 0 for d in deployments)
            and all(c["healthy"] == 0 and c["initial"] == 0 for c in counts)
        )
    if service.get("runningCount") != desired or service.get("pendingCount"):
        return False
    primary = primary_deployment(service)
    if primary is not None and primary.get("rolloutState"):
        if primary["rolloutState"] != "COMPLETED":
            return False
    else:
        counted = primary if primary is not None else service
        if len(deployments) > 1 or counted.get("runningCount") != desired or counted.get("pendingCount"):
            return False
    if any(_running(d) for d in deployments if d is not primary):
        return False
    return all(c["healthy"] >= desired and c["initial"] == 0 and c["draining"] == 0 for c in counts)


def _task_definition_name(arn):
    return (arn or "").rsplit("/", 1)[-1] or "?"


def _one_line(text):
    return " ".join(str(text).split())


def _container_text(container):
    exit_code = container.get("exitCode")
    reason = container.get("reason")
    if exit_code in (None, 0) and not reason:
        return None
    text = f"container {container.get('name', '?')}"
    if exit_code not in (None, 0):
        text += f" exited {exit_code}"
    if reason:
        text += f": {_one_line(reason)}"
    return text


def stopped_task_text(task):
    """ "<stoppedReason> (container web exited 1: <reason>)" for one stopped task."""
    text = _one_line(task.get("stoppedReason") or task.get("stopCode") or "no reason given")
    containers = [c for c in (_container_text(c) for c in task.get("containers") or []) if c]
    if containers:
        text += f" ({', '.join(containers)})"
    return text


def _telling_task(stopped_tasks, failed):
    """The stopped task that best explains the failure: the newest of the failed deployment's
    (same deployment id or task definition), else the newest."""
    for deployment in failed:
        for task in stopped_tasks:
            if task.get("startedBy") == deployment.get("id") or (
                task.get("taskDefinitionArn") and task.get("taskDefinitionArn") == deployment.get("taskDefinition")
            ):
                return task
    return stopped_tasks[0] if stopped_tasks else None


def failure_reason(service, stopped_tasks, rolled_back):
    """The one-line explanation of a failed rollout, built from what was found."""
    name = service.get("serviceName", "?")
    status = service.get("status")
    if status in GONE:
        cluster = (service.get("clusterArn") or "?").rsplit("/", 1)[-1]
        what = "deleted" if status == "INACTIVE" else "being deleted"
        return f"service {name} in cluster {cluster} is {status} ({what})"
    parts = []
    primary = primary_deployment(service)
    deployments = service.get("deployments") or []
    failed = sorted((d for d in deployments if d.get("rolloutState") == "FAILED"), key=lambda d: d is not primary)
    for deployment in failed:
        parts.append(
            f"deployment {deployment.get('id')} ({_task_definition_name(deployment.get('taskDefinition'))}) FAILED: "
            f"{deployment.get('rolloutStateReason') or 'no reason given'}"
        )
    if rolled_back and primary is not None and primary.get("rolloutState") != "FAILED":
        verb = "rolling back" if primary.get("rolloutState") == "IN_PROGRESS" else "rolled back"
        parts.append(
            f"the circuit breaker {verb} to deployment {primary.get('id')} "
            f"({_task_definition_name(primary.get('taskDefinition'))})"
        )
        if not failed:
            # The failed deployment is gone from the list: its event is all that is left of it.
            for event in service.get("events") or []:
                if _DEPLOYMENT_FAILED_EVENT.search(event.get("message") or ""):
                    parts.append(f"event: {event['message']}")
                    break
    task = _telling_task(stopped_tasks, failed)
    if task is not None:
        parts.append(f"last stopped task: {stopped_task_text(task)}")
    return _one_line("; ".join(parts))


def rollout_state(service, target_health, stopped_tasks):
    """The rule: {"done", "rollout_failed", "circuit_breaker_rolled_back", "reason"} of one look.

    ``service`` is a DescribeServices entry, ``target_health`` maps each target group ARN to its
    TargetHealthDescriptions, ``stopped_tasks`` are DescribeTasks entries (newest first).

    rollout_failed when either:
      - the service's status is INACTIVE or DRAINING;
      - circuit_breaker_rolled_back: the PRIMARY deployment's rolloutState is FAILED, or the
        circuit breaker rolled back to it (see circuit_breaker_rolled_back()).
    done when not rollout_failed, the service is ACTIVE, and:
      - desired count 0 (the weekend stop): no task runs or is pending (in the service or any
        deployment) and no target group has a target that is healthy or initial;
      - otherwise all of:
        - the service's runningCount equals the desired count and no task is pending (a scale-up,
          the weekend start, makes no new deployment: the PRIMARY stays COMPLETED);
        - the PRIMARY deployment's rolloutState is COMPLETED; when it has none (CODE_DEPLOY or
          EXTERNAL controller, Classic Load Balancer): at most one deployment, and its (else the
          service's) runningCount equals the desired count with no pending task;
        - no other deployment still has a running or pending task;
        - in every target group: healthy targets >= the desired count, and none initial or
          draining (unhealthy.draining included).
    reason: one line saying why when rollout_failed, else "".
    """
    rolled_back = circuit_breaker_rolled_back(service)
    failed = service.get("status") in GONE or rolled_back
    return {
        "done": False if failed else is_done(service, target_health),
        "rollout_failed": failed,
        "circuit_breaker_rolled_back": rolled_back,
        "reason": failure_reason(service, stopped_tasks, rolled_back) if failed else "",
    }


# ---------------------------------------------------------------------------------------------
# Output (snake_case)
# ---------------------------------------------------------------------------------------------


def _strategy(strategy):
    return [
        {"capacity_provider": s.get("capacityProvider"), "weight": s.get("weight"), "base": s.get("base")}
        for s in strategy or []
    ]


def service_for_output(service):
    breaker = (service.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker")
    return {
        "service_name": service.get("serviceName"),
        "service_arn": service.get("serviceArn"),
        "cluster_arn": service.get("clusterArn"),
        "status": service.get("status"),
        "desired_count": service.get("desiredCount"),
        "running_count": service.get("runningCount"),
        "pending_count": service.get("pendingCount"),
        "task_definition": service.get("taskDefinition"),
        "launch_type": service.get("launchType"),
        "capacity_provider_strategy": _strategy(service.get("capacityProviderStrategy")),
        "deployment_controller": (service.get("deploymentController") or {}).get("type"),
        "deployment_circuit_breaker": (
            {"enable": breaker.get("enable"), "rollback": breaker.get("rollback")} if breaker else None
        ),
    }


def deployment_for_output(deployment):
    if not deployment:
        return {}
    return {
        "id": deployment.get("id"),
        "status": deployment.get("status"),
        "rollout_state": deployment.get("rolloutState"),
        "rollout_state_reason": deployment.get("rolloutStateReason"),
        "task_definition": deployment.get("taskDefinition"),
        "desired_count": deployment.get("desiredCount"),
        "running_count": deployment.get("runningCount"),
        "pending_count": deployment.get("pendingCount"),
        "failed_tasks": deployment.get("failedTasks"),
        "created_at": date_text(deployment.get("createdAt")),
        "updated_at": date_text(deployment.get("updatedAt")),
    }


def targets_for_output(descriptions):
    result = target_counts(descriptions)
    result["targets"] = [
        {
            "id": (d.get("Target") or {}).get("Id"),
            "port": (d.get("Target") or {}).get("Port"),
            "state": (d.get("TargetHealth") or {}).get("State"),
            "reason": (d.get("TargetHealth") or {}).get("Reason"),
            "description": (d.get("TargetHealth") or {}).get("Description"),
        }
        for d in descriptions
    ]
    return result


def stopped_task_for_output(task):
    return {
        "task_arn": task.get("taskArn"),
        "task_definition": task.get("taskDefinitionArn"),
        "started_by": task.get("startedBy"),
        "last_status": task.get("lastStatus"),
        "stopped_reason": task.get("stoppedReason"),
        "stop_code": task.get("stopCode"),
        "stopped_at": date_text(task.get("stoppedAt")),
        "containers": [
            {"name": c.get("name"), "exit_code": c.get("exitCode"), "reason": c.get("reason")}
            for c in task.get("containers") or []
        ],
    }


def events_for_output(service, count=EVENTS):
    return [
        {"created_at": date_text(e.get("createdAt")), "message": e.get("message")}
        for e in (service.get("events") or [])[:count]
    ]
