#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecr_repository_info
version_added: 0.1.0
short_description: Read Amazon ECR repositories with their settings, tags and image counts
description:
  - Return the private ECR repositories of the account and region given by name, or every one
    whose name starts with a prefix (a stack's namespace such as V(bot1/)), or all of them.
  - Each comes as M(kumo.webstack.ecr_repository) returns it (settings, lifecycle policy, tags)
    plus how many images it holds, so a teardown can tell a stack's repositories and the ones
    that still hold images.
  - With O(images=true), also each image the repository holds, with its digest and tags, so a
    push can tell whether a tag is already there.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  names:
    description:
      - Names of the repositories to return. A name that does not exist is left out, not an error.
    type: list
    elements: str
    version_added: 0.1.0
  name_prefix:
    description:
      - Only repositories whose name starts with this prefix (for example V(bot1/)). Ignored when O(names) is set.
    type: str
    version_added: 0.1.0
  images:
    description:
      - Also return the images of each repository (C(ecr:DescribeImages)), in RV(repositories[].images).
    type: bool
    default: false
    version_added: 0.1.0
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - kumo.webstack.aws_attributes.info
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the repositories of stack bot1
  kumo.webstack.ecr_repository_info:
    name_prefix: bot1/
  register: bot1_repositories

- name: Name the ones that still hold images
  ansible.builtin.debug:
    msg: "{{ bot1_repositories.repositories | selectattr('image_count', 'gt', 0) | map(attribute='name') | list }}"

- name: Read one repository with its images
  kumo.webstack.ecr_repository_info:
    names: [bot1/bot]
    images: true
  register: bot_repository

- name: Say whether tag v1 is there
  ansible.builtin.debug:
    msg: "{{ bot_repository.repositories[0].images | selectattr('tags', 'contains', 'v1') | length > 0 }}"
"""

RETURN = r"""
repositories:
  description:
    - The matching repositories sorted by name, each as M(kumo.webstack.ecr_repository) returns it,
      plus C(image_count).
  returned: always
  type: list
  elements: dict
  sample:
    - name: bot1/bot
      arn: arn:aws:ecr:ap-northeast-1:123456789012:repository/bot1/bot
      uri: 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/bot1/bot
      registry_id: "123456789012"
      created_at: "2025-01-01T00:00:00Z"
      image_tag_mutability: IMMUTABLE
      scan_on_push: true
      encryption: AES256
      kms_key: null
      lifecycle_policy: {"rules": []}
      tags: {"Stack": "bot1", "ManagedBy": "kumo.webstack"}
      image_count: 2
  contains:
    image_count:
      description: How many images (distinct digests, tagged or not) the repository holds.
      returned: always
      type: int
      sample: 2
    images:
      description: The images of the repository, oldest push first (then by digest).
      returned: when O(images=true)
      type: list
      elements: dict
      contains:
        digest:
          description: The image's digest (of its manifest).
          type: str
          sample: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        tags:
          description: Its tags, sorted (empty for an untagged image).
          type: list
          elements: str
          sample: [v1]
        pushed_at:
          description: When it was pushed, ISO 8601 in UTC.
          type: str
          sample: "2025-01-01T00:00:00Z"
        size_in_bytes:
          description: Its size as ECR reports it.
          type: int
          sample: 52428800
        manifest_media_type:
          description: The media type of its manifest.
          type: str
          sample: application/vnd.docker.distribution.manifest.v2+json
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils.ecr import (  # noqa: E402
    count_images,
    describe_all_repositories,
    describe_images,
    describe_repository,
    get_lifecycle_policy,
    image_for_output,
    list_tags,
    repository_for_output,
)


def find_repositories(client, params):
    if params.get("names"):
        found = [describe_repository(client, name) for name in sorted(set(params["names"]))]
        repositories = [r for r in found if r]
    else:
        prefix = params.get("name_prefix") or ""
        repositories = [r for r in describe_all_repositories(client) if r["repositoryName"].startswith(prefix)]
    result = []
    for repository in sorted(repositories, key=lambda r: r["repositoryName"]):
        name = repository["repositoryName"]
        found = repository_for_output(
            repository,
            list_tags(client, repository["repositoryArn"]),
            get_lifecycle_policy(client, name),
            count_images(client, name),
        )
        if params.get("images"):
            details = sorted(
                describe_images(client, name), key=lambda d: (str(d.get("imagePushedAt")), d["imageDigest"])
            )
            found["images"] = [image_for_output(d) for d in details]
        result.append(found)
    return result


def main():
    argument_spec = dict(
        names=dict(type="list", elements="str"),
        name_prefix=dict(type="str"),
        images=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ecr")
    try:
        repositories = find_repositories(client, module.params)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, repositories=repositories)


if __name__ == "__main__":
    main()
