from __future__ import annotations

import copy
import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.filter.ecs import (
    FilterModule,
    ecs_service_drift,
    ecs_task_definition_drift,
)

ROLE = "arn:aws:iam::123456789012:role/demo-bot-"
HEALTH = {"command": ["CMD", "python", "-c", "pass"], "interval": 10, "timeout": 3, "retries": 3, "startPeriod": 10}

# What roles/ecs/tasks/task_definition.yml gives community.aws.ecs_taskdefinition.
WANT = {
    "family": "demo-bot",
    "launch_type": "FARGATE",
    "network_mode": "awsvpc",
    "cpu": "256",
    "memory": "2048",
    "runtime_platform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
    "task_role_arn": ROLE + "task",
    "execution_role_arn": ROLE + "execution",
    "containers": [
        {
            "name": "bot",
            "image": "repo/bot:1",
            "essential": True,
            "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/demo/bot"}},
            "stopTimeout": 30,
            "healthCheck": HEALTH,
        }
    ],
}

# The same revision as community.aws.ecs_taskdefinition_info returns it (snake_case, AWS's extras).
CURRENT = {
    "changed": False,
    "task_definition_arn": "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/demo-bot:3",
    "family": "demo-bot",
    "revision": 3,
    "status": "ACTIVE",
    "network_mode": "awsvpc",
    "cpu": "256",
    "memory": "2048",
    "requires_compatibilities": ["FARGATE"],
    "compatibilities": ["EC2", "FARGATE"],
    "runtime_platform": {"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
    "task_role_arn": ROLE + "task",
    "execution_role_arn": ROLE + "execution",
    "container_definitions": [
        {
            "name": "bot",
            "image": "repo/bot:1",
            "cpu": 0,
            "essential": True,
            "port_mappings": [{"container_port": 8080, "host_port": 8080, "protocol": "tcp"}],
            "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
            "mount_points": [],
            "volumes_from": [],
            "system_controls": [],
            "log_configuration": {"log_driver": "awslogs", "options": {"awslogs-group": "/ecs/demo/bot"}},
            "stop_timeout": 30,
            "health_check": {
                "command": ["CMD", "python", "-c", "pass"],
                "interval": 10,
                "timeout": 3,
                "retries": 3,
                "start_period": 10,
            },
        }
    ],
}


def current(**changes):
    out = copy.deepcopy(CURRENT)
    container = out["container_definitions"][0]
    for key, value in changes.items():
        target = container if key.startswith("c_") else out
        key = key.removeprefix("c_")
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return out


def want(**container_changes):
    out = copy.deepcopy(WANT)
    out["containers"][0].update(container_changes)
    return out


def test_the_same_revision_has_no_drift():
    assert ecs_task_definition_drift(CURRENT, WANT) == []


def test_no_active_revision_has_no_drift():
    assert ecs_task_definition_drift({"changed": False}, WANT) == []
    assert ecs_task_definition_drift(current(status="INACTIVE", image="x"), WANT) == []


def test_what_ecs_taskdefinition_misses_is_drift():
    drift = ecs_task_definition_drift(
        current(cpu="512", memory="4096", execution_role_arn=None, runtime_platform={"cpu_architecture": "ARM64"}),
        WANT,
    )
    assert drift == [
        "cpu 512 -> 256",
        "memory 4096 -> 2048",
        f"execution_role_arn - -> {ROLE}execution",
        "runtime_platform cpu_architecture ARM64 -> X86_64",
        "runtime_platform operating_system_family - -> LINUX",
    ]


def test_a_list_of_the_same_length_is_compared_item_by_item():
    drift = ecs_task_definition_drift(
        CURRENT, want(environment=[{"name": "A", "value": "1"}, {"name": "B", "value": "3"}])
    )
    assert drift == ["container bot environment B 2 -> 3"]
    drift = ecs_task_definition_drift(CURRENT, want(portMappings=[{"containerPort": 8081}]))
    assert drift == [
        "container bot port_mappings [{'container_port': 8080, 'host_port': 8080, 'protocol': 'tcp'}]"
        " -> [{'container_port': 8081, 'host_port': 8081, 'protocol': 'tcp'}]"
    ]


def test_environment_order_and_aws_defaults_are_no_drift():
    # AWS fills protocol and host port, and the health check's defaults
    short = current(
        c_port_mappings=[{"container_port": 8080}],
        c_health_check={"command": ["CMD", "python", "-c", "pass"], "interval": 30, "timeout": 5, "retries": 3},
    )
    wanted = want(healthCheck={"command": ["CMD", "python", "-c", "pass"]}, portMappings=[{"containerPort": 8080}])
    assert ecs_task_definition_drift(short, wanted) == []


def test_nested_settings_say_which_part_differs():
    drift = ecs_task_definition_drift(
        CURRENT, want(logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/demo/web"}})
    )
    assert drift == [
        "container bot log_configuration.options {'awslogs-group': '/ecs/demo/bot'}"
        " -> {'awslogs-group': '/ecs/demo/web'}"
    ]
    assert ecs_task_definition_drift(current(c_health_check=None), WANT)[0].startswith(
        "container bot health_check.command - -> "
    )


def test_image_health_check_and_stop_timeout():
    drift = ecs_task_definition_drift(
        CURRENT, want(image="repo/bot:2", stopTimeout="20", healthCheck={**HEALTH, "retries": 5})
    )
    assert drift == [
        "container bot image repo/bot:1 -> repo/bot:2",
        "container bot stop_timeout 30 -> 20",
        "container bot health_check.retries 3 -> 5",
    ]


def test_a_setting_taken_away_is_drift():
    wanted = copy.deepcopy(WANT)
    del wanted["containers"][0]["healthCheck"]
    assert ecs_task_definition_drift(CURRENT, wanted) == [
        "container bot health_check {'command': ['CMD', 'python', '-c', 'pass'], 'interval': 10, 'timeout': 3,"
        " 'retries': 3, 'start_period': 10} -> -"
    ]
    assert ecs_task_definition_drift(current(c_health_check=None), wanted) == []


def test_containers_missing_and_not_wanted():
    other = copy.deepcopy(CURRENT)
    other["container_definitions"][0]["name"] = "web"
    assert ecs_task_definition_drift(other, WANT) == ["container bot missing", "container web not wanted"]


def test_a_launch_type_not_required_is_drift():
    assert ecs_task_definition_drift(current(requires_compatibilities=["EC2"]), WANT) == [
        "requires_compatibilities EC2 -> FARGATE"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("task", WANT), "the input (ecs_taskdefinition_info's result, or {}) must be a dict"),
        ((CURRENT, []), "the wanted task definition (ecs_taskdefinition's arguments) must be a dict"),
        ((CURRENT, {"containers": "bot"}), "want.containers must be a list"),
        ((CURRENT, {"containers": [{"image": "x"}]}), "want.containers[0] has no name"),
    ],
)
def test_task_definition_bad_arguments(args, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(f"ecs_task_definition_drift: {message}")):
        ecs_task_definition_drift(*args)


