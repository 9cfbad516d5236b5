"""CloudFront: origin access control on S3 origins, ETags and IfMatch, and deleting a distribution."""

from __future__ import annotations

from moto.cloudfront.exceptions import CloudFrontException, InvalidIfMatchVersion, NoSuchOriginAccessControl
from moto.cloudfront.models import CloudFrontBackend, Origin, random_id
from moto.cloudfront.responses import CloudFrontResponse

from emulator_fixes import Patch, fix


def _error(code: str, message: str) -> CloudFrontException:
    """A CloudFront error; moto's server takes its HTTP status from the service model."""
    return CloudFrontException(code, message)


def _distributions_using(backend: CloudFrontBackend, control_id: str) -> list[str]:
    return sorted(
        dist.distribution_id
        for dist in backend.distributions.values()
        for origin in dist.distribution_config.Origins.get("Items") or []
        if getattr(origin, "origin_access_control_id", "") == control_id
    )


@fix
def origin_access_control_id(patch: Patch) -> None:
    """Origin OriginAccessControlId and S3OriginConfig: AWS keeps both as sent and returns them
    in GetDistribution, GetDistributionConfig and ListDistributions (OriginAccessControlId "" on
    an origin without one); moto drops both, so a distribution put behind an origin access
    control reads back without it: a module comparing what it asked for with what is there
    updates the distribution on every run, and nothing can tell which distributions use an
    origin access control."""
    original_init = Origin.__init__

    def __init__(self, origin):
        original_init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""
        if "S3OriginConfig" in origin:
            self.s3_origin_config = dict(origin["S3OriginConfig"] or {})
            self.s3_origin_config.setdefault("OriginAccessIdentity", "")

    patch.setattr(Origin, "__init__", __init__)


@fix
def origin_access_control_name_unique(patch: Patch) -> None:
    """CreateOriginAccessControl / UpdateOriginAccessControl: AWS refuses a name another origin
    access control of the account already has (OriginAccessControlAlreadyExists, 409); moto
    accepts it, so two controls share a name and a module that finds its control by name (the
    only identity an origin access control has besides its generated id) cannot tell which is
    its own."""
    original_create = CloudFrontBackend.create_origin_access_control
    original_update = CloudFrontBackend.update_origin_access_control

    def taken(backend, name, other_than=None):
        return any(c.name == name and c.id != other_than for c in backend.origin_access_controls.values())

    def create_origin_access_control(self, config_dict):
        if taken(self, config_dict.get("Name")):
            raise _error(
                "OriginAccessControlAlreadyExists", "An origin access control with the same name already exists."
            )
        return original_create(self, config_dict)

    def update_origin_access_control(self, control_id, config):
        if "Name" in config and taken(self, config["Name"], other_than=control_id):
            raise _error(
                "OriginAccessControlAlreadyExists", "An origin access control with the same name already exists."
            )
        return original_update(self, control_id, config)

    patch.setattr(CloudFrontBackend, "create_origin_access_control", create_origin_access_control)
    patch.setattr(CloudFrontBackend, "update_origin_access_control", update_origin_access_control)


@fix
def origin_access_control_in_use(patch: Patch) -> None:
    """DeleteOriginAccessControl: AWS refuses to delete an origin access control that an origin
    of a distribution still uses (OriginAccessControlInUse, 409), and answers
    NoSuchOriginAccessControl (404) for one that does not exist; moto deletes a control in use,
    so a teardown in the wrong order passes here and fails on AWS, and it answers an unknown id
    with a 500 (KeyError). Needs origin_access_control_id (moto forgets which origin uses which
    control otherwise)."""

    def delete_origin_access_control(self, control_id):
        if control_id not in self.origin_access_controls:
            raise NoSuchOriginAccessControl
        users = _distributions_using(self, control_id)
        if users:
            raise _error(
                "OriginAccessControlInUse",
                f"The origin access control is in use by distribution(s) {', '.join(users)}.",
            )
        del self.origin_access_controls[control_id]

    patch.setattr(CloudFrontBackend, "delete_origin_access_control", delete_origin_access_control)


