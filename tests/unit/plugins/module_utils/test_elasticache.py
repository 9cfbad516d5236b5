"""Pure helpers, waiters and API wrappers of module_utils/elasticache.py."""

from __future__ import annotations

import boto3
import botocore.waiter
import pytest
from botocore.stub import Stubber

from ansible_collections.kumo.webstack.plugins.module_utils import elasticache

ARN = "arn:aws:elasticache:ap-northeast-1:123456789012:replicationgroup:chat-redis"


def group(status="available", replicas=1, **extra):
    members = [
        {
            "CacheClusterId": f"chat-redis-{i + 1:03d}",
            "CacheNodeId": "0001",
            "CurrentRole": "primary" if i == 0 else "replica",
            "ReadEndpoint": {"Address": f"chat-redis-{i + 1:03d}.abc.apne1.cache.amazonaws.com", "Port": 6379},
        }
        for i in range(replicas + 1)
    ]
    result = {
        "ReplicationGroupId": "chat-redis",
        "Description": "chat",
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
    result.update(extra)
    return result


MEMBER = {
    "CacheClusterId": "chat-redis-001",
    "Engine": "redis",
    "EngineVersion": "7.1.0",
    "CacheClusterStatus": "available",
    "PreferredMaintenanceWindow": "sun:18:00-sun:19:00",
    "CacheParameterGroup": {"CacheParameterGroupName": "default.redis7", "ParameterApplyStatus": "in-sync"},
    "CacheSubnetGroupName": "chat-cache",
    "SecurityGroups": [
        {"SecurityGroupId": "sg-2", "Status": "active"},
        {"SecurityGroupId": "sg-1", "Status": "active"},
    ],
    "ReplicationGroupId": "chat-redis",
}


def params(**kwargs):
    base = {option: None for option in elasticache.MODIFIABLE}
    base.update({option: None for option in elasticache.IMMUTABLE})
    base.update(
        replication_group_id="chat-redis",
        state="present",
        engine=None,
        replicas_per_node_group=None,
        auth_token=None,
        rotate_auth_token=False,
    )
    base.update(kwargs)
    return base


# --- validation -------------------------------------------------------------------------------


def test_valid_params_have_no_problems():
    assert (
        elasticache.validate_params(
            params(
                replicas_per_node_group=2,
                automatic_failover=True,
                multi_az=True,
                snapshot_retention_limit=35,
                preferred_maintenance_window="Sun:18:00-sun:19:30",
                snapshot_window="17:00-18:00",
                port=6380,
                auth_token="Abcdefgh12345678!&#$^<>-",
                transit_encryption=True,
            )
        )
        == []
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"replication_group_id": "1chat"}, "replication_group_id '1chat' must be 1 to 40 letters"),
        ({"replication_group_id": "chat--redis"}, "two consecutive hyphens"),
        ({"replication_group_id": "chat-"}, "neither end with a hyphen"),
        ({"replication_group_id": "a" * 41}, "must be 1 to 40"),
        ({"replicas_per_node_group": 6}, "replicas_per_node_group must be 0 to 5, got 6"),
        (
            {"replicas_per_node_group": 0, "automatic_failover": True},
            "automatic_failover=true needs at least one replica",
        ),
        ({"multi_az": True, "automatic_failover": False}, "multi_az=true needs automatic_failover=true"),
        ({"snapshot_retention_limit": 36}, "snapshot_retention_limit must be 0 to 35 days, got 36"),
        (
            {"preferred_maintenance_window": "sunday 18:00"},
            "preferred_maintenance_window 'sunday 18:00' must look like",
        ),
        ({"snapshot_window": "5:00-6:00"}, "snapshot_window '5:00-6:00' must look like hh24:mi-hh24:mi"),
        ({"port": 70000}, "port must be 1 to 65535, got 70000"),
        (
            {"auth_token": "a" * 16, "transit_encryption": False},
            "auth_token requires transit_encryption=true",
        ),
        ({"auth_token": "short"}, "auth_token must be 16 to 128 characters"),
        ({"auth_token": "with space in the token"}, "auth_token must be 16 to 128 characters"),
        ({"rotate_auth_token": True}, "rotate_auth_token=true needs the new auth_token"),
    ],
)
def test_invalid_params(overrides, message):
    problems = elasticache.validate_params(params(**overrides))
    assert any(message in p for p in problems), problems


