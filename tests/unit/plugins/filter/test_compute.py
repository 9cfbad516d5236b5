from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.filter.compute import (
    compute_group_errors,
    compute_group_images,
    compute_hosts,
    compute_image_summary,
    compute_instance_outputs,
    compute_launch_note,
)

from ...manifest import render_manifest

RAILS = [
    {
        "name": "bastion",
        "bastion": True,
        "count": 1,
        "subnet_tier": "public",
        "instance_type": "t3.micro",
        "security_groups": ["bastion"],
    },
    {
        "name": "web",
        "count": "2",
        "subnet_tier": "private",
        "instance_type": "t3.small",
        "security_groups": ["web"],
        "instance_profile": True,
    },
]
CHAT = [
    {"name": "chat", "count": 3, "subnet_tier": "private", "instance_type": "t3.small", "security_groups": ["chat"]}
]
SUBNETS = {
    "public": {"ap-northeast-1c": "subnet-c1", "ap-northeast-1a": "subnet-a1"},
    "private": {"ap-northeast-1c": "subnet-c2", "ap-northeast-1a": "subnet-a2"},
}
SGS = {"bastion": "sg-0b", "web": "sg-0e", "chat": "sg-0c"}


def test_the_rails_manifest_matches_these_groups():
    groups = render_manifest("rails", "compute_instance_groups")
    # RAILS has the web count as a string, as -e gives it
    assert [{**g, "count": str(g["count"])} if g["name"] == "web" else g for g in groups] == RAILS
    assert compute_group_errors(groups) == []


def test_the_rails_manifest_with_sorry_servers_adds_their_group():
    groups = render_manifest(
        "rails", "compute_instance_groups", sorry_pages_domains=[{"name": "www.example.com"}], webstack_sorry_count=1
    )
    assert [g["name"] for g in groups[:2]] == ["bastion", "web"]
    assert groups[2] == {
        "name": "sorry",
        "count": 1,
        "subnet_tier": "private",
        "instance_type": "t3.micro",
        "security_groups": ["sorry"],
    }
    assert compute_group_errors(groups) == []


def test_valid_lists():
    assert compute_group_errors(RAILS) == []
    assert compute_group_errors(CHAT) == []
    assert compute_group_errors([]) == []
    for flag in (True, False, "yes", "false"):
        assert compute_group_errors([{**CHAT[0], "baked_image": flag}]) == []


def changed(change, groups=RAILS):
    groups = copy.deepcopy(groups)
    change(groups)
    return groups


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda g: g[1].update(name="bastion"), "compute_instance_groups[1]: the name 'bastion' is used twice"),
        (lambda g: g[1].update(name="Web_1"), "compute_instance_groups[1]: name must be 1-32 lowercase"),
        (lambda g: g[1].update(count=0), "compute_instance_groups[1] (web): count must be a whole number, at least 1"),
        (lambda g: g[1].update(count="two"), "count must be a whole number, at least 1; got 'two'"),
        (lambda g: g[0].update(count=2), "(bastion): the bastion group has exactly one instance (count 1); got 2"),
        (lambda g: g[0].update(subnet_tier="private"), "the bastion must be in the public subnet tier"),
        (lambda g: g[1].update(subnet_tier="dmz"), "(web): subnet_tier must be public or private; got 'dmz'"),
        (lambda g: g[1].pop("subnet_tier"), "subnet_tier must be public or private; got None"),
        (lambda g: g[1].update(instance_type="t3micro"), "(web): instance_type must be an EC2 instance type"),
        (lambda g: g[1].update(security_groups="web"), "(web): security_groups must list security group names"),
        (
            lambda g: g[1].update(bastion=True),
            "at most one group may be the bastion (the one SSH jump host); bastion, web",
        ),
        (lambda g: g[1].update(bastion="maybe"), "(web): bastion must be true or false; got 'maybe'"),
        (lambda g: g[1].update(instance_profile="sure"), "(web): instance_profile must be true or false"),
        (lambda g: g[1].update(baked_image="newest"), "(web): baked_image must be true or false; got 'newest'"),
        (lambda g: g[1].update(baked_image=[True]), "(web): baked_image must be true or false; got [True]"),
        (lambda g: g[1].update(subnet="x"), "(web) has unknown keys subnet"),
        (lambda g: g[1].update(role=""), "(web): role (the Role tag) must be a non-empty string"),
        (lambda g: g[0].update(bastion=False), "'bastion' is a key of compute_outputs of its own"),
        (lambda g: g[1].update(name="groups"), "'groups' is a key of compute_outputs of its own"),
        (lambda g: g[1].update(name="images"), "'images' is a key of compute_outputs of its own"),
        (lambda g: g.append("db"), "compute_instance_groups[2] must be a dict"),
    ],
)
def test_each_problem_is_named(change, fragment):
    errors = compute_group_errors(changed(change))
    assert any(fragment in e for e in errors), errors


