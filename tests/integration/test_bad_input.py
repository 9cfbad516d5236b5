"""Bad input fails before any AWS call, with a message naming the variable.

The AWS endpoint here is a closed port on 127.0.0.1: had any task reached the API, the run
would fail with a connection error instead of the message asserted. The cases run in one
ansible-playbook (badinput.py: one play per case, each through every role's validate entry
point, as playbooks/provision.yml checks them first), then are asserted one by one; one case
of each list also runs through provision.yml itself, which proves the playbook checks first."""

from __future__ import annotations

import pytest

from .badinput import assert_fails_before_aws, run_cases
from .conftest import FAIL_FAST_TIMEOUT, ROOT, run_playbook

PROVISION = ROOT / "playbooks" / "provision.yml"
INVENTORY = ROOT / "tests" / "integration" / "inventory.yml"
# What playbooks/provision.yml does before any AWS call: every role's validate entry point.
VALIDATE_EVERY_ROLE = [
    {
        "name": "Check the variables of every role",
        "ansible.builtin.include_role": {"name": "kumo.webstack.{{ __case_part.role }}", "tasks_from": "validate"},
        "loop": "{{ webstack_kind_roles }}",
        "loop_control": {"loop_var": "__case_part"},
    }
]
RAILS_KIND = [str(ROOT / "playbooks" / "rails" / "vars" / "kind.yml")]

pytestmark = pytest.mark.xdist_group("bad_input")


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
        "value of network_nat_gateway_mode must be one of: single, per_az, none, got: triple",
        id="argspec-choice",
    ),
    pytest.param({"network_subnet_prefix": "wide"}, "network_subnet_prefix", id="argspec-type"),
    # the rails manifest adds a bucket name the user gave to the S3 endpoint's policy
    pytest.param(
        {"storage_bucket_name": "*"},
        "network_s3_endpoint_bucket_names must hold S3 bucket names (3-63 lowercase letters, digits, dots and"
        " hyphens) in which * matches any characters, each with at least one character that is not a wildcard"
        " (a bare * would open every bucket of the account; network_s3_endpoint_full_access is the explicit"
        ' way to open S3); got ["*"].',
        id="endpoint-bucket-wildcard",
    ),
    pytest.param(
        {"network_s3_endpoint_read_only_arns": ["arn:aws:s3:::*/*"]},
        "network_s3_endpoint_read_only_arns must hold S3 object ARNs",
        id="endpoint-read-only-arn",
    ),
    pytest.param(
        {"network_flow_logs_retention_days": 100},
        "value of network_flow_logs_retention_days must be one of: 1, 3, 5, 7, 14, 30, 60, 90",
        id="flow-logs-retention",
    ),
]


@pytest.fixture(scope="module")
def network_cases(dead_endpoint_env, tmp_path_factory):
    cases = {p.id: {"webstack_name": "badinput", **p.values[0]} for p in CASES}
    return run_cases(
        cases,
        VALIDATE_EVERY_ROLE,
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("network-cases"),
        vars_files=RAILS_KIND,
    )


@pytest.mark.parametrize(("extra", "message"), CASES)
def test_bad_input_fails_fast_with_a_clear_message(extra, message, network_cases, request):
    result = network_cases[request.node.callspec.id]
    assert_fails_before_aws(result, message)
    assert not list(result.case_dir.rglob("outputs.json"))


def provision_fails_first(env, tmp_path, extra_vars: dict, *args: str) -> str:
    """Run playbooks/provision.yml; it must fail in its up-front check, before any role starts
    building (and so before any AWS call). Returns the output from the failure on, flattened."""
    run = run_playbook(PROVISION, *args, env=env, extra_vars=extra_vars, timeout=FAIL_FAST_TIMEOUT)
    assert run.rc != 0
    flat = " ".join(run.output.split())
    assert "Could not connect" not in flat and "EndpointConnectionError" not in flat
    assert "Network (NAT gateways started)" not in flat
    assert not list(tmp_path.rglob("outputs.json"))
    return flat[flat.index("FAILED!") :] if "FAILED!" in flat else flat


def test_provision_checks_every_role_before_any_aws_call(dead_endpoint_env, tmp_path):
    """One case through playbooks/provision.yml itself."""
    extra_vars = {"webstack_name": "badinput", "webstack_state_dir": str(tmp_path), "network_vpc_cidr": "10.0.0.1/16"}
    failed = provision_fails_first(dead_endpoint_env, tmp_path, extra_vars)
    assert "'10.0.0.1/16' has host bits set (did you mean 10.0.0.0/16?)" in failed


def test_provision_by_tags_checks_the_roles_it_runs_first(dead_endpoint_env, tmp_path):
    """Each role's tasks carry its name as a tag; --tags network,database --skip-tags network runs
    the database role alone. Its variables are checked before any AWS call, those of a role left
    out are not (the network's, bad here too). test_stack.py runs tags on a whole stack."""
    extra_vars = {
        "webstack_name": "badtags",
        "webstack_state_dir": str(tmp_path),
        "webstack_secrets_dir": str(tmp_path / "secrets"),
        "network_vpc_cidr": "10.0.0.1/16",
        "database_instance_class": "t3.micro",
    }
    run = run_playbook(
        PROVISION,
        *("--tags", "network,database", "--skip-tags", "network"),
        env=dead_endpoint_env,
        extra_vars=extra_vars,
        timeout=FAIL_FAST_TIMEOUT,
    )
    assert run.rc != 0
    assert run.roles == {"database"}, run.output[-6000:]
    flat = " ".join(run.output.split())
    assert "Could not connect" not in flat and "EndpointConnectionError" not in flat
    assert "database_instance_class must be" in flat and "network_vpc_cidr" not in flat, flat[-3000:]
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


@pytest.fixture(scope="module")
def stack_cases(dead_endpoint_env, tmp_path_factory):
    cases = {p.id: {**STACK_BASE, **p.values[0]} for p in STACK_CASES}
    return run_cases(
        cases,
        VALIDATE_EVERY_ROLE,
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("stack-cases"),
        vars_files=RAILS_KIND,
        inventory=INVENTORY,
    )


@pytest.mark.parametrize(("extra", "variable"), STACK_CASES)
def test_bad_stack_input_fails_before_any_aws_call(extra, variable, stack_cases, request):
    result = stack_cases[request.node.callspec.id]
    assert_fails_before_aws(result, variable)
    assert not list(result.case_dir.rglob("outputs.json"))


def test_provision_refuses_a_stack_without_admin_cidrs(dead_endpoint_env, tmp_path):
    """The whole stack's inputs from a bare inventory, through provision.yml itself."""
    extra_vars = {
        "webstack_state_dir": str(tmp_path),
        "webstack_secrets_dir": str(tmp_path / "secrets"),
        **{k: v for k, v in STACK_BASE.items() if k != "webstack_admin_cidrs"},
    }
    failed = provision_fails_first(dead_endpoint_env, tmp_path, extra_vars, "-i", str(INVENTORY))
    assert "webstack_admin_cidrs" in failed
