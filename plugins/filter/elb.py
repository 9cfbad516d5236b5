# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The loadbalancer role's topology as data: target groups, a listener's default action and
listener rules, checked and turned into what the AWS modules take.

Pure functions on the role's variables (no AWS call), so the role's validate.yml can refuse
bad input before anything is built, with one message per mistake.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.module_utils.topology import is_list, unknown_keys

TARGET_GROUP_KEYS = {
    "name",
    "target_type",
    "protocol",
    "port",
    "health_check",
    "deregistration_delay",
    "stickiness",
    "targets",
}
HEALTH_CHECK_KEYS = {"path", "matcher", "interval", "timeout", "healthy_threshold", "unhealthy_threshold"}
TARGETS_KEYS = {"instance_group", "ids"}
STICKINESS_KEYS = {"enabled", "duration"}
RULE_KEYS = {"name", "priority", "hosts", "paths", "action"}
ACTION_KEYS = {
    "forward": {"type", "target_group"},
    "fixed-response": {"type", "status_code", "content_type", "body"},
    "redirect": {"type", "protocol", "port", "host", "path", "query", "status_code"},
}
CONTENT_TYPES = ("text/plain", "text/css", "text/html", "application/javascript", "application/json")
REDIRECT_DEFAULTS = {
    "protocol": "#{protocol}",
    "port": "#{port}",
    "host": "#{host}",
    "path": "/#{path}",
    "query": "#{query}",
    "status_code": "HTTP_301",
}
NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
MATCHER_RE = re.compile(r"^[0-9]{3}(-[0-9]{3})?(,[0-9]{3}(-[0-9]{3})?)*$")
HOST_RE = re.compile(r"^[A-Za-z0-9.*?-]{1,128}$")
INT_RE = re.compile(r"^-?[0-9]+$")
# AWS allows at most five condition values in one rule (host and path values together).
MAX_CONDITION_VALUES = 5