def test_not_a_list():
    assert "compute_instance_groups must be a list" in compute_group_errors({"name": "web"})[0]


def test_rails_hosts():
    hosts = compute_hosts(RAILS, "demo", SUBNETS, SGS)
    assert [(h["name"], h["subnet_id"], h["security_group_ids"], h["role"], h["profile"]) for h in hosts] == [
        ("demo-bastion", "subnet-a1", ["sg-0b"], "bastion", False),
        ("demo-web-1", "subnet-a2", ["sg-0e"], "web", True),
        ("demo-web-2", "subnet-c2", ["sg-0e"], "web", True),
    ]
    assert hosts[0]["bastion"] and not hosts[1]["bastion"]
    assert hosts[1]["instance_type"] == "t3.small" and hosts[1]["subnet_tier"] == "private"


def test_hosts_go_round_robin_and_report_what_is_missing():
    hosts = compute_hosts(changed(lambda g: g[0].update(role="chatsrv"), CHAT), "c", SUBNETS, {"chat": "oops"})
    assert [h["subnet_id"] for h in hosts] == ["subnet-a2", "subnet-c2", "subnet-a2"]
    assert {h["role"] for h in hosts} == {"chatsrv"}
    assert all(h["missing_security_groups"] == ["chat"] and h["security_group_ids"] == [] for h in hosts)
    empty = compute_hosts(CHAT, "c")
    assert [h["subnet_id"] for h in empty] == ["", "", ""]
    with pytest.raises(AnsibleFilterError):
        compute_hosts("web", "c")


def test_instance_outputs_keep_the_rails_shape():
    hosts = compute_hosts(RAILS, "demo", SUBNETS, SGS)
    ids = {"demo-bastion": "i-b", "demo-web-1": "i-1", "demo-web-2": ""}
    before = compute_instance_outputs(hosts, ids)
    assert before["bastion"] == {"instance_id": "i-b", "public_ip": "", "private_ip": "", "az": "", "image_id": ""}
    assert before["web"] == [
        {
            "name": "demo-web-1",
            "instance_id": "i-1",
            "private_ip": "",
            "az": "",
            "subnet_id": "subnet-a2",
            "image_id": "",
        },
        {"name": "demo-web-2", "instance_id": "", "private_ip": "", "az": "", "subnet_id": "subnet-c2", "image_id": ""},
    ]
    assert list(before["groups"]) == ["bastion", "web"]
    assert before["groups"]["bastion"]["bastion"] and before["groups"]["web"]["role"] == "web"
    assert before["groups"]["web"]["instances"] == before["web"]

    ids["demo-web-2"] = "i-2"
    instances = [
        {"instance_id": "i-b", "private_ip_address": "10.0.0.5", "public_ip_address": "1.2.3.4",
         "placement": {"availability_zone": "ap-northeast-1a"}, "subnet_id": "subnet-a1", "image_id": "ami-f"},
        {"instance_id": "i-1", "private_ip_address": "10.0.128.5",
         "placement": {"availability_zone": "ap-northeast-1a"}, "subnet_id": "subnet-a2", "image_id": "ami-b"},
        {"instance_id": "i-2", "private_ip_address": "10.0.129.5",
         "placement": {"availability_zone": "ap-northeast-1c"}, "subnet_id": "subnet-c2"},
    ]  # fmt: skip
    after = compute_instance_outputs(hosts, ids, instances=instances, public_ip="5.6.7.8")
    assert after["bastion"] == {
        "instance_id": "i-b",
        "public_ip": "5.6.7.8",
        "private_ip": "10.0.0.5",
        "az": "ap-northeast-1a",
        "image_id": "ami-f",
    }
    assert compute_instance_outputs(hosts, ids, instances=instances)["bastion"]["public_ip"] == "1.2.3.4"
    assert [w["az"] for w in after["web"]] == ["ap-northeast-1a", "ap-northeast-1c"]
    # the image each instance runs; '' for an instance ec2_instance_info did not return it for
    assert [w["image_id"] for w in after["web"]] == ["ami-b", ""]
    assert after["groups"]["web"]["instances"] == after["web"]


