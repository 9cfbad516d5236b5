"""The network role end to end against the embedded emulator, read back with boto3."""

from __future__ import annotations

import json

import pytest

from .conftest import ROOT, provision_converges, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
PROVISION = PLAYBOOKS / "network.yml"
TEARDOWN = PLAYBOOKS / "network_teardown.yml"

pytestmark = pytest.mark.emulator


def stack_resources(ec2, stack: str) -> dict[str, list[str]]:
    """Every live EC2 network resource tagged Stack=<stack>, listed type by type."""
    tag = [{"Name": "tag:Stack", "Values": [stack]}]
    live_nat = [{"Name": "state", "Values": ["pending", "available", "deleting", "failed"]}]
    return {
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs(Filters=tag)["Vpcs"]],
        "subnets": [s["SubnetId"] for s in ec2.describe_subnets(Filters=tag)["Subnets"]],
        "internet_gateways": [
            g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=tag)["InternetGateways"]
        ],
        "route_tables": [r["RouteTableId"] for r in ec2.describe_route_tables(Filters=tag)["RouteTables"]],
        "nat_gateways": [n["NatGatewayId"] for n in ec2.describe_nat_gateways(Filters=tag + live_nat)["NatGateways"]],
        "addresses": [a["AllocationId"] for a in ec2.describe_addresses(Filters=tag)["Addresses"]],
        "vpc_endpoints": [
            e["VpcEndpointId"]
            for e in ec2.describe_vpc_endpoints(Filters=tag)["VpcEndpoints"]
            if e["State"].lower() not in ("deleted", "deleting")
        ],
    }


def tags_of(resource) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def test_check_mode_on_an_empty_account_creates_nothing(emulator, tmp_path):
    stack = "netcheck"
    run = run_playbook(
        PROVISION, "--check", env=emulator.env, extra_vars={"webstack_name": stack, "webstack_state_dir": str(tmp_path)}
    )
    assert run.rc == 0, run.output[-4000:]
    assert run.changed >= 1, "check mode must predict that the VPC would be created"
    assert "VPC netcheck-vpc would be created" in run.output
    assert not any(stack_resources(emulator.client("ec2"), stack).values())


