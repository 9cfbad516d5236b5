#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudfront_origin_access_control
version_added: 0.1.0
short_description: Manage CloudFront origin access controls (OAC)
description:
  - Create, update and delete a CloudFront origin access control (OAC), with which a distribution signs
    its requests to a private S3 bucket (or another AWS origin), so the bucket needs no public access.
    It replaces the legacy origin access identity (OAI).
  - An origin access control is found by its O(name); CloudFront keeps names unique in an account.
  - Only what differs is updated, with the ETag CloudFront gave for the current version.
  - Origin access controls cannot be tagged (CloudFront has no tags for them).
  - Use the returned RV(origin_access_control.id) as
    O(kumo.webstack.cloudfront_s3_distribution#module:origin_access_control_id).
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  name:
    description:
      - Name of the origin access control, unique in the account (at most 64 characters).
    type: str
    required: true
    version_added: 0.1.0
  state:
    description:
      - V(present) creates the origin access control or updates what differs.
      - V(absent) deletes it. While a distribution's origin still uses it, CloudFront refuses; the module
        then fails and names those distributions (delete them, or change their origin, first).
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  description:
    description:
      - Description of the origin access control (at most 256 characters).
      - Left out, a new one gets an empty description and an existing one keeps its own.
    type: str
    version_added: 0.1.0
  origin_type:
    description:
      - Kind of origin the control signs requests to. V(s3) for an S3 bucket (the sorry pages).
    type: str
    choices: [s3, mediastore, mediapackagev2, lambda]
    default: s3
    version_added: 0.1.0
  signing_behavior:
    description:
      - V(always) signs every request to the origin (what a private bucket needs).
      - V(never) signs none; V(no-override) signs a request unless the viewer sent an C(Authorization)
        header, which is then passed on.
    type: str
    choices: [always, never, no-override]
    default: always
    version_added: 0.1.0
  signing_protocol:
    description:
      - How requests are signed; CloudFront only offers Signature Version 4.
    type: str
    choices: [sigv4]
    default: sigv4
    version_added: 0.1.0
notes:
  - CloudFront is a global service; O(region) only picks the endpoint the client calls.
  - In check mode nothing is created, changed or deleted; the result says what would be.
seealso:
  - module: kumo.webstack.cloudfront_s3_distribution
attributes:
  check_mode:
    support: full
    details:
      - The origin access control is looked up, and the task says whether it would be created, changed or
        deleted without doing it. One that would be created is returned without an id.
      - Deleting one that a distribution still uses fails in check mode too.
  diff_mode:
    support: full
    details:
      - The origin type, signing behaviour, signing protocol and description before and after.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the origin access control of the sorry pages
  kumo.webstack.cloudfront_origin_access_control:
    name: sorry-pages
    description: CloudFront reads the sorry pages from their private bucket
  register: sorry_oac

- name: Put a distribution behind it
  kumo.webstack.cloudfront_s3_distribution:
    name: sorry-example-com
    bucket: sorry-pages-123456789012
    origin_path: /example.com
    origin_access_control_id: "{{ sorry_oac.origin_access_control.id }}"

- name: Delete the origin access control (fails while a distribution uses it)
  kumo.webstack.cloudfront_origin_access_control:
    name: sorry-pages
    state: absent
"""

RETURN = r"""
origin_access_control:
  description:
    - The origin access control; empty after O(state=absent).
    - In check mode, for one that does not exist yet, the settings it would be created with
      (no RV(origin_access_control.id)).
  returned: always
  type: dict
  contains:
    id:
      description: Id of the origin access control.
      returned: when it exists
      type: str
      sample: E2QWRUHAPOMQZL
    name:
      description: Name.
      type: str
      sample: sorry-pages
    description:
      description: Description.
      type: str
    origin_type:
      description: Kind of origin.
      type: str
      sample: s3
    signing_behavior:
      description: When requests are signed.
      type: str
      sample: always
    signing_protocol:
      description: How requests are signed.
      type: str
      sample: sigv4
distributions:
  description: Ids of the distributions whose origins use the origin access control.
  returned: when O(state=absent) fails because it is in use
  type: list
  elements: str
  sample: ["E1A2B3C4D5E6F7"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import (  # noqa: E402
    AnsibleAWSError,
    is_ansible_aws_error_code,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils import cloudfront  # noqa: E402


def _fail_in_use(module, name, control_id, users):
    which = ", ".join(users) if users else "at least one distribution"
    module.fail_json(
        msg=(
            f"Cannot delete origin access control {name} ({control_id}): it is still used by the origin of "
            f"distribution(s) {which}. Delete those distributions (or point their origin elsewhere) first, "
            "then run this task again"
        ),
        distributions=list(users),
    )


def ensure_absent(module, client):
    name = module.params["name"]
    summary = cloudfront.find_origin_access_control(client, name)
    result = {"changed": summary is not None, "origin_access_control": {}}
    if module._diff:
        result["diff"] = {"before": cloudfront.oac_settings(summary) if summary else {}, "after": {}}
    if summary is None:
        module.exit_json(**result)

    users = cloudfront.distributions_using(cloudfront.list_distributions(client), summary["Id"])
    if users:
        _fail_in_use(module, name, summary["Id"], users)
    if module.check_mode:
        module.exit_json(**result)

    control, etag = cloudfront.get_origin_access_control(client, summary["Id"])
    if control is None:
        result["changed"] = False
        module.exit_json(**result)
    try:
        result["changed"] = cloudfront.delete_origin_access_control(client, control["Id"], etag)
    except is_ansible_aws_error_code("OriginAccessControlInUse"):
        users = cloudfront.distributions_using(cloudfront.list_distributions(client), control["Id"])
        _fail_in_use(module, name, control["Id"], users)
    module.exit_json(**result)


def ensure_present(module, client):
    params = module.params
    summary = cloudfront.find_origin_access_control(client, params["name"])
    desired = cloudfront.oac_desired(params)
    current = cloudfront.oac_settings(summary) if summary else None

    if summary is None:
        after = cloudfront.oac_plan(desired, cloudfront.oac_settings({}))[1]
        result = {"changed": True}
        if module._diff:
            result["diff"] = {"before": {}, "after": after}
        if module.check_mode:
            module.exit_json(origin_access_control=after, **result)
        control, _etag = cloudfront.create_origin_access_control(client, cloudfront.oac_config(after))
        module.exit_json(origin_access_control=cloudfront.oac_result(control), **result)

    changed, after = cloudfront.oac_plan(desired, current)
    result = {"changed": bool(changed)}
    if module._diff:
        result["diff"] = {"before": current, "after": after}
    if not changed or module.check_mode:
        module.exit_json(origin_access_control=dict(after, id=summary["Id"]), **result)
    control, etag = cloudfront.get_origin_access_control(client, summary["Id"])
    if control is None:
        module.fail_json(
            msg=f"Origin access control {params['name']} ({summary['Id']}) was deleted while being updated; run again"
        )
    control, _etag = cloudfront.update_origin_access_control(client, control["Id"], cloudfront.oac_config(after), etag)
    module.exit_json(origin_access_control=cloudfront.oac_result(control), **result)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        description=dict(type="str"),
        origin_type=dict(type="str", choices=["s3", "mediastore", "mediapackagev2", "lambda"], default="s3"),
        signing_behavior=dict(type="str", choices=["always", "never", "no-override"], default="always"),
        signing_protocol=dict(type="str", choices=["sigv4"], default="sigv4"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if not 1 <= len(module.params["name"]) <= 64:
        module.fail_json(msg="name must be 1 to 64 characters")
    if module.params["description"] is not None and len(module.params["description"]) > 256:
        module.fail_json(msg="description must be at most 256 characters")
    client = module.client("cloudfront")
    try:
        if module.params["state"] == "present":
            ensure_present(module, client)
        else:
            ensure_absent(module, client)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