@fix
def if_match_etag(patch: Patch) -> None:
    """ETag and IfMatch: AWS gives a distribution or an origin access control a new ETag on every
    change, and refuses an UpdateDistribution, DeleteDistribution, UpdateOriginAccessControl or
    DeleteOriginAccessControl whose IfMatch is not the current ETag (PreconditionFailed, 412; no
    IfMatch at all: InvalidIfMatchVersion). moto keeps the ETag of the creation forever and
    accepts any IfMatch (or none, for an origin access control), so a module that deletes a
    distribution with the ETag it read before disabling it passes here and fails on AWS."""
    original_update = CloudFrontBackend.update_distribution
    original_delete = CloudFrontBackend.delete_distribution
    original_update_control = CloudFrontResponse.update_origin_access_control
    original_delete_control = CloudFrontResponse.delete_origin_access_control

    def check(current_etag, if_match):
        if not if_match:
            raise InvalidIfMatchVersion
        if if_match != current_etag:
            raise _error(
                "PreconditionFailed",
                "The request failed because it didn't meet the preconditions in one or more request-header fields.",
            )

    def update_distribution(self, dist_config, _id, if_match):
        dist = self.distributions.get(_id)
        if dist is not None:
            check(dist.etag, if_match)
        result = original_update(self, dist_config, _id, if_match)
        dist.etag = random_id()
        return result[0], result[1], dist.etag

    def delete_distribution(self, distribution_id, if_match):
        dist = self.distributions.get(distribution_id)
        if dist is not None:
            check(dist.etag, if_match)
        return original_delete(self, distribution_id, if_match)

    def control_checked(original, new_etag):
        def handler(self):
            control = self.backend.origin_access_controls.get(self._get_param("Id"))
            if control is not None:
                check(control.etag, self._get_param("IfMatch"))
            result = original(self)
            if control is not None and new_etag:
                control.etag = random_id()
                result.result["ETag"] = control.etag
            return result

        handler.__name__ = original.__name__
        return handler

    patch.setattr(CloudFrontBackend, "update_distribution", update_distribution)
    patch.setattr(CloudFrontBackend, "delete_distribution", delete_distribution)
    patch.setattr(
        CloudFrontResponse, "update_origin_access_control", control_checked(original_update_control, new_etag=True)
    )
    patch.setattr(
        CloudFrontResponse, "delete_origin_access_control", control_checked(original_delete_control, new_etag=False)
    )


@fix
def update_distribution_in_progress(patch: Patch) -> None:
    """UpdateDistribution Status: AWS answers an update with Status InProgress, and the
    distribution stays InProgress until the change has reached every edge location (minutes),
    then reads Deployed. moto leaves a Deployed distribution Deployed, so a module that must wait
    for a change (disable, then delete) is never seen waiting. Here the distribution reads
    InProgress in the update's answer and Deployed from the next GetDistribution or
    ListDistributions on (moto's transition for a new distribution)."""
    original_update = CloudFrontBackend.update_distribution

    def update_distribution(self, dist_config, _id, if_match):
        result = original_update(self, dist_config, _id, if_match)
        dist = result[0]
        dist.status = "InProgress"
        dist._tick = 0
        return result

    patch.setattr(CloudFrontBackend, "update_distribution", update_distribution)


@fix
def delete_distribution_not_disabled(patch: Patch) -> None:
    """DeleteDistribution: AWS deletes only a distribution that is disabled (Enabled false) and
    Deployed, and otherwise answers DistributionNotDisabled (409); moto deletes an enabled
    distribution at once, so a teardown that skips disabling it (and waiting) passes here and
    fails on AWS."""
    original_delete = CloudFrontBackend.delete_distribution

    def delete_distribution(self, distribution_id, if_match):
        dist = self.distributions.get(distribution_id)
        if dist is not None and if_match:
            enabled = str(getattr(dist.distribution_config, "Enabled", "true")).lower() == "true"
            if enabled or dist.status != "Deployed":
                raise _error(
                    "DistributionNotDisabled", "The distribution you are trying to delete has not been disabled."
                )
        return original_delete(self, distribution_id, if_match)

    patch.setattr(CloudFrontBackend, "delete_distribution", delete_distribution)
