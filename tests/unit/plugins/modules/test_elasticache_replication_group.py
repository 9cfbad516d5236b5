"""kumo.webstack.elasticache_replication_group against moto (flows) and botocore Stubber.

moto 5.2.5 makes a group 'available' at once, keeps it forever in 'deleting' after a delete, has
no member clusters to describe, no reader endpoint, and no Increase/DecreaseReplicaCount; those
paths (and AWS's errors) are played with a Stubber.
"""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.modules import elasticache_replication_group as module_under_test

REGION = "ap-northeast-1"
TOKEN = "Sup3r-Secret-Token-0123"
ARN = "arn:aws:elasticache:ap-northeast-1:123456789012:replicationgroup:chat-redis"

CREATE = {
    "replication_group_id": "chat-redis",
    "description": "Redis pub/sub between the chat servers",
    "engine": "redis",
    "cache_node_type": "cache.t4g.micro",
    "replicas_per_node_group": 1,
    "automatic_failover": True,
    "multi_az": True,
    "snapshot_retention_limit": 1,
    "snapshot_window": "17:00-18:00",
    "auth_token": TOKEN,
    "tags": {"Stack": "chat", "ManagedBy": "kumo.webstack"},
}


@pytest.fixture
def moto(aws_env):
    with mock_aws():
        yield boto3.client("elasticache", region_name=REGION)


@pytest.fixture
def stubber(module_stubber):
    return module_stubber("elasticache")


def _group(client):
    return client.describe_replication_groups(ReplicationGroupId="chat-redis")["ReplicationGroups"][0]


def _tags(client):
    return {t["Key"]: t["Value"] for t in client.list_tags_for_resource(ResourceName=ARN)["TagList"]}


# --- moto: create / idempotence / update / delete -------------------------------------------------


