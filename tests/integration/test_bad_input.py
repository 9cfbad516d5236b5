"""Bad input fails before any AWS call, with a message naming the variable.

The AWS endpoint here is a closed port on 127.0.0.1: had any task reached the API, the run
would fail with a connection error instead of the message asserted."""

from __future__ import annotations

import pytest

from .conftest import FAIL_FAST_TIMEOUT, ROOT, run_playbook

PROVISION = ROOT / "playbooks" / "provision.yml"


CASES = [
    pytest.param({"webstack_name": "Bad_Name"}, "network_stack_name (default: webstack_name) must be", id="stack-name"),
    pytest.param({"webstack_name": ""}, "network_stack_name (default: webstack_name) must be", id="stack-name-empty"),
    pytest.param(
        {"network_vpc_cidr": "10.0.0.1/16"},
        "network_vpc_cidr must be an IPv4 network from /16 to /24 in CIDR form (e.g. 10.0.0.0/16);"
        " '10.0.0.1/16' has host bits set (did you mean 10.0.0.0/16?)",
        id="vpc-host-bits",
    ),
    pytest.param(
        {"network_vpc_cidr": "10.0.0.0/8"}, "network_vpc_cidr must be an IPv4 network from /16 to /24", id="vpc-too-big"
    ),
    pytest.param({"network_vpc_cidr": "banana"}, "'banana' has no prefix length", id="vpc-not-cidr"),
    pytest.param(
        {"network_azs": ["ap-northeast-1a", "ap-northeast-1a"]}, "network_azs must name two distinct", id="azs-same"
    ),
    pytest.param({"network_azs": ["ap-northeast-1a"]}, "network_azs must name two distinct", id="azs-one"),
    pytest.param(
        {"network_public_subnet_cidrs": ["10.1.0.0/24", "10.0.1.0/24"]},
        "network_public_subnet_cidrs: 10.1.0.0/24 is not inside network_vpc_cidr (10.0.0.0/16)",
        id="subnet-outside",
    ),
    pytest.param(
        {
            "network_public_subnet_cidrs": ["10.0.0.0/24", "10.0.1.0/24"],
            "network_private_subnet_cidrs": ["10.0.1.0/24", "10.0.2.0/24"],
        },
        "must not overlap: 10.0.1.0/24 overlaps 10.0.1.0/24",
        id="subnet-overlap",
    ),
    pytest.param(
        {"network_private_subnet_cidrs": ["10.0.2.0/24", "10.0.3.0/33"]},
        "network_private_subnet_cidrs must hold two IPv4 CIDRs",
        id="subnet-invalid",
    ),
    pytest.param({"network_subnet_prefix": 30}, "network_subnet_prefix must be at most 28", id="prefix-too-long"),
    pytest.param(
        {"network_nat_gateway_mode": "triple"},
        "value of network_nat_gateway_mode must be one of: single, per_az, got: triple",
        id="argspec-choice",
    ),
    pytest.param({"network_subnet_prefix": "wide"}, "network_subnet_prefix", id="argspec-type"),
]


@pytest.mark.parametrize(("extra", "message"), CASES)
def test_bad_input_fails_fast_with_a_clear_message(extra, message, dead_endpoint_env, tmp_path):
    extra_vars = {"webstack_name": "badinput", "webstack_state_dir": str(tmp_path), **extra}
    run = run_playbook(PROVISION, env=dead_endpoint_env, extra_vars=extra_vars, timeout=FAIL_FAST_TIMEOUT)
    assert run.rc != 0
    flat = " ".join(run.output.split())
    assert message in flat, run.output[-3000:]
    assert "Could not connect" not in flat and "EndpointConnectionError" not in flat
    assert not list(tmp_path.rglob("outputs.json"))


# The whole stack's inputs, from a bare inventory (nothing set but what a case passes).
STACK_BASE = {
    "webstack_name": "badstack",
    "webstack_domain": "badstack.kumo-webstack.example",
    "webstack_admin_cidrs": ["198.51.100.0/24"],
}
STACK_CASES = [
    pytest.param({"webstack_admin_cidrs": None}, "webstack_admin_cidrs", id="admin-cidrs-missing"),
    pytest.param({"webstack_admin_cidrs": ["198.51.100.7"]}, "webstack_admin_cidrs", id="admin-cidrs-not-cidr"),
    pytest.param({"webstack_domain": None}, "webstack_domain", id="domain-missing"),
    pytest.param({"webstack_domain": "Not_A_Domain"}, "webstack_domain", id="domain-invalid"),
    pytest.param({"compute_web_instance_type": "t3micro"}, "compute_web_instance_type", id="instance-type"),
    pytest.param({"database_instance_class": "t3.micro"}, "database_instance_class", id="db-instance-class"),
    pytest.param({"loadbalancer_health_check_path": "up"}, "loadbalancer_health_check_path", id="health-path"),
]


@pytest.mark.parametrize(("extra", "variable"), STACK_CASES)
def test_bad_stack_input_fails_before_any_aws_call(extra, variable, dead_endpoint_env, tmp_path):
    extra_vars = {"webstack_state_dir": str(tmp_path), "webstack_secrets_dir": str(tmp_path / "secrets")}
    extra_vars.update({k: v for k, v in {**STACK_BASE, **extra}.items() if v is not None})
    inventory = ROOT / "tests" / "integration" / "inventory.yml"
    run = run_playbook(
        PROVISION, "-i", str(inventory), env=dead_endpoint_env, extra_vars=extra_vars, timeout=FAIL_FAST_TIMEOUT
    )
    assert run.rc != 0
    flat = " ".join(run.output.split())
    failed = flat[flat.index("FAILED!") :] if "FAILED!" in flat else flat
    assert variable in failed, run.output[-3000:]
    assert "Could not connect" not in flat and "EndpointConnectionError" not in flat
    # the failure came from the up-front check, before any role started building
    assert "Network (NAT gateways started)" not in flat
    assert not list(tmp_path.rglob("outputs.json"))
