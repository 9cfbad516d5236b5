"""AWS Backup: vaults answer as AWS's do, plans can be updated and deleted for good, and a plan's
resource selections, on-demand backup jobs and the recovery points they leave in a vault exist.

moto keeps vaults and plans only; what the backup role and its tests need besides is added here,
kept on the backend instance (so a reset of moto's backends forgets it, as it forgets the rest).
A backup job completes at once (there is no data to copy), and its recovery point has an ARN of
AWS Backup's own form (arn:<partition>:backup:<region>:<account>:recovery-point:<id>); AWS names
an EBS or RDS recovery point by the snapshot it made instead, which the emulator does not make.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import unquote

import moto.backup.urls as backup_urls
from moto.backup.exceptions import (
    BackupClientError,
    InvalidParameterValueException,
    InvalidRequestException,
    ResourceNotFoundException,
)
from moto.backup.models import BackupBackend, Plan, Vault
from moto.backup.responses import BackupResponse
from moto.core.responses import EmptyResult
from moto.core.utils import unix_time
from moto.moto_api._internal import mock_random
from moto.utilities.utils import get_partition

from emulator_fixes import Patch, fix

# What GetBackupSelection answers for the conditions of a selection made without them.
NO_CONDITIONS = {"StringEquals": [], "StringNotEquals": [], "StringLike": [], "StringNotLike": []}


class AccessDeniedException(BackupClientError):
    code = 403

    def __init__(self) -> None:
        super().__init__("AccessDeniedException", "Insufficient privileges to perform this action.")


def _uri(response: BackupResponse, name: str) -> str:
    return unquote(response.uri_match[name])


def _body(response: BackupResponse) -> dict:
    return json.loads(response.body) if response.body else {}


def _vault(backend: BackupBackend, name: str):
    """The vault, or AWS's answer for one that does not exist (AccessDeniedException, not
    ResourceNotFoundException: AWS does not say whether a vault it does not show you exists)."""
    if name not in backend.vaults:
        raise AccessDeniedException()
    return backend.vaults[name]


def _live_plan(backend: BackupBackend, plan_id: str) -> Plan:
    plan = backend.plans.get(plan_id)
    if plan is None or plan.deletion_date is not None:
        raise ResourceNotFoundException(msg="Failed reading Backup plan with provided version")
    return plan


def _selections(backend: BackupBackend) -> dict[str, dict]:
    return backend.__dict__.setdefault("webstack_selections", {})


def _recovery_points(backend: BackupBackend) -> dict[str, dict]:
    return backend.__dict__.setdefault("webstack_recovery_points", {})


@fix
def describe_missing_vault_access_denied(patch: Patch) -> None:
    """DescribeBackupVault of a vault that does not exist: AWS answers AccessDeniedException (403,
    "Insufficient privileges to perform this action."), even to a caller allowed to describe it;
    moto answers ResourceNotFoundException. amazon.aws.backup_vault takes AccessDeniedException as
    "no such vault" and fails on any other error, so against moto it could never create a vault."""

    def describe_backup_vault(self, backup_vault_name):
        return _vault(self, backup_vault_name)

    patch.setattr(BackupBackend, "describe_backup_vault", describe_backup_vault)


@fix
def vault_default_encryption_key(patch: Patch) -> None:
    """CreateBackupVault without EncryptionKeyArn: AWS encrypts the vault's backups with the AWS
    managed key aws/backup of the account and region and answers its ARN in DescribeBackupVault and
    ListBackupVaults; moto keeps no key at all, as if the vault were not encrypted. Here the vault
    gets a fixed key ARN of the account and region in its place."""
    original = BackupBackend.create_backup_vault

    def create_backup_vault(self, backup_vault_name, backup_vault_tags, encryption_key_arn, creator_request_id):
        if not encryption_key_arn:
            key = uuid.uuid5(uuid.NAMESPACE_URL, f"aws/backup/{self.account_id}/{self.region_name}")
            partition = get_partition(self.region_name)
            encryption_key_arn = f"arn:{partition}:kms:{self.region_name}:{self.account_id}:key/{key}"
        return original(self, backup_vault_name, backup_vault_tags, encryption_key_arn, creator_request_id)

    patch.setattr(BackupBackend, "create_backup_vault", create_backup_vault)


@fix
def deleted_plan_name_reusable(patch: Patch) -> None:
    """CreateBackupPlan with the name of a deleted plan: AWS creates the new plan (a deleted plan is
    only listed with IncludeDeleted); moto still counts the deleted plan's name as taken and answers
    AlreadyExistsException, so a stack provisioned again after its teardown could have no plan."""

    def create_backup_plan(self, backup_plan, backup_plan_tags, creator_request_id):
        live = [p.backup_plan["BackupPlanName"] for p in self.plans.values() if p.deletion_date is None]
        if backup_plan["BackupPlanName"] in live:
            from moto.backup.exceptions import AlreadyExistsException

            raise AlreadyExistsException(msg="Backup plan with the same plan document already exists")
        plan = Plan(backup_plan=backup_plan, creator_request_id=creator_request_id, backend=self)
        if backup_plan_tags:
            self.tag_resource(plan.backup_plan_arn, backup_plan_tags)
        self.plans[plan.backup_plan_id] = plan
        return plan

    patch.setattr(BackupBackend, "create_backup_plan", create_backup_plan)


@fix
def update_backup_plan(patch: Patch) -> None:
    """UpdateBackupPlan: AWS replaces the plan's rules and advanced settings and answers a new
    VersionId; moto has no such action (500, "has not been implemented"), so
    amazon.aws.backup_plan could change no plan once made (a new retention, a new schedule)."""

    def response_update(self):
        plan = _live_plan(self.backup_backend, _uri(self, "backupPlanId"))
        wanted = _body(self)["BackupPlan"]
        # moto's Plan fills in the rules' defaults and ids; the plan keeps its id, ARN and tags
        made = Plan(backup_plan=wanted, creator_request_id=plan.creator_request_id, backend=self.backup_backend)
        plan.backup_plan = made.backup_plan
        plan.advanced_backup_settings = made.advanced_backup_settings
        plan.version_id = mock_random.get_random_string(length=48)
        return json.dumps(plan.to_dict())

    patch.setattr(BackupResponse, "update_backup_plan", response_update)


@fix
def backup_selections(patch: Patch) -> None:
    """CreateBackupSelection, GetBackupSelection, ListBackupSelections, DeleteBackupSelection: AWS
    keeps a plan's resource selections (name, IAM role, resources, conditions, echoed back as
    given; conditions not given come back as four empty lists) under ids of their own, and refuses
    DeleteBackupPlan with InvalidRequestException while the plan still has any; moto has none of
    these actions (500, "has not been implemented") and deletes a plan whatever it has, so no
    selection could be made, read or deleted, and a teardown's order could not be checked."""
    original_delete_plan = BackupBackend.delete_backup_plan

    def create(self):
        backend = self.backup_backend
        plan = _live_plan(backend, _uri(self, "backupPlanId"))
        body = _body(self)
        selection = dict(body.get("BackupSelection") or {})
        if not selection.get("SelectionName") or not selection.get("IamRoleArn"):
            raise InvalidParameterValueException(msg="BackupSelection needs a SelectionName and an IamRoleArn")
        selection["Conditions"] = {**NO_CONDITIONS, **(selection.get("Conditions") or {})}
        selection.setdefault("Resources", [])
        selection.setdefault("NotResources", [])
        selection.setdefault("ListOfTags", [])
        kept = {
            "SelectionId": str(mock_random.uuid4()),
            "BackupPlanId": plan.backup_plan_id,
            "CreationDate": unix_time(),
            "CreatorRequestId": body.get("CreatorRequestId"),
            "BackupSelection": selection,
        }
        _selections(backend)[kept["SelectionId"]] = kept
        return json.dumps({k: kept[k] for k in ("SelectionId", "BackupPlanId", "CreationDate")})

    def found(self) -> dict:
        plan_id, selection_id = _uri(self, "backupPlanId"), _uri(self, "selectionId")
        kept = _selections(self.backup_backend).get(selection_id)
        if kept is None or kept["BackupPlanId"] != plan_id:
            raise ResourceNotFoundException(msg=f"Failed reading backup selection {selection_id}")
        return kept

    def get(self):
        return json.dumps({k: v for k, v in found(self).items() if v is not None})

    def list_(self):
        plan = _live_plan(self.backup_backend, _uri(self, "backupPlanId"))
        listed = [
            {
                "SelectionId": s["SelectionId"],
                "SelectionName": s["BackupSelection"]["SelectionName"],
                "BackupPlanId": s["BackupPlanId"],
                "CreationDate": s["CreationDate"],
                "IamRoleArn": s["BackupSelection"]["IamRoleArn"],
                **({"CreatorRequestId": s["CreatorRequestId"]} if s["CreatorRequestId"] else {}),
            }
            for s in _selections(self.backup_backend).values()
            if s["BackupPlanId"] == plan.backup_plan_id
        ]
        return json.dumps({"BackupSelectionsList": listed})

    def delete(self):
        _selections(self.backup_backend).pop(found(self)["SelectionId"])
        return EmptyResult()

    def delete_backup_plan(self, backup_plan_id):
        if any(s["BackupPlanId"] == backup_plan_id for s in _selections(self).values()):
            raise InvalidRequestException(
                msg="Related backup plan selections must be deleted prior to backup plan deletion."
            )
        return original_delete_plan(self, backup_plan_id)

    patch.setattr(BackupResponse, "create_backup_selection", create)
    patch.setattr(BackupResponse, "get_backup_selection", get)
    patch.setattr(BackupResponse, "list_backup_selections", list_)
    patch.setattr(BackupResponse, "delete_backup_selection", delete)
    patch.setattr(BackupBackend, "delete_backup_plan", delete_backup_plan)