def test_create_check_mode_writes_nothing(run_module, moto):
    result = run_module(module_under_test, CREATE, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["replicas_per_node_group"] == 1
    assert result["diff"]["after"]["at_rest_encryption"] is True
    assert result["replication_group"]["replication_group_id"] == "chat-redis"
    assert moto.describe_replication_groups()["ReplicationGroups"] == []


def test_create_then_idempotent(run_module, moto):
    result = run_module(module_under_test, CREATE)
    assert result["changed"] is True
    group = result["replication_group"]
    assert group["replication_group_id"] == "chat-redis"
    assert group["arn"] == ARN
    assert group["status"] == "available"
    assert group["description"] == CREATE["description"]
    assert group["cache_node_type"] == "cache.t4g.micro"
    assert group["member_clusters"] == ["chat-redis-001", "chat-redis-002"]
    assert group["replicas_per_node_group"] == 1
    assert group["primary_endpoint"]["address"].startswith("master.chat-redis.")
    assert group["primary_endpoint"]["port"] == 6379
    assert group["automatic_failover"] == "enabled"
    assert group["multi_az"] == "enabled"
    assert group["at_rest_encryption_enabled"] is True
    assert group["transit_encryption_enabled"] is True
    assert group["auth_token_enabled"] is True
    assert group["tags"] == CREATE["tags"]
    assert TOKEN not in json.dumps(result)  # never echoed back

    again = run_module(module_under_test, CREATE, check_mode=True)
    assert again["changed"] is False
    again = run_module(module_under_test, CREATE)
    assert again["changed"] is False
    assert again["replication_group"]["arn"] == ARN


def test_identifier_is_lowercased(run_module, moto):
    run_module(module_under_test, CREATE)
    result = run_module(module_under_test, dict(CREATE, replication_group_id="Chat-Redis"))
    assert result["changed"] is False


def test_update_in_place(run_module, moto):
    run_module(module_under_test, CREATE)
    update = dict(
        CREATE,
        description="bigger",
        cache_node_type="cache.t4g.small",
        snapshot_retention_limit=3,
        multi_az=False,
        automatic_failover=False,
    )
    checked = run_module(module_under_test, update, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["cache_node_type"] == "cache.t4g.micro"
    assert checked["diff"]["after"]["cache_node_type"] == "cache.t4g.small"
    assert _group(moto)["CacheNodeType"] == "cache.t4g.micro"  # nothing written

    result = run_module(module_under_test, update, diff=True)
    assert result["changed"] is True
    assert result["diff"]["after"]["multi_az"] is False
    group = result["replication_group"]
    assert group["description"] == "bigger"
    assert group["cache_node_type"] == "cache.t4g.small"
    assert group["snapshot_retention_limit"] == 3
    assert group["automatic_failover"] == "disabled"
    assert group["multi_az"] == "disabled"
    assert run_module(module_under_test, update)["changed"] is False


def test_tags(run_module, moto):
    run_module(module_under_test, CREATE)
    add = {"replication_group_id": "chat-redis", "tags": {"Owner": "chat"}, "purge_tags": False}
    checked = run_module(module_under_test, add, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["after"]["tags"] == dict(CREATE["tags"], Owner="chat")
    assert _tags(moto) == CREATE["tags"]
    result = run_module(module_under_test, add)
    assert result["changed"] is True
    assert result["replication_group"]["tags"] == dict(CREATE["tags"], Owner="chat")
    assert run_module(module_under_test, add)["changed"] is False
    purged = run_module(module_under_test, {"replication_group_id": "chat-redis", "tags": {"Stack": "chat"}})
    assert purged["changed"] is True
    assert _tags(moto) == {"Stack": "chat"}


def test_settings_left_out_are_not_compared(run_module, moto):
    run_module(module_under_test, CREATE)
    assert run_module(module_under_test, {"replication_group_id": "chat-redis"})["changed"] is False


def test_member_settings_unreadable_in_moto_are_reported(run_module, moto):
    run_module(module_under_test, CREATE)
    result = run_module(module_under_test, dict(CREATE, engine_version="7.1", security_group_ids=["sg-1"]))
    assert result["changed"] is False
    assert "not compared: engine_version, security_group_ids" in str(result.get("warnings"))


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"port": 6380}, "port (6379 -> 6380): the port is fixed when the group is created"),
        ({"at_rest_encryption": False}, "at_rest_encryption (True -> False)"),
        ({"transit_encryption": False, "auth_token": None}, "transit_encryption (True -> False)"),
        ({"engine": "valkey"}, None),
    ],
)
def test_what_cannot_change_in_place(run_module, moto, overrides, fragment):
    run_module(module_under_test, CREATE)
    result = run_module(module_under_test, dict(CREATE, **overrides))
    if fragment is None:  # redis -> valkey is an in-place upgrade
        assert result["changed"] is True
        assert result["replication_group"]["engine"] == "valkey"
        result = run_module(module_under_test, dict(CREATE, engine="redis"))
        fragment = "engine ('valkey' -> 'redis'): ElastiCache cannot change valkey to redis"
    assert result.failed
    assert result["msg"].startswith("Cannot change in place: ")
    assert fragment in result["msg"]
    assert "Recreate the group" in result["msg"]


