# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What differs between an ECS task definition or service and what the ecs role asks for.

community.aws.ecs_taskdefinition looks for an existing revision that matches, but it compares
neither cpu, memory, the network mode, the runtime platform nor the execution role, and a list of
the same length with other items (an environment variable's value, a port) passes as a match;
community.aws.ecs_service compares neither the network configuration, the capacity provider
strategy nor the deployment configuration. The role compares them itself with these filters
(pure functions on what AWS answered) and registers a revision or updates the service only when
something differs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

# What AWS answers for a container health check field that was not given.
HEALTH_CHECK_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3, "start_period": 0}
# Container settings that make a difference when the existing revision has them and the wanted one
# does not (a health check or a secret taken away); other keys AWS adds (cpu 0, mountPoints [],
# versionConsistency...) are not compared unless wanted.
CONTAINER_KEYS_THAT_MATTER = (
    "command",
    "entry_point",
    "environment",
    "environment_files",
    "health_check",
    "log_configuration",
    "port_mappings",
    "secrets",
    "stop_timeout",
    "user",
    "working_directory",
)
# What AWS answers for a capacity provider strategy item's field that was not given.
STRATEGY_DEFAULTS = {"base": 0, "weight": 0}


def _mapping(filter_name, what, value):
    if not isinstance(value, Mapping):
        raise AnsibleFilterError(f"{filter_name}: {what} must be a dict; got {type(value).__name__} {value!r}")
    return value


def _list(filter_name, what, value):
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise AnsibleFilterError(f"{filter_name}: {what} must be a list; got {type(value).__name__} {value!r}")
    return list(value)


def _text(value):
    """A value as a drift line shows it."""
    if value is None or value == "" or value == [] or value == {}:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _snake(value):
    if isinstance(value, Mapping):
        return camel_dict_to_snake_dict(dict(value))
    if isinstance(value, (list, tuple)):
        return [_snake(item) for item in value]
    return value


def _port_mappings(mappings):
    """Port mappings as AWS keeps them for awsvpc tasks: protocol tcp, host port = container port."""
    out = []
    for mapping in mappings or []:
        mapping = dict(mapping)
        port = int(mapping.get("container_port") or 0)
        mapping["container_port"] = port
        mapping["host_port"] = int(mapping.get("host_port") or port)
        mapping["protocol"] = mapping.get("protocol") or "tcp"
        out.append(mapping)
    return sorted(out, key=lambda m: (m["container_port"], m["protocol"], str(m.get("name", ""))))


def _health_check(check):
    if not check:
        return {}
    return {**HEALTH_CHECK_DEFAULTS, **{k: v for k, v in check.items() if v is not None}}


def _environment(variables):
    return {item.get("name"): item.get("value") for item in variables or []}


def _container_value(key, value):
    if key == "port_mappings":
        return _port_mappings(value)
    if key == "health_check":
        return _health_check(value)
    if key == "environment":
        return _environment(value)
    if key in ("cpu", "memory", "memory_reservation", "start_timeout", "stop_timeout") and value is not None:
        return int(value)
    return value


def _container_drift(name, have, want):
    drift = []
    for key, value in want.items():
        if key == "name":
            continue
        wanted = _container_value(key, value)
        current = _container_value(key, have.get(key))
        if key == "environment":
            for var in sorted(set(wanted) | set(current)):
                if wanted.get(var) != current.get(var):
                    drift.append(
                        f"container {name} environment {var} {_text(current.get(var))} -> {_text(wanted.get(var))}"
                    )
        elif key == "essential" and current is None:
            if wanted is not True:
                drift.append(f"container {name} essential true -> {_text(wanted)}")
        elif isinstance(wanted, Mapping) and isinstance(current, Mapping):
            for sub in sorted(set(wanted) | set(current)):
                if wanted.get(sub) != current.get(sub):
                    drift.append(f"container {name} {key}.{sub} {_text(current.get(sub))} -> {_text(wanted.get(sub))}")
        elif wanted != current and not (wanted in (None, "", [], {}) and current in (None, "", [], {})):
            drift.append(f"container {name} {key} {_text(current)} -> {_text(wanted)}")
    for key in CONTAINER_KEYS_THAT_MATTER:
        if key not in want and have.get(key) not in (None, "", [], {}):
            drift.append(f"container {name} {key} {_text(have[key])} -> -")
    return drift


