# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stack's security groups as data: checking the list, and turning one group's rules into
the ``rules`` / ``rules_egress`` of amazon.aws.ec2_security_group.

A group is ``{name, description, ingress: [rule], egress: [rule]}``. A rule is
``{description, proto (tcp|udp|all, default tcp), ports (tcp/udp: 80 or "8000-8010"),``
and exactly one source or target: ``group`` (another group of the list, by name), ``cidrs``
(IPv4), ``cidrs_ipv6`` or ``admin: true`` (the admin CIDRs)}``. A rule whose CIDR list is
empty opens nothing and is left out. Pure functions, no AWS call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.filter.cidr import cidr_error, ipv6_cidr_error
from ansible_collections.kumo.webstack.plugins.module_utils.topology import check_named_item, is_list, unknown_keys

NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
PROTOCOLS = ("tcp", "udp", "all")
SOURCES = ("group", "cidrs", "cidrs_ipv6", "admin")
RULE_KEYS = {"description", "proto", "ports", *SOURCES}
GROUP_KEYS = {"name", "description", "ingress", "egress"}
WORLD = {"0.0.0.0/0", "::/0"}
SSH = 22


def _ports(rule):
    """(from, to) of a tcp/udp rule, or None for an invalid or missing ``ports``."""
    value = rule.get("ports")
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip()
    found = RANGE.match(text)
    low, high = (found.group(1), found.group(2)) if found else (text, text)
    if not (low.isdigit() and high.isdigit()):
        return None
    low, high = int(low), int(high)
    if not 1 <= low <= high <= 65535:
        return None
    return low, high


def _rule_errors(where, rule, names):
    if not isinstance(rule, Mapping):
        return [f"{where} must be a dict (description, proto, ports and one source); got {rule!r}"]
    errors = []
    desc = rule.get("description")
    if not isinstance(desc, str) or not desc.strip():
        errors.append(f"{where} needs a description (every rule carries one)")
    errors += unknown_keys(where, rule, RULE_KEYS)
    proto = str(rule.get("proto", "tcp"))
    if proto not in PROTOCOLS:
        errors.append(f"{where}: proto must be one of {', '.join(PROTOCOLS)}; got '{proto}'")
    elif proto == "all":
        if "ports" in rule:
            errors.append(f"{where}: proto all covers every port, so it takes no ports")
    elif _ports(rule) is None:
        errors.append(
            f"{where}: ports must be a port from 1 to 65535 or a range such as 8000-8010; got {rule.get('ports')!r}"
        )
    sources = [key for key in SOURCES if key in rule]
    if len(sources) != 1:
        errors.append(
            f"{where} must name exactly one of group (a group of the list), cidrs, cidrs_ipv6 or admin;"
            f" got {', '.join(sources) or 'none'}"
        )
        return errors
    source = sources[0]
    value = rule[source]
    if source == "group":
        if value not in names:
            errors.append(f"{where} references group '{value}', which is not in the list ({', '.join(names)})")
    elif source == "admin":
        if value is not True:
            errors.append(f"{where}: admin must be true (the admin CIDRs); got {value!r}")
    elif not is_list(value):
        errors.append(f"{where}: {source} must be a list of CIDRs; got {value!r}")
    else:
        check = cidr_error if source == "cidrs" else ipv6_cidr_error
        bad = [message for message in (check(c) for c in value) if message]
        if bad:
            family = "IPv4" if source == "cidrs" else "IPv6"
            errors.append(f"{where}: {source} must hold {family} CIDRs: {'; '.join(bad)}")
    return errors


def _covers_ssh(rule):
    if str(rule.get("proto", "tcp")) == "all":
        return True
    if str(rule.get("proto", "tcp")) != "tcp":
        return False
    ports = _ports(rule)
    return ports is not None and ports[0] <= SSH <= ports[1]


def _uses_admin(groups):
    return any(
        isinstance(rule, Mapping) and rule.get("admin") is True
        for group in groups
        if isinstance(group, Mapping)
        for direction in ("ingress", "egress")
        if is_list(group.get(direction, []))
        for rule in group.get(direction, [])
    )


def _admin_errors(groups, admin_cidrs):
    """The admin CIDRs are required, and must be IPv4 networks, once a rule uses them."""
    if not _uses_admin(groups):
        return []
    if not is_list(admin_cidrs) or not admin_cidrs:
        shown = json.dumps(admin_cidrs if is_list(admin_cidrs) else admin_cidrs, default=str)
        return [
            "webstack_admin_cidrs (security_groups_admin_cidrs) must list the CIDRs allowed to SSH to the"
            """ bastion, e.g. -e '{"webstack_admin_cidrs": ["203.0.113.10/32"]}'; got """ + shown + "."
        ]
    bad = [message for message in (cidr_error(c) for c in admin_cidrs) if message]
    if bad:
        return [
            "webstack_admin_cidrs (security_groups_admin_cidrs) must hold IPv4 networks in CIDR form"
            f" (e.g. 203.0.113.10/32): {'; '.join(bad)}."
        ]
    return []


