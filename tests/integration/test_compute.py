"""The compute role (the rails bastion and web servers, a chat-like group) against the emulator, read back with boto3.

The rails instances stand on the worker's shared network and security groups (the shared_base
fixture): every run is the compute role alone (compute_alone.yml, given the earlier roles'
outputs), and the teardown removes only the compute role's resources. The instance profile's
policy names the uploads bucket by its ARN only, so the test gives an ARN and builds no bucket
(the storage role has its own tests).
"""

from __future__ import annotations

import copy
import json
import re
import stat

import pytest
import yaml

from .awsinventory import assert_aws_inventory
from .badinput import assert_fails_before_aws, run_cases
from .conftest import ROOT, run_playbook
from .test_stack import stack_leftovers

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
ALONE = PLAYBOOKS / "compute_alone.yml"
DEBIAN_OWNER = "136693071363"

# The instance roles' trust: EC2, and no other source account whenever EC2 names one (the
# emulator's account is 123456789012).
EC2_TRUST = {
    "Effect": "Allow",
    "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole",
    "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}},
}


def stack_instances(ec2, stack: str) -> list[dict]:
    """Instances tagged Stack=<stack> that are not (being) terminated."""
    return [
        i
        for r in ec2.describe_instances(Filters=[{"Name": "tag:Stack", "Values": [stack]}])["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] not in ("terminated", "shutting-down")
    ]


def compute_leftovers(emulator, stack: str) -> dict[str, list[str]]:
    ec2 = emulator.client("ec2")
    iam = emulator.client("iam")
    tag = [{"Name": "tag:Stack", "Values": [stack]}]
    found = {
        "instances": [i["InstanceId"] for i in stack_instances(ec2, stack)],
        "volumes": [v["VolumeId"] for v in ec2.describe_volumes(Filters=tag)["Volumes"]],
        "addresses": [a["PublicIp"] for a in ec2.describe_addresses(Filters=tag)["Addresses"]],
        "key_pairs": [
            k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"] if k["KeyName"].startswith(f"{stack}-")
        ],
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"{stack}-")],
        "instance_profiles": [
            p["InstanceProfileName"]
            for p in iam.list_instance_profiles()["InstanceProfiles"]
            if p["InstanceProfileName"].startswith(f"{stack}-")
        ],
    }
    return {kind: ids for kind, ids in found.items() if ids}


def tag_dict(tags) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def newest(images: list[dict]) -> str:
    return max(i["CreationDate"] for i in images)


