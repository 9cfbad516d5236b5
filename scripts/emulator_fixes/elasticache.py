"""ElastiCache: a deleted replication group goes away, after its final snapshot when one is asked for;
cache subnet groups can be deleted."""

from __future__ import annotations

from moto.core.responses import EmptyResult
from moto.elasticache.exceptions import CacheSubnetGroupNotFound, ElastiCacheException
from moto.elasticache.models import ElastiCacheBackend
from moto.elasticache.responses import ElastiCacheResponse

from emulator_fixes import Patch, fix


@fix
def deleted_replication_group_goes(patch: Patch) -> None:
    """DeleteReplicationGroup: AWS answers with the group in status deleting and removes it some
    minutes later (DescribeReplicationGroups then fails with ReplicationGroupNotFoundFault); moto
    keeps it in deleting for ever. So a teardown that waits for the group to be gone (as it must
    before the subnet group can go) would wait until its timeout, and the name could never be
    used again. Here the answer still says deleting, and the group is gone from then on."""
    original = ElastiCacheBackend.delete_replication_group

    def delete_replication_group(self, replication_group_id, retain_primary_cluster):
        group = original(self, replication_group_id, retain_primary_cluster)
        self.replication_groups.pop(replication_group_id, None)
        return group

    patch.setattr(ElastiCacheBackend, "delete_replication_group", delete_replication_group)


class CacheSubnetGroupInUse(ElastiCacheException):
    code = "CacheSubnetGroupInUse"

    def __init__(self, name: str):
        super().__init__(f"Cache subnet group {name} is currently in use by a cache cluster or replication group.")


@fix
def delete_cache_subnet_group(patch: Patch) -> None:
    """DeleteCacheSubnetGroup: AWS deletes a subnet group that no cluster or replication group
    uses (CacheSubnetGroupInUse while one does, CacheSubnetGroupNotFoundFault when there is none);
    moto has no such action (500, "has not been implemented"), so community.aws's
    elasticache_subnet_group could never remove one and a teardown would fail or leave it."""

    def backend_delete(self, cache_subnet_group_name):
        if cache_subnet_group_name not in self.cache_subnet_groups:
            raise CacheSubnetGroupNotFound(cache_subnet_group_name)
        users = list(self.replication_groups.values()) + list(self.cache_clusters.values())
        if any(getattr(u, "cache_subnet_group_name", None) == cache_subnet_group_name for u in users):
            raise CacheSubnetGroupInUse(cache_subnet_group_name)
        del self.cache_subnet_groups[cache_subnet_group_name]

    def response_delete(self):
        self.elasticache_backend.delete_cache_subnet_group(self._get_param("CacheSubnetGroupName"))
        return EmptyResult()

    patch.setattr(ElastiCacheBackend, "delete_cache_subnet_group", backend_delete)
    patch.setattr(ElastiCacheResponse, "delete_cache_subnet_group", response_delete)


@fix
def final_snapshot_on_delete(patch: Patch) -> None:
    """DeleteReplicationGroup with FinalSnapshotIdentifier: AWS takes that snapshot of the group
    before deleting it (DescribeSnapshots lists it, SnapshotSource manual); moto ignores the
    parameter, so a teardown that keeps the data by a final snapshot could not be checked. Here the
    snapshot is taken first, with moto's own CreateSnapshot (which refuses a name in use)."""
    original = ElastiCacheResponse.delete_replication_group

    def delete_replication_group(self):
        name = self._get_param("FinalSnapshotIdentifier")
        if name:
            self.elasticache_backend.create_snapshot(
                snapshot_name=name,
                replication_group_id=self._get_param("ReplicationGroupId"),
                cache_cluster_id=None,
                kms_key_id=None,
                tags=None,
            )
        return original(self)

    patch.setattr(ElastiCacheResponse, "delete_replication_group", delete_replication_group)
