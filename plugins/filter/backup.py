# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What differs between an AWS Backup plan and what the backup role asks for.

amazon.aws.backup_plan cannot tell on its own: in check mode it reports a change whenever the plan
has tags, and it compares the rules as amazon.aws.backup_plan_info returns them, with the keys of
the rules' recovery point tags turned into snake case (Stack comes back as stack), so a plan with
recovery point tags always looks changed. The role compares the plan with this filter (a pure
function on what backup_plan_info answered) and runs backup_plan only when something differs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

NAME = "backup_plan_drift"


def _mapping(what, value):
    if not isinstance(value, Mapping):
        raise AnsibleFilterError(f"{NAME}: {what} must be a dict; got {type(value).__name__} {value!r}")
    return value


def _rules(what, value):
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise AnsibleFilterError(f"{NAME}: {what} must be a list of rules; got {type(value).__name__} {value!r}")
    rules = {}
    for rule in value:
        _mapping(f"each rule of {what}", rule)
        if not rule.get("rule_name"):
            raise AnsibleFilterError(f"{NAME}: each rule of {what} needs a rule_name; got {rule!r}")
        rules[rule["rule_name"]] = rule
    return rules


def _text(value):
    if value is None or value == "" or value == {} or value == []:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Mapping):
        return ",".join(f"{k}={_text(v)}" for k, v in sorted(value.items()))
    return str(value)


def _scrub(value):
    """A value without its None members (amazon.aws.backup_plan sends none of them)."""
    if isinstance(value, Mapping):
        return {k: _scrub(v) for k, v in value.items() if v is not None}
    return value


def _same(key, have, want):
    if key == "recovery_point_tags":
        # backup_plan_info answers these keys in snake case: compare them so
        return camel_dict_to_snake_dict(dict(want or {})) == dict(have or {})
    if isinstance(want, Mapping):
        # the keys given only: AWS may answer more (a lifecycle's archive opt-in)
        have = have if isinstance(have, Mapping) else {}
        return all(_same(key, have.get(key), value) for key, value in _scrub(want).items())
    if isinstance(want, bool) or isinstance(have, bool):
        return bool(want) == bool(have)
    if isinstance(want, int) or isinstance(have, int):
        try:
            return int(have) == int(want)
        except (TypeError, ValueError):
            return False
    return want == have


def backup_plan_drift(plan, want):
    """One line per difference between the plan (as amazon.aws.backup_plan_info returns it, or an
    empty dict) and `want` (``rules``: amazon.aws.backup_plan's rules; ``tags``: the plan's tags).
    [] when they agree, and when there is no plan."""
    if plan is None or plan == {}:
        return []
    _mapping("the plan", plan)
    _mapping("want", want)
    drift = []
    if want.get("rules") is not None:
        have_rules = _rules("the plan's rules", (plan.get("backup_plan") or {}).get("rules") or [])
        want_rules = _rules("want.rules", want["rules"])
        for name, rule in want_rules.items():
            have = have_rules.get(name)
            if have is None:
                drift.append(f"rule {name} missing")
                continue
            for key, value in rule.items():
                if value is None or key == "rule_name":
                    continue
                if not _same(key, have.get(key), value):
                    drift.append(f"rule {name} {key} {_text(have.get(key))} -> {_text(_scrub(value))}")
        drift.extend(f"rule {name} to remove" for name in have_rules if name not in want_rules)
    if want.get("tags") is not None:
        have_tags = {k: v for k, v in (plan.get("tags") or {}).items() if not k.startswith("aws:")}
        want_tags = dict(_mapping("want.tags", want["tags"]))
        for key in sorted(set(have_tags) | set(want_tags)):
            if have_tags.get(key) != want_tags.get(key):
                drift.append(f"tag {key} {_text(have_tags.get(key))} -> {_text(want_tags.get(key))}")
    return drift


class FilterModule:
    def filters(self):
        return {NAME: backup_plan_drift}
