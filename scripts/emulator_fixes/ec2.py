"""EC2: tags of NAT gateways and Elastic IPs, tag filters on NAT gateways, teardown of NAT
gateways and instances, security group rule descriptions, Debian's public images, the snapshot
tags of CreateImage, flow logs to a log group given by its ARN."""

from __future__ import annotations

from datetime import UTC, datetime

from moto.core.responses import ActionResult
from moto.ec2 import utils as ec2_utils
from moto.ec2.models import amis, elastic_ip_addresses, flow_logs, instances, nat_gateways
from moto.ec2.responses.security_groups import SecurityGroups

from emulator_fixes import Patch, fix

# Debian's official cloud images, as the Debian cloud team publishes them in every region:
# owner 136693071363, name debian-12-<arch>-<YYYYMMDD>-<build>, description
# "Debian 12 (<YYYYMMDD>-<build>)", EBS-backed HVM with ENA, root device /dev/xvda.
# A backports image is published alongside each release. The build dates below are
# illustrative; what matters is that several releases exist, so "the newest" is a choice.
DEBIAN_OWNER = "136693071363"
DEBIAN_12_RELEASES = [
    ("20250210-2019", datetime(2025, 2, 10, 20, 25, 14, tzinfo=UTC)),
    ("20250428-2105", datetime(2025, 4, 28, 21, 11, 37, tzinfo=UTC)),
    ("20250814-2204", datetime(2025, 8, 14, 22, 10, 2, tzinfo=UTC)),
]
DEBIAN_ARCHES = {"amd64": "x86_64", "arm64": "arm64"}


def _debian_images():
    for build, created in DEBIAN_12_RELEASES:
        for deb_arch, arch in DEBIAN_ARCHES.items():
            yield {
                "name": f"debian-12-{deb_arch}-{build}",
                "description": f"Debian 12 ({build})",
                "architecture": arch,
                "creation_date": created,
            }
    build, created = DEBIAN_12_RELEASES[-1]
    yield {
        "name": f"debian-12-backports-amd64-{build}",
        "description": f"Debian 12 backports ({build})",
        "architecture": "x86_64",
        "creation_date": created,
    }


@fix
def describe_tags_resource_types(patch: Patch) -> None:
    """DescribeTags: AWS names the resource types of NAT gateways and Elastic IPs "natgateway"
    and "elastic-ip"; moto says "nat-gateway" and "vpc-elastic-ip". amazon.aws reconciles tags
    with a resource-type filter, finds none under moto, and re-adds them on every run
    (changed=true forever)."""
    patch.setitem(ec2_utils.EC2_PREFIX_TO_RESOURCE, "nat", "natgateway")
    patch.setitem(ec2_utils.EC2_PREFIX_TO_RESOURCE, "eipalloc", "elastic-ip")


@fix
def delete_nat_gateway_frees_address(patch: Patch) -> None:
    """DeleteNatGateway: AWS disassociates the gateway's Elastic IP and removes its network
    interface; moto keeps both, so the address stays associated and a teardown can never
    release it."""
    original_delete = nat_gateways.NatGatewayBackend.delete_nat_gateway

    def delete_nat_gateway(self, nat_gateway_id):
        gateway = self.nat_gateways.get(nat_gateway_id)
        if gateway is not None and gateway.state != "deleted":
            for address in gateway.address_set:
                if address.get("associationId"):
                    self.disassociate_address(association_id=address["associationId"])
            self.enis.pop(gateway._eni.id, None)
        return original_delete(self, nat_gateway_id)

    patch.setattr(nat_gateways.NatGatewayBackend, "delete_nat_gateway", delete_nat_gateway)


@fix
def describe_nat_gateways_tag_filters(patch: Patch) -> None:
    """DescribeNatGateways: AWS applies the tag:<key>, tag-key and tag-value filters; moto
    ignores them and returns every gateway, so a lookup by tag finds another stack's gateway
    (two stacks in one emulator, or a test's check for what a stack left behind)."""
    original_describe = nat_gateways.NatGatewayBackend.describe_nat_gateways

    def matches(gateway, name, values) -> bool:
        tags = {t["key"]: t["value"] for t in gateway.get_tags()}
        if name.startswith("tag:"):
            return tags.get(name[4:]) in values
        if name == "tag-key":
            return any(key in values for key in tags)
        return any(value in values for value in tags.values())  # tag-value

    def describe_nat_gateways(self, filters, nat_gateway_ids):
        found = original_describe(self, filters, nat_gateway_ids)
        for name, values in (filters or {}).items():
            if name.startswith("tag:") or name in ("tag-key", "tag-value"):
                found = [gateway for gateway in found if matches(gateway, name, values)]
        return found

    patch.setattr(nat_gateways.NatGatewayBackend, "describe_nat_gateways", describe_nat_gateways)