def test_absent_only_checks_the_identifier():
    assert elasticache.validate_params(params(state="absent", port=0)) == []


@pytest.mark.parametrize(
    ("desired", "current", "same"),
    [
        ("7.1", "7.1.0", True),
        ("7.1.0", "7.1.0", True),
        ("6.x", "6.0.5", True),
        ("7.1", "7.10.0", False),
        ("7.0", "7.1.0", False),
        ("7.2", "7.1.0", False),
        (None, "7.1.0", True),
    ],
)
def test_engine_version_matches(desired, current, same):
    assert elasticache.engine_version_matches(desired, current) is same


# --- reading and planning -----------------------------------------------------------------------


def test_current_settings_from_group_and_member():
    settings = elasticache.current_settings(group(), MEMBER, {"Stack": "chat"})
    assert settings == {
        "description": "chat",
        "engine": "redis",
        "engine_version": "7.1.0",
        "cache_node_type": "cache.t4g.micro",
        "replicas_per_node_group": 1,
        "automatic_failover": True,
        "multi_az": True,
        "cache_subnet_group_name": "chat-cache",
        "security_group_ids": ["sg-1", "sg-2"],
        "cache_parameter_group_name": "default.redis7",
        "port": 6379,
        "at_rest_encryption": True,
        "transit_encryption": True,
        "auth_token_enabled": True,
        "preferred_maintenance_window": "sun:18:00-sun:19:00",
        "snapshot_window": "17:00-18:00",
        "snapshot_retention_limit": 1,
        "tags": {"Stack": "chat"},
    }


def test_current_settings_without_member_leaves_member_settings_unknown():
    settings = elasticache.current_settings(group(), None, {})
    for option in elasticache.MEMBER_SETTINGS:
        assert settings[option] is None
    assert settings["cache_node_type"] == "cache.t4g.micro"


def test_replica_count_and_primary_member():
    assert elasticache.replica_count(group(replicas=3)) == 3
    assert elasticache.replica_count({"MemberClusters": ["a", "b"]}) == 1
    assert elasticache.replica_count({}) == 0
    assert elasticache.primary_member_id(group()) == "chat-redis-001"
    assert elasticache.primary_member_id({"MemberClusters": ["x-001"]}) == "x-001"
    assert elasticache.primary_member_id({}) is None


def test_plan_no_change_when_equal():
    current = elasticache.current_settings(group(), MEMBER, {})
    desired = params(
        engine="redis",
        engine_version="7.1",
        cache_node_type="cache.t4g.micro",
        replicas_per_node_group=1,
        security_group_ids=["sg-2", "sg-1"],
        preferred_maintenance_window="SUN:18:00-SUN:19:00",
        port=6379,
        at_rest_encryption=True,
        transit_encryption=True,
        auth_token="a" * 16,
    )
    assert elasticache.plan_changes(desired, current)[:4] == ({}, None, [], [])


def test_plan_modifiable_changes():
    current = elasticache.current_settings(group(), MEMBER, {})
    modify, replicas, immutable, unknown, after = elasticache.plan_changes(
        params(cache_node_type="cache.t4g.small", security_group_ids=["sg-3"], replicas_per_node_group=2), current
    )
    assert modify == {"cache_node_type": "cache.t4g.small", "security_group_ids": ["sg-3"]}
    assert replicas == 2
    assert immutable == [] and unknown == []
    assert after["cache_node_type"] == "cache.t4g.small"
    assert after["replicas_per_node_group"] == 2
    assert current["cache_node_type"] == "cache.t4g.micro"  # not modified in place
    request = elasticache.modify_request("chat-redis", modify)
    assert request == {
        "ReplicationGroupId": "chat-redis",
        "ApplyImmediately": True,
        "CacheNodeType": "cache.t4g.small",
        "SecurityGroupIds": ["sg-3"],
    }


def test_plan_immutable_changes():
    current = elasticache.current_settings(group(), MEMBER, {})
    _modify, _replicas, immutable, _unknown, _after = elasticache.plan_changes(
        params(port=6380, at_rest_encryption=False, transit_encryption=False, cache_subnet_group_name="other"), current
    )
    assert [i[0] for i in immutable] == ["port", "at_rest_encryption", "transit_encryption", "cache_subnet_group_name"]