def test_delete(run_module, moto):
    run_module(module_under_test, CREATE)
    gone = {"replication_group_id": "chat-redis", "state": "absent", "wait": False}
    checked = run_module(module_under_test, gone, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["cache_node_type"] == "cache.t4g.micro"
    assert checked["diff"]["after"] == {}
    assert _group(moto)["Status"] == "available"

    result = run_module(module_under_test, gone)
    assert result["changed"] is True
    assert result["replication_group"] == {}
    assert _group(moto)["Status"] == "deleting"  # moto stops there; AWS removes it later

    assert run_module(module_under_test, gone, check_mode=True)["changed"] is False
    assert run_module(module_under_test, gone)["changed"] is False
    never = {"replication_group_id": "never-existed", "state": "absent"}
    assert run_module(module_under_test, never)["changed"] is False


# --- errors before any API call -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"auth_token": "short"}, "auth_token must be 16 to 128 characters"),
        ({"transit_encryption": False}, "auth_token requires transit_encryption=true"),
        ({"replicas_per_node_group": 0}, "automatic_failover=true needs at least one replica"),
        ({"replication_group_id": "9lives"}, "replication_group_id '9lives' must be"),
        ({"snapshot_window": "late"}, "snapshot_window 'late' must look like hh24:mi-hh24:mi"),
    ],
)
def test_invalid_options_fail_before_any_api_call(run_module, aws_env, no_api, overrides, fragment):
    result = run_module(module_under_test, dict(CREATE, **overrides))
    assert result.failed
    assert fragment in result["msg"]
    assert TOKEN not in json.dumps(result)


def test_create_needs_node_type(run_module, moto):
    args = dict(CREATE)
    del args["cache_node_type"]
    result = run_module(module_under_test, args)
    assert result.failed
    assert result["msg"] == "Replication group chat-redis does not exist; set cache_node_type to create it."


# --- Stubber: AWS behaviour moto does not emulate --------------------------------------------------


def _aws_group(status="available", replicas=1, **extra):
    members = [
        {
            "CacheClusterId": f"chat-redis-{i + 1:03d}",
            "CacheNodeId": "0001",
            "CurrentRole": "primary" if i == 0 else "replica",
        }
        for i in range(replicas + 1)
    ]
    group = {
        "ReplicationGroupId": "chat-redis",
        "Description": CREATE["description"],
        "Status": status,
        "MemberClusters": [m["CacheClusterId"] for m in members],
        "NodeGroups": [
            {
                "NodeGroupId": "0001",
                "Status": status,
                "PrimaryEndpoint": {"Address": "master.chat-redis.abc.apne1.cache.amazonaws.com", "Port": 6379},
                "ReaderEndpoint": {"Address": "replica.chat-redis.abc.apne1.cache.amazonaws.com", "Port": 6379},
                "NodeGroupMembers": members,
            }
        ],
        "AutomaticFailover": "enabled",
        "MultiAZ": "enabled",
        "SnapshotRetentionLimit": 1,
        "SnapshotWindow": "17:00-18:00",
        "ClusterEnabled": False,
        "CacheNodeType": "cache.t4g.micro",
        "AuthTokenEnabled": True,
        "TransitEncryptionEnabled": True,
        "AtRestEncryptionEnabled": True,
        "ARN": ARN,
        "Engine": "redis",
    }
    group.update(extra)
    return group


MEMBER = {
    "CacheClusterId": "chat-redis-001",
    "Engine": "redis",
    "EngineVersion": "7.1.0",
    "CacheClusterStatus": "available",
    "PreferredMaintenanceWindow": "sun:18:00-sun:19:00",
    "CacheParameterGroup": {"CacheParameterGroupName": "default.redis7"},
    "CacheSubnetGroupName": "chat-cache",
    "SecurityGroups": [{"SecurityGroupId": "sg-1", "Status": "active"}],
    "ReplicationGroupId": "chat-redis",
}
GROUP_ID = {"ReplicationGroupId": "chat-redis"}


def _describe(stub, group=None, member=MEMBER, tags=CREATE["tags"]):
    stub.add_response("describe_replication_groups", {"ReplicationGroups": [group or _aws_group()]}, GROUP_ID)
    if member is None:
        stub.add_client_error("describe_cache_clusters", "CacheClusterNotFound", "not found", 404)
    else:
        stub.add_response("describe_cache_clusters", {"CacheClusters": [member]}, {"CacheClusterId": "chat-redis-001"})
    stub.add_response(
        "list_tags_for_resource",
        {"TagList": [{"Key": k, "Value": v} for k, v in tags.items()]},
        {"ResourceName": ARN},
    )