def test_provision_is_idempotent_truthful_and_torn_down(emulator, tmp_path):
    stack = "netlife"
    ec2 = emulator.client("ec2")
    extra = {"webstack_name": stack, "webstack_state_dir": str(tmp_path)}

    provision_converges(PROVISION, emulator.env, extra)

    # ---- read AWS back: the VPC and its settings
    outputs = json.loads((tmp_path / "outputs.json").read_text())
    net = outputs["network"]
    assert outputs["stack"] == stack
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "tag:Stack", "Values": [stack]}])["Vpcs"]
    assert vpc["VpcId"] == net["vpc_id"]
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    assert tags_of(vpc) == {"Name": f"{stack}-vpc", "Stack": stack, "ManagedBy": "kumo.webstack"}
    hostnames = ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute="enableDnsHostnames")
    assert hostnames["EnableDnsHostnames"]["Value"] is True

    # ---- subnets: one public and one private in each of two distinct AZs
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    by_tier: dict[str, dict[str, dict]] = {"public": {}, "private": {}}
    for subnet in subnets:
        by_tier[tags_of(subnet)["Tier"]][subnet["AvailabilityZone"]] = subnet
    assert sorted(by_tier["public"]) == sorted(by_tier["private"]) == sorted(net["azs"])
    assert len(set(net["azs"])) == 2
    assert {s["CidrBlock"] for s in by_tier["public"].values()} == {"10.0.0.0/24", "10.0.1.0/24"}
    assert {s["CidrBlock"] for s in by_tier["private"].values()} == {"10.0.128.0/24", "10.0.129.0/24"}
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets), "no subnet hands out public IPs by default"
    for tier in ("public", "private"):
        for az, subnet in by_tier[tier].items():
            assert net["subnets"][tier][az] == subnet["SubnetId"]

    # ---- internet gateway attached; one NAT gateway in a public subnet with a tagged EIP
    (igw,) = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])[
        "InternetGateways"
    ]
    assert igw["InternetGatewayId"] == net["internet_gateway_id"]
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NatGateways"]
    live = [n for n in nats if n["State"] == "available"]
    assert len(live) == 1, "single NAT mode runs exactly one gateway"
    assert live[0]["SubnetId"] in {s["SubnetId"] for s in by_tier["public"].values()}
    (eip,) = ec2.describe_addresses(Filters=[{"Name": "tag:Stack", "Values": [stack]}])["Addresses"]
    assert live[0]["NatGatewayAddresses"][0]["AllocationId"] == eip["AllocationId"]

    # ---- routes: public -> IGW on both public subnets, private -> NAT on both private subnets
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["RouteTables"]

    def default_route(table):
        return next(r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0")

    def associated(table):
        return {a["SubnetId"] for a in table["Associations"] if a.get("SubnetId")}

    public_rt = next(t for t in tables if tags_of(t).get("Tier") == "public")
    private_rt = next(t for t in tables if tags_of(t).get("Tier") == "private")
    assert default_route(public_rt)["GatewayId"] == igw["InternetGatewayId"]
    assert associated(public_rt) == {s["SubnetId"] for s in by_tier["public"].values()}
    assert default_route(private_rt)["NatGatewayId"] == live[0]["NatGatewayId"]
    assert associated(private_rt) == {s["SubnetId"] for s in by_tier["private"].values()}

    # ---- S3 gateway endpoint on the private route table only
    (endpoint,) = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["VpcEndpoints"]
    assert endpoint["ServiceName"] == "com.amazonaws.ap-northeast-1.s3"
    assert endpoint["VpcEndpointType"] == "Gateway"
    assert endpoint["RouteTableIds"] == [private_rt["RouteTableId"]]
    assert net["s3_endpoint_id"] == endpoint["VpcEndpointId"]

    # ---- teardown removes everything, and a second teardown is a no-op
    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert down.rc == 0, down.output[-6000:]
    assert down.changed > 0
    left = stack_resources(ec2, stack)
    assert not any(left.values()), f"left behind: {left}"

    again = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert again.rc == 0, again.output[-6000:]
    assert again.changed == 0, again.output[-6000:]


def test_per_az_nat_and_given_subnets(emulator, tmp_path):
    stack = "netha"
    ec2 = emulator.client("ec2")
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "network_vpc_cidr": "172.20.0.0/20",
        "network_azs": ["ap-northeast-1c", "ap-northeast-1d"],
        "network_public_subnet_cidrs": ["172.20.0.0/26", "172.20.0.64/26"],
        "network_private_subnet_cidrs": ["172.20.8.0/24", "172.20.9.0/24"],
        "network_nat_gateway_mode": "per_az",
    }
    first = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert first.rc == 0, first.output[-6000:]
    second = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert second.changed == 0, second.output[-6000:]

    net = json.loads((tmp_path / "outputs.json").read_text())["network"]
    assert net["azs"] == ["ap-northeast-1c", "ap-northeast-1d"]
    assert net["subnet_cidrs"]["public"] == {"ap-northeast-1c": "172.20.0.0/26", "ap-northeast-1d": "172.20.0.64/26"}
    nats = ec2.describe_nat_gateways(
        Filters=[{"Name": "vpc-id", "Values": [net["vpc_id"]]}, {"Name": "state", "Values": ["available"]}]
    )["NatGateways"]
    assert len(nats) == 2
    nat_by_subnet = {n["SubnetId"]: n["NatGatewayId"] for n in nats}
    for az in net["azs"]:
        # each AZ's private subnet leaves through the NAT gateway in its own AZ
        (table,) = ec2.describe_route_tables(
            Filters=[{"Name": "association.subnet-id", "Values": [net["subnets"]["private"][az]]}]
        )["RouteTables"]
        default = next(r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0")
        assert default["NatGatewayId"] == nat_by_subnet[net["subnets"]["public"][az]]
        assert net["route_tables"]["private"][az] == table["RouteTableId"]
    (endpoint,) = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [net["vpc_id"]]}])["VpcEndpoints"]
    assert sorted(endpoint["RouteTableIds"]) == sorted(set(net["route_tables"]["private"].values()))

    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert down.rc == 0, down.output[-6000:]
    left = stack_resources(ec2, stack)
    assert not any(left.values()), f"left behind: {left}"


def test_no_nat_mode_builds_no_gateway_and_no_route_out(emulator, tmp_path):
    """network_nat_gateway_mode=none (the bot kind's default): public subnets only reach out;
    nothing billed by the hour. First run and teardown only: the no-op and check runs of the
    role are proven above, and `none` changes only what the NAT tasks are given."""
    stack = "netnone"
    ec2 = emulator.client("ec2")
    extra = {"webstack_name": stack, "webstack_state_dir": str(tmp_path), "network_nat_gateway_mode": "none"}
    first = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert first.rc == 0, first.output[-6000:]

    net = json.loads((tmp_path / "outputs.json").read_text())["network"]
    left = stack_resources(ec2, stack)
    assert left["nat_gateways"] == [] and left["addresses"] == [], left
    assert net["nat_gateways"] == {} and net["nat_public_ips"] == {}
    # one private route table for both AZs, with no default route (the S3 endpoint's route only)
    (table,) = ec2.describe_route_tables(
        Filters=[{"Name": "tag:Stack", "Values": [stack]}, {"Name": "tag:Tier", "Values": ["private"]}]
    )["RouteTables"]
    assert not [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"], table["Routes"]
    assert sorted(a["SubnetId"] for a in table["Associations"]) == sorted(net["subnets"]["private"].values())

    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert down.rc == 0, down.output[-6000:]
    left = stack_resources(ec2, stack)
    assert not any(left.values()), f"left behind: {left}"