def _int(value):
    """``value`` as an int when it is a whole number (an int or its string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and INT_RE.match(value.strip()):
        return int(value)
    return None


def _unknown(where, value, allowed, errors):
    errors += unknown_keys(where, value, allowed)


def _range(where, key, value, low, high, what, errors):
    number = _int(value)
    if number is None or not low <= number <= high:
        errors.append(f"{where}: {key} must be a whole number from {low} to {high} ({what}); got {value!r}")
        return None
    return number


def _merged(group, defaults):
    health = dict(defaults.get("health_check") or {})
    health.update(group.get("health_check") or {} if isinstance(group.get("health_check"), Mapping) else {})
    out = {
        "target_type": defaults.get("target_type", "instance"),
        "protocol": defaults.get("protocol", "HTTP"),
        "port": defaults.get("port", 80),
        "deregistration_delay": defaults.get("deregistration_delay", 300),
    }
    out.update({k: v for k, v in group.items() if k != "health_check"})
    out["health_check"] = health
    return out


def _check_health(where, health, errors):
    path = health.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/") or len(path) > 1024 or re.search(r"\s", path):
        errors.append(
            f"{where}: health_check.path must be a URL path starting with '/' (at most 1024 characters,"
            f" no spaces); got {path!r}"
        )
    matcher = str(health.get("matcher", "200"))
    codes = [int(c) for c in re.findall(r"[0-9]+", matcher)]
    if not MATCHER_RE.match(matcher) or any(c < 200 or c > 499 for c in codes):
        errors.append(
            f"{where}: health_check.matcher must list HTTP codes from 200 to 499 as codes, ranges or both,"
            f" comma-separated (e.g. 200, 200-299, 200,301); got {matcher!r}"
        )
    interval = _range(where, "health_check.interval", health.get("interval", 30), 5, 300, "seconds", errors)
    timeout = _range(where, "health_check.timeout", health.get("timeout", 5), 2, 120, "seconds", errors)
    for key in ("healthy_threshold", "unhealthy_threshold"):
        _range(where, "health_check." + key, health.get(key, 2), 2, 10, "checks", errors)
    if interval is not None and timeout is not None and timeout >= interval:
        errors.append(f"{where}: health_check.timeout ({timeout}) must be less than health_check.interval ({interval})")


def _check_targets(where, targets, target_type, errors):
    if targets is None:
        return
    if not isinstance(targets, Mapping):
        errors.append(
            f"{where}: targets must be a dict with instance_group and/or ids, or left out (targets registered"
            f" by others, e.g. ECS); got {targets!r}"
        )
        return
    _unknown(where + " targets", targets, TARGETS_KEYS, errors)
    group = targets.get("instance_group")
    if group is not None:
        names = [group] if isinstance(group, str) else group
        if not is_list(names) or not all(isinstance(n, str) and n for n in names):
            errors.append(
                f"{where}: targets.instance_group must name an instance group (or a list of them); got {group!r}"
            )
        elif target_type == "ip":
            errors.append(
                f"{where}: targets.instance_group gives instance ids, but the group's target_type is ip;"
                " give IP addresses in targets.ids, or make it an instance group"
            )
    ids = targets.get("ids")
    if ids is None:
        return
    if not is_list(ids) or not all(isinstance(i, str) for i in ids):
        errors.append(f"{where}: targets.ids must be a list of strings; got {ids!r}")
        return
    if len(set(ids)) != len(ids):
        errors.append(f"{where}: targets.ids lists a target more than once: {', '.join(ids)}")
    for target in ids:
        if target_type == "ip":
            try:
                ipaddress.IPv4Address(target)
            except ValueError:
                errors.append(
                    f"{where}: target {target!r} is not an IPv4 address; an ip target group takes addresses"
                    " (instance ids need target_type instance)"
                )
        elif not re.match(r"^i-[0-9a-f]+$", target):
            errors.append(
                f"{where}: target {target!r} is not an instance id (i-...); an instance target group takes"
                " instance ids (IP addresses need target_type ip)"
            )


def _check_group(index, group, defaults, stack, errors):
    if not isinstance(group, Mapping):
        errors.append(f"loadbalancer_target_groups[{index}] must be a dict with at least a name; got {group!r}")
        return None
    name = group.get("name")
    where = (
        f"loadbalancer_target_groups[{index}] ({name})"
        if isinstance(name, str)
        else f"loadbalancer_target_groups[{index}]"
    )
    _unknown(where, group, TARGET_GROUP_KEYS, errors)
    if not isinstance(name, str) or not NAME_RE.match(name):
        errors.append(
            f"{where}: name must be lowercase letters, digits and hyphens, not starting or ending with a hyphen;"
            f" got {name!r}"
        )
        name = None
    elif len(f"{stack}-{name}") > 32:
        errors.append(
            f"{where}: the target group's AWS name {stack}-{name} is longer than 32 characters; use a shorter name"
        )
    merged = _merged(group, defaults)
    if merged["target_type"] not in ("instance", "ip"):
        errors.append(f"{where}: target_type must be instance or ip; got {merged['target_type']!r}")
    if merged["protocol"] not in ("HTTP", "HTTPS"):
        errors.append(f"{where}: protocol must be HTTP or HTTPS; got {merged['protocol']!r}")
    _range(where, "port", merged["port"], 1, 65535, "a TCP port", errors)
    _range(where, "deregistration_delay", merged["deregistration_delay"], 0, 3600, "seconds", errors)
    if "health_check" in group and not isinstance(group["health_check"], Mapping):
        errors.append(f"{where}: health_check must be a dict; got {group['health_check']!r}")
    else:
        _unknown(where + " health_check", group.get("health_check") or {}, HEALTH_CHECK_KEYS, errors)
        _check_health(where, merged["health_check"], errors)
    sticky = group.get("stickiness")
    if sticky is not None:
        if not isinstance(sticky, Mapping):
            errors.append(f"{where}: stickiness must be a dict (enabled, duration); got {sticky!r}")
        else:
            _unknown(where + " stickiness", sticky, STICKINESS_KEYS, errors)
            if not isinstance(sticky.get("enabled", False), bool):
                errors.append(f"{where}: stickiness.enabled must be true or false; got {sticky.get('enabled')!r}")
            _range(where, "stickiness.duration", sticky.get("duration", 86400), 1, 604800, "seconds", errors)
    _check_targets(where, group.get("targets"), merged["target_type"], errors)
    return name


def _check_action(where, action, groups, errors):
    if not isinstance(action, Mapping):
        errors.append(f"{where} must be a dict with a type (forward, fixed-response or redirect); got {action!r}")
        return
    kind = action.get("type")
    if kind not in ACTION_KEYS:
        errors.append(f"{where}: type must be forward, fixed-response or redirect; got {kind!r}")
        return
    _unknown(where, action, ACTION_KEYS[kind], errors)
    if kind == "forward":
        target = action.get("target_group")
        if target not in groups:
            known = ", ".join(groups) or "none"
            errors.append(
                f"{where}: forwards to target group {target!r}, which is not in loadbalancer_target_groups"
                f" (names: {known})"
            )
    elif kind == "fixed-response":
        status = str(action.get("status_code", ""))
        if not re.match(r"^[245][0-9][0-9]$", status):
            errors.append(
                f"{where}: status_code must be an HTTP status 2XX, 4XX or 5XX; got {action.get('status_code')!r}"
            )
        content_type = action.get("content_type", "text/plain")
        if content_type not in CONTENT_TYPES:
            errors.append(f"{where}: content_type must be one of {', '.join(CONTENT_TYPES)}; got {content_type!r}")
        body = action.get("body", "")
        if not isinstance(body, str) or len(body) > 1024:
            errors.append(f"{where}: body must be a string of at most 1024 characters")
    else:
        status = str(action.get("status_code", "HTTP_301"))
        if status not in ("HTTP_301", "HTTP_302", "301", "302"):
            errors.append(f"{where}: status_code of a redirect must be HTTP_301 or HTTP_302; got {status!r}")
        protocol = action.get("protocol", "#{protocol}")
        if protocol not in ("HTTP", "HTTPS", "#{protocol}"):
            errors.append(f"{where}: protocol must be HTTP, HTTPS or #{{protocol}}; got {protocol!r}")
        port = str(action.get("port", "#{port}"))
        if port != "#{port}" and not (_int(port) is not None and 1 <= int(port) <= 65535):
            errors.append(f"{where}: port must be a TCP port or #{{port}}; got {port!r}")
        path = action.get("path", "/#{path}")
        if not isinstance(path, str) or not path.startswith("/"):
            errors.append(f"{where}: path must start with '/'; got {path!r}")


def _check_rule(index, rule, groups, errors, seen_names, seen_priorities):
    if not isinstance(rule, Mapping):
        errors.append(
            f"loadbalancer_listener_rules[{index}] must be a dict (name, priority, hosts/paths, action); got {rule!r}"
        )
        return
    name = rule.get("name")
    where = (
        f"loadbalancer_listener_rules[{index}] ({name})"
        if isinstance(name, str)
        else f"loadbalancer_listener_rules[{index}]"
    )
    _unknown(where, rule, RULE_KEYS, errors)
    if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > 64:
        errors.append(
            f"{where}: name must be 1-64 lowercase letters, digits and hyphens, not starting or ending with a"
            f" hyphen; got {name!r}"
        )
    elif name in seen_names:
        errors.append(f"{where}: name {name} is used by more than one rule")
    else:
        seen_names.append(name)
    priority = _range(where, "priority", rule.get("priority"), 1, 50000, "lower is evaluated first", errors)
    if priority is not None:
        if priority in seen_priorities:
            errors.append(
                f"{where}: priority {priority} is also the priority of rule {seen_priorities[priority]}; each rule"
                " needs its own"
            )
        else:
            seen_priorities[priority] = name
    hosts = rule.get("hosts", [])
    paths = rule.get("paths", [])
    if not is_list(hosts) or not all(isinstance(h, str) and HOST_RE.match(h) for h in hosts):
        errors.append(
            f"{where}: hosts must be a list of host names (letters, digits, '.', '-', wildcards * and ?,"
            f" at most 128 characters each); got {hosts!r}"
        )
        hosts = []
    if not is_list(paths) or not all(isinstance(p, str) and 0 < len(p) <= 128 for p in paths):
        errors.append(f"{where}: paths must be a list of path patterns (at most 128 characters each); got {paths!r}")
        paths = []
    if not hosts and not paths:
        errors.append(f"{where}: give hosts, paths or both (a rule without a condition would match every request)")
    elif len(hosts) + len(paths) > MAX_CONDITION_VALUES:
        errors.append(
            f"{where}: {len(hosts) + len(paths)} host and path values; AWS allows {MAX_CONDITION_VALUES} in one"
            " rule, split it into several rules"
        )
    if "action" not in rule:
        errors.append(f"{where}: action is missing (forward, fixed-response or redirect)")
    else:
        _check_action(where + " action", rule["action"], groups, errors)


def elb_topology_errors(target_groups, default_action, rules, stack, defaults=None, attached=False):
    """Every mistake in the loadbalancer role's topology data, one message each; [] when it is fine."""
    defaults = defaults or {}
    errors = []
    names = []
    if not is_list(target_groups):
        errors.append(f"loadbalancer_target_groups must be a list of target groups; got {target_groups!r}")
        target_groups = []
    for index, group in enumerate(target_groups):
        name = _check_group(index, group, defaults, stack, errors)
        if name is None:
            continue
        if name in names:
            errors.append(f"loadbalancer_target_groups[{index}] ({name}): name {name} is used by more than one group")
        names.append(name)
    if not isinstance(default_action, Mapping):
        errors.append(f"loadbalancer_default_action must be a dict (or {{}}); got {default_action!r}")
    elif default_action:
        if attached:
            errors.append(
                "loadbalancer_default_action is set, but with loadbalancer_existing_alb the listeners are the other"
                " stack's and are left alone; route with loadbalancer_listener_rules instead"
            )
        else:
            _check_action("loadbalancer_default_action", default_action, names, errors)
    if not is_list(rules):
        errors.append(f"loadbalancer_listener_rules must be a list of rules; got {rules!r}")
        rules = []
    seen_names, seen_priorities = [], {}
    for index, rule in enumerate(rules):
        _check_rule(index, rule, names, errors, seen_names, seen_priorities)
    return errors


