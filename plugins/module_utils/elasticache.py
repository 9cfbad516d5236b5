# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ElastiCache (Redis OSS / Valkey replication group) helpers for the elasticache_* modules.

API calls are small functions wrapped in ``ElastiCacheErrorHandler`` (botocore errors become
``AnsibleElastiCacheError``; a missing resource becomes the handler's default) and
``AWSRetry.jittered_backoff`` (throttling and 5xx only). Waiters are botocore waiter models
written as data. The rest are pure functions that read and compare settings.
"""

from __future__ import annotations

import copy
import datetime
import re

try:
    import botocore.exceptions
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.waiter import BaseWaiterFactory, custom_waiter_config

# datetime.UTC needs Python 3.11; modules also run on older target Pythons.
UTC = datetime.timezone.utc  # noqa: UP017

MISSING_CODES = ["ReplicationGroupNotFoundFault", "CacheClusterNotFound"]


class AnsibleElastiCacheError(AnsibleAWSError):
    pass


class ElastiCacheErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleElastiCacheError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(MISSING_CODES)


# ---------------------------------------------------------------------------------------------
# API calls
# ---------------------------------------------------------------------------------------------


@ElastiCacheErrorHandler.list_error_handler("describe replication group")
@AWSRetry.jittered_backoff()
def describe_replication_group(client, replication_group_id):
    """The replication group, or None when it does not exist."""
    groups = client.describe_replication_groups(ReplicationGroupId=replication_group_id)["ReplicationGroups"]
    return groups[0] if groups else None


@ElastiCacheErrorHandler.list_error_handler("describe replication groups", [])
@AWSRetry.jittered_backoff()
def describe_replication_groups(client):
    paginator = client.get_paginator("describe_replication_groups")
    return paginator.paginate().build_full_result().get("ReplicationGroups", [])


@ElastiCacheErrorHandler.list_error_handler("describe cache cluster")
@AWSRetry.jittered_backoff()
def describe_cache_cluster(client, cache_cluster_id):
    """A member cluster of a replication group, or None when it cannot be found."""
    clusters = client.describe_cache_clusters(CacheClusterId=cache_cluster_id)["CacheClusters"]
    return clusters[0] if clusters else None


@ElastiCacheErrorHandler.common_error_handler("create replication group")
@AWSRetry.jittered_backoff()
def create_replication_group(client, **params):
    return client.create_replication_group(**params)["ReplicationGroup"]


@ElastiCacheErrorHandler.common_error_handler("modify replication group")
@AWSRetry.jittered_backoff()
def modify_replication_group(client, **params):
    return client.modify_replication_group(**params)["ReplicationGroup"]


@ElastiCacheErrorHandler.common_error_handler("increase replica count")
@AWSRetry.jittered_backoff()
def increase_replica_count(client, replication_group_id, count):
    return client.increase_replica_count(
        ReplicationGroupId=replication_group_id, NewReplicaCount=count, ApplyImmediately=True
    )["ReplicationGroup"]


@ElastiCacheErrorHandler.common_error_handler("decrease replica count")
@AWSRetry.jittered_backoff()
def decrease_replica_count(client, replication_group_id, count):
    return client.decrease_replica_count(
        ReplicationGroupId=replication_group_id, NewReplicaCount=count, ApplyImmediately=True
    )["ReplicationGroup"]


@ElastiCacheErrorHandler.deletion_error_handler("delete replication group")
@AWSRetry.jittered_backoff()
def delete_replication_group(client, replication_group_id, final_snapshot_identifier=None):
    """True once deletion has started; False when the group was already gone."""
    params = {"ReplicationGroupId": replication_group_id}
    if final_snapshot_identifier:
        params["FinalSnapshotIdentifier"] = final_snapshot_identifier
    client.delete_replication_group(**params)
    return True


@ElastiCacheErrorHandler.list_error_handler("list tags of replication group", [])
@AWSRetry.jittered_backoff()
def list_tags(client, arn):
    return client.list_tags_for_resource(ResourceName=arn).get("TagList", [])


@ElastiCacheErrorHandler.common_error_handler("tag replication group")
@AWSRetry.jittered_backoff()
def add_tags(client, arn, tags):
    client.add_tags_to_resource(ResourceName=arn, Tags=tags)
    return True


@ElastiCacheErrorHandler.common_error_handler("untag replication group")
@AWSRetry.jittered_backoff()
def remove_tags(client, arn, tag_keys):
    client.remove_tags_from_resource(ResourceName=arn, TagKeys=tag_keys)
    return True


# ---------------------------------------------------------------------------------------------
# Waiters
# ---------------------------------------------------------------------------------------------


class ElastiCacheWaiterFactory(BaseWaiterFactory):
    """Replication group waiters. Throttling is a ``retry`` (added by the base class), never a success."""

    @property
    def _waiter_model_data(self):
        return {
            "replication_group_available": {
                "operation": "DescribeReplicationGroups",
                "delay": 15,
                "maxAttempts": 120,
                "acceptors": [
                    {
                        "state": "success",
                        "matcher": "pathAll",
                        "argument": "ReplicationGroups[].Status",
                        "expected": "available",
                    },
                    {
                        "state": "failure",
                        "matcher": "pathAny",
                        "argument": "ReplicationGroups[].Status",
                        "expected": "create-failed",
                    },
                    {
                        "state": "failure",
                        "matcher": "pathAny",
                        "argument": "ReplicationGroups[].Status",
                        "expected": "deleting",
                    },
                    # Right after CreateReplicationGroup the group may not be listed yet.
                    {"state": "retry", "matcher": "error", "expected": "ReplicationGroupNotFoundFault"},
                    {
                        "state": "retry",
                        "matcher": "pathAny",
                        "argument": "ReplicationGroups[].Status",
                        "expected": "creating",
                    },
                    {
                        "state": "retry",
                        "matcher": "pathAny",
                        "argument": "ReplicationGroups[].Status",
                        "expected": "modifying",
                    },
                    {
                        "state": "retry",
                        "matcher": "pathAny",
                        "argument": "ReplicationGroups[].Status",
                        "expected": "snapshotting",
                    },
                ],
            },
            "replication_group_deleted": {
                "operation": "DescribeReplicationGroups",
                "delay": 15,
                "maxAttempts": 120,
                "acceptors": [
                    {"state": "success", "matcher": "error", "expected": "ReplicationGroupNotFoundFault"},
                    {
                        "state": "retry",
                        "matcher": "pathAny",
                        "argument": "ReplicationGroups[].Status",
                        "expected": "deleting",
                    },
                    {
                        "state": "retry",
                        "matcher": "pathAny",
                        "argument": "ReplicationGroups[].Status",
                        "expected": "available",
                    },
                ],
            },
        }


def _wait(client, waiter_name, replication_group_id, timeout, what):
    waiter = ElastiCacheWaiterFactory().get_waiter(client, waiter_name)
    try:
        waiter.wait(
            ReplicationGroupId=replication_group_id, WaiterConfig=custom_waiter_config(timeout, default_pause=15)
        )
    except botocore.exceptions.WaiterError as e:
        if "Max attempts exceeded" in str(e.kwargs.get("reason", "")):
            raise AnsibleElastiCacheError(
                message=f"Replication group {replication_group_id} was not {what} after {timeout} seconds "
                "(wait_timeout); it may still get there, check it and run again",
                exception=e,
            ) from e
        raise AnsibleElastiCacheError(
            message=f"Failed while waiting for replication group {replication_group_id} to be {what}", exception=e
        ) from e


def wait_available(client, replication_group_id, timeout):
    _wait(client, "replication_group_available", replication_group_id, timeout, "available")


def wait_deleted(client, replication_group_id, timeout):
    _wait(client, "replication_group_deleted", replication_group_id, timeout, "deleted")


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

_MAINTENANCE_WINDOW = re.compile(
    r"^(sun|mon|tue|wed|thu|fri|sat):([01]\d|2[0-3]):[0-5]\d-(sun|mon|tue|wed|thu|fri|sat):([01]\d|2[0-3]):[0-5]\d$",
    re.IGNORECASE,
)
_SNAPSHOT_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_AUTH_TOKEN = re.compile(r"^[A-Za-z0-9!&#$^<>\-]{16,128}$")
_GROUP_ID = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,39}(?<!-)$")


def validate_params(params):
    """Error messages for option values AWS would reject, each naming the option."""
    problems = []
    group_id = params.get("replication_group_id") or ""
    if not _GROUP_ID.match(group_id):
        problems.append(
            f"replication_group_id {group_id!r} must be 1 to 40 letters, digits or hyphens, start with a letter, "
            "and neither end with a hyphen nor contain two consecutive hyphens"
        )
    if params.get("state") != "present":
        return problems
    replicas = params.get("replicas_per_node_group")
    if replicas is not None and not 0 <= replicas <= 5:
        problems.append(f"replicas_per_node_group must be 0 to 5, got {replicas}")
    if params.get("automatic_failover") and replicas == 0:
        problems.append("automatic_failover=true needs at least one replica: set replicas_per_node_group to 1 or more")
    if params.get("multi_az") and params.get("automatic_failover") is False:
        problems.append("multi_az=true needs automatic_failover=true")
    retention = params.get("snapshot_retention_limit")
    if retention is not None and not 0 <= retention <= 35:
        problems.append(f"snapshot_retention_limit must be 0 to 35 days, got {retention}")
    window = params.get("preferred_maintenance_window")
    if window is not None and not _MAINTENANCE_WINDOW.match(window):
        problems.append(
            f"preferred_maintenance_window {window!r} must look like ddd:hh24:mi-ddd:hh24:mi (UTC), "
            "e.g. sun:18:00-sun:19:00"
        )
    window = params.get("snapshot_window")
    if window is not None and not _SNAPSHOT_WINDOW.match(window):
        problems.append(f"snapshot_window {window!r} must look like hh24:mi-hh24:mi (UTC), e.g. 17:00-18:00")
    port = params.get("port")
    if port is not None and not 1 <= port <= 65535:
        problems.append(f"port must be 1 to 65535, got {port}")
    token = params.get("auth_token")
    if token is not None:
        if params.get("transit_encryption") is False:
            problems.append("auth_token requires transit_encryption=true (AWS only accepts an AUTH token over TLS)")
        if not _AUTH_TOKEN.match(token):
            problems.append(
                "auth_token must be 16 to 128 characters: letters, digits and only these specials ! & # $ ^ < > -"
            )
    if params.get("rotate_auth_token") and token is None:
        problems.append("rotate_auth_token=true needs the new auth_token")
    return problems


def engine_version_matches(desired, current):
    """Whether a requested engine version (7.1, 6.x, 6.2.6) is what runs (7.1.0, 6.2.6)."""
    if desired is None or current is None:
        return True
    desired, current = str(desired), str(current)
    if desired == current:
        return True
    if desired.endswith(".x"):
        return current.startswith(desired[:-1])
    return current.startswith(desired + ".")


# ---------------------------------------------------------------------------------------------
# Reading a group into the module's settings
# ---------------------------------------------------------------------------------------------


def _primary_node_group(group):
    groups = group.get("NodeGroups") or []
    return groups[0] if groups else {}


def replica_count(group):
    members = _primary_node_group(group).get("NodeGroupMembers")
    if members:
        return len(members) - 1
    return max(len(group.get("MemberClusters") or []) - 1, 0)


def primary_member_id(group):
    for member in _primary_node_group(group).get("NodeGroupMembers") or []:
        if member.get("CurrentRole") == "primary":
            return member.get("CacheClusterId")
    members = group.get("MemberClusters") or []
    return members[0] if members else None


def _endpoint(value):
    if not value or not value.get("Address"):
        return None
    return {"address": value["Address"], "port": value.get("Port")}


def current_settings(group, member, tags):
    """The group's settings, keyed like the module's options.

    Settings AWS only reports per member cluster (engine version, parameter group, security
    groups, subnet group, maintenance window) are None when the member could not be read.
    """
    primary = _primary_node_group(group)
    endpoint = primary.get("PrimaryEndpoint") or group.get("ConfigurationEndpoint") or {}
    member = member or {}
    security_groups = member.get("SecurityGroups")
    return {
        "description": group.get("Description"),
        "engine": group.get("Engine") or member.get("Engine"),
        "engine_version": member.get("EngineVersion"),
        "cache_node_type": group.get("CacheNodeType"),
        "replicas_per_node_group": replica_count(group),
        "automatic_failover": group.get("AutomaticFailover") in ("enabled", "enabling"),
        "multi_az": group.get("MultiAZ") == "enabled",
        "cache_subnet_group_name": member.get("CacheSubnetGroupName"),
        "security_group_ids": (
            sorted(sg["SecurityGroupId"] for sg in security_groups) if security_groups is not None else None
        ),
        "cache_parameter_group_name": (member.get("CacheParameterGroup") or {}).get("CacheParameterGroupName"),
        "port": endpoint.get("Port"),
        "at_rest_encryption": bool(group.get("AtRestEncryptionEnabled")),
        "transit_encryption": bool(group.get("TransitEncryptionEnabled")),
        "auth_token_enabled": bool(group.get("AuthTokenEnabled")),
        "preferred_maintenance_window": member.get("PreferredMaintenanceWindow"),
        "snapshot_window": group.get("SnapshotWindow"),
        "snapshot_retention_limit": group.get("SnapshotRetentionLimit"),
        "tags": tags,
    }


# Settings ModifyReplicationGroup changes in place, and the request key for each.
MODIFIABLE = {
    "description": "ReplicationGroupDescription",
    "cache_node_type": "CacheNodeType",
    "engine_version": "EngineVersion",
    "automatic_failover": "AutomaticFailoverEnabled",
    "multi_az": "MultiAZEnabled",
    "security_group_ids": "SecurityGroupIds",
    "cache_parameter_group_name": "CacheParameterGroupName",
    "preferred_maintenance_window": "PreferredMaintenanceWindow",
    "snapshot_window": "SnapshotWindow",
    "snapshot_retention_limit": "SnapshotRetentionLimit",
}

# Settings fixed at creation, and why.
IMMUTABLE = {
    "port": "the port is fixed when the group is created",
    "at_rest_encryption": "at-rest encryption is fixed when the group is created",
    "transit_encryption": "in-transit encryption is fixed when the group is created (this module does not "
    "run AWS's two-step TransitEncryptionMode migration)",
    "cache_subnet_group_name": "the subnet group is fixed when the group is created",
}

# Settings only readable from a member cluster.
MEMBER_SETTINGS = (
    "engine_version",
    "security_group_ids",
    "cache_parameter_group_name",
    "preferred_maintenance_window",
    "cache_subnet_group_name",
)


def _same(option, desired, current):
    if option == "engine_version":
        return engine_version_matches(desired, current)
    if option == "security_group_ids":
        return sorted(desired) == sorted(current)
    if option in ("preferred_maintenance_window",):
        return str(desired).lower() == str(current).lower()
    return desired == current


def plan_changes(params, current):
    """Compare the options set with the current settings.

    Returns (modify, replicas, immutable, unknown, after):
    modify     -- {option: desired} changeable with ModifyReplicationGroup
    replicas   -- the new replica count, or None
    immutable  -- [(option, current, desired, reason)] that cannot change in place
    unknown    -- [option] set but not readable (member cluster not found)
    after      -- the settings as they will be once the changes are made
    """
    modify, immutable, unknown = {}, [], []
    after = copy.deepcopy(current)
    for option in list(MODIFIABLE) + list(IMMUTABLE):
        desired = params.get(option)
        if desired is None:
            continue
        have = current.get(option)
        if have is None and option in MEMBER_SETTINGS:
            unknown.append(option)
            continue
        if _same(option, desired, have):
            continue
        if option in IMMUTABLE:
            immutable.append((option, have, desired, IMMUTABLE[option]))
            continue
        modify[option] = desired
        after[option] = sorted(desired) if option == "security_group_ids" else desired

    engine = params.get("engine")
    if engine is not None and engine != current.get("engine"):
        if current.get("engine") == "redis" and engine == "valkey":
            modify["engine"] = engine
            after["engine"] = engine
        else:
            immutable.append(
                (
                    "engine",
                    current.get("engine"),
                    engine,
                    f"ElastiCache cannot change {current.get('engine')} to {engine}",
                )
            )

    replicas = params.get("replicas_per_node_group")
    if replicas is not None and replicas != current.get("replicas_per_node_group"):
        after["replicas_per_node_group"] = replicas
    else:
        replicas = None

    if params.get("auth_token") is not None and (
        params.get("rotate_auth_token") or not current.get("auth_token_enabled")
    ):
        modify["auth_token"] = params["auth_token"]
        after["auth_token_enabled"] = True
    return modify, replicas, immutable, unknown, after


def modify_request(replication_group_id, modify):
    """ModifyReplicationGroup parameters for the planned changes (applied immediately)."""
    request = {"ReplicationGroupId": replication_group_id, "ApplyImmediately": True}
    for option, value in modify.items():
        if option == "engine":
            request["Engine"] = value
        elif option == "auth_token":
            request["AuthToken"] = value
            request["AuthTokenUpdateStrategy"] = "ROTATE"
        else:
            request[MODIFIABLE[option]] = value
    return request


def create_request(params, tags):
    """CreateReplicationGroup parameters for a single-shard (cluster mode disabled) group."""
    request = {
        "ReplicationGroupId": params["replication_group_id"],
        "ReplicationGroupDescription": params.get("description") or params["replication_group_id"],
        "Engine": params.get("engine") or "redis",
        "CacheNodeType": params["cache_node_type"],
        # One shard with N replicas: AWS creates a cluster-mode-disabled group of N + 1 nodes.
        "NumNodeGroups": 1,
        "ReplicasPerNodeGroup": params.get("replicas_per_node_group") or 0,
        "AtRestEncryptionEnabled": params.get("at_rest_encryption") is not False,
        "TransitEncryptionEnabled": params.get("transit_encryption") is not False,
    }
    optional = {
        "engine_version": "EngineVersion",
        "automatic_failover": "AutomaticFailoverEnabled",
        "multi_az": "MultiAZEnabled",
        "cache_subnet_group_name": "CacheSubnetGroupName",
        "security_group_ids": "SecurityGroupIds",
        "cache_parameter_group_name": "CacheParameterGroupName",
        "port": "Port",
        "auth_token": "AuthToken",
        "preferred_maintenance_window": "PreferredMaintenanceWindow",
        "snapshot_window": "SnapshotWindow",
        "snapshot_retention_limit": "SnapshotRetentionLimit",
    }
    for option, key in optional.items():
        if params.get(option) is not None:
            request[key] = params[option]
    if tags:
        request["Tags"] = tags
    return request


def planned_settings(params, tags):
    """The settings a new group will have (for check mode and --diff)."""
    request = create_request(params, None)
    return {
        "description": request["ReplicationGroupDescription"],
        "engine": request["Engine"],
        "engine_version": params.get("engine_version"),
        "cache_node_type": params.get("cache_node_type"),
        "replicas_per_node_group": request["ReplicasPerNodeGroup"],
        "automatic_failover": bool(params.get("automatic_failover")),
        "multi_az": bool(params.get("multi_az")),
        "cache_subnet_group_name": params.get("cache_subnet_group_name"),
        "security_group_ids": sorted(params["security_group_ids"]) if params.get("security_group_ids") else None,
        "cache_parameter_group_name": params.get("cache_parameter_group_name"),
        "port": params.get("port") or 6379,
        "at_rest_encryption": request["AtRestEncryptionEnabled"],
        "transit_encryption": request["TransitEncryptionEnabled"],
        "auth_token_enabled": params.get("auth_token") is not None,
        "preferred_maintenance_window": params.get("preferred_maintenance_window"),
        "snapshot_window": params.get("snapshot_window"),
        "snapshot_retention_limit": params.get("snapshot_retention_limit"),
        "tags": tags or {},
    }


def group_for_output(group, member, tags):
    """What the modules return for a group: the AWS description plus endpoints, member data and tags."""
    result = copy.deepcopy(group)
    for key, value in list(result.items()):
        if isinstance(value, datetime.datetime):
            result[key] = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    primary = _primary_node_group(group)
    extra = {
        "primary_endpoint": _endpoint(primary.get("PrimaryEndpoint")),
        "reader_endpoint": _endpoint(primary.get("ReaderEndpoint")),
        "configuration_endpoint": _endpoint(group.get("ConfigurationEndpoint")),
        "replicas_per_node_group": replica_count(group),
        "tags": tags,
    }
    if member:
        extra.update(
            engine_version=member.get("EngineVersion"),
            cache_parameter_group_name=(member.get("CacheParameterGroup") or {}).get("CacheParameterGroupName"),
            cache_subnet_group_name=member.get("CacheSubnetGroupName"),
            security_group_ids=[sg["SecurityGroupId"] for sg in member.get("SecurityGroups") or []],
            preferred_maintenance_window=member.get("PreferredMaintenanceWindow"),
        )
    return result, extra
