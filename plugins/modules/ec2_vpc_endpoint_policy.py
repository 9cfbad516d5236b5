#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_vpc_endpoint_policy
version_added: 0.2.0
short_description: Set the policy of an existing VPC endpoint
description:
  - Makes the policy document of an existing VPC endpoint the one given, and changes nothing when
    it already is.
  - M(amazon.aws.ec2_vpc_endpoint) sets a policy only when it creates an endpoint and never changes
    the policy of an existing one; this module converges an endpoint that exists, whoever made it.
  - The policies are compared as JSON, not as text. The order of the statements counts; a
    one-element list of actions, resources, principals or condition values is the same as the element
    alone (IAM reads them alike), so a policy written either way is not rewritten.
  - The policy is sent as given when it differs; one that is the same policy written otherwise is
    left as it is (and returned as it is).
  - The endpoint is not created or deleted here; use M(amazon.aws.ec2_vpc_endpoint) for that.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  vpc_endpoint_id:
    description:
      - Id of the endpoint, C(vpce-...). The module fails when there is no such endpoint.
    type: str
    required: true
    version_added: 0.2.0
  policy:
    description:
      - The policy document, a dict or JSON text, with C(Version) and C(Statement), as the
        endpoint's service takes it (for a gateway endpoint of S3, an S3 resource policy with
        C(Principal)).
      - To go back to what AWS gives an endpoint made without a policy, give that policy (version
        V(2008-10-17), one statement allowing any principal any action on any resource; see the examples).
    type: json
    required: true
    version_added: 0.2.0
attributes:
  check_mode:
    support: full
    details:
      - The endpoint's policy is read and compared; the task says whether it would change it without
        changing it.
  diff_mode:
    support: full
    details:
      - The endpoint's policy before and after, as JSON documents.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Let the private subnets reach only the stack's buckets through the S3 gateway endpoint
  kumo.webstack.ec2_vpc_endpoint_policy:
    vpc_endpoint_id: "{{ endpoint.result.vpc_endpoint_id }}"
    policy:
      Version: "2012-10-17"
      Statement:
        - Sid: StackBuckets
          Effect: Allow
          Principal: "*"
          Action: "s3:*"
          Resource:
            - arn:aws:s3:::demo-*
            - arn:aws:s3:::demo-*/*
          Condition:
            StringEquals:
              s3:ResourceAccount: "123456789012"
        - Sid: OsPackageRepositories
          Effect: Allow
          Principal: "*"
          Action: s3:GetObject
          Resource: arn:aws:s3:::al2023-repos-ap-northeast-1-de612dc2/*

- name: Put back the policy AWS gives an endpoint made without one (full access)
  kumo.webstack.ec2_vpc_endpoint_policy:
    vpc_endpoint_id: vpce-0123456789abcdef0
    policy:
      Version: "2008-10-17"
      Statement:
        - {Effect: Allow, Principal: "*", Action: "*", Resource: "*"}
"""

RETURN = r"""
vpc_endpoint_id:
  description: Id of the endpoint.
  returned: always
  type: str
  sample: vpce-0123456789abcdef0
policy:
  description:
    - The endpoint's policy after the task (in check mode, what it would be), as a dict.
  returned: always
  type: dict
  sample: {"Version": "2012-10-17", "Statement": [{"Sid": "StackBuckets", "Effect": "Allow", "Principal": "*",
           "Action": "s3:*", "Resource": ["arn:aws:s3:::demo-*", "arn:aws:s3:::demo-*/*"]}]}
"""

import json  # noqa: E402

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils.vpc import (  # noqa: E402
    canonical_endpoint_policy,
    describe_vpc_endpoint,
    put_vpc_endpoint_policy,
)


def desired_policy(module):
    """The policy as given (to send and return) and in canonical form (to compare), or the module
    fails naming what is wrong with it."""
    try:
        canonical = canonical_endpoint_policy(module.params["policy"])
    except ValueError as e:
        module.fail_json(msg=f"policy is not a JSON policy document: {e}")
    if canonical is None or not isinstance(canonical.get("Statement"), list) or not canonical["Statement"]:
        module.fail_json(msg="policy must be a policy document with a non-empty list of Statement.")
    return json.loads(module.params["policy"]), canonical


def current_policy(module, endpoint):
    """The endpoint's policy as it is and in canonical form; (None, None) when it has none."""
    text = endpoint.get("PolicyDocument")
    try:
        canonical = canonical_endpoint_policy(text)
    except ValueError:
        # an answer that is not JSON is not a policy we could keep: it is replaced
        module.warn(f"The policy of {endpoint['VpcEndpointId']} is not a JSON document; it is replaced.")
        return None, None
    return (json.loads(text) if canonical is not None else None), canonical


def ensure_policy(client, module):
    endpoint_id = module.params["vpc_endpoint_id"]
    given, wanted = desired_policy(module)
    endpoint = describe_vpc_endpoint(client, endpoint_id)
    if endpoint is None:
        module.fail_json(msg=f"VPC endpoint {endpoint_id} does not exist.", vpc_endpoint_id=endpoint_id)
    before, canonical_before = current_policy(module, endpoint)
    changed = canonical_before != wanted
    result = {"changed": changed, "vpc_endpoint_id": endpoint_id, "policy": given if changed else before}
    if module._diff:
        result["diff"] = {"before": {"policy": before}, "after": {"policy": given if changed else before}}
    if changed and not module.check_mode:
        put_vpc_endpoint_policy(client, endpoint_id, given)
    module.exit_json(**result)


def main():
    argument_spec = dict(
        vpc_endpoint_id=dict(type="str", required=True),
        policy=dict(type="json", required=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ec2")
    try:
        ensure_policy(client, module)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