def ecs_task_definition_drift(current, want):
    """One line per difference between ``current`` (community.aws.ecs_taskdefinition_info's result,
    snake_case) and ``want`` (community.aws.ecs_taskdefinition's arguments); [] when they agree or
    when there is no ACTIVE revision (the caller registers the first one)."""
    name = "ecs_task_definition_drift"
    current = _mapping(name, "the input (ecs_taskdefinition_info's result, or {})", current)
    want = _mapping(name, "the wanted task definition (ecs_taskdefinition's arguments)", want)
    containers = _list(name, "want.containers", want.get("containers", []))
    for index, container in enumerate(containers):
        _mapping(name, f"want.containers[{index}]", container)
        if not container.get("name"):
            raise AnsibleFilterError(f"{name}: want.containers[{index}] has no name")
    if not current.get("task_definition_arn") or current.get("status", "ACTIVE") != "ACTIVE":
        return []

    drift = []
    for key in ("family", "network_mode"):
        if key in want and current.get(key) != want[key]:
            drift.append(f"{key} {_text(current.get(key))} -> {_text(want[key])}")
    for key in ("cpu", "memory"):
        if key in want and str(current.get(key) or "") != str(want[key] or ""):
            drift.append(f"{key} {_text(current.get(key))} -> {_text(want[key])}")
    for key in ("task_role_arn", "execution_role_arn"):
        if key in want and (current.get(key) or "") != (want[key] or ""):
            drift.append(f"{key} {_text(current.get(key))} -> {_text(want[key])}")
    if want.get("launch_type") and want["launch_type"] not in (current.get("requires_compatibilities") or []):
        have = ",".join(current.get("requires_compatibilities") or [])
        drift.append(f"requires_compatibilities {_text(have)} -> {want['launch_type']}")
    if "runtime_platform" in want:
        wanted = _snake(want["runtime_platform"] or {})
        have = current.get("runtime_platform") or {}
        for key in sorted(wanted):
            if have.get(key) != wanted[key]:
                drift.append(f"runtime_platform {key} {_text(have.get(key))} -> {_text(wanted[key])}")

    have_containers = {c.get("name"): c for c in current.get("container_definitions") or []}
    wanted_names = [c["name"] for c in containers]
    for container in containers:
        have = have_containers.get(container["name"])
        if have is None:
            drift.append(f"container {container['name']} missing")
            continue
        drift.extend(_container_drift(container["name"], have, _snake(container)))
    for other in have_containers:
        if other not in wanted_names:
            drift.append(f"container {other} not wanted")
    return drift


def _strategy(items):
    out = []
    for item in items or []:
        item = _snake(item)
        out.append(
            (
                item.get("capacity_provider"),
                int(item.get("weight") if item.get("weight") is not None else STRATEGY_DEFAULTS["weight"]),
                int(item.get("base") if item.get("base") is not None else STRATEGY_DEFAULTS["base"]),
            )
        )
    return sorted(out)


def _strategy_text(items):
    return ", ".join(f"{p} weight {w} base {b}" for p, w, b in items) or "-"


def _public_ip(value):
    if isinstance(value, bool):
        return "ENABLED" if value else "DISABLED"
    return value or "DISABLED"


def ecs_service_drift(current, want):
    """One line per difference between ``current`` (the service as DescribeServices answers it,
    camelCase, e.g. community.aws.ecs_service's ``service``) and ``want`` (community.aws.ecs_service's
    arguments) in what that module does not compare itself: the capacity provider strategy, the
    deployment configuration, the network configuration and the health check grace period.
    [] when they agree or when there is no service."""
    name = "ecs_service_drift"
    current = _mapping(name, "the input (the service as DescribeServices answers it, or {})", current)
    want = _mapping(name, "the wanted service (ecs_service's arguments)", want)
    if not current.get("serviceArn") or current.get("status", "ACTIVE") != "ACTIVE":
        return []

    drift = []
    if "capacity_provider_strategy" in want:
        wanted = _strategy(_list(name, "want.capacity_provider_strategy", want["capacity_provider_strategy"] or []))
        have = _strategy(current.get("capacityProviderStrategy"))
        if wanted != have:
            drift.append(f"capacity_provider_strategy {_strategy_text(have)} -> {_strategy_text(wanted)}")

    if "deployment_configuration" in want:
        wanted = _snake(_mapping(name, "want.deployment_configuration", want["deployment_configuration"] or {}))
        have = _snake(current.get("deploymentConfiguration") or {})
        for key in ("maximum_percent", "minimum_healthy_percent"):
            if key in wanted and have.get(key) != wanted[key]:
                drift.append(f"deployment_configuration {key} {_text(have.get(key))} -> {_text(wanted[key])}")
        breaker = wanted.get("deployment_circuit_breaker")
        if breaker is not None:
            have_breaker = have.get("deployment_circuit_breaker") or {}
            for key in ("enable", "rollback"):
                have_on, want_on = bool(have_breaker.get(key)), bool(breaker.get(key))
                if have_on != want_on:
                    drift.append(f"deployment_circuit_breaker {key} {_text(have_on)} -> {_text(want_on)}")

    if want.get("network_configuration") is not None:
        wanted = _mapping(name, "want.network_configuration", want["network_configuration"])
        have = (current.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
        for key, aws_key in (("subnets", "subnets"), ("security_groups", "securityGroups")):
            if wanted.get(key) is not None and sorted(wanted[key]) != sorted(have.get(aws_key) or []):
                drift.append(
                    f"network_configuration {key} {_text(','.join(sorted(have.get(aws_key) or [])))}"
                    f" -> {_text(','.join(sorted(wanted[key])))}"
                )
        if wanted.get("assign_public_ip") is not None:
            if _public_ip(wanted["assign_public_ip"]) != _public_ip(have.get("assignPublicIp")):
                drift.append(
                    f"network_configuration assign_public_ip {_public_ip(have.get('assignPublicIp'))}"
                    f" -> {_public_ip(wanted['assign_public_ip'])}"
                )

    grace = want.get("health_check_grace_period_seconds")
    if grace is not None and int(grace) != int(current.get("healthCheckGracePeriodSeconds") or 0):
        drift.append(
            f"health_check_grace_period_seconds {_text(current.get('healthCheckGracePeriodSeconds'))} -> {int(grace)}"
        )
    return drift


class FilterModule:
    """ECS filters."""

    def filters(self):
        return {"ecs_task_definition_drift": ecs_task_definition_drift, "ecs_service_drift": ecs_service_drift}