def _poll(stub, status):
    stub.add_response("describe_replication_groups", {"ReplicationGroups": [_aws_group(status)]}, GROUP_ID)


FULL = dict(
    CREATE,
    engine_version="7.1",
    cache_subnet_group_name="chat-cache",
    security_group_ids=["sg-1"],
    cache_parameter_group_name="default.redis7",
    preferred_maintenance_window="sun:18:00-sun:19:00",
)


def test_aws_create_waits_and_returns_reader_endpoint(run_module, stubber):
    stubber.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", "not found", 404)
    stubber.add_response(
        "create_replication_group",
        {"ReplicationGroup": _aws_group("creating")},
        {
            "ReplicationGroupId": "chat-redis",
            "ReplicationGroupDescription": CREATE["description"],
            "Engine": "redis",
            "EngineVersion": "7.1",
            "CacheNodeType": "cache.t4g.micro",
            "NumNodeGroups": 1,
            "ReplicasPerNodeGroup": 1,
            "AtRestEncryptionEnabled": True,
            "TransitEncryptionEnabled": True,
            "AutomaticFailoverEnabled": True,
            "MultiAZEnabled": True,
            "CacheSubnetGroupName": "chat-cache",
            "SecurityGroupIds": ["sg-1"],
            "CacheParameterGroupName": "default.redis7",
            "AuthToken": TOKEN,
            "PreferredMaintenanceWindow": "sun:18:00-sun:19:00",
            "SnapshotWindow": "17:00-18:00",
            "SnapshotRetentionLimit": 1,
            "Tags": [{"Key": "Stack", "Value": "chat"}, {"Key": "ManagedBy", "Value": "kumo.webstack"}],
        },
    )
    _poll(stubber, "creating")
    _poll(stubber, "available")
    _describe(stubber)
    result = run_module(module_under_test, FULL)
    assert result["changed"] is True
    group = result["replication_group"]
    assert group["reader_endpoint"] == {"address": "replica.chat-redis.abc.apne1.cache.amazonaws.com", "port": 6379}
    assert group["engine_version"] == "7.1.0"
    assert group["security_group_ids"] == ["sg-1"]
    assert group["cache_subnet_group_name"] == "chat-cache"
    assert TOKEN not in json.dumps(result)


def test_aws_full_definition_is_idempotent(run_module, stubber):
    _describe(stubber)
    result = run_module(module_under_test, FULL)
    assert result["changed"] is False
    assert "warnings" not in result


def test_aws_modify_sends_only_the_changes_and_waits(run_module, stubber):
    _describe(stubber)
    stubber.add_response(
        "modify_replication_group",
        {"ReplicationGroup": _aws_group("modifying")},
        {
            "ReplicationGroupId": "chat-redis",
            "ApplyImmediately": True,
            "EngineVersion": "7.2",
            "SecurityGroupIds": ["sg-9", "sg-1"],  # as given; compared as a set
            "CacheParameterGroupName": "chat-redis7",
            "PreferredMaintenanceWindow": "mon:18:00-mon:19:00",
        },
    )
    _poll(stubber, "modifying")
    _poll(stubber, "available")
    _describe(stubber)
    result = run_module(
        module_under_test,
        dict(
            FULL,
            engine_version="7.2",
            security_group_ids=["sg-9", "sg-1"],
            cache_parameter_group_name="chat-redis7",
            preferred_maintenance_window="mon:18:00-mon:19:00",
        ),
        diff=True,
    )
    assert not result.failed, result["msg"]
    assert result["changed"] is True
    assert result["diff"]["before"]["security_group_ids"] == ["sg-1"]
    assert result["diff"]["after"]["security_group_ids"] == ["sg-1", "sg-9"]


def test_aws_modify_check_mode_makes_no_write_call(run_module, stubber):
    _describe(stubber)  # only reads are queued
    result = run_module(module_under_test, dict(FULL, engine_version="7.2"), check_mode=True)
    assert result["changed"] is True


