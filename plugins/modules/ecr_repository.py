#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecr_repository
version_added: 0.1.0
short_description: Manage Amazon ECR repositories, their settings, lifecycle policy and tags
description:
  - Create, update and delete a private repository of Amazon Elastic Container Registry (ECR),
    with its image tag mutability, scan on push, encryption, lifecycle policy and tags.
  - Settings left out are not touched on an existing repository (a new one gets AWS's defaults,
    V(MUTABLE), no scan on push, V(AES256), no lifecycle policy).
  - Tags are given at creation, so the repository never exists untagged, and reconciled with
    O(tags) and O(purge_tags) after that.
  - ECR sets a repository's encryption only when it creates it. When O(encryption) or O(kms_key)
    asks for other than the repository has, the module fails and says so, in check mode too.
  - With O(state=absent), a repository that still holds images is deleted only with
    O(force_delete=true); otherwise the module fails with a message that says how many images it holds.
  - Unlike M(community.aws.ecs_ecr), this module manages tags, predicts a creation in check mode
    (lifecycle policy included) and reports the change as a change, and returns a diff.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  name:
    description:
      - Name of the repository, for example V(bot1/bot); lowercase letters, digits, C(.), C(_),
        C(-) and C(/) as namespace separators.
    type: str
    required: true
    version_added: 0.1.0
  state:
    description:
      - Whether the repository should exist.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  image_tag_mutability:
    description:
      - Whether a tag may be pushed again onto another image (V(MUTABLE)) or not (V(IMMUTABLE)).
      - Left out, it is not changed (a new repository is V(MUTABLE)).
    type: str
    choices: [MUTABLE, IMMUTABLE]
    version_added: 0.1.0
  scan_on_push:
    description:
      - Scan each image for known vulnerabilities when it is pushed (basic scanning).
      - Left out, it is not changed (a new repository does not scan on push).
    type: bool
    version_added: 0.1.0
  encryption:
    description:
      - How the images are encrypted at rest, V(AES256) (S3-managed keys) or V(KMS).
      - Only used when the repository is created; an existing repository with another encryption
        makes the module fail. Left out, a new repository uses V(AES256) and an existing one is not checked.
    type: str
    choices: [AES256, KMS]
    version_added: 0.1.0
  kms_key:
    description:
      - With O(encryption=KMS), the KMS key (key id, key ARN, alias or alias ARN). Left out, AWS uses
        its managed key C(aws/ecr).
      - Compared with an existing repository's key after resolving it to a key ARN (C(kms:DescribeKey)).
    type: str
    version_added: 0.1.0
  lifecycle_policy:
    description:
      - The repository's lifecycle policy, a dict (or JSON text) with its C(rules). It replaces the
        current policy when it differs (compared as JSON, rules in priority order).
      - Left out, the current policy is not touched.
    type: json
    version_added: 0.1.0
  force_delete:
    description:
      - With O(state=absent), delete the repository even if it still holds images (they go with it).
    type: bool
    default: false
    version_added: 0.1.0
attributes:
  check_mode:
    support: full
    details:
      - The repository is read, and the task says what it would create, change or delete without doing it. One
        that would be created is returned as it would be made, lifecycle policy included.
      - An encryption that differs from the repository's, or a repository that holds images without
        O(force_delete=true), fails in check mode too.
  diff_mode:
    support: full
    details:
      - The tag mutability, scan on push, lifecycle policy and tags before and after (on creation, the
        encryption too); with O(state=absent), the name of the repository that is deleted.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the bot's repository, immutable tags, scanned on push, old images expired
  kumo.webstack.ecr_repository:
    name: bot1/bot
    image_tag_mutability: IMMUTABLE
    scan_on_push: true
    encryption: AES256
    lifecycle_policy:
      rules:
        - rulePriority: 1
          description: Expire untagged images after 1 day
          selection: {tagStatus: untagged, countType: sinceImagePushed, countUnit: days, countNumber: 1}
          action: {type: expire}
        - rulePriority: 2
          description: Keep only the last 10 images
          selection: {tagStatus: any, countType: imageCountMoreThan, countNumber: 10}
          action: {type: expire}
    tags:
      Stack: bot1
      ManagedBy: kumo.webstack
  register: bot_repository

- name: Show where to push
  ansible.builtin.debug:
    msg: "docker push {{ bot_repository.repository.uri }}:v1"

- name: Encrypt a new repository with a customer managed key
  kumo.webstack.ecr_repository:
    name: bot1/worker
    encryption: KMS
    kms_key: alias/bot1-images

- name: Delete the repository, but only if it holds no image
  kumo.webstack.ecr_repository:
    name: bot1/bot
    state: absent

- name: Delete the repository with its images
  kumo.webstack.ecr_repository:
    name: bot1/bot
    state: absent
    force_delete: true
