"""Emulator fixes for the compute role (bastion and web servers).

Each fix is a place where moto's answer differs from AWS's in a way that would make a
correct playbook look wrong against the emulator; none of them changes what a real
account would do.
"""

from __future__ import annotations

from datetime import UTC, datetime

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


def apply() -> None:
    from moto.ec2.models import amis, elastic_ip_addresses, instances
    from moto.ec2.utils import random_ami_id

    # DescribeImages: every AWS region lists Debian's public images (owner 136693071363);
    # moto ships Amazon's own images only, so a lookup of Debian 12 by owner and name
    # pattern finds nothing. Seed a few Debian 12 releases into each region's image list.
    original_load_amis = amis.AmiBackend._load_amis

    def load_amis(self):
        original_load_amis(self)
        for image in _debian_images():
            ami_id = random_ami_id()
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

    amis.AmiBackend._load_amis = load_amis

    # TerminateInstances: AWS disassociates the instance's Elastic IP when the instance is
    # terminated (the address stays allocated); moto keeps the association to the dead
    # instance, so the address still looks in use after a teardown.
    original_terminate = instances.Instance.terminate

    def terminate(self):
        backend = self.ec2_backend
        for address in list(getattr(backend, "addresses", [])):
            if isinstance(address, elastic_ip_addresses.ElasticAddress) and address.instance is self:
                backend.disassociate_address(address=address.public_ip)
        return original_terminate(self)

    instances.Instance.terminate = terminate
