# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stack's EC2 instance groups as data: checking the list, and expanding it into one host per
instance (name, subnet, security group ids, instance type).

A group is ``{name, count (default 1), subnet_tier (public|private), instance_type,
security_groups (names), instance_profile (bool), role (Role tag, default the name),
bastion (bool), baked_image (bool: new instances start from the newest image baked for the
group's role, see compute_group_images)}``. The bastion group (at most one) has one instance, public, named
``<stack>-<name>``; every other group's instances are ``<stack>-<name>-<n>``, spread over the
tier's subnets in AZ order. Pure functions, no AWS call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.module_utils.topology import check_named_item, is_list, unknown_keys

NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
SG_ID = re.compile(r"^sg-[0-9a-f]+$")
TIERS = ("public", "private")
KEYS = {
    "name",
    "count",
    "subnet_tier",
    "instance_type",
    "security_groups",
    "instance_profile",
    "role",
    "bastion",
    "baked_image",
}
# top-level keys of compute_outputs that a group's list may not take
RESERVED = ("bastion", "groups", "images")


def _count(value):
    if isinstance(value, bool):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def _flag(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0", ""):
        return False
    return None


def _sg_id(value):
    return isinstance(value, str) and SG_ID.match(value) is not None


def compute_group_errors(groups):
    """One message per problem in ``groups`` (the compute_instance_groups list); [] when it is fine."""
    if not is_list(groups):
        return [f"compute_instance_groups must be a list of instance groups; got {type(groups).__name__} {groups!r}"]
    errors = []
    seen = set()
    bastions = []
    for index, group in enumerate(groups):
        where = check_named_item(
            "compute_instance_groups",
            index,
            group,
            "name, count, subnet_tier, instance_type, ...",
            NAME,
            "1-32 lowercase letters, digits or hyphens (instances are <stack>-<name>-<n>)",
            seen,
            errors,
        )[0]
        if where is None:
            continue
        name = group.get("name")
        errors += unknown_keys(where, group, KEYS)
        bastion = _flag(group.get("bastion", False))
        profile = _flag(group.get("instance_profile", False))
        baked = _flag(group.get("baked_image", False))
        for key, value in (("bastion", bastion), ("instance_profile", profile), ("baked_image", baked)):
            if value is None:
                errors.append(f"{where}: {key} must be true or false; got {group.get(key)!r}")
        count = _count(group.get("count", 1))
        tier = group.get("subnet_tier")
        if tier not in TIERS:
            errors.append(f"{where}: subnet_tier must be public or private; got {tier!r}")
        if bastion:
            bastions.append(name)
            if count != 1:
                errors.append(
                    f"{where}: the bastion group has exactly one instance (count 1); got {group.get('count')!r}"
                )
            if tier in TIERS and tier != "public":
                errors.append(f"{where}: the bastion must be in the public subnet tier (it gets the Elastic IP)")
        else:
            if count is None or count < 1:
                errors.append(f"{where}: count must be a whole number, at least 1; got {group.get('count')!r}")
            if name in RESERVED:
                errors.append(
                    f"{where}: '{name}' is a key of compute_outputs of its own; name the group otherwise"
                    " (or mark it bastion: true if it is the bastion)"
                )
        itype = group.get("instance_type")
        if not isinstance(itype, str) or not INSTANCE_TYPE.match(itype):
            errors.append(
                f"{where}: instance_type must be an EC2 instance type, family.size such as t3.micro or"
                f" m7g.large; got {itype!r}"
            )
        sgs = group.get("security_groups", [])
        if not is_list(sgs) or not all(isinstance(s, str) and s for s in sgs):
            errors.append(
                f"{where}: security_groups must list security group names (keys of security_groups_outputs);"
                f" got {sgs!r}"
            )
        role = group.get("role", name)
        if not isinstance(role, str) or not role:
            errors.append(f"{where}: role (the Role tag) must be a non-empty string; got {role!r}")
    if len(bastions) > 1:
        errors.append(
            f"compute_instance_groups: at most one group may be the bastion (the one SSH jump host);"
            f" {', '.join(map(str, bastions))} all say bastion: true"
        )
    return errors


def compute_hosts(groups, stack, subnets=None, security_group_ids=None):
    """One host per instance of ``groups``, in list order: ``name``, ``group``, ``role``,
    ``bastion``, ``profile``, ``baked_image``, ``instance_type``, ``subnet_tier``, ``subnet_id`` ('' while the tier
    has no subnet), ``security_group_ids`` and ``missing_security_groups`` (names
    ``security_group_ids`` has no sg- id for).

    ``subnets`` maps each tier to ``{az: subnet_id}`` (network_outputs.subnets); instances go to
    the tier's subnets in AZ order, round robin. ``security_group_ids`` maps names to ids
    (security_groups_outputs)."""
    if not is_list(groups) or not isinstance(stack, str):
        raise AnsibleFilterError("compute_hosts: takes the instance groups (list) and the stack name (string)")
    subnets = subnets or {}
    security_group_ids = security_group_ids or {}
    if not isinstance(subnets, Mapping) or not isinstance(security_group_ids, Mapping):
        raise AnsibleFilterError("compute_hosts: subnets and security_group_ids must be dicts")
    hosts = []
    for group in groups:
        name = group["name"]
        bastion = bool(_flag(group.get("bastion", False)))
        tier = subnets.get(group["subnet_tier"]) or {}
        ordered = [tier[az] for az in sorted(tier)]
        names = list(group.get("security_groups", []))
        count = 1 if bastion else _count(group.get("count", 1))
        if count is None:
            raise AnsibleFilterError(f"compute_hosts: count of group {name} is not a whole number")
        for index in range(count):
            hosts.append(
                {
                    "name": f"{stack}-{name}" if bastion else f"{stack}-{name}-{index + 1}",
                    "group": name,
                    "role": group.get("role") or name,
                    "bastion": bastion,
                    "profile": bool(_flag(group.get("instance_profile", False))),
                    "baked_image": bool(_flag(group.get("baked_image", False))),
                    "instance_type": group["instance_type"],
                    "subnet_tier": group["subnet_tier"],
                    "subnet_id": ordered[index % len(ordered)] if ordered else "",
                    "security_group_ids": [security_group_ids[n] for n in names if _sg_id(security_group_ids.get(n))],
                    "missing_security_groups": [n for n in names if not _sg_id(security_group_ids.get(n))],
                }
            )
    return hosts


def compute_group_images(hosts, image, baked=None):
    """The image each group's new instances launch from, by group name: the newest of the images
    baked for the group's role when the group has ``baked_image`` and ``baked`` holds some (newest by
    ``creation_date``, then ``name``, as the family image is picked), else ``image`` (the family
    image, or compute_ami_id's).

    ``hosts`` is compute_hosts' list, ``image`` an image as amazon.aws.ec2_ami_info returns it,
    ``baked`` maps each role to the images ec2_ami_info found for it (a role left out, or with no
    image, falls back to ``image``)."""
    if not is_list(hosts) or not isinstance(image, Mapping):
        raise AnsibleFilterError("compute_group_images: takes the hosts (list) and the family image (dict)")
    baked = baked or {}
    if not isinstance(baked, Mapping):
        raise AnsibleFilterError("compute_group_images: baked must map roles to lists of images")
    images = {}
    for host in hosts:
        if host["group"] in images:
            continue
        candidates = (
            [i for i in baked.get(host["role"]) or [] if isinstance(i, Mapping)] if host.get("baked_image") else []
        )
        newest = max(candidates, key=lambda i: (i.get("creation_date") or "", i.get("name") or ""), default=None)
        images[host["group"]] = newest or image
    return images


def compute_launch_note(hosts, images):
    """``<host>, <host> would be launched from <ami> (<name>)``, one clause per image (joined by
    ``; ``), for the check mode messages: ``hosts`` the hosts to be launched (compute_hosts' dicts),
    ``images`` compute_group_images' map."""
    if not is_list(hosts) or not isinstance(images, Mapping):
        raise AnsibleFilterError("compute_launch_note: takes the hosts (list) and the images by group (dict)")
    by_image = {}
    for host in hosts:
        image = images.get(host["group"]) or {}
        key = (image.get("image_id", "") or "", image.get("name", "") or "")
        by_image.setdefault(key, []).append(host["name"])
    return "; ".join(
        f"{', '.join(names)} would be launched from {image_id} ({name})" for (image_id, name), names in by_image.items()
    )


def compute_image_summary(image):
    """``<ami id> (<name>, snapshots <snap id>, ...)`` for an image as amazon.aws.ec2_ami_info
    returns it: what a kept baked image still holds (and costs)."""
    if not isinstance(image, Mapping):
        raise AnsibleFilterError("compute_image_summary: takes an image (dict, as ec2_ami_info returns it)")
    snapshots = [
        (m.get("ebs") or {}).get("snapshot_id")
        for m in image.get("block_device_mappings") or []
        if isinstance(m, Mapping) and (m.get("ebs") or {}).get("snapshot_id")
    ]
    return f"{image.get('image_id', '')} ({image.get('name') or 'no name'}, snapshots {', '.join(snapshots) or 'none'})"


def compute_instance_outputs(hosts, ids, instances=None, public_ip=""):
    """The instance part of compute_outputs: ``bastion`` (``instance_id``, ``public_ip``,
    ``private_ip``, ``az``, ``image_id``; only with a bastion group), one list per other group under
    the group's name (``name``, ``instance_id``, ``private_ip``, ``az``, ``subnet_id``, ``image_id``)
    and ``groups`` (every group by name: ``role``, ``bastion``, ``instances`` as in those lists).

    ``hosts`` is compute_hosts' list, ``ids`` maps host names to instance ids ('' before launch),
    ``instances`` the instances as amazon.aws.ec2_instance_info returns them (addresses, AZs and
    the image each instance runs, ``image_id``, stay '' without them), ``public_ip`` the bastion's
    Elastic IP."""
    if not is_list(hosts) or not isinstance(ids, Mapping):
        raise AnsibleFilterError("compute_instance_outputs: takes the hosts (list) and the instance ids by name (dict)")
    by_id = {i.get("instance_id"): i for i in instances or [] if isinstance(i, Mapping)}
    out = {}
    groups = {}
    for host in hosts:
        instance_id = ids.get(host["name"], "") or ""
        found = by_id.get(instance_id, {})
        entry = {
            "name": host["name"],
            "instance_id": instance_id,
            "private_ip": found.get("private_ip_address", "") or "",
            "az": (found.get("placement") or {}).get("availability_zone", "") or "",
            "subnet_id": found.get("subnet_id") or host["subnet_id"],
            "image_id": found.get("image_id", "") or "",
        }
        group = groups.setdefault(host["group"], {"role": host["role"], "bastion": host["bastion"], "instances": []})
        group["instances"].append(entry)
        if host["bastion"]:
            out["bastion"] = {
                "instance_id": instance_id,
                "public_ip": (public_ip or found.get("public_ip_address", "") or "") if found else "",
                "private_ip": entry["private_ip"],
                "az": entry["az"],
                "image_id": entry["image_id"],
            }
        else:
            out.setdefault(host["group"], []).append(entry)
    out["groups"] = groups
    return out


class FilterModule:
    def filters(self):
        return {
            "compute_group_errors": compute_group_errors,
            "compute_group_images": compute_group_images,
            "compute_hosts": compute_hosts,
            "compute_image_summary": compute_image_summary,
            "compute_instance_outputs": compute_instance_outputs,
            "compute_launch_note": compute_launch_note,
        }