def security_group_errors(groups, admin_cidrs=None, allow_world_ssh=False):
    """One message per problem in ``groups`` (the security_groups_groups list); [] when it is fine."""
    if not is_list(groups):
        return [f"security_groups_groups must be a list of groups; got {type(groups).__name__} {groups!r}"]
    errors = _admin_errors(groups, admin_cidrs)
    admin_cidrs = list(admin_cidrs) if is_list(admin_cidrs) else []
    names = [g.get("name") for g in groups if isinstance(g, Mapping)]
    seen = set()
    for index, group in enumerate(groups):
        where = check_named_item(
            "security_groups_groups",
            index,
            group,
            "name, description, ingress, egress",
            NAME,
            "1-63 lowercase letters, digits or hyphens (the AWS group is <stack>-<name>)",
            seen,
            errors,
        )[0]
        if where is None:
            continue
        name = group.get("name")
        desc = group.get("description")
        if not isinstance(desc, str) or not desc.strip():
            errors.append(f"{where} needs a description")
        errors += unknown_keys(where, group, GROUP_KEYS)
        for direction in ("ingress", "egress"):
            rules = group.get(direction, [])
            if not is_list(rules):
                errors.append(f"{where}: {direction} must be a list of rules; got {rules!r}")
                continue
            for number, rule in enumerate(rules, start=1):
                rule_where = f"{where} {direction} rule {number}"
                if isinstance(rule, Mapping) and rule.get("description"):
                    rule_where += f" ('{rule['description']}')"
                rule_errors = _rule_errors(rule_where, rule, names)
                errors.extend(rule_errors)
                if rule_errors or direction != "ingress" or allow_world_ssh or not _covers_ssh(rule):
                    continue
                if rule.get("admin") is True and "0.0.0.0/0" in admin_cidrs:
                    errors.append(
                        f"webstack_admin_cidrs (security_groups_admin_cidrs) contains 0.0.0.0/0, which opens"
                        f" SSH on the {name} to the whole internet. List your own addresses instead, or set"
                        " security_groups_allow_world_ssh=true if you really mean it."
                    )
                open_to = sorted(
                    WORLD & set(rule.get("cidrs", []) or []) | WORLD & set(rule.get("cidrs_ipv6", []) or [])
                )
                if open_to:
                    errors.append(
                        f"{rule_where} opens SSH (port 22) to {' and '.join(open_to)}, the whole internet."
                        " Narrow its CIDRs, or set security_groups_allow_world_ssh=true if you really mean it."
                    )
    return errors


def security_group_rules(group, ids, admin_cidrs=None):
    """``{'rules': [...], 'rules_egress': [...]}`` for amazon.aws.ec2_security_group, from one
    group of the list; ``ids`` maps group names to group ids (every referenced group needs one)."""
    if not isinstance(group, Mapping) or not isinstance(ids, Mapping):
        raise AnsibleFilterError("security_group_rules: takes a group (dict) and the group ids by name (dict)")
    admin_cidrs = list(admin_cidrs or [])
    out = {}
    for direction, key in (("ingress", "rules"), ("egress", "rules_egress")):
        converted = []
        for rule in group.get(direction, []) or []:
            proto = str(rule.get("proto", "tcp"))
            entry = {"proto": proto}
            if proto != "all":
                ports = _ports(rule)
                if ports is None:
                    raise AnsibleFilterError(f"security_group_rules: invalid ports in {rule!r}")
                entry["from_port"], entry["to_port"] = ports
            if "group" in rule:
                if not ids.get(rule["group"]):
                    raise AnsibleFilterError(f"security_group_rules: no id for group '{rule['group']}'")
                entry["group_id"] = ids[rule["group"]]
            else:
                cidrs = (
                    admin_cidrs if rule.get("admin") is True else list(rule.get("cidrs_ipv6", rule.get("cidrs", [])))
                )
                if not cidrs:
                    continue  # an empty range list opens nothing
                entry["cidr_ipv6" if "cidrs_ipv6" in rule else "cidr_ip"] = cidrs
            entry["rule_desc"] = rule["description"]
            converted.append(entry)
        out[key] = converted
    return out


class FilterModule:
    def filters(self):
        return {
            "security_group_errors": security_group_errors,
            "security_group_rules": security_group_rules,
        }