def test_aws_subnet_group_cannot_change(run_module, stubber):
    _describe(stubber)
    result = run_module(module_under_test, dict(FULL, cache_subnet_group_name="other"))
    assert result.failed
    assert "cache_subnet_group_name ('chat-cache' -> 'other'): the subnet group is fixed" in result["msg"]
    assert result["immutable"] == ["cache_subnet_group_name"]


def test_aws_add_replicas_after_a_modification(run_module, stubber):
    _describe(stubber)
    stubber.add_response(
        "modify_replication_group",
        {"ReplicationGroup": _aws_group("modifying")},
        {"ReplicationGroupId": "chat-redis", "ApplyImmediately": True, "CacheNodeType": "cache.t4g.small"},
    )
    _poll(stubber, "available")  # waits between the two calls even with wait=false
    stubber.add_response(
        "increase_replica_count",
        {"ReplicationGroup": _aws_group("modifying")},
        {"ReplicationGroupId": "chat-redis", "NewReplicaCount": 3, "ApplyImmediately": True},
    )
    _describe(stubber, group=_aws_group("modifying", replicas=1, CacheNodeType="cache.t4g.small"))
    result = run_module(
        module_under_test,
        dict(FULL, cache_node_type="cache.t4g.small", replicas_per_node_group=3, wait=False),
        diff=True,
    )
    assert result["changed"] is True
    assert result["diff"]["after"]["replicas_per_node_group"] == 3


def test_aws_remove_replicas(run_module, stubber):
    _describe(stubber, group=_aws_group(replicas=2))
    stubber.add_response(
        "decrease_replica_count",
        {"ReplicationGroup": _aws_group("modifying")},
        {"ReplicationGroupId": "chat-redis", "NewReplicaCount": 1, "ApplyImmediately": True},
    )
    _poll(stubber, "available")
    _describe(stubber)
    result = run_module(module_under_test, FULL)
    assert result["changed"] is True
    assert result["replication_group"]["replicas_per_node_group"] == 1


def test_aws_zero_replicas_with_failover_is_refused(run_module, stubber):
    _describe(stubber)
    args = {"replication_group_id": "chat-redis", "replicas_per_node_group": 0}
    result = run_module(module_under_test, args)
    assert result.failed
    assert "would leave automatic_failover without a replica" in result["msg"]


def test_aws_busy_group_without_wait_fails(run_module, stubber):
    _describe(stubber, group=_aws_group("modifying"))
    result = run_module(module_under_test, dict(FULL, cache_node_type="cache.t4g.small", wait=False))
    assert result.failed
    assert result["msg"] == (
        "Replication group chat-redis is modifying; it can be changed once it is available "
        "(set wait=true to wait for it)."
    )


def test_aws_busy_group_is_waited_for_before_the_change(run_module, stubber):
    _describe(stubber, group=_aws_group("snapshotting"))
    _poll(stubber, "snapshotting")
    _poll(stubber, "available")
    stubber.add_response(
        "modify_replication_group",
        {"ReplicationGroup": _aws_group("modifying")},
        {"ReplicationGroupId": "chat-redis", "ApplyImmediately": True, "SnapshotRetentionLimit": 7},
    )
    _poll(stubber, "available")
    _describe(stubber, group=_aws_group(SnapshotRetentionLimit=7))
    result = run_module(module_under_test, dict(FULL, snapshot_retention_limit=7))
    assert result["changed"] is True
    assert result["replication_group"]["snapshot_retention_limit"] == 7


def test_aws_invalid_state_from_modify_is_reported(run_module, stubber):
    _describe(stubber)
    stubber.add_client_error(
        "modify_replication_group",
        "InvalidReplicationGroupState",
        "Replication group must be in available state to modify.",
        400,
    )
    result = run_module(module_under_test, dict(FULL, description="x"))
    assert result.failed
    assert result["msg"].startswith("Failed to modify replication group")
    assert result["error"]["code"] == "InvalidReplicationGroupState"


