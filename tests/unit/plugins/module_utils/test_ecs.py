"""The rollout rule, the reason text, the output and the API wrappers of module_utils/ecs.py.

The payloads are shaped like real DescribeServices / DescribeTargetHealth / DescribeTasks
answers (what AWS says during a rolling update, a circuit-breaker rollback, a weekend stop),
which moto does not produce."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.kumo.webstack.plugins.module_utils import ecs

UTC = datetime.UTC
ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:ecs:ap-northeast-1:{ACCOUNT}:cluster/bot"
TD7 = f"arn:aws:ecs:ap-northeast-1:{ACCOUNT}:task-definition/bot:7"
TD8 = f"arn:aws:ecs:ap-northeast-1:{ACCOUNT}:task-definition/bot:8"
TG = f"arn:aws:elasticloadbalancing:ap-northeast-1:{ACCOUNT}:targetgroup/bot/0123456789abcdef"
TG2 = f"arn:aws:elasticloadbalancing:ap-northeast-1:{ACCOUNT}:targetgroup/bot-admin/fedcba9876543210"
OLD = "ecs-svc/1675294001379389663"
NEW = "ecs-svc/8541017542349937133"
T0 = datetime.datetime(2025, 1, 4, 8, 0, 0, tzinfo=UTC)


def at(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


def deployment(
    id_=NEW, status="PRIMARY", state="COMPLETED", td=TD8, desired=1, running=1, pending=0, failed=0, reason=None
):
    result = {
        "id": id_,
        "status": status,
        "taskDefinition": td,
        "desiredCount": desired,
        "pendingCount": pending,
        "runningCount": running,
        "failedTasks": failed,
        "createdAt": at(0) if id_ == NEW else at(-86400),
        "updatedAt": at(120),
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}],
        "platformVersion": "1.4.0",
        "platformFamily": "Linux",
    }
    if state is not None:
        result["rolloutState"] = state
        result["rolloutStateReason"] = (
            reason
            or {
                "COMPLETED": f"ECS deployment {id_} completed.",
                "IN_PROGRESS": f"ECS deployment {id_} in progress.",
                "FAILED": "ECS deployment circuit breaker: tasks failed to start.",
            }[state]
        )
    return result


def service(*deployments, desired=1, running=None, pending=0, status="ACTIVE", events=(), controller="ECS"):
    deployments = list(deployments)
    if running is None:
        running = sum(d["runningCount"] for d in deployments)
    return {
        "serviceArn": f"arn:aws:ecs:ap-northeast-1:{ACCOUNT}:service/bot/bot",
        "serviceName": "bot",
        "clusterArn": CLUSTER_ARN,
        "loadBalancers": [{"targetGroupArn": TG, "containerName": "web", "containerPort": 8080}],
        "status": status,
        "desiredCount": desired,
        "runningCount": running,
        "pendingCount": pending,
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}],
        "taskDefinition": deployments[0]["taskDefinition"] if deployments else TD8,
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        "deployments": deployments,
        "events": [{"id": str(i), "createdAt": at(-i), "message": m} for i, m in enumerate(events)],
        "deploymentController": {"type": controller},
    }


_HEALTH = {
    "healthy": {"State": "healthy"},
    "initial": {
        "State": "initial",
        "Reason": "Elb.RegistrationInProgress",
        "Description": "Target registration is in progress",
    },
    "unhealthy": {
        "State": "unhealthy",
        "Reason": "Target.ResponseCodeMismatch",
        "Description": "Health checks failed with these codes: [502]",
    },
    "draining": {
        "State": "draining",
        "Reason": "Target.DeregistrationInProgress",
        "Description": "Target deregistration is in progress",
    },
    "unhealthy.draining": {
        "State": "unhealthy.draining",
        "Reason": "Target.DeregistrationInProgress",
        "Description": "Target deregistration is in progress",
    },
    "unused": {
        "State": "unused",
        "Reason": "Target.NotInUse",
        "Description": "Target group is not configured to receive traffic from the load balancer",
    },
}


def health(*states):
    return [
        {"Target": {"Id": f"10.0.1.{20 + i}", "Port": 8080}, "HealthCheckPort": "8080", "TargetHealth": _HEALTH[s]}
        for i, s in enumerate(states)
    ]


def stopped_task(td=TD8, started_by=NEW, seconds=60, reason="Essential container in task exited", **container):
    return {
        "taskArn": f"arn:aws:ecs:ap-northeast-1:{ACCOUNT}:task/bot/{seconds:032d}",
        "clusterArn": CLUSTER_ARN,
        "taskDefinitionArn": td,
        "group": "service:bot",
        "startedBy": started_by,
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "stopCode": "EssentialContainerExited",
        "stoppedReason": reason,
        "createdAt": at(seconds - 50),
        "stoppingAt": at(seconds - 1),
        "stoppedAt": at(seconds),
        "containers": [{"name": "web", "lastStatus": "STOPPED", "exitCode": 1, **container}],
    }


# --- done -----------------------------------------------------------------------------------


def test_completed_and_healthy_is_done():
    state = ecs.rollout_state(service(deployment()), {TG: health("healthy")}, [])
    assert state == {"done": True, "rollout_failed": False, "circuit_breaker_rolled_back": False, "reason": ""}


def test_in_progress_is_neither():
    svc = service(deployment(state="IN_PROGRESS", running=0, pending=1), deployment(OLD, "ACTIVE", td=TD7))
    state = ecs.rollout_state(svc, {TG: health("healthy", "initial")}, [])
    assert state == {"done": False, "rollout_failed": False, "circuit_breaker_rolled_back": False, "reason": ""}


def test_in_progress_with_healthy_targets_is_not_done():
    # Both tasks healthy already, but ECS has not called the rollout complete yet.
    svc = service(deployment(state="IN_PROGRESS"), deployment(OLD, "ACTIVE", td=TD7))
    assert ecs.rollout_state(svc, {TG: health("healthy", "healthy")}, [])["done"] is False


def test_an_older_deployment_still_running_is_not_done():
    # (service counts given as if they lagged, so that this check is the one that says no)
    svc = service(deployment(), deployment(OLD, "ACTIVE", td=TD7, desired=0, running=1), running=1)
    assert ecs.is_done(svc, {TG: health("healthy", "healthy")}) is False
    svc = service(deployment(), deployment(OLD, "ACTIVE", td=TD7, desired=0, running=0))
    assert ecs.is_done(svc, {TG: health("healthy")}) is True


def test_a_scale_up_is_not_done_until_the_service_runs_them_all():
    # The weekend start: desired 0 -> 1 makes no new deployment, the PRIMARY stays COMPLETED.
    starting = service(deployment(desired=1, running=0, pending=1), desired=1, running=0, pending=1)
    assert ecs.is_done(starting, {}) is False
    assert ecs.is_done(service(deployment(), desired=1, running=1), {}) is True


@pytest.mark.parametrize("other", ["initial", "draining", "unhealthy.draining"])
def test_a_target_initial_or_draining_is_not_done(other):
    svc = service(deployment())
    assert ecs.is_done(svc, {TG: health("healthy", other)}) is False


def test_an_unhealthy_or_unused_extra_target_does_not_block():
    svc = service(deployment())
    assert ecs.is_done(svc, {TG: health("healthy", "unhealthy", "unused")}) is True


def test_too_few_healthy_targets_is_not_done():
    svc = service(deployment(desired=2, running=2), desired=2)
    assert ecs.is_done(svc, {TG: health("healthy", "unhealthy")}) is False
    assert ecs.is_done(svc, {TG: health("healthy", "healthy")}) is True


def test_every_target_group_must_be_healthy():
    svc = service(deployment())
    assert ecs.is_done(svc, {TG: health("healthy"), TG2: health()}) is False
    assert ecs.is_done(svc, {TG: health("healthy"), TG2: health("healthy")}) is True


def test_no_target_groups_leaves_it_to_the_deployments():
    assert ecs.is_done(service(deployment()), {}) is True


def test_weekend_stop_is_done_when_nothing_runs_and_no_target_is_healthy():
    stopped = service(deployment(desired=0, running=0), desired=0)
    assert ecs.rollout_state(stopped, {TG: health()}, [])["done"] is True
    # draining and unused targets are on their way out
    assert ecs.is_done(stopped, {TG: health("draining", "unused")}) is True


@pytest.mark.parametrize("target", ["healthy", "initial"])
def test_weekend_stop_is_not_done_while_a_target_serves(target):
    stopped = service(deployment(desired=0, running=0), desired=0)
    assert ecs.is_done(stopped, {TG: health(target)}) is False


def test_weekend_stop_is_not_done_while_a_task_runs():
    assert ecs.is_done(service(deployment(desired=0, running=1), desired=0), {TG: health()}) is False
    assert ecs.is_done(service(deployment(desired=0, running=0), desired=0, pending=1), {TG: health()}) is False


def test_no_rollout_state_falls_back_to_the_counts():
    # CODE_DEPLOY / EXTERNAL controllers, Classic Load Balancers: no rolloutState.
    one = service(deployment(state=None), controller="EXTERNAL")
    assert ecs.is_done(one, {TG: health("healthy")}) is True
    starting = service(deployment(state=None, running=0, pending=1), controller="EXTERNAL")
    assert ecs.is_done(starting, {TG: health("healthy")}) is False
    two = service(deployment(state=None), deployment(OLD, "ACTIVE", state=None, running=0), controller="EXTERNAL")
    assert ecs.is_done(two, {TG: health("healthy")}) is False
    none = service(desired=1, running=1, controller="CODE_DEPLOY")
    assert ecs.is_done(none, {TG: health("healthy")}) is True
    assert ecs.is_done(service(desired=1, running=0, pending=1, controller="CODE_DEPLOY"), {}) is False


# --- failed ---------------------------------------------------------------------------------


def test_failed_deployment_says_why_with_the_stopped_task():
    svc = service(deployment(state="FAILED", running=0, failed=3))
    tasks = [stopped_task(seconds=90), stopped_task(seconds=30, reason="older")]
    state = ecs.rollout_state(svc, {TG: health()}, tasks)
    assert state["rollout_failed"] is True
    assert state["done"] is False
    assert state["circuit_breaker_rolled_back"] is True
    assert state["reason"] == (
        f"deployment {NEW} (bot:8) FAILED: ECS deployment circuit breaker: tasks failed to start.; "
        "last stopped task: Essential container in task exited (container web exited 1)"
    )


def test_reason_names_container_reasons_on_one_line():
    svc = service(deployment(state="FAILED", running=0))
    task = stopped_task(reason="Task failed to start")
    task["stopCode"] = "TaskFailedToStart"
    task["containers"] = [
        {"name": "web", "reason": "CannotPullContainerError: pull image manifest has been retried 5 time(s):\n"},
        {"name": "log-router", "exitCode": 0},
    ]
    reason = ecs.rollout_state(svc, {}, [task])["reason"]
    assert "\n" not in reason
    assert reason.endswith(
        "last stopped task: Task failed to start "
        "(container web: CannotPullContainerError: pull image manifest has been retried 5 time(s):)"
    )


def test_reason_prefers_the_failed_deployments_task():
    svc = service(deployment(state="FAILED", running=0))
    old_task = stopped_task(td=TD7, started_by=OLD, seconds=200, reason="Scaling activity initiated by (deployment x)")
    new_task = stopped_task(seconds=100)
    reason = ecs.rollout_state(svc, {}, [old_task, new_task])["reason"]
    assert "last stopped task: Essential container in task exited" in reason
    assert "Scaling activity" not in reason


def test_rollback_in_progress_is_failed():
    svc = service(
        deployment(
            OLD,
            td=TD7,
            state="IN_PROGRESS",
            reason=f"ECS deployment circuit breaker: rolling back to deploymentId {OLD}.",
        ),
        deployment(NEW, "ACTIVE", state="FAILED", running=0, failed=10),
        events=[
            f"(service bot) rolling back to deployment {OLD}.",
            f"(service bot) (deployment {NEW}) deployment failed: tasks failed to start.",
        ],
    )
    state = ecs.rollout_state(svc, {TG: health("healthy")}, [stopped_task()])
    assert state["rollout_failed"] is True
    assert state["circuit_breaker_rolled_back"] is True
    assert state["done"] is False
    assert state["reason"] == (
        f"deployment {NEW} (bot:8) FAILED: ECS deployment circuit breaker: tasks failed to start.; "
        f"the circuit breaker rolling back to deployment {OLD} (bot:7); "
        "last stopped task: Essential container in task exited (container web exited 1)"
    )


def test_rollback_over_is_still_failed_from_the_events():
    # The failed deployment is gone; the PRIMARY is the one rolled back to, COMPLETED again.
    svc = service(
        deployment(OLD, td=TD7),
        events=[
            "(service bot) has reached a steady state.",
            f"(service bot) (deployment {OLD}) deployment completed.",
            f"(service bot) rolling back to deployment {OLD}.",
            f"(service bot) (deployment {NEW}) deployment failed: tasks failed to start.",
        ],
    )
    state = ecs.rollout_state(svc, {TG: health("healthy")}, [])
    assert state["rollout_failed"] is True
    assert state["circuit_breaker_rolled_back"] is True
    assert state["done"] is False
    assert state["reason"] == (
        f"the circuit breaker rolled back to deployment {OLD} (bot:7); "
        f"event: (service bot) (deployment {NEW}) deployment failed: tasks failed to start."
    )


def test_a_new_deployment_after_a_rollback_is_not_failed():
    svc = service(
        deployment(),
        events=[
            f"(service bot) (deployment {NEW}) deployment completed.",
            f"(service bot) rolling back to deployment {OLD}.",
        ],
    )
    assert ecs.rollout_state(svc, {TG: health("healthy")}, []) == {
        "done": True,
        "rollout_failed": False,
        "circuit_breaker_rolled_back": False,
        "reason": "",
    }


def test_a_fix_rolling_out_after_a_failed_deployment_is_not_failed():
    # Circuit breaker without rollback failed the last deployment; the fix is now PRIMARY.
    fix = "ecs-svc/9999999999999999999"
    svc = service(
        deployment(fix, state="IN_PROGRESS", running=0, pending=1),
        deployment(NEW, "ACTIVE", state="FAILED", running=0, failed=10),
    )
    state = ecs.rollout_state(svc, {TG: health("initial")}, [stopped_task()])
    assert state == {"done": False, "rollout_failed": False, "circuit_breaker_rolled_back": False, "reason": ""}


@pytest.mark.parametrize(("status", "what"), [("INACTIVE", "deleted"), ("DRAINING", "being deleted")])
def test_a_deleted_service_is_failed(status, what):
    state = ecs.rollout_state(service(deployment(), status=status), {}, [])
    assert state["rollout_failed"] is True
    assert state["done"] is False
    assert state["reason"] == f"service bot in cluster bot is {status} ({what})"


# --- reading the answers --------------------------------------------------------------------


def test_target_group_arns_in_order_once():
    svc = service(deployment())
    svc["loadBalancers"] = [
        {"targetGroupArn": TG, "containerName": "web", "containerPort": 8080},
        {"targetGroupArn": TG2, "containerName": "web", "containerPort": 8081},
        {"targetGroupArn": TG, "containerName": "web", "containerPort": 8080},
        {"loadBalancerName": "classic", "containerName": "web", "containerPort": 80},
    ]
    assert ecs.target_group_arns(svc) == [TG, TG2]
    assert ecs.target_group_arns({}) == []


def test_target_counts():
    counts = ecs.target_counts(health("healthy", "healthy", "initial", "unhealthy.draining", "draining", "unused"))
    assert counts == {"healthy": 2, "unhealthy": 0, "initial": 1, "draining": 2, "unused": 1, "unavailable": 0}


def test_recent_stopped_tasks_newest_first_of_this_service():
    newest, middle, oldest = stopped_task(seconds=300), stopped_task(seconds=200), stopped_task(seconds=100)
    stopping = dict(stopped_task(seconds=400), lastStatus="DEACTIVATING")
    del stopping["stoppedAt"]
    other = dict(stopped_task(seconds=500), group="service:other")
    run_task = dict(stopped_task(seconds=600), group="family:bot")
    tasks = [oldest, other, newest, run_task, stopping, middle]
    assert ecs.recent_stopped_tasks(tasks, "bot", 3) == [stopping, newest, middle]
    assert ecs.recent_stopped_tasks(tasks, "bot", 0) == []


# --- output ---------------------------------------------------------------------------------


def test_service_and_deployment_output():
    svc = service(deployment())
    assert ecs.service_for_output(svc) == {
        "service_name": "bot",
        "service_arn": f"arn:aws:ecs:ap-northeast-1:{ACCOUNT}:service/bot/bot",
        "cluster_arn": CLUSTER_ARN,
        "status": "ACTIVE",
        "desired_count": 1,
        "running_count": 1,
        "pending_count": 0,
        "task_definition": TD8,
        "launch_type": None,
        "capacity_provider_strategy": [{"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 0}],
        "deployment_controller": "ECS",
        "deployment_circuit_breaker": {"enable": True, "rollback": True},
    }
    assert ecs.deployment_for_output(svc["deployments"][0]) == {
        "id": NEW,
        "status": "PRIMARY",
        "rollout_state": "COMPLETED",
        "rollout_state_reason": f"ECS deployment {NEW} completed.",
        "task_definition": TD8,
        "desired_count": 1,
        "running_count": 1,
        "pending_count": 0,
        "failed_tasks": 0,
        "created_at": "2025-01-04T08:00:00Z",
        "updated_at": "2025-01-04T08:02:00Z",
    }
    assert ecs.deployment_for_output(None) == {}


def test_targets_stopped_tasks_and_events_output():
    assert ecs.targets_for_output(health("healthy", "initial")) == {
        "healthy": 1,
        "unhealthy": 0,
        "initial": 1,
        "draining": 0,
        "unused": 0,
        "unavailable": 0,
        "targets": [
            {"id": "10.0.1.20", "port": 8080, "state": "healthy", "reason": None, "description": None},
            {
                "id": "10.0.1.21",
                "port": 8080,
                "state": "initial",
                "reason": "Elb.RegistrationInProgress",
                "description": "Target registration is in progress",
            },
        ],
    }
    task = stopped_task(seconds=60)
    assert ecs.stopped_task_for_output(task) == {
        "task_arn": task["taskArn"],
        "task_definition": TD8,
        "started_by": NEW,
        "last_status": "STOPPED",
        "stopped_reason": "Essential container in task exited",
        "stop_code": "EssentialContainerExited",
        "stopped_at": "2025-01-04T08:01:00Z",
        "containers": [{"name": "web", "exit_code": 1, "reason": None}],
    }
    svc = service(deployment(), events=[f"message {i}" for i in range(15)])
    events = ecs.events_for_output(svc)
    assert len(events) == ecs.EVENTS
    assert events[0] == {"created_at": "2025-01-04T08:00:00Z", "message": "message 0"}


# --- API wrappers ---------------------------------------------------------------------------


@pytest.fixture
def ecs_client(aws_env):
    client = boto3.client("ecs", region_name="ap-northeast-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_describe_service_found_missing_and_no_cluster(ecs_client):
    client, stubber = ecs_client
    found = service(deployment())
    params = {"cluster": "bot", "services": ["bot"]}
    stubber.add_response("describe_services", {"services": [found], "failures": []}, params)
    stubber.add_response(
        "describe_services",
        {"services": [], "failures": [{"arn": "arn:aws:ecs:ap-northeast-1:1:service/bot", "reason": "MISSING"}]},
        params,
    )
    stubber.add_client_error("describe_services", "ClusterNotFoundException", "Cluster not found.", 400)
    assert ecs.describe_service(client, "bot", "bot") == (found, None)
    assert ecs.describe_service(client, "bot", "bot") == (None, "MISSING")
    assert ecs.describe_service(client, "bot", "bot") == (None, "ClusterNotFoundException")


def test_errors_say_what_was_read(ecs_client):
    client, stubber = ecs_client
    stubber.add_client_error("describe_services", "AccessDeniedException", "not authorized", 400)
    with pytest.raises(ecs.AnsibleECSError) as raised, ecs.reading("service bot in cluster bot"):
        ecs.describe_service(client, "bot", "bot")
    assert raised.value.message == "Failed to describe ECS service (service bot in cluster bot)"
    assert raised.value.exception.response["Error"]["Code"] == "AccessDeniedException"


def test_stopped_tasks_calls(ecs_client):
    client, stubber = ecs_client
    arns = [stopped_task()["taskArn"]]
    stubber.add_response(
        "list_tasks",
        {"taskArns": arns},
        {"cluster": CLUSTER_ARN, "serviceName": "bot", "desiredStatus": "STOPPED", "maxResults": 100},
    )
    stubber.add_response("describe_tasks", {"tasks": [stopped_task()]}, {"cluster": CLUSTER_ARN, "tasks": arns})
    assert ecs.list_stopped_tasks(client, CLUSTER_ARN, "bot") == arns
    assert ecs.describe_tasks(client, CLUSTER_ARN, arns)[0]["stoppedReason"] == "Essential container in task exited"
    assert ecs.describe_tasks(client, CLUSTER_ARN, []) == []  # no call
