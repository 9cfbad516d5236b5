"""kumo.webstack.backup_recovery_points with botocore's Stubber (it checks every request against
AWS Backup's API model)."""

from __future__ import annotations

import pytest

from ansible_collections.kumo.webstack.plugins.modules import backup_recovery_points

VAULT = "shop-backup"
ARNS = [f"arn:aws:backup:ap-northeast-1:123456789012:recovery-point:{n}" for n in ("A1", "B2")]


def points(*arns):
    return {
        "RecoveryPoints": [
            {
                "RecoveryPointArn": arn,
                "BackupVaultName": VAULT,
                "ResourceArn": "arn:aws:ec2:ap-northeast-1:123456789012:volume/vol-1",
                "ResourceType": "EBS",
                "Status": "COMPLETED",
            }
            for arn in arns
        ]
    }


def listed(stubber, *arns):
    stubber.add_response("list_recovery_points_by_backup_vault", points(*arns), {"BackupVaultName": VAULT})


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(backup_recovery_points.time, "sleep", lambda _seconds: None)


def test_present_lists_and_changes_nothing(run_module, module_stubber):
    stubber = module_stubber("backup")
    listed(stubber, *ARNS)
    result = run_module(backup_recovery_points, {"backup_vault_name": VAULT})
    assert not result.failed, result
    assert result["changed"] is False
    assert [p["recovery_point_arn"] for p in result["recovery_points"]] == ARNS
    assert result["recovery_points"][0]["resource_type"] == "EBS"
    assert result["deleted"] == []


def test_absent_deletes_each_and_waits_until_none_is_listed(run_module, module_stubber):
    stubber = module_stubber("backup")
    listed(stubber, *ARNS)
    for arn in ARNS:
        stubber.add_response("delete_recovery_point", {}, {"BackupVaultName": VAULT, "RecoveryPointArn": arn})
    listed(stubber, ARNS[1])  # still deleting
    listed(stubber)
    result = run_module(backup_recovery_points, {"backup_vault_name": VAULT, "state": "absent"}, diff=True)
    assert not result.failed, result
    assert result["changed"] is True
    assert result["deleted"] == ARNS
    assert result["diff"] == {"before": {"recovery_points": ARNS}, "after": {"recovery_points": []}}


def test_absent_on_an_empty_vault_changes_nothing(run_module, module_stubber):
    stubber = module_stubber("backup")
    listed(stubber)
    result = run_module(backup_recovery_points, {"backup_vault_name": VAULT, "state": "absent"})
    assert result["changed"] is False
    assert result["deleted"] == []


def test_check_mode_deletes_nothing(run_module, module_stubber):
    stubber = module_stubber("backup")
    listed(stubber, *ARNS)
    result = run_module(backup_recovery_points, {"backup_vault_name": VAULT, "state": "absent"}, check_mode=True)
    assert result["changed"] is True
    assert result["deleted"] == ARNS


def test_one_already_gone_is_no_error(run_module, module_stubber):
    stubber = module_stubber("backup")
    listed(stubber, ARNS[0])
    stubber.add_client_error("delete_recovery_point", "ResourceNotFoundException", "gone", 404)
    listed(stubber)
    result = run_module(backup_recovery_points, {"backup_vault_name": VAULT, "state": "absent"})
    assert not result.failed, result
    assert result["deleted"] == [ARNS[0]]


def test_still_listed_after_the_timeout_fails_saying_so(run_module, module_stubber, monkeypatch):
    stubber = module_stubber("backup")
    listed(stubber, ARNS[0])
    stubber.add_response("delete_recovery_point", {}, {"BackupVaultName": VAULT, "RecoveryPointArn": ARNS[0]})
    listed(stubber, ARNS[0])
    monkeypatch.setattr(backup_recovery_points.time, "monotonic", iter([0, 10]).__next__)
    result = run_module(backup_recovery_points, {"backup_vault_name": VAULT, "state": "absent", "wait_timeout": 5})
    assert result.failed
    assert result["msg"].startswith(f"The recovery points of vault {VAULT} were deleted but some are still listed")


def test_a_vault_that_does_not_exist_is_an_error(run_module, module_stubber):
    stubber = module_stubber("backup")
    stubber.add_client_error(
        "list_recovery_points_by_backup_vault", "AccessDeniedException", "Insufficient privileges", 403
    )
    result = run_module(backup_recovery_points, {"backup_vault_name": VAULT})
    assert result.failed
    assert result["msg"].startswith("Failed to list recovery points")
