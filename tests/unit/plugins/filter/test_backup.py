from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.filter.backup import backup_plan_drift

RULE = {
    "rule_name": "daily",
    "target_backup_vault_name": "shop",
    "schedule_expression": "cron(0 19 * * ? *)",
    "schedule_expression_timezone": "Etc/UTC",
    "start_window_minutes": 60,
    "completion_window_minutes": 480,
    "lifecycle": {"delete_after_days": 35, "move_to_cold_storage_after_days": None},
    "recovery_point_tags": {"Stack": "shop"},
    "enable_continuous_backup": False,
    "copy_actions": None,
}
TAGS = {"Stack": "shop", "ManagedBy": "kumo.webstack"}


def info(**changes):
    """The plan as amazon.aws.backup_plan_info answers it for RULE and TAGS (snake case, the recovery
    point tags' keys too, a rule id, AWS's extra lifecycle key)."""
    rule = {k: v for k, v in RULE.items() if v is not None}
    rule["lifecycle"] = {"delete_after_days": 35, "opt_in_to_archive_for_supported_resources": False}
    rule["recovery_point_tags"] = {"stack": "shop"}
    rule["rule_id"] = "0b1c"
    rule.update(changes)
    return {
        "backup_plan_name": "shop",
        "backup_plan": {"backup_plan_name": "shop", "rules": [rule]},
        "tags": {**TAGS, "aws:cloudformation:stack-name": "x"},
    }


def test_a_plan_as_asked_has_no_drift():
    assert backup_plan_drift(info(), {"rules": [RULE], "tags": TAGS}) == []


def test_no_plan_has_no_drift():
    assert backup_plan_drift({}, {"rules": [RULE], "tags": TAGS}) == []
    assert backup_plan_drift(None, {"rules": [RULE], "tags": TAGS}) == []


def test_each_difference_is_a_line():
    plan = info(
        lifecycle={"delete_after_days": 7},
        start_window_minutes=120,
        recovery_point_tags={"stack": "blog"},
        enable_continuous_backup=True,
    )
    plan["tags"] = {"Stack": "shop", "Owner": "me"}
    plan["backup_plan"]["rules"].append({"rule_name": "hourly"})
    assert backup_plan_drift(plan, {"rules": [RULE], "tags": TAGS}) == [
        "rule daily start_window_minutes 120 -> 60",
        "rule daily lifecycle delete_after_days=7 -> delete_after_days=35",
        "rule daily recovery_point_tags stack=blog -> Stack=shop",
        "rule daily enable_continuous_backup true -> false",
        "rule hourly to remove",
        "tag ManagedBy - -> kumo.webstack",
        "tag Owner me -> -",
    ]


def test_a_missing_rule():
    plan = info()
    plan["backup_plan"]["rules"] = []
    assert backup_plan_drift(plan, {"rules": [RULE]}) == ["rule daily missing"]


def test_only_what_is_given_is_compared():
    assert backup_plan_drift(info(start_window_minutes=120), {"tags": TAGS}) == []
    assert backup_plan_drift(info(), {"rules": [{"rule_name": "daily", "start_window_minutes": "60"}]}) == []


@pytest.mark.parametrize(
    ("plan", "want", "message"),
    [
        ("plan", {}, "the plan must be a dict"),
        (info(), [], "want must be a dict"),
        (info(), {"rules": "daily"}, "want.rules must be a list of rules"),
        (info(), {"rules": [{"start_window_minutes": 60}]}, "each rule of want.rules needs a rule_name"),
        (info(), {"tags": ["Stack"]}, "want.tags must be a dict"),
    ],
)
def test_wrong_types_say_what_is_wrong(plan, want, message):
    with pytest.raises(AnsibleFilterError, match=message):
        backup_plan_drift(plan, want)