# ---------------------------------------------------------------- the service

SERVICE_WANT = {
    "capacity_provider_strategy": [{"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}],
    "deployment_configuration": {
        "minimum_healthy_percent": 100,
        "maximum_percent": 200,
        "deployment_circuit_breaker": {"enable": True, "rollback": True},
    },
    "network_configuration": {
        "subnets": ["subnet-2", "subnet-1"],
        "security_groups": ["sg-1"],
        "assign_public_ip": True,
    },
    "health_check_grace_period_seconds": 60,
}

SERVICE = {
    "serviceArn": "arn:aws:ecs:ap-northeast-1:123456789012:service/demo/bot",
    "status": "ACTIVE",
    "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}],
    "deploymentConfiguration": {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "alarms": {"alarmNames": [], "enable": False, "rollback": False},
    },
    "networkConfiguration": {
        "awsvpcConfiguration": {
            "subnets": ["subnet-1", "subnet-2"],
            "securityGroups": ["sg-1"],
            "assignPublicIp": "ENABLED",
        }
    },
    "healthCheckGracePeriodSeconds": 60,
}


def service(**changes):
    out = copy.deepcopy(SERVICE)
    out.update(changes)
    return out


def test_the_same_service_has_no_drift():
    assert ecs_service_drift(SERVICE, SERVICE_WANT) == []


def test_no_service_or_an_inactive_one_has_no_drift():
    assert ecs_service_drift({}, SERVICE_WANT) == []
    assert ecs_service_drift(service(status="INACTIVE", capacityProviderStrategy=[]), SERVICE_WANT) == []


def test_what_ecs_service_misses_is_drift():
    drift = ecs_service_drift(
        service(
            capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
            deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 50},
            networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-2"]}},
            healthCheckGracePeriodSeconds=None,
        ),
        SERVICE_WANT,
    )
    assert drift == [
        "capacity_provider_strategy FARGATE weight 1 base 0 -> FARGATE_SPOT weight 1 base 0",
        "deployment_configuration minimum_healthy_percent 50 -> 100",
        "deployment_circuit_breaker enable false -> true",
        "deployment_circuit_breaker rollback false -> true",
        "network_configuration subnets subnet-1 -> subnet-1,subnet-2",
        "network_configuration security_groups sg-2 -> sg-1",
        "network_configuration assign_public_ip DISABLED -> ENABLED",
        "health_check_grace_period_seconds - -> 60",
    ]


def test_a_service_launch_type_has_no_strategy():
    drift = ecs_service_drift(service(capacityProviderStrategy=None, launchType="FARGATE"), SERVICE_WANT)
    assert drift == ["capacity_provider_strategy - -> FARGATE_SPOT weight 1 base 0"]


def test_unset_wants_are_not_compared():
    assert (
        ecs_service_drift(service(healthCheckGracePeriodSeconds=0), {"health_check_grace_period_seconds": None}) == []
    )
    assert ecs_service_drift(service(networkConfiguration=None), {"network_configuration": None}) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([], SERVICE_WANT), "the input"),
        ((SERVICE, "x"), "the wanted service"),
        ((SERVICE, {"capacity_provider_strategy": "FARGATE"}), "want.capacity_provider_strategy must be a list"),
        ((SERVICE, {"network_configuration": ["subnet-1"]}), "want.network_configuration must be a dict"),
    ],
)
def test_service_bad_arguments(args, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(f"ecs_service_drift: {message}")):
        ecs_service_drift(*args)


def test_filters_are_registered():
    assert FilterModule().filters() == {
        "ecs_task_definition_drift": ecs_task_definition_drift,
        "ecs_service_drift": ecs_service_drift,
    }