@pytest.mark.emulator
def test_instances_are_hardened_idempotent_and_torn_down(emulator, shared_base, tmp_path):
    stack = "cmplife"
    ec2 = emulator.client("ec2")
    iam = emulator.client("iam")
    secrets = tmp_path / "secrets"
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "webstack_secrets_dir": str(secrets),
    }

    # ---- --check on an empty account (the compute role alone: the other roles' check mode is
    # theirs to test): runs cleanly, creates nothing, and names the image it would use (here
    # Debian 12 on arm64: the newest of the releases the emulator lists, like AWS, for Debian)
    debian = {
        **extra,
        "compute_ami_family": "debian12",
        "compute_architecture": "arm64",
        "compute_bastion_instance_type": "t4g.micro",
        "compute_web_instance_type": "t4g.small",
    }
    check_empty = run_playbook(ALONE, "--check", env=emulator.env, extra_vars=debian)
    assert check_empty.rc == 0, check_empty.output[-6000:]
    assert check_empty.changed > 0
    flat = " ".join(check_empty.output.split())
    found = re.search(r"would be launched from (ami-[0-9a-f]+) \((\S+)\) once they do", flat)
    assert found, check_empty.output[-4000:]
    debian_images = ec2.describe_images(
        Owners=[DEBIAN_OWNER],
        Filters=[{"Name": "name", "Values": ["debian-12-arm64-*"]}, {"Name": "architecture", "Values": ["arm64"]}],
    )["Images"]
    assert len(debian_images) > 1, "the emulator should list several Debian 12 releases"
    (debian_newest,) = [i for i in debian_images if i["CreationDate"] == newest(debian_images)]
    assert found.groups() == (debian_newest["ImageId"], debian_newest["Name"])
    assert f"an ed25519 key would be generated at {secrets}/{stack}-admin" in flat
    assert compute_leftovers(emulator, stack) == {}
    assert not (secrets / f"{stack}-admin").exists()

    # ---- the compute role alone on the shared network and security groups, given an uploads
    # bucket ARN (the policy names it; no bucket is needed): it launches, a second run changes
    # nothing (launching without waiting, then the await entry point), and --check --diff
    # predicts nothing
    net, sgs = shared_base["network_outputs"], shared_base["security_groups_outputs"]
    storage = {"arn": f"arn:aws:s3:::{stack}-uploads-test"}
    upstream = {"network_outputs": net, "security_groups_outputs": sgs, "storage_outputs": storage}
    first = run_playbook(ALONE, env=emulator.env, extra_vars={**extra, **upstream})
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    out = json.loads((tmp_path / "compute_alone_outputs.json").read_text())
    second = run_playbook(ALONE, env=emulator.env, extra_vars={**extra, **upstream, "compute_wait": False})
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-6000:]
    assert json.loads((tmp_path / "compute_alone_outputs.json").read_text()) == out, "await completes the outputs"
    check = run_playbook(ALONE, "--check", "--diff", env=emulator.env, extra_vars={**extra, **upstream})
    assert check.rc == 0, check.output[-6000:]
    assert check.changed == 0, check.output[-6000:]

    # ---- outputs
    assert out["key_name"] == f"{stack}-admin"
    assert out["private_key_path"] == str(secrets / f"{stack}-admin")
    assert out["ssh_user"] == "ec2-user"
    assert out["instance_role_arn"] == f"arn:aws:iam::123456789012:role/{stack}-web"
    assert out["instance_profile_arn"] == f"arn:aws:iam::123456789012:instance-profile/{stack}-web"
    assert [w["name"] for w in out["web"]] == [f"{stack}-web-1", f"{stack}-web-2"]
    assert [w["subnet_id"] for w in out["web"]] == [net["subnets"]["private"][az] for az in sorted(net["azs"])]
    assert [w["az"] for w in out["web"]] == sorted(net["azs"])
    # no group has baked_image: every group launches from the family image, which every instance runs
    assert out["images"] == {"bastion": out["ami_id"], "web": out["ami_id"]}
    assert [w["image_id"] for w in out["web"]] == [out["ami_id"]] * 2
    assert out["instance_profiles"] == {
        "web": {"role_arn": out["instance_role_arn"], "profile_arn": out["instance_profile_arn"]}
    }
    assert out["groups"] == {
        "bastion": {
            "role": "bastion",
            "bastion": True,
            "instances": [
                {
                    "name": f"{stack}-bastion",
                    "instance_id": out["bastion"]["instance_id"],
                    "private_ip": out["bastion"]["private_ip"],
                    "az": out["bastion"]["az"],
                    "subnet_id": net["subnets"]["public"][sorted(net["azs"])[0]],
                    "image_id": out["ami_id"],
                }
            ],
        },
        "web": {"role": "web", "bastion": False, "instances": out["web"]},
    }

    # ---- the image: the newest Amazon Linux 2023 (not minimal) for x86_64, found by lookup
    al2023 = ec2.describe_images(
        Owners=["amazon"],
        Filters=[
            {"Name": "name", "Values": ["al2023-ami-2023.*-x86_64"]},
            {"Name": "architecture", "Values": ["x86_64"]},
        ],
    )["Images"]
    (chosen,) = ec2.describe_images(ImageIds=[out["ami_id"]])["Images"]
    assert chosen in al2023 and "minimal" not in chosen["Name"]
    assert chosen["CreationDate"] == newest(al2023)

    # ---- the instances, read back
    instances = {tag_dict(i["Tags"])["Name"]: i for i in stack_instances(ec2, stack)}
    assert set(instances) == {f"{stack}-bastion", f"{stack}-web-1", f"{stack}-web-2"}
    bastion = instances[f"{stack}-bastion"]
    for name, instance in instances.items():
        tags = tag_dict(instance["Tags"])
        role = "bastion" if name.endswith("bastion") else "web"
        assert tags == {"Name": name, "Stack": stack, "ManagedBy": "kumo.webstack", "Role": role}
        assert instance["State"]["Name"] == "running"
        assert instance["ImageId"] == out["ami_id"]
        assert instance["KeyName"] == f"{stack}-admin"
        assert instance["InstanceType"] == ("t3.micro" if role == "bastion" else "t3.small")
        assert instance["Monitoring"]["State"] == "disabled"
        metadata = instance["MetadataOptions"]
        assert metadata["HttpTokens"] == "required"
        assert metadata["HttpEndpoint"] == "enabled"
        assert metadata["HttpPutResponseHopLimit"] == 1
        (root,) = instance["BlockDeviceMappings"]
        assert root["DeviceName"] == instance["RootDeviceName"] == chosen["RootDeviceName"]
        assert root["Ebs"]["DeleteOnTermination"] is True
        (volume,) = ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"]
        assert volume["VolumeType"] == "gp3" and volume["Encrypted"] and volume["Size"] == 20
        assert tag_dict(volume["Tags"])["Stack"] == stack
        disable = ec2.describe_instance_attribute(InstanceId=instance["InstanceId"], Attribute="disableApiTermination")
        assert disable["DisableApiTermination"]["Value"] is False

    assert bastion["SubnetId"] == net["subnets"]["public"][sorted(net["azs"])[0]]
    assert [g["GroupId"] for g in bastion["SecurityGroups"]] == [sgs["bastion"]]
    assert "IamInstanceProfile" not in bastion
    assert out["bastion"] == {
        "instance_id": bastion["InstanceId"],
        "public_ip": bastion["PublicIpAddress"],
        "private_ip": bastion["PrivateIpAddress"],
        "az": bastion["Placement"]["AvailabilityZone"],
        "image_id": out["ami_id"],
    }
    (eip,) = ec2.describe_addresses(Filters=[{"Name": "tag:Name", "Values": [f"{stack}-bastion"]}])["Addresses"]
    assert eip["InstanceId"] == bastion["InstanceId"] and eip["PublicIp"] == out["bastion"]["public_ip"]
    assert tag_dict(eip["Tags"])["Stack"] == stack

    for web in out["web"]:
        instance = instances[web["name"]]
        assert instance["InstanceId"] == web["instance_id"]
        assert instance["SubnetId"] == web["subnet_id"] and web["subnet_id"] in net["subnets"]["private"].values()
        assert instance["PrivateIpAddress"] == web["private_ip"]
        assert "PublicIpAddress" not in instance or not instance["PublicIpAddress"]
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [sgs["web"]]
        assert instance["IamInstanceProfile"]["Arn"] == out["instance_profile_arn"]

    # ---- IAM: trust EC2 only (another source account refused); one inline policy, the bucket
    # and these actions only
    role = iam.get_role(RoleName=f"{stack}-web")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [EC2_TRUST]
    assert tag_dict(role["Tags"])["Stack"] == stack
    assert iam.list_attached_role_policies(RoleName=f"{stack}-web")["AttachedPolicies"] == []
    (policy_name,) = iam.list_role_policies(RoleName=f"{stack}-web")["PolicyNames"]
    document = iam.get_role_policy(RoleName=f"{stack}-web", PolicyName=policy_name)["PolicyDocument"]
    grants = {}
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow" and "Condition" not in statement and "NotAction" not in statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in resources:
            grants.setdefault(resource, set()).update(actions)
    assert grants == {
        storage["arn"]: {"s3:ListBucket"},
        f"{storage['arn']}/*": {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
    }
    profile = iam.get_instance_profile(InstanceProfileName=f"{stack}-web")["InstanceProfile"]
    assert profile["Arn"] == out["instance_profile_arn"]
    assert [r["RoleName"] for r in profile["Roles"]] == [f"{stack}-web"]
    assert tag_dict(profile["Tags"])["Stack"] == stack

    # ---- the key pair holds the generated public key; the private key is 0600 in a 0700 directory
    (key,) = ec2.describe_key_pairs(KeyNames=[f"{stack}-admin"], IncludePublicKey=True)["KeyPairs"]
    assert key["KeyType"] == "ed25519"
    assert tag_dict(key["Tags"])["Stack"] == stack
    public = (secrets / f"{stack}-admin.pub").read_text().split()
    assert key["PublicKey"].split()[:2] == public[:2]
    assert stat.S_IMODE((secrets / f"{stack}-admin").stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    assert "PRIVATE KEY" in (secrets / f"{stack}-admin").read_text()
    for run in (first, second, check):
        assert "PRIVATE KEY" not in run.output

    # ---- inventories/aws (the aws_ec2 inventory plugin, group_vars) finds these instances, and not
    # another stack's (a bastion and a web server of its own), with how the host plays reach them
    other = {f"{stack}x-bastion": "bastion", f"{stack}x-web-1": "web"}
    other_ids = [
        ec2.run_instances(
            ImageId=out["ami_id"],
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            SubnetId=net["subnets"]["private"][sorted(net["azs"])[0]],
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [
                        {"Key": "Name", "Value": name},
                        {"Key": "Stack", "Value": f"{stack}x"},
                        {"Key": "ManagedBy", "Value": "kumo.webstack"},
                        {"Key": "Role", "Value": role},
                    ],
                }
            ],
        )["Instances"][0]["InstanceId"]
        for name, role in other.items()
    ]
    try:
        assert_aws_inventory(emulator, tmp_path, stack=stack, compute=out, secrets_dir=str(secrets), other=set(other))
    finally:
        ec2.terminate_instances(InstanceIds=other_ids)

    # ---- teardown refuses, before removing anything, while an instance is protected
    ec2.modify_instance_attribute(InstanceId=bastion["InstanceId"], DisableApiTermination={"Value": True})
    absent = {**extra, **upstream, "compute_state": "absent"}
    refused = run_playbook(ALONE, env=emulator.env, extra_vars=absent)
    assert refused.rc != 0
    flat = " ".join(refused.output.split())
    assert f"{stack}-bastion of stack {stack} have termination protection, so nothing was removed" in flat
    assert "-e compute_termination_protection=false" in flat
    assert len(stack_instances(ec2, stack)) == 3
    ec2.modify_instance_attribute(InstanceId=bastion["InstanceId"], DisableApiTermination={"Value": False})

    # ---- teardown removes everything of the stack but the local private key
    down = run_playbook(ALONE, env=emulator.env, extra_vars=absent)
    assert down.rc == 0, down.output[-6000:]
    assert down.changed > 0
    assert compute_leftovers(emulator, stack) == {}
    terminated = {
        i["InstanceId"]: i["State"]["Name"]
        for r in ec2.describe_instances(Filters=[{"Name": "tag:Stack", "Values": [stack]}])["Reservations"]
        for i in r["Instances"]
    }
    assert set(terminated.values()) == {"terminated"} and len(terminated) == 3
    assert (secrets / f"{stack}-admin").exists()
    assert f"The admin private key {secrets}/{stack}-admin is kept" in " ".join(down.output.split())

    again = run_playbook(ALONE, env=emulator.env, extra_vars=absent)
    assert again.rc == 0, again.output[-6000:]
    assert again.changed == 0, again.output[-6000:]


