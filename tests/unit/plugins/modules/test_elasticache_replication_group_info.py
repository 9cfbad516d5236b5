"""kumo.webstack.elasticache_replication_group_info against moto, and a Stubber for what moto lacks."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.modules import elasticache_replication_group_info as module_under_test

REGION = "ap-northeast-1"


@pytest.fixture
def moto(aws_env):
    with mock_aws():
        client = boto3.client("elasticache", region_name=REGION)
        for name, replicas in (("chat-redis", 1), ("bot-cache", 0)):
            client.create_replication_group(
                ReplicationGroupId=name,
                ReplicationGroupDescription=name,
                Engine="redis",
                CacheNodeType="cache.t4g.micro",
                NumNodeGroups=1,
                ReplicasPerNodeGroup=replicas,
                Tags=[{"Key": "Stack", "Value": name.split("-")[0]}],
            )
        yield client


def test_one_group(run_module, moto):
    result = run_module(module_under_test, {"replication_group_id": "chat-redis"})
    assert result["changed"] is False
    [group] = result["replication_groups"]
    assert group["replication_group_id"] == "chat-redis"
    assert group["status"] == "available"
    assert group["replicas_per_node_group"] == 1
    assert group["member_clusters"] == ["chat-redis-001", "chat-redis-002"]
    assert group["primary_endpoint"]["port"] == 6379
    assert group["tags"] == {"Stack": "chat"}


def test_unknown_group_is_empty(run_module, moto):
    assert run_module(module_under_test, {"replication_group_id": "nope"})["replication_groups"] == []


def test_all_groups_sorted(run_module, moto):
    result = run_module(module_under_test, {})
    assert [g["replication_group_id"] for g in result["replication_groups"]] == ["bot-cache", "chat-redis"]
    assert result["replication_groups"][0]["replicas_per_node_group"] == 0


def test_member_cluster_data_and_reader_endpoint(run_module, aws_env, monkeypatch):
    # moto has no member clusters to describe and no reader endpoint: AWS's answers, stubbed.
    client = boto3.client("elasticache", region_name=REGION)
    monkeypatch.setattr(AnsibleAWSModule, "client", lambda self, service, **kwargs: client)
    arn = "arn:aws:elasticache:ap-northeast-1:123456789012:replicationgroup:chat-redis"
    group = {
        "ReplicationGroupId": "chat-redis",
        "Status": "available",
        "ARN": arn,
        "MemberClusters": ["chat-redis-001", "chat-redis-002"],
        "NodeGroups": [
            {
                "NodeGroupId": "0001",
                "PrimaryEndpoint": {"Address": "master.chat-redis.abc.apne1.cache.amazonaws.com", "Port": 6379},
                "ReaderEndpoint": {"Address": "replica.chat-redis.abc.apne1.cache.amazonaws.com", "Port": 6379},
                "NodeGroupMembers": [
                    {"CacheClusterId": "chat-redis-001", "CurrentRole": "primary"},
                    {"CacheClusterId": "chat-redis-002", "CurrentRole": "replica"},
                ],
            }
        ],
    }
    member = {
        "CacheClusterId": "chat-redis-001",
        "EngineVersion": "7.1.0",
        "CacheParameterGroup": {"CacheParameterGroupName": "default.redis7"},
        "CacheSubnetGroupName": "chat-cache",
        "SecurityGroups": [{"SecurityGroupId": "sg-1", "Status": "active"}],
        "PreferredMaintenanceWindow": "sun:18:00-sun:19:00",
    }
    with Stubber(client) as stubber:
        stubber.add_response(
            "describe_replication_groups", {"ReplicationGroups": [group]}, {"ReplicationGroupId": "chat-redis"}
        )
        stubber.add_response(
            "describe_cache_clusters", {"CacheClusters": [member]}, {"CacheClusterId": "chat-redis-001"}
        )
        stubber.add_response("list_tags_for_resource", {"TagList": []}, {"ResourceName": arn})
        result = run_module(module_under_test, {"replication_group_id": "chat-redis"})
        stubber.assert_no_pending_responses()
    [found] = result["replication_groups"]
    assert found["reader_endpoint"] == {"address": "replica.chat-redis.abc.apne1.cache.amazonaws.com", "port": 6379}
    assert found["engine_version"] == "7.1.0"
    assert found["cache_parameter_group_name"] == "default.redis7"
    assert found["cache_subnet_group_name"] == "chat-cache"
    assert found["security_group_ids"] == ["sg-1"]
    assert found["preferred_maintenance_window"] == "sun:18:00-sun:19:00"


def test_error_is_reported(run_module, aws_env, monkeypatch):
    client = boto3.client("elasticache", region_name=REGION)
    monkeypatch.setattr(AnsibleAWSModule, "client", lambda self, service, **kwargs: client)
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_replication_groups", "AccessDenied", "not authorized", 403)
        result = run_module(module_under_test, {})
    assert result.failed
    assert result["msg"].startswith("Failed to describe replication groups")