def _resource_type(arn: str) -> str:
    """AWS Backup's resource type of a resource ARN (EBS, RDS, EC2, ...)."""
    parts = arn.split(":")
    service, resource = (parts[2], parts[5]) if len(parts) > 5 else ("", "")
    if service == "ec2":
        return "EBS" if resource.startswith("volume/") else "EC2"
    if service == "rds":
        return "Aurora" if resource.startswith("cluster:") else "RDS"
    return {"dynamodb": "DynamoDB", "elasticfilesystem": "EFS", "s3": "S3"}.get(service, service.upper())


@fix
def recovery_points(patch: Patch) -> None:
    """StartBackupJob, ListRecoveryPointsByBackupVault, DescribeRecoveryPoint, DeleteRecoveryPoint,
    and DeleteBackupVault of a vault that holds recovery points: AWS backs the resource up into the
    vault (a recovery point, tagged with the job's RecoveryPointTags, counted in the vault's
    NumberOfRecoveryPoints), lists and deletes recovery points, answers AccessDeniedException for a
    vault that does not exist, and refuses to delete a vault that is not empty
    (InvalidRequestException); moto has none of these actions (404 or 500) and deletes any vault,
    so a teardown that keeps backups as data could neither be tested nor be wrong. Here a job
    completes at once: its recovery point is COMPLETED as soon as StartBackupJob answers."""
    original_delete_vault = BackupBackend.delete_backup_vault

    def start_backup_job(self):
        backend = self.backup_backend
        body = _body(self)
        vault = _vault(backend, body.get("BackupVaultName", ""))
        if not body.get("ResourceArn") or not body.get("IamRoleArn"):
            raise InvalidParameterValueException(msg="StartBackupJob needs a ResourceArn and an IamRoleArn")
        job_id = str(mock_random.uuid4()).upper()
        partition = get_partition(backend.region_name)
        arn = f"arn:{partition}:backup:{backend.region_name}:{backend.account_id}:recovery-point:{job_id}"
        now = unix_time()
        point = {
            "RecoveryPointArn": arn,
            "BackupVaultName": vault.backup_vault_name,
            "BackupVaultArn": vault.backup_vault_arn,
            "ResourceArn": body["ResourceArn"],
            "ResourceType": _resource_type(body["ResourceArn"]),
            "CreatedBy": {},
            "IamRoleArn": body["IamRoleArn"],
            "Status": "COMPLETED",
            "CreationDate": now,
            "CompletionDate": now,
            "BackupSizeInBytes": 0,
            "IsEncrypted": True,
            "EncryptionKeyArn": vault.encryption_key_arn,
            "IsParent": False,
        }
        lifecycle = body.get("Lifecycle") or {}
        if lifecycle:
            point["Lifecycle"] = lifecycle
        if lifecycle.get("DeleteAfterDays"):
            point["CalculatedLifecycle"] = {"DeleteAt": now + int(lifecycle["DeleteAfterDays"]) * 86400}
        _recovery_points(backend)[arn] = point
        vault.num_of_recovery_points = sum(
            1 for p in _recovery_points(backend).values() if p["BackupVaultName"] == vault.backup_vault_name
        )
        if body.get("RecoveryPointTags"):
            backend.tag_resource(arn, body["RecoveryPointTags"])
        return json.dumps({"BackupJobId": job_id, "RecoveryPointArn": arn, "CreationDate": now, "IsParent": False})

    def in_vault(self) -> list[dict]:
        name = _uri(self, "backupVaultName")
        _vault(self.backup_backend, name)
        return [p for p in _recovery_points(self.backup_backend).values() if p["BackupVaultName"] == name]

    def point(self) -> dict:
        arn = _uri(self, "recoveryPointArn")
        for each in in_vault(self):
            if each["RecoveryPointArn"] == arn:
                return each
        raise ResourceNotFoundException(msg=f"Recovery point {arn} not found")

    def list_points(self):
        return json.dumps({"RecoveryPoints": in_vault(self)})

    def describe_point(self):
        return json.dumps(point(self))

    def delete_point(self):
        backend = self.backup_backend
        gone = _recovery_points(backend).pop(point(self)["RecoveryPointArn"])
        backend.tagger.delete_all_tags_for_resource(gone["RecoveryPointArn"])
        backend.vaults[gone["BackupVaultName"]].num_of_recovery_points -= 1
        return EmptyResult()

    def delete_backup_vault(self, backup_vault_name):
        held = sum(1 for p in _recovery_points(self).values() if p["BackupVaultName"] == backup_vault_name)
        if held:
            raise InvalidRequestException(msg=f"Backup vault cannot be deleted (contains {held} recovery points)")
        vault = self.vaults.get(backup_vault_name)
        if vault is not None:
            self.tagger.delete_all_tags_for_resource(vault.backup_vault_arn)
        return original_delete_vault(self, backup_vault_name)

    # moto routes none of these paths to the backup service. The list's path ends with a slash: moto's
    # server drops a trailing "/?" from a path, and its Flask rules then refuse the slash botocore sends
    patch.setitem(backup_urls.url_paths, "{0}/backup-jobs/?$", backup_urls.response.dispatch)
    patch.setitem(
        backup_urls.url_paths, "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/$", backup_urls.response.dispatch
    )
    patch.setitem(
        backup_urls.url_paths,
        "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/(?P<arn>.+)$",
        backup_urls.response.dispatch,
    )
    # DescribeBackupVault answers the count (moto's own attribute has another name)
    patch.setattr(Vault, "number_of_recovery_points", property(lambda vault: vault.num_of_recovery_points))
    patch.setattr(BackupResponse, "start_backup_job", start_backup_job)
    patch.setattr(BackupResponse, "list_recovery_points_by_backup_vault", list_points)
    patch.setattr(BackupResponse, "describe_recovery_point", describe_point)
    patch.setattr(BackupResponse, "delete_recovery_point", delete_point)
    patch.setattr(BackupBackend, "delete_backup_vault", delete_backup_vault)