"""

RETURN = r"""
repository:
  description:
    - The repository after the task, in snake_case; empty after O(state=absent).
    - In check mode, what the task would make of it (a repository still to be created has no ARN, URI or dates yet).
  returned: always
  type: dict
  contains:
    name:
      description: Name of the repository.
      returned: always, but empty after O(state=absent)
      type: str
      sample: bot1/bot
    arn:
      description: ARN of the repository.
      returned: when the repository exists
      type: str
      sample: arn:aws:ecr:ap-northeast-1:123456789012:repository/bot1/bot
    uri:
      description: URI to push to and pull from (C(<registry>/<name>)).
      returned: when the repository exists
      type: str
      sample: 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/bot1/bot
    registry_id:
      description: Account id of the registry.
      returned: when the repository exists
      type: str
      sample: "123456789012"
    created_at:
      description: When the repository was created, ISO 8601 in UTC.
      returned: when the repository exists
      type: str
      sample: "2025-01-01T00:00:00Z"
    image_tag_mutability:
      description: V(MUTABLE) or V(IMMUTABLE) (or one of AWS's C(*_WITH_EXCLUSION) values, set elsewhere).
      returned: always, but empty after O(state=absent)
      type: str
      sample: IMMUTABLE
    scan_on_push:
      description: Whether images are scanned when pushed.
      returned: always, but empty after O(state=absent)
      type: bool
      sample: true
    encryption:
      description: V(AES256) or V(KMS).
      returned: always, but empty after O(state=absent)
      type: str
      sample: AES256
    kms_key:
      description: The KMS key of a V(KMS) repository (AWS answers with its ARN), else null.
      returned: always, but empty after O(state=absent)
      type: str
      sample: null
    lifecycle_policy:
      description: The lifecycle policy (rules in priority order), or null when there is none.
      returned: always, but empty after O(state=absent)
      type: dict
      sample: {"rules": [{"rulePriority": 1, "description": "", "selection": {}, "action": {"type": "expire"}}]}
    tags:
      description: Tags of the repository.
      returned: always, but empty after O(state=absent)
      type: dict
      sample: {"Stack": "bot1", "ManagedBy": "kumo.webstack"}
image_count:
  description: How many images the repository holds; returned when a deletion is refused for them.
  returned: on failure of O(state=absent) without O(force_delete)
  type: int
  sample: 3
"""

import json  # noqa: E402

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (  # noqa: E402
    ansible_dict_to_boto3_tag_list,
    compare_aws_tags,
)

from ansible_collections.kumo.webstack.plugins.module_utils.ecr import (  # noqa: E402
    canonical_policy,
    count_images,
    create_repository,
    delete_repository,
    describe_repository,
    get_lifecycle_policy,
    kms_key_arn,
    list_tags,
    put_image_scanning_configuration,
    put_image_tag_mutability,
    put_lifecycle_policy,
    repository_for_output,
    tag_resource,
    untag_resource,
)


def describe(client, name):
    """The repository as the module returns it, or None."""
    repository = describe_repository(client, name)
    if repository is None:
        return None
    return repository_for_output(
        repository, list_tags(client, repository["repositoryArn"]), get_lifecycle_policy(client, name)
    )


def encryption_text(encryption, kms_key):
    if encryption == "KMS":
        return f"KMS key {kms_key}" if kms_key else "KMS (the AWS managed key aws/ecr)"
    return encryption


def same_kms_key(module, wanted, current):
    """Whether the key the task names is the repository's key (AWS answers with the key ARN)."""
    if not wanted or wanted == current:
        return True
    if not current:
        return False
    if current.endswith(("key/" + wanted, ":" + wanted)):
        return True
    kms = module.client("kms")
    return kms_key_arn(kms, wanted) == current


def check_encryption(module, current):
    """Fail when the task asks for another encryption than the existing repository has."""
    params = module.params
    wanted = params["encryption"] or ("KMS" if params["kms_key"] else None)
    if wanted is None:
        return
    same = wanted == current["encryption"]
    if same and wanted == "KMS":
        same = same_kms_key(module, params["kms_key"], current["kms_key"])
    if not same:
        module.fail_json(
            msg=(
                f"Repository {params['name']} is encrypted with "
                f"{encryption_text(current['encryption'], current['kms_key'])}, "
                f"not {encryption_text(wanted, params['kms_key'])}: ECR sets a repository's encryption only when it "
                "creates the repository. Ask for its current encryption, or delete the repository (with its images) "
                "and create it again."
            ),
            repository=current,
        )


def desired_policy(module):
    """The lifecycle policy as given (to send) and in canonical form (to compare), or (None, None)."""
    text = module.params["lifecycle_policy"]
    if text is None:
        return None, None
    try:
        given = json.loads(text)
    except ValueError as e:
        module.fail_json(msg=f"lifecycle_policy is not valid JSON: {e}")
    if not isinstance(given, dict) or not isinstance(given.get("rules"), list):
        module.fail_json(msg="lifecycle_policy must be a dict with a list of rules, as ECR takes it.")
    return given, canonical_policy(given)


def ensure_present(client, module):
    params = module.params
    name = params["name"]
    tags = params["tags"]
    given_policy, policy = desired_policy(module)

    current = describe(client, name)
    if current is None:
        encryption = params["encryption"] or ("KMS" if params["kms_key"] else "AES256")
        after = {
            "name": name,
            "image_tag_mutability": params["image_tag_mutability"] or "MUTABLE",
            "scan_on_push": bool(params["scan_on_push"]),
            "encryption": encryption,
            "kms_key": params["kms_key"] if encryption == "KMS" else None,
            "lifecycle_policy": policy,
            "tags": dict(tags or {}),
        }
        result = {"changed": True}
        if module._diff:
            result["diff"] = {"before": {}, "after": after}
        if module.check_mode:
            module.exit_json(repository=after, **result)
        request = {
            "repositoryName": name,
            "imageTagMutability": after["image_tag_mutability"],
            "imageScanningConfiguration": {"scanOnPush": after["scan_on_push"]},
            "encryptionConfiguration": {"encryptionType": encryption},
        }
        if after["kms_key"]:
            request["encryptionConfiguration"]["kmsKey"] = after["kms_key"]
        if tags:
            request["tags"] = ansible_dict_to_boto3_tag_list(tags)
        create_repository(client, **request)
        if given_policy is not None:
            put_lifecycle_policy(client, name, given_policy)
        module.exit_json(repository=describe(client, name) or {}, **result)

    check_encryption(module, current)
    after = dict(current)
    if params["image_tag_mutability"] is not None:
        after["image_tag_mutability"] = params["image_tag_mutability"]
    if params["scan_on_push"] is not None:
        after["scan_on_push"] = params["scan_on_push"]
    if policy is not None:
        after["lifecycle_policy"] = policy
    to_set, to_unset = {}, []
    if tags is not None:
        to_set, to_unset = compare_aws_tags(current["tags"], tags, params["purge_tags"])
    after["tags"] = {k: v for k, v in current["tags"].items() if k not in to_unset}
    after["tags"].update(to_set)

    keys = ("image_tag_mutability", "scan_on_push", "lifecycle_policy", "tags")
    changed = any(after[k] != current[k] for k in keys)
    result = {"changed": changed}
    if module._diff:
        result["diff"] = {
            "before": {k: current[k] for k in ("name", *keys)},
            "after": {k: after[k] for k in ("name", *keys)},
        }
    if not changed or module.check_mode:
        module.exit_json(repository=after, **result)

    if after["image_tag_mutability"] != current["image_tag_mutability"]:
        put_image_tag_mutability(client, name, after["image_tag_mutability"])
    if after["scan_on_push"] != current["scan_on_push"]:
        put_image_scanning_configuration(client, name, after["scan_on_push"])
    if after["lifecycle_policy"] != current["lifecycle_policy"]:
        put_lifecycle_policy(client, name, given_policy)
    if to_unset:
        untag_resource(client, current["arn"], to_unset)
    if to_set:
        tag_resource(client, current["arn"], ansible_dict_to_boto3_tag_list(to_set))
    module.exit_json(repository=describe(client, name) or {}, **result)


def ensure_absent(client, module):
    name = module.params["name"]
    force = module.params["force_delete"]
    current = describe_repository(client, name)
    if current is None:
        module.exit_json(changed=False, repository={})
    if not force:
        images = count_images(client, name)
        if images:
            module.fail_json(
                msg=(
                    f"Repository {name} is not empty: it holds {images} image(s). "
                    "Set force_delete=true to delete it with its images."
                ),
                image_count=images,
            )
    result = {"changed": True, "repository": {}}
    if module._diff:
        result["diff"] = {"before": {"name": name}, "after": {}}
    if module.check_mode:
        module.exit_json(**result)
    result["changed"] = delete_repository(client, name, force)
    module.exit_json(**result)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        image_tag_mutability=dict(type="str", choices=["MUTABLE", "IMMUTABLE"]),
        scan_on_push=dict(type="bool"),
        encryption=dict(type="str", choices=["AES256", "KMS"]),
        kms_key=dict(type="str", no_log=False),
        lifecycle_policy=dict(type="json"),
        force_delete=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params["encryption"] == "AES256" and module.params["kms_key"]:
        module.fail_json(msg="kms_key is only used with encryption=KMS; leave it out for AES256.")
    client = module.client("ecr")
    try:
        if module.params["state"] == "present":
            ensure_present(client, module)
        else:
            ensure_absent(client, module)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
