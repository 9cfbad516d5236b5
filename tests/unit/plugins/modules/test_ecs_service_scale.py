"""kumo.webstack.ecs_service_scale against moto, and a Stubber for the shape of the one write call."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.modules import ecs_service_scale as module_under_test

REGION = "ap-northeast-1"
ACCOUNT = "123456789012"
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/bot/bot"


@pytest.fixture
def moto(aws_env):
    """A cluster bot with the service bot (desired 1) on an EC2-compatible task definition."""
    with mock_aws():
        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName="bot")
        ecs.register_task_definition(
            family="bot", containerDefinitions=[{"name": "web", "image": "bot:1", "memory": 512}]
        )
        ecs.create_service(cluster="bot", serviceName="bot", taskDefinition="bot", desiredCount=1)
        yield ecs


def _desired(ecs, service="bot"):
    return ecs.describe_services(cluster="bot", services=[service])["services"][0]["desiredCount"]


def test_stop_check_mode_then_stop_then_idempotent(run_module, moto):
    args = {"cluster": "bot", "service": "bot", "desired_count": 0}
    checked = run_module(module_under_test, args, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["previous_desired_count"] == 1
    assert checked["diff"] == {"before": {"desired_count": 1}, "after": {"desired_count": 0}}
    assert checked["service"]["desired_count"] == 0  # as it would be
    assert _desired(moto) == 1  # check mode wrote nothing

    stopped = run_module(module_under_test, args)
    assert stopped["changed"] is True
    assert stopped["previous_desired_count"] == 1
    assert stopped["service"]["desired_count"] == 0
    assert stopped["service"]["service_arn"] == SERVICE_ARN
    assert stopped["service"]["status"] == "ACTIVE"
    assert _desired(moto) == 0

    assert run_module(module_under_test, args, check_mode=True)["changed"] is False
    again = run_module(module_under_test, args, diff=True)
    assert again["changed"] is False
    assert again["previous_desired_count"] == 0
    assert again["diff"] == {"before": {"desired_count": 0}, "after": {"desired_count": 0}}


def test_start_by_arns_keeps_the_task_definition(run_module, moto):
    moto.update_service(cluster="bot", service="bot", desiredCount=0)
    before = moto.describe_services(cluster="bot", services=["bot"])["services"][0]
    args = {"cluster": before["clusterArn"], "service": before["serviceArn"], "desired_count": 2}
    result = run_module(module_under_test, args)
    assert result["changed"] is True
    assert result["previous_desired_count"] == 0
    after = moto.describe_services(cluster="bot", services=["bot"])["services"][0]
    assert after["desiredCount"] == 2
    assert after["taskDefinition"] == before["taskDefinition"]
    assert result["service"]["task_definition"] == before["taskDefinition"]


def test_missing_service_or_cluster_fails_naming_both(run_module, moto):
    result = run_module(module_under_test, {"cluster": "bot", "service": "nope", "desired_count": 1})
    assert result.failed
    assert result["msg"] == "ECS service nope was not found in cluster bot (MISSING)"
    result = run_module(module_under_test, {"cluster": "nope", "service": "bot", "desired_count": 1})
    assert result.failed
    assert result["msg"] == "ECS cluster nope was not found (looking for service bot)"


def test_deleted_service_fails(run_module, moto):
    moto.create_service(cluster="bot", serviceName="gone", taskDefinition="bot", desiredCount=0)
    moto.delete_service(cluster="bot", service="gone")
    result = run_module(module_under_test, {"cluster": "bot", "service": "gone", "desired_count": 1})
    assert result.failed
    assert result["msg"] == (
        "ECS service gone in cluster bot is INACTIVE (deleted or being deleted); its desired count cannot be set"
    )


def test_negative_count_fails_before_any_call(run_module, no_api, aws_env):
    result = run_module(module_under_test, {"cluster": "bot", "service": "bot", "desired_count": -1})
    assert result.failed
    assert result["msg"] == "desired_count must be 0 or more, not -1"


# --- AWS's answers, stubbed: the exact request, and what moto cannot make ---------------------


def _service(**overrides):
    service = {
        "serviceName": "bot",
        "serviceArn": SERVICE_ARN,
        "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/bot",
        "status": "ACTIVE",
        "desiredCount": 0,
        "runningCount": 0,
        "pendingCount": 0,
        "schedulingStrategy": "REPLICA",
        "taskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/bot:3",
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}],
    }
    service.update(overrides)
    return service


def test_the_one_call_is_update_service_with_the_count_only(run_module, module_stubber):
    stub = module_stubber("ecs")
    stub.add_response(
        "describe_services", {"services": [_service()], "failures": []}, {"cluster": "bot", "services": ["bot"]}
    )
    stub.add_response(
        "update_service",
        {"service": _service(desiredCount=1)},
        {"cluster": "bot", "service": "bot", "desiredCount": 1},
    )
    result = run_module(module_under_test, {"cluster": "bot", "service": "bot", "desired_count": 1})
    assert result["changed"] is True
    assert result["service"]["desired_count"] == 1
    assert result["service"]["capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 0}
    ]


def test_no_write_when_the_count_is_already_set(run_module, module_stubber):
    stub = module_stubber("ecs")
    stub.add_response("describe_services", {"services": [_service(desiredCount=1)], "failures": []})
    result = run_module(module_under_test, {"cluster": "bot", "service": "bot", "desired_count": 1})
    assert result["changed"] is False  # and no update_service: the Stubber would fail on it


def test_daemon_service_fails(run_module, module_stubber):
    stub = module_stubber("ecs")
    stub.add_response("describe_services", {"services": [_service(schedulingStrategy="DAEMON")], "failures": []})
    result = run_module(module_under_test, {"cluster": "bot", "service": "bot", "desired_count": 1})
    assert result.failed
    assert "uses the DAEMON scheduling strategy" in result["msg"]


def test_errors_say_what_was_updated(run_module, module_stubber):
    stub = module_stubber("ecs")
    stub.add_response("describe_services", {"services": [_service()], "failures": []})
    stub.add_client_error("update_service", "AccessDeniedException", "not authorized", 400)
    result = run_module(module_under_test, {"cluster": "bot", "service": "bot", "desired_count": 1})
    assert result.failed
    assert result["msg"].startswith("Failed to update ECS service (service bot in cluster bot)")
    assert result["error"]["code"] == "AccessDeniedException"
