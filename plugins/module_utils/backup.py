# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS Backup helpers for the backup_* modules.

API calls are small functions wrapped in ``BackupErrorHandler`` (turns botocore errors into
``AnsibleBackupError``; a missing resource becomes the handler's default) and
``AWSRetry.jittered_backoff`` (throttling and 5xx only).
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


class AnsibleBackupError(AnsibleAWSError):
    pass


class BackupErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleBackupError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


@BackupErrorHandler.common_error_handler("list recovery points")
@AWSRetry.jittered_backoff()
def list_recovery_points(client, vault_name):
    """Every recovery point of the vault (ListRecoveryPointsByBackupVault items, all pages). AWS
    answers AccessDeniedException for a vault that does not exist."""
    paginator = client.get_paginator("list_recovery_points_by_backup_vault")
    return paginator.paginate(BackupVaultName=vault_name).build_full_result()["RecoveryPoints"]


@BackupErrorHandler.deletion_error_handler("delete recovery point")
@AWSRetry.jittered_backoff()
def delete_recovery_point(client, vault_name, arn):
    """Delete one recovery point; False when it is already gone."""
    client.delete_recovery_point(BackupVaultName=vault_name, RecoveryPointArn=arn)
    return True
