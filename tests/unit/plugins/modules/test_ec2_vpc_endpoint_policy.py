"""kumo.webstack.ec2_vpc_endpoint_policy against moto, Stubber for the error answers."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.module_utils.vpc import canonical_endpoint_policy
from ansible_collections.kumo.webstack.plugins.modules import ec2_vpc_endpoint_policy

REGION = "ap-northeast-1"
FULL_ACCESS = {
    "Version": "2008-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "StackBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::demo-*", "arn:aws:s3:::demo-*/*"],
            "Condition": {"StringEquals": {"s3:ResourceAccount": "123456789012"}},
        },
        {
            "Sid": "OsPackageRepositories",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::al2023-repos-{REGION}-de612dc2/*",
        },
    ],
}


@pytest.fixture
def endpoint(aws_env, monkeypatch):
    """An S3 gateway endpoint made without a policy (AWS's full-access default), and the client."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # most of a second per test otherwise
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        made = ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway", RouteTableIds=[table]
        )["VpcEndpoint"]
        yield ec2, made["VpcEndpointId"]


def policy_of(ec2, endpoint_id):
    (found,) = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    return json.loads(found["PolicyDocument"])


def test_check_mode_then_set_then_idempotent(run_module, endpoint):
    ec2, endpoint_id = endpoint
    args = {"vpc_endpoint_id": endpoint_id, "policy": POLICY}

    checked = run_module(ec2_vpc_endpoint_policy, args, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"] == {"before": {"policy": FULL_ACCESS}, "after": {"policy": POLICY}}
    assert checked["policy"] == POLICY
    assert policy_of(ec2, endpoint_id) == FULL_ACCESS, "check mode changed the endpoint"

    done = run_module(ec2_vpc_endpoint_policy, args, diff=True)
    assert done["changed"] is True
    assert done["vpc_endpoint_id"] == endpoint_id
    assert policy_of(ec2, endpoint_id) == POLICY

    again = run_module(ec2_vpc_endpoint_policy, args)
    assert again["changed"] is False
    checked_again = run_module(ec2_vpc_endpoint_policy, args, check_mode=True, diff=True)
    assert checked_again["changed"] is False
    assert checked_again["diff"]["before"] == checked_again["diff"]["after"]


def test_policy_as_json_text_and_single_item_lists_are_the_same_policy(run_module, endpoint):
    ec2, endpoint_id = endpoint
    run_module(ec2_vpc_endpoint_policy, {"vpc_endpoint_id": endpoint_id, "policy": POLICY})
    listed = json.loads(json.dumps(POLICY))
    listed["Statement"][1]["Action"] = ["s3:GetObject"]
    listed["Statement"][1]["Resource"] = [POLICY["Statement"][1]["Resource"]]
    listed["Statement"][0]["Condition"]["StringEquals"]["s3:ResourceAccount"] = ["123456789012"]
    result = run_module(ec2_vpc_endpoint_policy, {"vpc_endpoint_id": endpoint_id, "policy": json.dumps(listed)})
    assert result["changed"] is False


def test_statement_order_counts(run_module, endpoint):
    ec2, endpoint_id = endpoint
    run_module(ec2_vpc_endpoint_policy, {"vpc_endpoint_id": endpoint_id, "policy": POLICY})
    swapped = dict(POLICY, Statement=list(reversed(POLICY["Statement"])))
    result = run_module(ec2_vpc_endpoint_policy, {"vpc_endpoint_id": endpoint_id, "policy": swapped})
    assert result["changed"] is True
    assert policy_of(ec2, endpoint_id)["Statement"][0]["Sid"] == "OsPackageRepositories"


def test_drift_back_to_full_access_is_found_and_fixed(run_module, endpoint):
    ec2, endpoint_id = endpoint
    run_module(ec2_vpc_endpoint_policy, {"vpc_endpoint_id": endpoint_id, "policy": POLICY})
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PolicyDocument=json.dumps(FULL_ACCESS))
    fixed = run_module(ec2_vpc_endpoint_policy, {"vpc_endpoint_id": endpoint_id, "policy": POLICY}, diff=True)
    assert fixed["changed"] is True
    assert fixed["diff"]["before"]["policy"] == FULL_ACCESS
    assert policy_of(ec2, endpoint_id) == POLICY


def test_missing_endpoint_fails_and_names_it(run_module, endpoint, monkeypatch):
    slept = []
    monkeypatch.setattr(time, "sleep", slept.append)
    result = run_module(
        ec2_vpc_endpoint_policy, {"vpc_endpoint_id": "vpce-0123456789abcdef0", "policy": POLICY}, check_mode=True
    )
    assert result.failed
    assert "vpce-0123456789abcdef0 does not exist" in result["msg"]
    assert len(slept) == 4, "a missing endpoint is asked for again (one just created may not be listed yet)"


def test_endpoint_listed_late_is_found(run_module, module_stubber, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)
    stub = module_stubber("ec2")
    stub.add_client_error("describe_vpc_endpoints", service_error_code="InvalidVpcEndpointId.NotFound")
    stub.add_response(
        "describe_vpc_endpoints",
        {"VpcEndpoints": [{"VpcEndpointId": "vpce-1", "State": "available", "PolicyDocument": json.dumps(POLICY)}]},
    )
    result = run_module(ec2_vpc_endpoint_policy, {"vpc_endpoint_id": "vpce-1", "policy": POLICY})
    assert result["changed"] is False


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("{not json", "not a JSON policy document"),
        ("[1, 2]", "not a JSON policy document"),
        ({"Version": "2012-10-17", "Statement": []}, "non-empty list of Statement"),
        ({"Version": "2012-10-17"}, "non-empty list of Statement"),
    ],
)
def test_bad_policy_fails_before_any_call(run_module, aws_env, no_api, policy, message):
    result = run_module(ec2_vpc_endpoint_policy, {"vpc_endpoint_id": "vpce-1", "policy": policy})
    assert result.failed
    assert message in result["msg"]


def test_api_error_is_reported(run_module, module_stubber):
    stub = module_stubber("ec2")
    stub.add_client_error("describe_vpc_endpoints", service_error_code="UnauthorizedOperation", http_status_code=403)
    result = run_module(ec2_vpc_endpoint_policy, {"vpc_endpoint_id": "vpce-1", "policy": POLICY})
    assert result.failed
    assert "describe vpc endpoint" in result["msg"]


def test_canonical_policy():
    assert canonical_endpoint_policy(None) is None
    assert canonical_endpoint_policy("") is None
    one = {"Statement": {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root"]}, "Action": ["s3:*"]}}
    assert canonical_endpoint_policy(one) == {
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:*"}]
    }
    two = {"Statement": [{"Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}]}
    assert canonical_endpoint_policy(json.dumps(two)) == two
    with pytest.raises(ValueError):
        canonical_endpoint_policy("[]")
