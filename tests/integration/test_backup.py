"""The backup role (an AWS Backup vault, a daily plan, its selection of the stack's RDS instances
and EBS volumes by their Stack tag, and the IAM role AWS Backup uses) alone, end to end against the
embedded emulator, read back with boto3; a backup made with boto3 (StartBackupJob, as the plan
would) is data the teardown keeps unless forced."""

from __future__ import annotations

import json

import pytest

from .badinput import assert_fails_before_aws, run_role_cases
from .conftest import ROOT, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
PROVISION = PLAYBOOKS / "backup_alone.yml"
TEARDOWN = PLAYBOOKS / "backup_alone_teardown.yml"
ACCOUNT = "123456789012"
REGION = "ap-northeast-1"

pytestmark = pytest.mark.emulator


def _tags(backup, arn: str) -> dict[str, str]:
    return backup.list_tags(ResourceArn=arn)["Tags"]


def stack_backup(backup, stack: str) -> dict[str, list[str]]:
    """The vaults and plans tagged Stack=<stack>."""
    return {
        "vaults": [
            v["BackupVaultName"]
            for v in backup.list_backup_vaults()["BackupVaultList"]
            if _tags(backup, v["BackupVaultArn"]).get("Stack") == stack
        ],
        "plans": [
            p["BackupPlanName"]
            for p in backup.list_backup_plans()["BackupPlansList"]
            if _tags(backup, p["BackupPlanArn"]).get("Stack") == stack
        ],
    }