def _targets(targets, instance_groups):
    if targets is None:
        return None
    ids = []
    group = targets.get("instance_group")
    for name in [group] if isinstance(group, str) else group or []:
        members = (instance_groups or {}).get(name) or []
        if isinstance(members, Mapping):
            members = [members]
        for member in members:
            instance = member.get("instance_id") if isinstance(member, Mapping) else member
            if instance and instance not in ids:
                ids.append(instance)
    for target in targets.get("ids") or []:
        if target not in ids:
            ids.append(target)
    return ids


def elb_target_groups(target_groups, stack, defaults=None, instance_groups=None):
    """The target groups with every setting filled in from ``defaults`` (the role's scalar knobs),
    the AWS name ``<stack>-<name>`` and the targets resolved to ids (None: not managed here)."""
    if not is_list(target_groups):
        raise AnsibleFilterError(f"elb_target_groups: the input must be a list of target groups; got {target_groups!r}")
    defaults = defaults or {}
    out = []
    for group in target_groups:
        merged = _merged(group, defaults)
        health = merged["health_check"]
        sticky = group.get("stickiness") or {}
        out.append(
            {
                "name": group["name"],
                "aws_name": f"{stack}-{group['name']}",
                "target_type": merged["target_type"],
                "protocol": merged["protocol"],
                "port": int(merged["port"]),
                "health_check": {
                    "path": health.get("path", "/"),
                    "matcher": str(health.get("matcher", "200")),
                    "interval": int(health.get("interval", 30)),
                    "timeout": int(health.get("timeout", 5)),
                    "healthy_threshold": int(health.get("healthy_threshold", 5)),
                    "unhealthy_threshold": int(health.get("unhealthy_threshold", 2)),
                },
                "deregistration_delay": int(merged["deregistration_delay"]),
                "stickiness": {
                    "enabled": bool(sticky.get("enabled", False)),
                    # None: AWS's own (86400 s), not compared or set
                    "duration": int(sticky["duration"]) if sticky.get("duration") is not None else None,
                },
                "targets": _targets(group.get("targets"), instance_groups),
            }
        )
    return out


