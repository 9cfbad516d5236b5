#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: s3_bucket_logging
version_added: 0.1.0
short_description: Turn Amazon S3 server access logging of a bucket on or off
description:
  - Sets where Amazon S3 delivers the server access logs of a bucket (a target bucket and a key
    prefix), or turns them off.
  - B(It never changes the target bucket's ACL.) Grant the delivery with a policy on the target
    bucket that lets the service principal C(logging.s3.amazonaws.com) put objects under the prefix
    (conditions C(aws:SourceArn) on the source bucket, C(aws:SourceAccount) on its account). That is
    the only way AWS supports for a target bucket with ACLs disabled (object ownership
    C(BucketOwnerEnforced)), where community.aws.s3_logging, which adds an ACL grant to the target
    bucket, fails.
  - The target bucket must be in the same region and account as the source bucket, and its default
    encryption must be SSE-S3 (AES256); AWS refuses or drops the logs otherwise.
  - Only the target bucket and prefix are compared; a key format (C(TargetObjectKeyFormat)) set
    otherwise is kept when the module changes them.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  name:
    description:
      - Name of the bucket whose requests are logged (the source bucket).
    type: str
    required: true
    version_added: 0.1.0
  state:
    description:
      - V(present) sends the logs to O(target_bucket); V(absent) turns server access logging off.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  target_bucket:
    description:
      - Bucket that receives the logs. Required with O(state=present).
    type: str
    version_added: 0.1.0
  target_prefix:
    description:
      - Key prefix of the log objects in O(target_bucket), usually ending with C(/).
    type: str
    default: ""
    version_added: 0.1.0
attributes:
  check_mode:
    support: full
    details:
      - The logging settings are read, and the task says whether they would change, without changing them.
  diff_mode:
    support: full
    details:
      - Whether logging is on, the target bucket and the prefix, before and after.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Log the requests of the uploads bucket to the stack's log bucket
  kumo.webstack.s3_bucket_logging:
    name: shop-uploads-123456789012-ap-northeast-1
    target_bucket: shop-logs-123456789012-ap-northeast-1
    target_prefix: s3/shop-uploads-123456789012-ap-northeast-1/

- name: Turn the server access logs off
  kumo.webstack.s3_bucket_logging:
    name: shop-uploads-123456789012-ap-northeast-1
    state: absent
"""

RETURN = r"""
logging:
  description: The bucket's server access logging after the task.
  returned: success
  type: dict
  contains:
    enabled:
      description: Whether server access logging is on.
      returned: success
      type: bool
      sample: true
    target_bucket:
      description: Bucket that receives the logs (empty when off).
      returned: success
      type: str
      sample: shop-logs-123456789012-ap-northeast-1
    target_prefix:
      description: Key prefix of the log objects (empty when off).
      returned: success
      type: str
      sample: s3/shop-uploads-123456789012-ap-northeast-1/
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils.s3 import (  # noqa: E402
    get_bucket_logging,
    logging_differs,
    logging_for_output,
    logging_settings,
    put_bucket_logging,
)


def ensure(client, module):
    name = module.params["name"]
    present = module.params["state"] == "present"
    wanted = logging_settings(module.params["target_bucket"], module.params["target_prefix"]) if present else {}

    current = get_bucket_logging(client, name)
    if current is None:
        module.fail_json(msg=f"Bucket {name} does not exist (or is not reachable with these credentials).")
    changed = logging_differs(current, wanted)
    # keep what the module does not manage (a key format) when it changes the target
    after = dict(current, **wanted) if wanted else {}
    result = {"changed": changed, "logging": logging_for_output(after if changed else current)}
    if module._diff:
        result["diff"] = {"before": logging_for_output(current), "after": logging_for_output(after)}
    if changed and not module.check_mode:
        put_bucket_logging(client, name, after)
        result["logging"] = logging_for_output(get_bucket_logging(client, name) or {})
    module.exit_json(**result)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        target_bucket=dict(type="str"),
        target_prefix=dict(type="str", default=""),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["target_bucket"])],
    )
    client = module.client("s3")
    try:
        ensure(client, module)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