def test_aws_enable_auth_token_on_a_group_without_one(run_module, stubber):
    _describe(stubber, group=_aws_group(AuthTokenEnabled=False))
    stubber.add_response(
        "modify_replication_group",
        {"ReplicationGroup": _aws_group("modifying")},
        {
            "ReplicationGroupId": "chat-redis",
            "ApplyImmediately": True,
            "AuthToken": TOKEN,
            "AuthTokenUpdateStrategy": "ROTATE",
        },
    )
    _poll(stubber, "available")
    _describe(stubber)
    result = run_module(module_under_test, FULL, diff=True)
    assert result["changed"] is True
    assert result["diff"]["after"]["auth_token_enabled"] is True
    assert TOKEN not in json.dumps(result)


def test_aws_cluster_mode_group_is_refused(run_module, stubber):
    _describe(stubber, group=_aws_group(ClusterEnabled=True))
    result = run_module(module_under_test, FULL)
    assert result.failed
    assert "has cluster mode enabled" in result["msg"]


def test_aws_create_wait_timeout(run_module, stubber):
    stubber.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", "not found", 404)
    stubber.add_response("create_replication_group", {"ReplicationGroup": _aws_group("creating")}, None)
    for _ in range(4):  # wait_timeout 30 -> 10 s pause, 4 polls
        _poll(stubber, "creating")
    result = run_module(module_under_test, dict(FULL, wait_timeout=30))
    assert result.failed
    assert result["msg"].startswith("Replication group chat-redis was not available after 30 seconds (wait_timeout)")


def test_aws_delete_with_final_snapshot_waits_until_gone(run_module, stubber):
    _describe(stubber)
    stubber.add_response(
        "delete_replication_group",
        {"ReplicationGroup": _aws_group("deleting")},
        {"ReplicationGroupId": "chat-redis", "FinalSnapshotIdentifier": "chat-redis-final"},
    )
    _poll(stubber, "deleting")
    stubber.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", "gone", 404)
    result = run_module(
        module_under_test,
        {"replication_group_id": "chat-redis", "state": "absent", "final_snapshot_identifier": "chat-redis-final"},
    )
    assert result["changed"] is True


def test_aws_delete_while_deleting_is_no_change_and_waits(run_module, stubber):
    _describe(stubber, group=_aws_group("deleting"))
    stubber.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", "gone", 404)
    result = run_module(module_under_test, {"replication_group_id": "chat-redis", "state": "absent"})
    assert result["changed"] is False


def test_aws_delete_refused_while_busy(run_module, stubber):
    _describe(stubber, group=_aws_group("modifying"))
    stubber.add_client_error(
        "delete_replication_group", "InvalidReplicationGroupState", "Replication group is not in available state", 400
    )
    result = run_module(module_under_test, {"replication_group_id": "chat-redis", "state": "absent", "wait": False})
    assert result.failed
    assert result["msg"].startswith("Replication group chat-redis cannot be deleted while it is modifying")


def test_aws_present_while_deleting_fails(run_module, stubber):
    _describe(stubber, group=_aws_group("deleting"))
    result = run_module(module_under_test, FULL)
    assert result.failed
    assert (
        result["msg"] == "Replication group chat-redis is being deleted; run again once it is gone to create it anew."
    )


def test_aws_delete_of_a_busy_group_waits_for_it_first(run_module, stubber):
    _describe(stubber, group=_aws_group("creating"))
    _poll(stubber, "available")
    stubber.add_response(
        "delete_replication_group", {"ReplicationGroup": _aws_group("deleting")}, {"ReplicationGroupId": "chat-redis"}
    )
    stubber.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", "gone", 404)
    result = run_module(module_under_test, {"replication_group_id": "chat-redis", "state": "absent"})
    assert result["changed"] is True
