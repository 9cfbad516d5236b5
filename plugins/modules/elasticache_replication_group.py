#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: elasticache_replication_group
version_added: 0.1.0
short_description: Manage ElastiCache for Redis OSS / Valkey replication groups
description:
  - Create, modify and delete an Amazon ElastiCache replication group running Redis OSS or Valkey with
    cluster mode disabled - one primary node and up to five read replicas - and manage its tags.
  - What C(ModifyReplicationGroup) can change is changed in place and applied immediately (not in the
    maintenance window). The replica count is changed with C(IncreaseReplicaCount) / C(DecreaseReplicaCount).
  - What AWS fixes at creation (O(port), O(at_rest_encryption), O(transit_encryption), O(cache_subnet_group_name),
    and an engine change other than V(redis) to V(valkey)) is never changed; the module fails and names the option.
  - Encryption at rest and in transit are on unless you turn them off.
  - The primary endpoint (writes) and the reader endpoint (reads, spread over the replicas) are returned.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  replication_group_id:
    description:
      - Identifier of the replication group, 1 to 40 letters, digits or hyphens, starting with a letter
        (AWS stores it in lowercase).
    type: str
    required: true
    aliases: [name]
    version_added: 0.1.0
  state:
    description:
      - Whether the replication group should exist.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  description:
    description:
      - Description of the group. A new group without one gets its O(replication_group_id).
    type: str
    version_added: 0.1.0
  engine:
    description:
      - Cache engine. A new group without one runs V(redis).
      - An existing V(redis) group can be upgraded to V(valkey) in place (set O(engine_version) too);
        V(valkey) cannot go back to V(redis).
    type: str
    choices: [redis, valkey]
    version_added: 0.1.0
  engine_version:
    description:
      - Engine version, for example V(7.1) or V(7.2). V(7.1) matches a group running C(7.1.0).
        AWS can upgrade but not downgrade the version in place.
    type: str
    version_added: 0.1.0
  cache_node_type:
    description:
      - Node type of every node, for example V(cache.t4g.micro). Required to create a group;
        changing it scales the group online.
    type: str
    version_added: 0.1.0
  replicas_per_node_group:
    description:
      - Number of read replicas of the primary, 0 to 5; the group has this many nodes plus one.
      - A new group without it gets no replicas. Changing it adds or removes replicas in place.
    type: int
    version_added: 0.1.0
  automatic_failover:
    description:
      - Whether a replica is promoted when the primary fails. Needs at least one replica.
    type: bool
    version_added: 0.1.0
  multi_az:
    description:
      - Whether replicas are placed in other Availability Zones than the primary, for fail-over across
        zones. Needs O(automatic_failover=true).
    type: bool
    version_added: 0.1.0
  cache_subnet_group_name:
    description:
      - Cache subnet group (the VPC subnets) the nodes are placed in. Fixed at creation.
    type: str
    version_added: 0.1.0
  security_group_ids:
    description:
      - VPC security groups of the nodes. Compared as a set; changed in place.
    type: list
    elements: str
    version_added: 0.1.0
  cache_parameter_group_name:
    description:
      - Cache parameter group. AWS uses the engine's default group when it is left out at creation.
    type: str
    version_added: 0.1.0
  port:
    description:
      - Port the nodes listen on. AWS uses V(6379) when it is left out. Fixed at creation.
    type: int
    version_added: 0.1.0
  at_rest_encryption:
    description:
      - Encrypt data on disk. Fixed at creation; with the default V(true), an existing unencrypted group
        makes the module fail until you set V(false).
    type: bool
    default: true
    version_added: 0.1.0
  transit_encryption:
    description:
      - Require TLS between clients and the nodes. Fixed at creation (as for O(at_rest_encryption)).
    type: bool
    default: true
    version_added: 0.1.0
  auth_token:
    description:
      - Password (Redis AUTH token) clients must send. Needs O(transit_encryption=true).
        16 to 128 printable characters; the only special characters allowed are C(!), C(&), C(#), C($), C(^),
        C(<), C(>) and C(-).
      - AWS never returns the token, so it cannot be compared. It is set when the group is created, or when
        an existing group has no token yet; to replace the token of a group that has one, add O(rotate_auth_token=true).
      - It is never logged nor returned.
    type: str
    version_added: 0.1.0
  rotate_auth_token:
    description:
      - Send O(auth_token) as the new token (AWS C(ROTATE) strategy, the old token keeps working until the next
        rotation). Always reports a change, so set it only for the run that rotates.
    type: bool
    default: false
    version_added: 0.1.0
  preferred_maintenance_window:
    description:
      - Weekly maintenance window in UTC, C(ddd:hh24:mi-ddd:hh24:mi), at least 60 minutes,
        for example V(sun:18:00-sun:19:00).
    type: str
    version_added: 0.1.0
  snapshot_window:
    description:
      - Daily window in UTC, C(hh24:mi-hh24:mi), in which automatic snapshots start, for example V(17:00-18:00).
    type: str
    version_added: 0.1.0
  snapshot_retention_limit:
    description:
      - Days automatic snapshots are kept, 0 to 35. V(0) turns automatic snapshots off.
    type: int
    version_added: 0.1.0
  final_snapshot_identifier:
    description:
      - With O(state=absent), the name of a snapshot AWS takes just before deleting the group.
    type: str
    version_added: 0.1.0
  wait:
    description:
      - Wait until the group is available after a create or a change, or gone after a delete.
      - Without waiting, the returned endpoints may be empty and a later change may be refused while the group is busy.
      - When both a change and a new replica count are needed, the module waits between the two calls even with
        O(wait=false), because AWS refuses the second while the first is in progress.
    type: bool
    default: true
    version_added: 0.1.0
  wait_timeout:
    description:
      - How many seconds to wait. Creating a group usually takes 5 to 15 minutes.
    type: int
    default: 1800
    version_added: 0.1.0
notes:
  - Only cluster-mode-disabled groups (one shard) are managed; the module refuses a group with cluster mode enabled.
  - The engine version, parameter group, security groups, subnet group and maintenance window are read from the
    primary member cluster. When it cannot be read they are not compared, and the module warns.
  - Changes are sent with C(ApplyImmediately=true).
attributes:
  check_mode:
    support: full
    details:
      - The replication group is read, and the task says what it would create, change or delete without doing
        it. A group that would be created is returned with the settings it would get. O(wait) is ignored.
      - A change that ElastiCache cannot make in place fails in check mode too.
  diff_mode:
    support: full
    details:
      - The group's settings and tags before and after, with whether an AUTH token is set (never the token).
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the chat stack's Redis (one primary, one replica in another AZ)
  kumo.webstack.elasticache_replication_group:
    replication_group_id: chat-redis
    description: Redis pub/sub between the chat servers
    engine: redis
    engine_version: "7.1"
    cache_node_type: cache.t4g.micro
    replicas_per_node_group: 1
    automatic_failover: true
    multi_az: true
    cache_subnet_group_name: chat-cache
    security_group_ids:
      - sg-0123456789abcdef0
    auth_token: "{{ chat_redis_auth_token }}"
    snapshot_retention_limit: 1
    snapshot_window: "17:00-18:00"
    preferred_maintenance_window: "sun:18:00-sun:19:00"
    tags:
      Stack: chat
      ManagedBy: kumo.webstack
  register: chat_redis
  no_log: true  # the task's arguments hold the AUTH token

- name: Point the chat servers at the primary endpoint
  ansible.builtin.set_fact:
    chat_redis_host: "{{ chat_redis.replication_group.primary_endpoint.address }}"
    chat_redis_port: "{{ chat_redis.replication_group.primary_endpoint.port }}"

- name: Scale up and add a second replica
  kumo.webstack.elasticache_replication_group:
    replication_group_id: chat-redis
    cache_node_type: cache.t4g.small
    replicas_per_node_group: 2

- name: Delete the group, keeping a final snapshot
  kumo.webstack.elasticache_replication_group:
    replication_group_id: chat-redis
    state: absent
    final_snapshot_identifier: chat-redis-final
"""

RETURN = r"""
replication_group:
  description:
    - The replication group as C(DescribeReplicationGroups) returns it, in snake_case, plus the keys below;
      empty after O(state=absent).
    - In check mode, for a group that does not exist yet, the settings it would be created with.
  returned: always
  type: dict
  contains:
    replication_group_id:
      description: Identifier of the group.
      returned: when the group exists
      type: str
      sample: chat-redis
    arn:
      description: ARN of the group.
      returned: when the group exists
      type: str
      sample: arn:aws:elasticache:ap-northeast-1:123456789012:replicationgroup:chat-redis
    status:
      description: V(creating), V(available), V(modifying), V(deleting), V(create-failed) or V(snapshotting).
      returned: when the group exists
      type: str
      sample: available
    description:
      description: Description of the group.
      returned: when the group exists
      type: str
    engine:
      description: V(redis) or V(valkey).
      returned: when AWS reports it
      type: str
      sample: redis
    engine_version:
      description: Engine version the nodes run (from the primary member cluster).
      returned: when the member cluster could be read
      type: str
      sample: 7.1.0
    cache_node_type:
      description: Node type.
      returned: when the group exists
      type: str
      sample: cache.t4g.micro
    primary_endpoint:
      description: Address and port for writes (follows fail-overs).
      returned: when the group exists (null until it is available)
      type: dict
      sample: {"address": "master.chat-redis.abcdef.apne1.cache.amazonaws.com", "port": 6379}
    reader_endpoint:
      description: Address and port spreading reads over the replicas.
      returned: when the group exists (null until it is available, or when AWS does not report one)
      type: dict
      sample: {"address": "replica.chat-redis.abcdef.apne1.cache.amazonaws.com", "port": 6379}
    member_clusters:
      description: Identifiers of the member clusters (one per node).
      returned: when the group exists
      type: list
      elements: str
      sample: ["chat-redis-001", "chat-redis-002"]
    replicas_per_node_group:
      description: Number of read replicas.
      returned: when the group exists
      type: int
      sample: 1
    node_groups:
      description: The shard with its members, their roles and read endpoints, as AWS describes it.
      returned: when the group exists
      type: list
      elements: dict
    automatic_failover:
      description: V(enabled), V(disabled), V(enabling) or V(disabling).
      returned: when the group exists
      type: str
      sample: enabled
    multi_az:
      description: V(enabled) or V(disabled).
      returned: when the group exists
      type: str
      sample: enabled
    at_rest_encryption_enabled:
      description: Whether data on disk is encrypted.
      returned: when the group exists
      type: bool
      sample: true
    transit_encryption_enabled:
      description: Whether TLS is required.
      returned: when the group exists
      type: bool
      sample: true
    auth_token_enabled:
      description: Whether an AUTH token is set (the token itself is never returned).
      returned: when the group exists
      type: bool
      sample: true
    security_group_ids:
      description: VPC security groups of the nodes (from the primary member cluster).
      returned: when the member cluster could be read
      type: list
      elements: str
    cache_parameter_group_name:
      description: Cache parameter group (from the primary member cluster).
      returned: when the member cluster could be read
      type: str
    cache_subnet_group_name:
      description: Cache subnet group (from the primary member cluster).
      returned: when the member cluster could be read
      type: str
    preferred_maintenance_window:
      description: Weekly maintenance window (from the primary member cluster).
      returned: when the member cluster could be read
      type: str
      sample: sun:18:00-sun:19:00
    snapshot_window:
      description: Daily snapshot window.
      returned: when the group exists
      type: str
      sample: "17:00-18:00"
    snapshot_retention_limit:
      description: Days automatic snapshots are kept.
      returned: when the group exists
      type: int
      sample: 1
    tags:
      description: Tags of the group.
      returned: when the group exists
      type: dict
      sample: {"Stack": "chat", "ManagedBy": "kumo.webstack"}
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import (  # noqa: E402
    AnsibleAWSError,
    is_ansible_aws_error_code,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (  # noqa: E402
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

from ansible_collections.kumo.webstack.plugins.module_utils import elasticache  # noqa: E402

BUSY = ("creating", "modifying", "snapshotting")


def describe(client, replication_group_id):
    """(group, member cluster or None, tags) or (None, None, None)."""
    group = elasticache.describe_replication_group(client, replication_group_id)
    if group is None:
        return None, None, None
    member_id = elasticache.primary_member_id(group)
    member = elasticache.describe_cache_cluster(client, member_id) if member_id else None
    tags = boto3_tag_list_to_ansible_dict(elasticache.list_tags(client, group["ARN"])) if group.get("ARN") else {}
    return group, member, tags


def output(group, member, tags):
    if group is None:
        return {}
    result, extra = elasticache.group_for_output(group, member, tags)
    result = camel_dict_to_snake_dict(result)
    result.update(extra)
    return result


def _diff_view(settings):
    return {k: v for k, v in settings.items() if v is not None}


def _wait_until_ready(client, module, group):
    """Before a change: wait for a busy group (creating, modifying, snapshotting), or fail without wait."""
    status = group.get("Status")
    if status in BUSY:
        if not module.params["wait"]:
            module.fail_json(
                msg=f"Replication group {group['ReplicationGroupId']} is {status}; it can be changed once it is "
                "available (set wait=true to wait for it)."
            )
        elasticache.wait_available(client, group["ReplicationGroupId"], module.params["wait_timeout"])


def create(client, module, tags):
    params = module.params
    if not params.get("cache_node_type"):
        module.fail_json(
            msg=f"Replication group {params['replication_group_id']} does not exist; set cache_node_type to create it."
        )
    planned = elasticache.planned_settings(params, tags)
    result = {"changed": True}
    if module._diff:
        result["diff"] = {"before": {}, "after": _diff_view(planned)}
    if module.check_mode:
        module.exit_json(
            replication_group=dict(_diff_view(planned), replication_group_id=params["replication_group_id"]), **result
        )
    request = elasticache.create_request(params, ansible_dict_to_boto3_tag_list(tags) if tags else None)
    elasticache.create_replication_group(client, **request)
    if params["wait"]:
        elasticache.wait_available(client, request["ReplicationGroupId"], params["wait_timeout"])
    module.exit_json(replication_group=output(*describe(client, request["ReplicationGroupId"])), **result)


def ensure_present(client, module):
    params = module.params
    group_id = params["replication_group_id"]
    group, member, tags = describe(client, group_id)
    if group is None:
        create(client, module, params.get("tags"))
        return
    if group.get("Status") == "deleting":
        module.fail_json(
            msg=f"Replication group {group_id} is being deleted; run again once it is gone to create it anew."
        )
    if group.get("ClusterEnabled"):
        module.fail_json(
            msg=f"Replication group {group_id} has cluster mode enabled; "
            "this module manages cluster-mode-disabled groups only."
        )

    current = elasticache.current_settings(group, member, tags)
    modify, replicas, immutable, unknown, after = elasticache.plan_changes(params, current)
    if immutable:
        module.fail_json(
            msg="Cannot change in place: "
            + "; ".join(f"{option} ({have!r} -> {want!r}): {why}" for option, have, want, why in immutable)
            + ". Recreate the group (state=absent, then present) to change these, "
            "or set the options to the current values.",
            immutable=[option for option, _have, _want, _why in immutable],
        )
    failover = params.get("automatic_failover")
    failover = current["automatic_failover"] if failover is None else failover
    if failover and replicas == 0:
        module.fail_json(
            msg="replicas_per_node_group=0 would leave automatic_failover without a replica; "
            "disable automatic_failover first."
        )
    if unknown:
        module.warn(f"Could not read the primary member cluster of {group_id}; not compared: {', '.join(unknown)}.")

    to_set, to_unset = {}, []
    if params.get("tags") is not None:
        to_set, to_unset = compare_aws_tags(tags, params["tags"], params["purge_tags"])
        after["tags"] = {k: v for k, v in tags.items() if k not in to_unset}
        after["tags"].update(to_set)

    result = {"changed": bool(modify or replicas is not None or to_set or to_unset)}
    if module._diff:
        result["diff"] = {"before": _diff_view(current), "after": _diff_view(after)}
    if not result["changed"] or module.check_mode:
        module.exit_json(replication_group=output(group, member, tags), **result)

    if modify or replicas is not None:
        _wait_until_ready(client, module, group)
    if modify:
        elasticache.modify_replication_group(client, **elasticache.modify_request(group["ReplicationGroupId"], modify))
        if replicas is not None or params["wait"]:
            elasticache.wait_available(client, group["ReplicationGroupId"], params["wait_timeout"])
    if replicas is not None:
        if replicas > current["replicas_per_node_group"]:
            elasticache.increase_replica_count(client, group["ReplicationGroupId"], replicas)
        else:
            elasticache.decrease_replica_count(client, group["ReplicationGroupId"], replicas)
        if params["wait"]:
            elasticache.wait_available(client, group["ReplicationGroupId"], params["wait_timeout"])
    if to_unset:
        elasticache.remove_tags(client, group["ARN"], to_unset)
    if to_set:
        elasticache.add_tags(client, group["ARN"], ansible_dict_to_boto3_tag_list(to_set))
    module.exit_json(replication_group=output(*describe(client, group_id)), **result)


def ensure_absent(client, module):
    params = module.params
    group_id = params["replication_group_id"]
    group, member, tags = describe(client, group_id)
    deleting = group is not None and group.get("Status") == "deleting"
    result = {"changed": group is not None and not deleting, "replication_group": {}}
    if module._diff:
        before = _diff_view(elasticache.current_settings(group, member, tags)) if group else {}
        result["diff"] = {"before": before, "after": {}}
    if group is None or module.check_mode:
        module.exit_json(**result)
    if not deleting:
        if group.get("Status") in BUSY and params["wait"]:
            elasticache.wait_available(client, group["ReplicationGroupId"], params["wait_timeout"])
        try:
            result["changed"] = elasticache.delete_replication_group(
                client, group["ReplicationGroupId"], params.get("final_snapshot_identifier")
            )
        except is_ansible_aws_error_code("InvalidReplicationGroupState") as e:
            module.fail_json_aws(
                e.exception,
                msg=f"Replication group {group_id} cannot be deleted while it is {group.get('Status')}; "
                "run again once it is available (wait=true waits for it)",
            )
    if params["wait"]:
        elasticache.wait_deleted(client, group["ReplicationGroupId"], params["wait_timeout"])
    module.exit_json(**result)


def main():
    argument_spec = dict(
        replication_group_id=dict(type="str", required=True, aliases=["name"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        description=dict(type="str"),
        engine=dict(type="str", choices=["redis", "valkey"]),
        engine_version=dict(type="str"),
        cache_node_type=dict(type="str"),
        replicas_per_node_group=dict(type="int"),
        automatic_failover=dict(type="bool"),
        multi_az=dict(type="bool"),
        cache_subnet_group_name=dict(type="str"),
        security_group_ids=dict(type="list", elements="str"),
        cache_parameter_group_name=dict(type="str"),
        port=dict(type="int"),
        at_rest_encryption=dict(type="bool", default=True),
        transit_encryption=dict(type="bool", default=True),
        auth_token=dict(type="str", no_log=True),
        rotate_auth_token=dict(type="bool", default=False),
        preferred_maintenance_window=dict(type="str"),
        snapshot_window=dict(type="str"),
        snapshot_retention_limit=dict(type="int"),
        final_snapshot_identifier=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    # AWS stores (and answers with) the identifier in lowercase.
    module.params["replication_group_id"] = module.params["replication_group_id"].lower()
    problems = elasticache.validate_params(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    client = module.client("elasticache")
    try:
        if module.params["state"] == "present":
            ensure_present(client, module)
        else:
            ensure_absent(client, module)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
