#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: elasticache_replication_group_info
version_added: 0.1.0
short_description: Read ElastiCache for Redis OSS / Valkey replication groups
description:
  - Return one replication group, or all of them, with their endpoints, member clusters and tags,
    in the form M(kumo.webstack.elasticache_replication_group) returns.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  replication_group_id:
    description:
      - Identifier of the group to return. Without it, every group of the region is returned.
      - An unknown identifier returns an empty list, not an error.
    type: str
    aliases: [name]
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
- name: Read the chat stack's Redis
  kumo.webstack.elasticache_replication_group_info:
    replication_group_id: chat-redis
  register: chat_redis

- name: Show where to connect
  ansible.builtin.debug:
    msg: >-
      primary {{ chat_redis.replication_groups[0].primary_endpoint.address }},
      reader {{ chat_redis.replication_groups[0].reader_endpoint.address | default('none') }}
  when: chat_redis.replication_groups | length > 0

- name: List the groups of the chat stack
  kumo.webstack.elasticache_replication_group_info:
  register: all_groups

- name: Keep those tagged Stack=chat
  ansible.builtin.set_fact:
    chat_groups: >-
      {{ all_groups.replication_groups | selectattr('tags.Stack', 'defined')
         | selectattr('tags.Stack', 'eq', 'chat') | list }}
"""

RETURN = r"""
replication_groups:
  description:
    - The matching replication groups, sorted by identifier, each as M(kumo.webstack.elasticache_replication_group)
      returns it (C(DescribeReplicationGroups) in snake_case plus C(primary_endpoint), C(reader_endpoint),
      C(replicas_per_node_group), C(tags) and the member cluster's C(engine_version), C(cache_parameter_group_name),
      C(cache_subnet_group_name), C(security_group_ids) and C(preferred_maintenance_window)).
  returned: always
  type: list
  elements: dict
  sample:
    - replication_group_id: chat-redis
      arn: arn:aws:elasticache:ap-northeast-1:123456789012:replicationgroup:chat-redis
      status: available
      engine: redis
      engine_version: 7.1.0
      cache_node_type: cache.t4g.micro
      member_clusters: ["chat-redis-001", "chat-redis-002"]
      replicas_per_node_group: 1
      primary_endpoint: {"address": "master.chat-redis.abcdef.apne1.cache.amazonaws.com", "port": 6379}
      reader_endpoint: {"address": "replica.chat-redis.abcdef.apne1.cache.amazonaws.com", "port": 6379}
      automatic_failover: enabled
      multi_az: enabled
      at_rest_encryption_enabled: true
      transit_encryption_enabled: true
      auth_token_enabled: true
      tags: {"Stack": "chat", "ManagedBy": "kumo.webstack"}
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils import elasticache  # noqa: E402


def read_group(client, group):
    member_id = elasticache.primary_member_id(group)
    member = elasticache.describe_cache_cluster(client, member_id) if member_id else None
    tags = boto3_tag_list_to_ansible_dict(elasticache.list_tags(client, group["ARN"])) if group.get("ARN") else {}
    result, extra = elasticache.group_for_output(group, member, tags)
    result = camel_dict_to_snake_dict(result)
    result.update(extra)
    return result


def main():
    argument_spec = dict(replication_group_id=dict(type="str", aliases=["name"]))
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("elasticache")
    group_id = module.params.get("replication_group_id")
    try:
        if group_id:
            group = elasticache.describe_replication_group(client, group_id.lower())
            groups = [group] if group else []
        else:
            groups = elasticache.describe_replication_groups(client)
        groups = sorted(groups, key=lambda g: g["ReplicationGroupId"])
        result = [read_group(client, group) for group in groups]
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, replication_groups=result)


if __name__ == "__main__":
    main()
