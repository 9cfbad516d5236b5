"""The network role end to end against the embedded emulator, read back with boto3."""

from __future__ import annotations

import json

import pytest

from .conftest import ROOT, run_playbook

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
        "flow_logs": [f["FlowLogId"] for f in ec2.describe_flow_logs(Filters=tag)["FlowLogs"]],
    }


def flow_log_leftovers(emulator, stack: str) -> dict[str, list[str]]:
    """The flow logs' IAM role and log group of a stack, when they are still there."""
    iam = emulator.client("iam")
    return {
        "iam_roles": [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"] == f"{stack}-vpc-flow-logs"],
        "log_groups": [
            g["logGroupName"]
            for g in emulator.client("logs").describe_log_groups(logGroupNamePrefix=f"/webstack/{stack}/")["logGroups"]
        ],
    }


def changed_tasks(output: str) -> list[str]:
    """The names of the tasks a run reports changed (the default callback's output)."""
    names, current = [], None
    for line in output.splitlines():
        if line.startswith("TASK ["):
            current = line[len("TASK [") :].rsplit("]", 1)[0]
        elif line.startswith("changed:") and current and current not in names:
            names.append(current)
    return names


# What AWS gives a gateway endpoint made without a policy.
FULL_ACCESS = {
    "Version": "2008-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
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

    # Three runs, as many as converging takes to prove (a change, then none, then a --check --diff
    # that predicts none), with a drift in between: the endpoint's policy put back to AWS's default
    # (what every stack had before 0.2.0, or someone's hand). --check --diff must report that and
    # nothing else (so it predicts no change on what is converged) and change nothing; the next run
    # must fix that and change nothing else. The policy task changes nothing on the first run
    # either: the endpoint is made with its policy.
    policy_task = "kumo.webstack.network : Ensure the S3 endpoint's policy"
    first = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    assert not [t for t in changed_tasks(first.output) if t.startswith(policy_task)], first.output[-6000:]

    (endpoint,) = ec2.describe_vpc_endpoints(Filters=[{"Name": "tag:Stack", "Values": [stack]}])["VpcEndpoints"]
    policy = json.loads(endpoint["PolicyDocument"])
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint["VpcEndpointId"], PolicyDocument=json.dumps(FULL_ACCESS))
    check = run_playbook(PROVISION, "--check", "--diff", env=emulator.env, extra_vars=extra)
    assert check.rc == 0, check.output[-6000:]
    (drift,) = changed_tasks(check.output)
    assert drift.startswith(policy_task), check.output[-6000:]
    diff = check.output.splitlines()
    assert any(line.startswith("-") and "2008-10-17" in line for line in diff), check.output[-6000:]
    assert any(line.startswith("+") and "StackBucketsOfThisAccount" in line for line in diff), check.output[-6000:]
    (endpoint,) = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])["VpcEndpoints"]
    assert json.loads(endpoint["PolicyDocument"]) == FULL_ACCESS, "check mode changed the policy"
    fix = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert fix.rc == 0, fix.output[-6000:]
    assert changed_tasks(fix.output) == [drift], fix.output[-6000:]
    assert fix.changed == 1
    (endpoint,) = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])["VpcEndpoints"]
    assert json.loads(endpoint["PolicyDocument"]) == policy

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

    # ---- its policy: any S3 action on the stack's buckets of this account, read-only on the
    # region's Amazon Linux 2023 repositories, nothing else (no "*" resource or principal's action)
    account = emulator.client("sts").get_caller_identity()["Account"]
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "StackBucketsOfThisAccount",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{stack}-*", f"arn:aws:s3:::{stack}-*/*"],
                "Condition": {"StringEquals": {"s3:ResourceAccount": account}},
            },
            {
                "Sid": "ReadPackageRepositories",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": ["arn:aws:s3:::al2023-repos-ap-northeast-1-de612dc2/*"],
            },
        ],
    }

    # ---- the flow log: all the VPC's traffic to the stack's log group, through the stack's role
    group = f"/webstack/{stack}/vpc-flow-logs"
    group_arn = f"arn:aws:logs:ap-northeast-1:{account}:log-group:{group}"
    role = f"{stack}-vpc-flow-logs"
    (flow_log,) = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc["VpcId"]]}])["FlowLogs"]
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"
    assert flow_log["LogDestination"] == group_arn
    assert flow_log["LogGroupName"] == group
    assert flow_log["DeliverLogsStatus"] == "SUCCESS"
    assert flow_log["DeliverLogsPermissionArn"] == f"arn:aws:iam::{account}:role/{role}"
    assert tags_of(flow_log)["Stack"] == stack
    logs = emulator.client("logs")
    (log_group,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert log_group["retentionInDays"] == 90
    assert logs.list_tags_log_group(logGroupName=group)["tags"]["Stack"] == stack
    iam = emulator.client("iam")
    (trust,) = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
    (write, describe) = iam.get_role_policy(RoleName=role, PolicyName="write-vpc-flow-logs")["PolicyDocument"][
        "Statement"
    ]
    assert write["Resource"] == [group_arn, group_arn + ":*"]
    assert describe["Action"] == "logs:DescribeLogGroups"

    # ---- teardown removes everything, and a second teardown is a no-op
    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert down.rc == 0, down.output[-6000:]
    assert down.changed > 0
    left = stack_resources(ec2, stack)
    assert not any(left.values()), f"left behind: {left}"
    assert ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc["VpcId"]]}])["FlowLogs"] == []
    assert not any(flow_log_leftovers(emulator, stack).values()), flow_log_leftovers(emulator, stack)

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