# ---- another topology: the role is not rails-shaped


@pytest.mark.emulator
def test_a_group_without_bastion_from_data_alone(emulator, tmp_path):
    """A chat-like group (2 instances in the private subnets, its own security group, no bastion,
    no instance profile, no bucket) on a VPC made here: launched, listed under compute_outputs.chat,
    a second run changes nothing, absent terminates them.

    The chat group has baked_image: while the stack has no image baked for role chat, it launches
    from the family image (and says so); once a bake made one (here: an image of a builder
    instance, tagged as playbooks/chat/bake.yml tags it), its new instances start from it and the
    running ones keep theirs, while the worker group (no baked_image) keeps the family image even
    with an image of its role around. The teardown terminates the builder too, keeps the baked
    images (and lists them) unless compute_delete_images, which removes them with their snapshots."""
    stack = "cmpchat"
    ec2 = emulator.client("ec2")
    iam = emulator.client("iam")
    vpc_id = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    azs = ["ap-northeast-1a", "ap-northeast-1c"]
    private = {
        az: ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.8.{128 + i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
        for i, az in enumerate(azs)
    }
    sg_id = ec2.create_security_group(GroupName=f"{stack}-chat", Description="chat", VpcId=vpc_id)["GroupId"]
    chat_group = {
        "name": "chat",
        "count": 2,
        "subnet_tier": "private",
        "instance_type": "t3.small",
        "security_groups": ["chat"],
        "role": "chat",
        "baked_image": True,
    }
    worker_group = {
        "name": "worker",
        "subnet_tier": "private",
        "instance_type": "t3.micro",
        "security_groups": ["chat"],
    }
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "webstack_secrets_dir": str(tmp_path / "secrets"),
        "network_outputs": {"subnets": {"public": {}, "private": private}},
        "security_groups_outputs": {"chat": sg_id},
        "compute_instance_groups": [chat_group, worker_group],
    }
    first = run_playbook(ALONE, env=emulator.env, extra_vars=extra)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    out = json.loads((tmp_path / "compute_alone_outputs.json").read_text())
    family = out["ami_id"]
    assert "bastion" not in out and "web" not in out
    assert [i["name"] for i in out["chat"]] == [f"{stack}-chat-1", f"{stack}-chat-2"]
    assert [i["subnet_id"] for i in out["chat"]] == [private[az] for az in azs]
    assert [i["az"] for i in out["chat"]] == azs
    assert out["groups"] == {
        "chat": {"role": "chat", "bastion": False, "instances": out["chat"]},
        "worker": {"role": "worker", "bastion": False, "instances": out["worker"]},
    }
    assert out["instance_profiles"] == {} and out["instance_role_arn"] == "" and out["instance_profile_arn"] == ""
    # no image baked yet: the chat group uses the family image, and the run says so
    assert out["images"] == {"chat": family, "worker": family}
    assert {i["image_id"] for i in out["chat"] + out["worker"]} == {family}
    flat = " ".join(first.output.split())
    assert f"Group chat: no image baked for role chat (owner self, tags Stack={stack}," in flat
    assert f"so new instances launch from {family}" in flat

    instances = {tag_dict(i["Tags"])["Name"]: i for i in stack_instances(ec2, stack)}
    assert set(instances) == {f"{stack}-chat-1", f"{stack}-chat-2", f"{stack}-worker-1"}
    for entry in out["chat"]:
        instance = instances[entry["name"]]
        assert instance["InstanceId"] == entry["instance_id"]
        assert instance["PrivateIpAddress"] == entry["private_ip"]
        assert instance["ImageId"] == entry["image_id"]
        assert tag_dict(instance["Tags"]) == {
            "Name": entry["name"],
            "Stack": stack,
            "ManagedBy": "kumo.webstack",
            "Role": "chat",
        }
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [sg_id]
        assert "IamInstanceProfile" not in instance
        assert instance["InstanceType"] == "t3.small"
    assert not ec2.describe_addresses(Filters=[{"Name": "tag:Stack", "Values": [stack]}])["Addresses"]
    assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"{stack}-")]

    # ---- a bake, as playbooks/chat/bake.yml does it: a builder instance of the stack (no group
    # lists it), an image of it tagged for role chat, its snapshot tagged with the stack; plus an
    # image of role worker (whose group has no baked_image) and one of another stack's chat
    stack_tags = [{"Key": "Stack", "Value": stack}, {"Key": "ManagedBy", "Value": "kumo.webstack"}]
    builder = ec2.run_instances(
        ImageId=family,
        InstanceType="t3.small",
        MinCount=1,
        MaxCount=1,
        SubnetId=private[azs[0]],
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [
                    *stack_tags,
                    {"Key": "Role", "Value": "chat-builder"},
                    {"Key": "Name", "Value": f"{stack}-chat-builder"},
                ],
            }
        ],
    )["Instances"][0]["InstanceId"]

    def bake(role: str, name: str, tags=stack_tags) -> dict:
        image_tags = [*tags, {"Key": "Role", "Value": role}, {"Key": "Name", "Value": name}]
        image_tags += [{"Key": "AppRevision", "Value": "r1"}, {"Key": "BakedFrom", "Value": family}]
        # (the snapshot tagged afterwards: the emulator's fix for snapshot TagSpecifications has its own test)
        image_id = ec2.create_image(
            InstanceId=builder, Name=name, TagSpecifications=[{"ResourceType": "image", "Tags": image_tags}]
        )["ImageId"]
        (image,) = ec2.describe_images(ImageIds=[image_id])["Images"]
        snapshots = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]
        ec2.create_tags(Resources=snapshots, Tags=tags)
        return {"id": image_id, "name": name, "snapshots": snapshots}

    baked = bake("chat", f"{stack}-chat-r1")
    worker_image = bake("worker", f"{stack}-worker-r1")
    other = bake("chat", "otherstack-chat-r1", tags=[{"Key": "Stack", "Value": "otherstack"}, stack_tags[1]])

    # ---- a third chat instance starts from the baked image; the running ones keep theirs
    extra["compute_instance_groups"] = [{**chat_group, "count": 3}, worker_group]
    # (check mode's "would be launched from" per group: the unit tests of compute_launch_note;
    # a --check run here would cost the suite another playbook run)
    grown = run_playbook(ALONE, env=emulator.env, extra_vars=extra)
    assert grown.rc == 0, grown.output[-6000:]
    assert grown.changed > 0
    flat = " ".join(grown.output.split())
    assert (
        f"Group chat: new instances launch from {baked['id']} ({baked['name']}), the newest image baked for role chat"
        in flat
    )
    out = json.loads((tmp_path / "compute_alone_outputs.json").read_text())
    assert out["ami_id"] == family
    assert out["images"] == {"chat": baked["id"], "worker": family}
    assert [i["image_id"] for i in out["chat"]] == [family, family, baked["id"]]
    assert [i["image_id"] for i in out["worker"]] == [family]
    instances = {tag_dict(i["Tags"])["Name"]: i for i in stack_instances(ec2, stack)}
    for entry in out["chat"] + out["worker"]:
        assert instances[entry["name"]]["ImageId"] == entry["image_id"]
    (root,) = instances[f"{stack}-chat-3"]["BlockDeviceMappings"]
    assert root["DeviceName"] == instances[f"{stack}-chat-3"]["RootDeviceName"]

    second = run_playbook(ALONE, env=emulator.env, extra_vars=extra)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-6000:]

    # ---- compute_ssm_managed (Session Manager): the groups, which have no instance profile, each
    # get a role <stack>-<group> with AmazonSSMManagedInstanceCore only (no inline policy, no
    # bucket), and the running instances get its profile in place; a second run changes nothing
    ssm = {**extra, "compute_ssm_managed": True}
    managed = run_playbook(ALONE, env=emulator.env, extra_vars=ssm)
    assert managed.rc == 0, managed.output[-6000:]
    assert managed.changed > 0
    out = json.loads((tmp_path / "compute_alone_outputs.json").read_text())
    assert sorted(out["instance_profiles"]) == ["chat", "worker"]
    instances = {tag_dict(i["Tags"])["Name"]: i for i in stack_instances(ec2, stack)}
    for group in ("chat", "worker"):
        name = f"{stack}-{group}"
        role = iam.get_role(RoleName=name)["Role"]
        assert role["AssumeRolePolicyDocument"]["Statement"] == [EC2_TRUST]
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
        assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
        profile = out["instance_profiles"][group]["profile_arn"]
        assert profile == f"arn:aws:iam::123456789012:instance-profile/{name}"
        for entry in out[group]:
            assert instances[entry["name"]]["IamInstanceProfile"]["Arn"] == profile
    managed_again = run_playbook(ALONE, env=emulator.env, extra_vars=ssm)
    assert managed_again.rc == 0, managed_again.output[-6000:]
    assert managed_again.changed == 0, managed_again.output[-6000:]

    # ---- teardown: every instance of the stack (the builder too); the baked images are kept,
    # and listed with their snapshots
    down = run_playbook(ALONE, env=emulator.env, extra_vars={**extra, "compute_state": "absent"})
    assert down.rc == 0, down.output[-6000:]
    assert compute_leftovers(emulator, stack) == {}
    (reservation,) = ec2.describe_instances(InstanceIds=[builder])["Reservations"]
    assert reservation["Instances"][0]["State"]["Name"] == "terminated"
    kept = [baked, worker_image]
    left = stack_leftovers(emulator, stack)
    assert {kind: sorted(ids) for kind, ids in left.items()} == {
        "ec2:images": sorted(i["id"] for i in kept),
        "ec2:snapshots": sorted(s for i in kept for s in i["snapshots"]),
    }
    flat = " ".join(down.output.split())
    assert f"Kept the baked images of stack {stack}:" in flat
    for image in kept:
        assert f"{image['id']} ({image['name']}, snapshots {', '.join(image['snapshots'])})" in flat
    assert "-e webstack_teardown_delete_images=true" in flat

    # ---- with compute_delete_images, they go with their snapshots; another stack's stay
    gone = run_playbook(
        ALONE, env=emulator.env, extra_vars={**extra, "compute_state": "absent", "compute_delete_images": True}
    )
    assert gone.rc == 0, gone.output[-6000:]
    assert gone.changed > 0
    assert stack_leftovers(emulator, stack) == {}
    assert [i["ImageId"] for i in ec2.describe_images(Owners=["self"], ImageIds=[other["id"]])["Images"]] == [
        other["id"]
    ]
    ec2.deregister_image(ImageId=other["id"])
    ec2.delete_snapshot(SnapshotId=other["snapshots"][0])