def test_plan_engine_change():
    redis = elasticache.current_settings(group(), MEMBER, {})
    modify, *_rest = elasticache.plan_changes(params(engine="valkey", engine_version="7.2"), redis)
    assert modify == {"engine": "valkey", "engine_version": "7.2"}
    assert elasticache.modify_request("chat-redis", modify)["Engine"] == "valkey"
    valkey = elasticache.current_settings(group(Engine="valkey"), MEMBER, {})
    _modify, _replicas, immutable, *_ = elasticache.plan_changes(params(engine="redis"), valkey)
    assert immutable[0][0] == "engine"
    assert "cannot change valkey to redis" in immutable[0][3]


def test_plan_unknown_member_settings():
    current = elasticache.current_settings(group(), None, {})
    modify, _replicas, immutable, unknown, _after = elasticache.plan_changes(
        params(engine_version="7.1", cache_subnet_group_name="chat-cache", cache_node_type="cache.t4g.micro"), current
    )
    assert unknown == ["engine_version", "cache_subnet_group_name"]
    assert modify == {} and immutable == []


def test_plan_auth_token():
    without = elasticache.current_settings(group(AuthTokenEnabled=False), MEMBER, {})
    modify, *_ = elasticache.plan_changes(params(auth_token="a" * 16), without)
    assert modify == {"auth_token": "a" * 16}
    request = elasticache.modify_request("chat-redis", modify)
    assert request["AuthToken"] == "a" * 16 and request["AuthTokenUpdateStrategy"] == "ROTATE"
    with_token = elasticache.current_settings(group(), MEMBER, {})
    assert elasticache.plan_changes(params(auth_token="a" * 16), with_token)[0] == {}
    assert elasticache.plan_changes(params(auth_token="b" * 16, rotate_auth_token=True), with_token)[0] == {
        "auth_token": "b" * 16
    }


def test_create_request_defaults_and_options():
    request = elasticache.create_request(
        params(cache_node_type="cache.t4g.micro", replicas_per_node_group=None), [{"Key": "Stack", "Value": "chat"}]
    )
    assert request == {
        "ReplicationGroupId": "chat-redis",
        "ReplicationGroupDescription": "chat-redis",
        "Engine": "redis",
        "CacheNodeType": "cache.t4g.micro",
        "NumNodeGroups": 1,
        "ReplicasPerNodeGroup": 0,
        "AtRestEncryptionEnabled": True,
        "TransitEncryptionEnabled": True,
        "Tags": [{"Key": "Stack", "Value": "chat"}],
    }
    full = elasticache.create_request(
        params(cache_node_type="x", engine="valkey", port=6380, auth_token="t" * 16, replicas_per_node_group=2), None
    )
    assert full["Engine"] == "valkey" and full["Port"] == 6380 and full["AuthToken"] == "t" * 16
    assert full["ReplicasPerNodeGroup"] == 2 and "Tags" not in full


def test_group_for_output_adds_endpoints_member_data_and_tags():
    import datetime

    created = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    result, extra = elasticache.group_for_output(group(ReplicationGroupCreateTime=created), MEMBER, {"a": "b"})
    assert result["ReplicationGroupCreateTime"] == "2025-01-02T03:04:05Z"
    assert extra["primary_endpoint"] == {"address": "master.chat-redis.abc.apne1.cache.amazonaws.com", "port": 6379}
    assert extra["reader_endpoint"]["address"].startswith("replica.")
    assert extra["configuration_endpoint"] is None
    assert extra["replicas_per_node_group"] == 1
    assert extra["engine_version"] == "7.1.0"
    assert extra["security_group_ids"] == ["sg-2", "sg-1"]
    assert extra["tags"] == {"a": "b"}
    _result, bare = elasticache.group_for_output(group(), None, {})
    assert "engine_version" not in bare


# --- API wrappers and waiters (Stubber) ----------------------------------------------------------


