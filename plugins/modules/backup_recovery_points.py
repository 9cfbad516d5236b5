#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_recovery_points
version_added: 0.1.0
short_description: List or delete the recovery points (backups) of an AWS Backup vault
description:
  - Lists the recovery points of an AWS Backup vault, or deletes every one of them.
  - Recovery points are data - the backups themselves. B(O(state=absent) deletes all of them, for good.)
    A vault can be deleted (M(amazon.aws.backup_vault) O(amazon.aws.backup_vault#module:state=absent)) only once
    it holds none.
  - amazon.aws has no module for recovery points.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  backup_vault_name:
    description:
      - Name of the vault. It must exist - AWS answers C(AccessDeniedException) for a vault that does not.
    type: str
    required: true
    version_added: 0.1.0
  state:
    description:
      - V(present) lists the recovery points and changes nothing.
      - V(absent) deletes every recovery point of the vault.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  wait:
    description:
      - With O(state=absent), wait until the vault lists no recovery point (AWS deletes some, such as EBS
        and RDS snapshots, in the background), so that the vault can be deleted next.
    type: bool
    default: true
    version_added: 0.1.0
  wait_timeout:
    description:
      - How many seconds to wait for the deletions to finish.
    type: int
    default: 900
    version_added: 0.1.0
attributes:
  check_mode:
    support: full
    details:
      - The recovery points are listed, and the task says whether any would be deleted, without deleting them.
  diff_mode:
    support: full
    details:
      - The ARNs of the vault's recovery points before and after.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: List the backups of the vault shop-backup
  kumo.webstack.backup_recovery_points:
    backup_vault_name: shop-backup
  register: points

- name: Delete every backup of the vault (the data is gone), then the vault
  kumo.webstack.backup_recovery_points:
    backup_vault_name: shop-backup
    state: absent

- name: Delete the empty vault
  amazon.aws.backup_vault:
    backup_vault_name: shop-backup
    state: absent
"""

RETURN = r"""
recovery_points:
  description: The vault's recovery points before the task (ListRecoveryPointsByBackupVault, in snake_case).
  returned: always
  type: list
  elements: dict
  contains:
    recovery_point_arn:
      description: ARN of the recovery point.
      type: str
      sample: arn:aws:backup:ap-northeast-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45
    resource_arn:
      description: ARN of the resource it backs up.
      type: str
      sample: arn:aws:ec2:ap-northeast-1:123456789012:volume/vol-0123456789abcdef0
    resource_type:
      description: Type of that resource (V(EBS), V(RDS), ...).
      type: str
      sample: EBS
    status:
      description: V(COMPLETED), V(PARTIAL), V(DELETING) or V(EXPIRED).
      type: str
      sample: COMPLETED
deleted:
  description: ARNs of the recovery points deleted (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
"""

import time  # noqa: E402

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils.backup import (  # noqa: E402
    delete_recovery_point,
    list_recovery_points,
)

POLL_SECONDS = 5


def run(client, module):
    vault = module.params["backup_vault_name"]
    points = list_recovery_points(client, vault)
    arns = [p["RecoveryPointArn"] for p in points]
    deleting = module.params["state"] == "absent" and bool(arns)
    result = {
        "changed": deleting,
        "recovery_points": [camel_dict_to_snake_dict(p) for p in points],
        "deleted": arns if deleting else [],
    }
    if module._diff:
        result["diff"] = {"before": {"recovery_points": arns}, "after": {"recovery_points": [] if deleting else arns}}
    if not deleting or module.check_mode:
        module.exit_json(**result)
    for arn in arns:
        delete_recovery_point(client, vault, arn)
    if module.params["wait"]:
        deadline = time.monotonic() + module.params["wait_timeout"]
        while list_recovery_points(client, vault):
            if time.monotonic() >= deadline:
                module.fail_json(
                    msg=f"The recovery points of vault {vault} were deleted but some are still listed after "
                    f"{module.params['wait_timeout']} seconds; run again later.",
                    **result,
                )
            time.sleep(POLL_SECONDS)
    module.exit_json(**result)


def main():
    argument_spec = dict(
        backup_vault_name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("backup")
    try:
        run(client, module)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