# ---- bad input: fails before any AWS call (dead endpoint), all cases in one ansible-playbook run
# (badinput.py), each asserted on its own


def case(case_id: str, variables: dict, messages: list[str]):
    """A bad-input case: its variables and the texts its failure must hold."""
    return pytest.param(variables, messages, id=case_id)


# the rails groups as the manifest lists them (compute_instance_groups adds the sorry servers'
# group to these when sorry_pages_domains is set)
RAILS_GROUPS = yaml.safe_load((ROOT / "playbooks" / "rails" / "vars" / "kind.yml").read_text())[
    "__rails_instance_groups"
]


def _groups_with(change) -> list[dict]:
    """The rails groups, as the manifest has them, changed by ``change``."""
    groups = copy.deepcopy(RAILS_GROUPS)
    change(groups)
    return groups


BAD = [
    case("instance-type", {"compute_web_instance_type": "t3micro"}, ["compute_web_instance_type", "t3micro"]),
    case("ami-family", {"compute_ami_family": "centos"}, ["compute_ami_family", "centos"]),
    case(
        "web-count",
        {"compute_web_count": 0},
        ["compute_web_count must be a whole number of web servers, at least 1; got '0'"],
    ),
    case(
        "two-bastions",
        {"compute_instance_groups": _groups_with(lambda g: g[1].update(bastion=True, subnet_tier="public", count=1))},
        ["compute_instance_groups: at most one group may be the bastion (the one SSH jump host); bastion, web"],
    ),
    case(
        "bastion-count",
        {"compute_instance_groups": _groups_with(lambda g: g[0].update(count=2))},
        ["compute_instance_groups[0] (bastion): the bastion group has exactly one instance (count 1); got 2"],
    ),
    case(
        "bastion-private",
        {"compute_instance_groups": _groups_with(lambda g: g[0].update(subnet_tier="private"))},
        ["compute_instance_groups[0] (bastion): the bastion must be in the public subnet tier"],
    ),
    case(
        "duplicate-name",
        {"compute_instance_groups": _groups_with(lambda g: g.append({**g[1], "instance_profile": False}))},
        ["compute_instance_groups[2]: the name 'web' is used twice (names must be unique)"],
    ),
    case(
        "group-instance-type",
        {"compute_instance_groups": _groups_with(lambda g: g.append({**g[1], "name": "chat", "instance_type": "big"}))},
        ["compute_instance_groups[2] (chat): instance_type must be an EC2 instance type", "got 'big'"],
    ),
    case(
        "count-zero",
        {"compute_instance_groups": _groups_with(lambda g: g[1].update(count=0))},
        ["compute_instance_groups[1] (web): count must be a whole number, at least 1; got 0"],
    ),
    case(
        "reserved-name",
        {"compute_instance_groups": _groups_with(lambda g: g[1].update(name="groups"))},
        ["compute_instance_groups[1] (groups): 'groups' is a key of compute_outputs of its own"],
    ),
    case(
        "baked-image",
        {"compute_instance_groups": _groups_with(lambda g: g[1].update(baked_image="latest"))},
        ["baked_image", "latest"],
    ),
    case(
        "argspec-tier",
        {"compute_instance_groups": _groups_with(lambda g: g[1].update(subnet_tier="dmz"))},
        ["subnet_tier", "dmz"],
    ),
]


@pytest.fixture(scope="module")
def bad_cases(dead_endpoint_env, tmp_path_factory):
    """Every BAD case in one ansible-playbook run (badinput.py), the role alone."""
    return run_cases(
        {p.id: p.values[0] for p in BAD},
        [{"name": "The compute role", "ansible.builtin.include_role": {"name": "kumo.webstack.compute"}}],
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("compute-cases"),
        base_vars={"webstack_name": "badcmp", "compute_instance_groups": RAILS_GROUPS},
    )


@pytest.mark.xdist_group("compute_bad_input")  # one worker runs the batch (the module fixture) once
@pytest.mark.parametrize(("extra", "messages"), BAD)
def test_bad_input_fails_before_any_aws_call(extra, messages, bad_cases, request):
    result = bad_cases[request.node.callspec.id]
    for message in messages:
        assert_fails_before_aws(result, message)
    # the key pair is generated only after validation
    assert not (result.case_dir / "secrets").exists()