@pytest.fixture
def stubbed(aws_env, monkeypatch):
    monkeypatch.setattr(botocore.waiter.time, "sleep", lambda _seconds: None)
    client = boto3.client("elasticache", region_name="ap-northeast-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


DESCRIBE = {"ReplicationGroupId": "chat-redis"}


def test_describe_missing_is_none(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", "not found", 404)
    assert elasticache.describe_replication_group(client, "chat-redis") is None
    stubber.add_client_error("describe_cache_clusters", "CacheClusterNotFound", "not found", 404)
    assert elasticache.describe_cache_cluster(client, "chat-redis-001") is None


def test_describe_error_raises(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("describe_replication_groups", "AccessDenied", "no", 403)
    with pytest.raises(elasticache.AnsibleElastiCacheError, match="Failed to describe replication group"):
        elasticache.describe_replication_group(client, "chat-redis")


def test_delete_missing_is_false_and_final_snapshot_is_sent(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("delete_replication_group", "ReplicationGroupNotFoundFault", "gone", 404)
    assert elasticache.delete_replication_group(client, "chat-redis") is False
    stubber.add_response(
        "delete_replication_group",
        {"ReplicationGroup": group("deleting")},
        {"ReplicationGroupId": "chat-redis", "FinalSnapshotIdentifier": "chat-final"},
    )
    assert elasticache.delete_replication_group(client, "chat-redis", "chat-final") is True


def test_replica_count_calls(stubbed):
    client, stubber = stubbed
    stubber.add_response(
        "increase_replica_count",
        {"ReplicationGroup": group("modifying")},
        {"ReplicationGroupId": "chat-redis", "NewReplicaCount": 3, "ApplyImmediately": True},
    )
    stubber.add_response(
        "decrease_replica_count",
        {"ReplicationGroup": group("modifying")},
        {"ReplicationGroupId": "chat-redis", "NewReplicaCount": 1, "ApplyImmediately": True},
    )
    elasticache.increase_replica_count(client, "chat-redis", 3)
    elasticache.decrease_replica_count(client, "chat-redis", 1)


def test_wait_available_polls_through_creating_and_throttling(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", "not yet", 404)
    stubber.add_response("describe_replication_groups", {"ReplicationGroups": [group("creating")]}, DESCRIBE)
    stubber.add_client_error("describe_replication_groups", "Throttling", "Rate exceeded", 400)
    stubber.add_response("describe_replication_groups", {"ReplicationGroups": [group("modifying")]}, DESCRIBE)
    stubber.add_response("describe_replication_groups", {"ReplicationGroups": [group("available")]}, DESCRIBE)
    elasticache.wait_available(client, "chat-redis", 600)


def test_wait_available_create_failed(stubbed):
    client, stubber = stubbed
    stubber.add_response("describe_replication_groups", {"ReplicationGroups": [group("create-failed")]}, DESCRIBE)
    with pytest.raises(
        elasticache.AnsibleElastiCacheError, match="Failed while waiting for replication group chat-redis"
    ):
        elasticache.wait_available(client, "chat-redis", 600)


def test_wait_available_times_out(stubbed):
    client, stubber = stubbed
    # wait_timeout 30 -> 10 s pause, 4 polls
    for _ in range(4):
        stubber.add_response("describe_replication_groups", {"ReplicationGroups": [group("modifying")]}, DESCRIBE)
    with pytest.raises(
        elasticache.AnsibleElastiCacheError,
        match=r"Replication group chat-redis was not available after 30 seconds \(wait_timeout\)",
    ):
        elasticache.wait_available(client, "chat-redis", 30)


def test_wait_deleted(stubbed):
    client, stubber = stubbed
    stubber.add_response("describe_replication_groups", {"ReplicationGroups": [group("available")]}, DESCRIBE)
    stubber.add_response("describe_replication_groups", {"ReplicationGroups": [group("deleting")]}, DESCRIBE)
    stubber.add_client_error("describe_replication_groups", "ReplicationGroupNotFoundFault", "gone", 404)
    elasticache.wait_deleted(client, "chat-redis", 600)


def test_tag_calls(stubbed):
    client, stubber = stubbed
    stubber.add_response("list_tags_for_resource", {"TagList": [{"Key": "a", "Value": "1"}]}, {"ResourceName": ARN})
    stubber.add_response(
        "add_tags_to_resource", {"TagList": []}, {"ResourceName": ARN, "Tags": [{"Key": "b", "Value": "2"}]}
    )
    stubber.add_response("remove_tags_from_resource", {"TagList": []}, {"ResourceName": ARN, "TagKeys": ["a"]})
    assert elasticache.list_tags(client, ARN) == [{"Key": "a", "Value": "1"}]
    assert elasticache.add_tags(client, ARN, [{"Key": "b", "Value": "2"}])
    assert elasticache.remove_tags(client, ARN, ["a"])