def elb_action(action, target_group_arns):
    """An action of the role's data as the ELBv2 API takes it (a listener's DefaultActions item
    or a rule's Actions item). Forward actions name a target group, looked up in
    ``target_group_arns`` (name -> ARN)."""
    if not isinstance(action, Mapping) or action.get("type") not in ACTION_KEYS:
        raise AnsibleFilterError(f"elb_action: not an action (type forward, fixed-response or redirect): {action!r}")
    kind = action["type"]
    if kind == "forward":
        arn = (target_group_arns or {}).get(action.get("target_group"), "")
        if not arn:
            raise AnsibleFilterError(f"elb_action: target group {action.get('target_group')!r} has no ARN yet")
        return {"Type": "forward", "TargetGroupArn": arn}
    if kind == "fixed-response":
        config = {"StatusCode": str(action["status_code"]), "ContentType": action.get("content_type", "text/plain")}
        if action.get("body"):
            config["MessageBody"] = action["body"]
        return {"Type": "fixed-response", "FixedResponseConfig": config}
    values = {key: str(action.get(key, default)) for key, default in REDIRECT_DEFAULTS.items()}
    if not values["status_code"].startswith("HTTP_"):
        values["status_code"] = "HTTP_" + values["status_code"]
    return {
        "Type": "redirect",
        "RedirectConfig": {
            "Protocol": values["protocol"],
            "Port": values["port"],
            "Host": values["host"],
            "Path": values["path"],
            "Query": values["query"],
            "StatusCode": values["status_code"],
        },
    }


def elb_rules(rules, stack, target_group_arns):
    """The listener rules of the role's data as kumo.webstack.elb_listener_rules takes them:
    name ``<stack>-<name>``, priority, conditions (host-header, path-pattern) and one action."""
    if not is_list(rules):
        raise AnsibleFilterError(f"elb_rules: the input must be a list of rules; got {rules!r}")
    out = []
    for rule in rules:
        conditions = []
        if rule.get("hosts"):
            conditions.append({"Field": "host-header", "HostHeaderConfig": {"Values": list(rule["hosts"])}})
        if rule.get("paths"):
            conditions.append({"Field": "path-pattern", "PathPatternConfig": {"Values": list(rule["paths"])}})
        out.append(
            {
                "name": f"{stack}-{rule['name']}",
                "priority": int(rule["priority"]),
                "conditions": conditions,
                "actions": [elb_action(rule["action"], target_group_arns)],
            }
        )
    return out


class FilterModule:
    """Load balancer topology filters."""

    def filters(self):
        return {
            "elb_topology_errors": elb_topology_errors,
            "elb_target_groups": elb_target_groups,
            "elb_action": elb_action,
            "elb_rules": elb_rules,
        }