@fix
def terminate_instance_frees_address(patch: Patch) -> None:
    """TerminateInstances: AWS disassociates the instance's Elastic IP when the instance is
    terminated (the address stays allocated); moto keeps the association to the dead instance,
    so the address still looks in use after a teardown."""
    original_terminate = instances.Instance.terminate

    def terminate(self):
        backend = self.ec2_backend
        for address in list(getattr(backend, "addresses", [])):
            if isinstance(address, elastic_ip_addresses.ElasticAddress) and address.instance is self:
                backend.disassociate_address(address=address.public_ip)
        return original_terminate(self)

    patch.setattr(instances.Instance, "terminate", terminate)


@fix
def rule_descriptions_return(patch: Patch) -> None:
    """UpdateSecurityGroupRuleDescriptionsIngress/Egress: AWS answers {"Return": true}; moto
    answers an empty result, so amazon.aws.ec2_security_group (which reads ["Return"]) fails
    with KeyError 'Return' whenever it changes the description of an existing rule."""

    def update_descriptions(direction):
        def handler(self):
            backend_call = getattr(self.ec2_backend, f"update_security_group_rule_descriptions_{direction}")
            for args in self._process_rules_from_querystring():
                del args["sgrule_tags"]
                backend_call(**args)
            return ActionResult({"Return": True})

        return handler

    for direction in ("ingress", "egress"):
        name = f"update_security_group_rule_descriptions_{direction}"
        patch.setattr(SecurityGroups, name, update_descriptions(direction))


@fix
def debian_images(patch: Patch) -> None:
    """DescribeImages: every AWS region lists Debian's public images (owner 136693071363); moto
    ships Amazon's own images only, so a lookup of Debian 12 by owner and name pattern finds
    nothing and the compute role cannot pick an image. Seed a few Debian 12 releases into each
    region's image list (when the region's backend is created)."""
    original_load_amis = amis.AmiBackend._load_amis

    def load_amis(self):
        original_load_amis(self)
        for image in _debian_images():
            ami_id = ec2_utils.random_ami_id()
            self.amis[ami_id] = amis.Ami(
                self,
                ami_id=ami_id,
                owner_id=DEBIAN_OWNER,
                public=True,
                virtualization_type="hvm",
                hypervisor="xen",
                root_device_type="ebs",
                root_device_name="/dev/xvda",
                **image,
            )

    patch.setattr(amis.AmiBackend, "_load_amis", load_amis)


@fix
def create_image_snapshot_tags(patch: Patch) -> None:
    """CreateImage with TagSpecifications for the snapshot: AWS tags the snapshots it takes of the
    instance's volumes; moto raises NotImplementedError (500), so amazon.aws.ec2_ami, which tags
    the image and its snapshots alike, could never create an image. Here the image gets its tags
    as before and the image's snapshot gets the snapshot's."""
    original = amis.AmiBackend.create_image

    def create_image(self, instance_id, name, description, tag_specifications):
        for_image = [t for t in tag_specifications if t["ResourceType"] != "snapshot"]
        for_snapshot = [tag for t in tag_specifications if t["ResourceType"] == "snapshot" for tag in t["Tags"]]
        ami = original(self, instance_id, name, description, tag_specifications=for_image)
        if for_snapshot:
            self.create_tags([ami.ebs_snapshot.id], {tag["Key"]: tag["Value"] for tag in for_snapshot})
        return ami

    patch.setattr(amis.AmiBackend, "create_image", create_image)


@fix
def flow_log_to_log_group_arn(patch: Patch) -> None:
    """CreateFlowLogs to CloudWatch Logs with the log group given by its ARN (LogDestination, not
    LogGroupName): AWS takes the log group's name from the ARN, delivers to it and lists it as the
    flow log's LogGroupName; moto looks the group up by LogGroupName only, so the flow log has no
    LogGroupName and DeliverLogsStatus FAILED ("Access error") although the group exists, and a
    correct flow log looks broken."""
    original = flow_logs.FlowLogsBackend.create_flow_logs

    def create_flow_logs(
        self,
        resource_type,
        resource_ids,
        traffic_type,
        deliver_logs_permission_arn,
        log_destination_type,
        log_destination,
        log_group_name,
        log_format,
        max_aggregation_interval,
    ):
        if (
            log_group_name is None
            and log_destination
            and log_destination_type in (None, "cloud-watch-logs")
            and ":log-group:" in log_destination
        ):
            log_group_name = log_destination.split(":log-group:", 1)[1].removesuffix(":*")
        return original(
            self,
            resource_type,
            resource_ids,
            traffic_type,
            deliver_logs_permission_arn,
            log_destination_type,
            log_destination,
            log_group_name,
            log_format,
            max_aggregation_interval,
        )

    patch.setattr(flow_logs.FlowLogsBackend, "create_flow_logs", create_flow_logs)