def test_instance_outputs_of_a_group_without_bastion():
    hosts = compute_hosts(CHAT[:1], "c", SUBNETS, SGS)
    out = compute_instance_outputs(hosts, {"c-chat-1": "i-1"})
    assert "bastion" not in out
    assert [i["name"] for i in out["chat"]] == ["c-chat-1", "c-chat-2", "c-chat-3"]
    assert out["groups"]["chat"]["bastion"] is False
    with pytest.raises(AnsibleFilterError):
        compute_instance_outputs(hosts, [])


FAMILY = {"image_id": "ami-f", "name": "al2023-ami-2023.6", "root_device_name": "/dev/xvda"}


def baked(image_id, created, name="chat-r1"):
    return {"image_id": image_id, "name": name, "creation_date": created, "root_device_name": "/dev/sda1"}


def test_hosts_carry_baked_image():
    groups = [{**CHAT[0], "baked_image": "yes"}, {**RAILS[1], "count": 1}]
    hosts = compute_hosts(groups, "c", SUBNETS, SGS)
    assert [(h["group"], h["baked_image"]) for h in hosts] == [("chat", True)] * 3 + [("web", False)]


def test_group_images_pick_the_newest_baked_image_of_the_role():
    groups = [
        {**CHAT[0], "baked_image": True, "role": "chatsrv"},
        {**CHAT[0], "name": "chat2", "count": 1, "baked_image": True, "role": "chatsrv"},
        {**RAILS[1], "count": 1},
    ]
    hosts = compute_hosts(groups, "c", SUBNETS, SGS)
    old = baked("ami-old", "2026-01-01T00:00:00.000Z")
    new = baked("ami-new", "2026-02-01T00:00:00.000Z")
    # same second: the last by name, as image.yml picks the family image
    tie = baked("ami-tie", "2026-02-01T00:00:00.000Z", name="chat-r2")
    images = compute_group_images(hosts, FAMILY, baked={"chatsrv": [old, tie, new], "web": [new]})
    assert images == {"chat": tie, "chat2": tie, "web": FAMILY}  # web has no baked_image
    assert compute_group_images(hosts, FAMILY, baked={"chatsrv": [old, new]})["chat"] == new


def test_group_images_fall_back_to_the_family_image():
    hosts = compute_hosts([{**CHAT[0], "baked_image": True}], "c", SUBNETS, SGS)
    assert compute_group_images(hosts, FAMILY) == {"chat": FAMILY}
    assert compute_group_images(hosts, FAMILY, baked={"chat": []}) == {"chat": FAMILY}
    assert compute_group_images([], FAMILY, baked={}) == {}
    with pytest.raises(AnsibleFilterError):
        compute_group_images(hosts, "ami-f")
    with pytest.raises(AnsibleFilterError):
        compute_group_images(hosts, FAMILY, baked=["ami-b"])


def test_launch_note_names_the_image_of_each_group():
    hosts = compute_hosts(RAILS, "demo", SUBNETS, SGS)
    same = {"bastion": FAMILY, "web": FAMILY}
    assert compute_launch_note(hosts, same) == (
        "demo-bastion, demo-web-1, demo-web-2 would be launched from ami-f (al2023-ami-2023.6)"
    )
    other = {"bastion": FAMILY, "web": baked("ami-b", "2026-01-01T00:00:00.000Z")}
    assert compute_launch_note(hosts[1:], other) == "demo-web-1, demo-web-2 would be launched from ami-b (chat-r1)"
    assert compute_launch_note(hosts, other) == (
        "demo-bastion would be launched from ami-f (al2023-ami-2023.6);"
        " demo-web-1, demo-web-2 would be launched from ami-b (chat-r1)"
    )


def test_image_summary_lists_the_snapshots():
    image = {
        "image_id": "ami-b",
        "name": "demo-chat-r1",
        "block_device_mappings": [
            {"device_name": "/dev/xvda", "ebs": {"snapshot_id": "snap-1", "volume_size": 20}},
            {"device_name": "/dev/xvdb", "ebs": {"snapshot_id": "snap-2"}},
            {"device_name": "/dev/xvdc", "virtual_name": "ephemeral0"},
        ],
    }
    assert compute_image_summary(image) == "ami-b (demo-chat-r1, snapshots snap-1, snap-2)"
    assert compute_image_summary({"image_id": "ami-c"}) == "ami-c (no name, snapshots none)"
    with pytest.raises(AnsibleFilterError):
        compute_image_summary("ami-b")