def test_backup_lifecycle(emulator, tmp_path):
    stack = "bklife"
    name = f"{stack}-backup"
    backup, iam, ec2 = emulator.client("backup"), emulator.client("iam"), emulator.client("ec2")
    extra = {"webstack_name": stack, "webstack_state_dir": str(tmp_path)}
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"

    # ---- check mode on an empty account predicts and creates nothing
    check_empty = run_playbook(PROVISION, "--check", env=emulator.env, extra_vars=extra)
    assert check_empty.rc == 0, check_empty.output[-6000:]
    assert check_empty.changed >= 4, check_empty.output[-6000:]  # vault, role, plan, selection
    assert stack_backup(backup, stack) == {"vaults": [], "plans": []}
    assert name not in [r["RoleName"] for r in iam.list_roles()["Roles"]]

    # ---- first run
    first = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed >= 4, first.output[-6000:]
    assert stack_backup(backup, stack) == {"vaults": [name], "plans": [name]}

    # the vault: encrypted with the AWS managed key, tagged
    vault = backup.describe_backup_vault(BackupVaultName=name)
    assert vault["EncryptionKeyArn"].startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/")
    assert _tags(backup, vault["BackupVaultArn"]) == {"Stack": stack, "ManagedBy": "kumo.webstack"}

    # the plan: one daily rule at 19:00 UTC into the vault, kept 35 days, recovery points tagged
    (listed,) = [p for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanName"] == name]
    plan = backup.get_backup_plan(BackupPlanId=listed["BackupPlanId"])
    (rule,) = plan["BackupPlan"]["Rules"]
    assert {k: v for k, v in rule.items() if k != "RuleId"} == {
        "RuleName": "daily",
        "TargetBackupVaultName": name,
        "ScheduleExpression": "cron(0 19 * * ? *)",
        "ScheduleExpressionTimezone": "Etc/UTC",
        "StartWindowMinutes": 60,
        "CompletionWindowMinutes": 480,
        "Lifecycle": {"DeleteAfterDays": 35},
        "RecoveryPointTags": {"Stack": stack},
        "EnableContinuousBackup": False,
    }
    assert _tags(backup, plan["BackupPlanArn"]) == {"Stack": stack, "ManagedBy": "kumo.webstack"}

    # the selection: the account's RDS instances and EBS volumes of the region, tagged with the stack
    (selection,) = backup.list_backup_selections(BackupPlanId=listed["BackupPlanId"])["BackupSelectionsList"]
    got = backup.get_backup_selection(BackupPlanId=listed["BackupPlanId"], SelectionId=selection["SelectionId"])
    assert got["BackupSelection"] == {
        "SelectionName": name,
        "IamRoleArn": role_arn,
        "Resources": [f"arn:aws:rds:{REGION}:{ACCOUNT}:db:*", f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/*"],
        "NotResources": [],
        "ListOfTags": [],
        "Conditions": {
            "StringEquals": [{"ConditionKey": "aws:ResourceTag/Stack", "ConditionValue": stack}],
            "StringNotEquals": [],
            "StringLike": [],
            "StringNotLike": [],
        },
    }

    # the role: AWS Backup alone may assume it (no source condition: see the role's README), with
    # AWS's backup and restore policies and nothing else
    role = iam.get_role(RoleName=name)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Sid": "AWSBackupOnly",
            "Effect": "Allow",
            "Principal": {"Service": "backup.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert sorted(p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]) == [
        "AWSBackupServiceRolePolicyForBackup",
        "AWSBackupServiceRolePolicyForRestores",
    ]
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    assert {t["Key"]: t["Value"] for t in role["Tags"]} == {"Stack": stack, "ManagedBy": "kumo.webstack"}

    outputs = json.loads((tmp_path / "backup_outputs.json").read_text())
    assert outputs == {
        "vault_name": name,
        "vault_arn": vault["BackupVaultArn"],
        "encryption_key_arn": vault["EncryptionKeyArn"],
        "plan_name": name,
        "plan_id": listed["BackupPlanId"],
        "plan_arn": plan["BackupPlanArn"],
        "selection_name": name,
        "selection_id": selection["SelectionId"],
        "role_arn": role_arn,
        "schedule": "cron(0 19 * * ? *)",
        "start_window_minutes": 60,
        "retention_days": 35,
    }

    # ---- a second run and --check --diff change nothing
    second = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-6000:]
    check = run_playbook(PROVISION, "--check", "--diff", env=emulator.env, extra_vars=extra)
    assert check.rc == 0, check.output[-6000:]
    assert check.changed == 0, check.output[-6000:]

    # ---- a backup of one of the stack's EBS volumes, as the plan's daily job would make
    volume = ec2.create_volume(
        AvailabilityZone=f"{REGION}a",
        Size=8,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Stack", "Value": stack}]}],
    )["VolumeId"]
    job = backup.start_backup_job(
        BackupVaultName=name,
        ResourceArn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{volume}",
        IamRoleArn=role_arn,
        Lifecycle={"DeleteAfterDays": 35},
        RecoveryPointTags={"Stack": stack},
    )
    points = backup.list_recovery_points_by_backup_vault(BackupVaultName=name)["RecoveryPoints"]
    assert [(p["RecoveryPointArn"], p["Status"]) for p in points] == [(job["RecoveryPointArn"], "COMPLETED")]

    # ---- a teardown keeps the vault with its backup, and the role that expires it, and says so
    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert down.rc == 0, down.output[-6000:]
    said = " ".join(down.output.split())
    assert f"KEPT: Backup vault {name} is not empty: it holds 1 recovery point(s)" in said, down.output[-4000:]
    assert stack_backup(backup, stack) == {"vaults": [name], "plans": []}
    assert backup.list_recovery_points_by_backup_vault(BackupVaultName=name)["RecoveryPoints"] == points
    assert iam.get_role(RoleName=name)["Role"]["Arn"] == role_arn

    # ---- forced, it deletes the backup, the vault and the role
    forced_extra = {**extra, "webstack_teardown_force_delete_data": True}
    forced = run_playbook(TEARDOWN, env=emulator.env, extra_vars=forced_extra)
    assert forced.rc == 0, forced.output[-6000:]
    assert "KEPT" not in forced.output
    assert stack_backup(backup, stack) == {"vaults": [], "plans": []}
    assert name not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    ec2.delete_volume(VolumeId=volume)


BAD = [
    pytest.param(
        {"backup_start_time": "7:00"},
        'backup_start_time must be a time of day HH:MM (24-hour, UTC, e.g. "19:00"); got "7:00".',
        id="time-format",
    ),
    pytest.param(
        {"backup_start_time": 1140},
        'backup_start_time must be a time of day HH:MM (24-hour, UTC, e.g. "19:00"); got 1140. In YAML, quote it',
        id="time-unquoted",
    ),
    pytest.param(
        {"backup_start_window_minutes": 30},
        "backup_start_window_minutes must be from 60 (AWS Backup's least) to 1439 minutes",
        id="start-window-short",
    ),
    pytest.param(
        {"backup_completion_window_minutes": 90},
        "backup_completion_window_minutes at least 60 minutes more, so a job started at the end of its start "
        "window still has an hour to finish; got '60' and '90'.",
        id="completion-window-short",
    ),
    pytest.param(
        {"backup_retention_days": 0},
        "backup_retention_days must be a whole number of days from 1 to 36500",
        id="retention-zero",
    ),
    pytest.param(
        {"backup_start_time": "17:00"},
        "The daily backup may start from 17:00 for 60 minutes (UTC, 17:00-18:00), which overlaps 17:00-17:30 of "
        "backup_avoid_windows (the database's backup and maintenance windows",
        id="overlaps-database-backup-window",
    ),
    pytest.param(
        {"backup_start_time": "18:00", "backup_avoid_windows": ["02:00-02:30", "SUN:18:00-SUN:18:30"]},
        "(UTC, 18:00-19:00), which overlaps SUN:18:00-SUN:18:30 of backup_avoid_windows",
        id="overlaps-maintenance-window",
    ),
    pytest.param(
        {"backup_avoid_windows": ["nightly"]},
        "backup_avoid_windows must list UTC windows, daily hh:mm-hh:mm or weekly ddd:hh:mm-ddd:hh:mm",
        id="avoid-window-format",
    ),
    pytest.param(
        {"backup_vault_kms_key_arn": "alias/aws/backup"},
        "backup_vault_kms_key_arn must be the ARN of a KMS key in backup_region (ap-northeast-1)",
        id="kms-alias",
    ),
    pytest.param(
        {"backup_tags": {"Stack": "other"}},
        "backup_tags must be a dict of extra tags and may not set Stack or ManagedBy",
        id="tags-stack",
    ),
    pytest.param(
        {"webstack_name": "Bad_Name"},
        "backup_stack_name (default: webstack_name) must be 2-20 lowercase letters",
        id="stack-name",
    ),
    pytest.param(
        {"backup_state": "gone"},
        "value of backup_state must be one of: present, absent, got: gone",
        id="state",
    ),
]


@pytest.fixture(scope="module")
def bad_cases(dead_endpoint_env, tmp_path_factory):
    """Every BAD case in one ansible-playbook run (badinput.py), the backup role alone."""
    return run_role_cases(
        "backup",
        BAD,
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("backup-cases"),
        base_vars={"webstack_name": "badbackup"},
    )


@pytest.mark.xdist_group("backup_bad_input")
@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_fails_before_any_aws_call(extra, message, bad_cases, request):
    result = bad_cases[request.node.callspec.id]
    assert_fails_before_aws(result, message)
