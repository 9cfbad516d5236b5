"""The network role's S3 endpoint policy and flow log role, rendered by Ansible's templar from
roles/network/defaults and vars as the role renders them, with the kinds' manifests on top: no
playbook run (tests/integration/test_network.py reads the policy back from the emulator)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ..manifest import ROOT, render_manifest

ROLE = ROOT / "roles" / "network"
ACCOUNT = "123456789012"
REGION = "ap-northeast-1"


def render(key: str, **variables):
    """`key` of the role's vars/defaults, with the lookups present.yml makes and `variables` (-e)."""
    loader = DataLoader()
    data = {}
    for path in (ROLE / "defaults" / "main.yml", ROLE / "vars" / "main.yml"):
        data.update(loader.load_from_file(str(path), trusted_as_template=True))
    facts = {
        "webstack_name": "shop",
        "__network_region": REGION,
        "network_vpc_result": {"vpc": {"id": "vpc-1", "owner_id": ACCOUNT}},
    }
    templar = Templar(loader=loader, variables={**data, **facts, **variables})
    return json.loads(json.dumps(templar.template(data[key])))


def test_default_policy_names_the_stack_buckets_of_this_account_and_al2023():
    policy = render("__network_s3_endpoint_policy")
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "StackBucketsOfThisAccount",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::shop-*", "arn:aws:s3:::shop-*/*"],
                "Condition": {"StringEquals": {"s3:ResourceAccount": ACCOUNT}},
            },
            {
                "Sid": "ReadPackageRepositories",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": [f"arn:aws:s3:::al2023-repos-{REGION}-de612dc2/*"],
            },
        ],
    }


def test_repositories_and_extra_arns_and_no_buckets():
    policy = render(
        "__network_s3_endpoint_policy",
        network_s3_endpoint_bucket_names=[],
        network_s3_endpoint_repositories=["ecr"],
        network_s3_endpoint_read_only_arns=["arn:aws:s3:::amazon-ssm-ap-northeast-1/*"],
    )
    (statement,) = policy["Statement"]
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == [
        f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/*",
        "arn:aws:s3:::amazon-ssm-ap-northeast-1/*",
    ]


@pytest.mark.parametrize(
    ("region", "partition"), [("ap-northeast-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")]
)
def test_partition_follows_the_region(region, partition):
    assert render("__network_partition", __network_region=region) == partition
    assert render("__network_flow_logs_role_arn", __network_region=region).startswith(f"arn:{partition}:iam::")


def test_full_access_is_an_explicit_opt_out():
    policy = render("__network_s3_endpoint_policy", network_s3_endpoint_full_access=True)
    assert policy["Statement"] == [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]


def test_flow_log_role_trusts_the_flow_logs_service_of_this_account_and_writes_one_group():
    trust = render("__network_flow_logs_trust_policy")
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-flow-log/*"},
    }
    write = render("__network_flow_logs_write_policy")["Statement"]
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/webstack/shop/vpc-flow-logs"
    assert write[0]["Resource"] == [group, group + ":*"]
    assert "logs:CreateLogGroup" not in json.dumps(write)
    assert render("__network_flow_logs_group_arn") == group


@pytest.mark.parametrize(
    ("kind", "variables", "expected"),
    [
        ("rails", {}, ["shop-*"]),
        ("rails", {"storage_bucket_name": "shop-uploads"}, ["shop-*", "shop-uploads"]),
        (
            "rails",
            {"storage_bucket_name": "photos.example.com", "webstack_ssm_bucket_name": "ops-ssm"},
            ["shop-*", "photos.example.com", "ops-ssm"],
        ),
        ("sorry", {"sorry_pages_bucket_name": "closed-pages"}, ["shop-*", "closed-pages"]),
        ("chat", {}, ["shop-*"]),
        ("bot", {"storage_bucket_name": "bot-data"}, ["shop-*", "bot-data"]),
    ],
)
def test_manifests_add_the_bucket_names_a_user_gave(kind, variables, expected):
    names = render_manifest(kind, "network_s3_endpoint_bucket_names", network_stack_name="shop", **variables)
    assert list(names) == expected


@pytest.mark.parametrize(
    ("kind", "variables", "expected"),
    [
        ("rails", {}, ["al2023"]),
        ("rails", {"compute_ami_family": "debian12"}, []),
        ("chat", {}, ["al2023"]),
        ("sorry", {}, ["al2023"]),
        ("bot", {}, []),
        ("bot", {"ecs_subnet_tier": "private"}, ["ecr"]),
    ],
)
def test_manifests_pick_the_repositories_of_their_hosts(kind, variables, expected):
    assert list(render_manifest(kind, "network_s3_endpoint_repositories", **variables)) == expected


def test_no_manifest_opens_s3():
    for kind in ("rails", "bot", "sorry", "chat"):
        text = (Path(ROOT) / "playbooks" / kind / "vars" / "kind.yml").read_text()
        assert "network_s3_endpoint_full_access" not in text, kind
