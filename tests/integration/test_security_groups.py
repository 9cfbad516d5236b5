"""The security_groups role end to end against the embedded emulator, read back with boto3.

The role runs alone (security_groups_alone.yml) in the VPC of the worker's shared network
(conftest.shared_base, itself built by security_groups.yml: the network and the rails groups
composed); the network role has its own tests, and test_stack.py composes every role."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from .badinput import assert_fails_before_aws, run_cases
from .conftest import ROOT, provision_converges, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
ALONE = PLAYBOOKS / "security_groups_alone.yml"
ADMIN = ["203.0.113.10/32", "198.51.100.0/24"]
ROLES = ("alb", "web", "bastion", "db")


def tags_of(resource) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def flat_rules(permissions) -> set[tuple]:
    """(protocol, from, to, source kind, source, description) for every source of every permission."""
    out = set()
    for p in permissions:
        head = (p["IpProtocol"], p.get("FromPort"), p.get("ToPort"))
        for r in p.get("IpRanges", []):
            out.add((*head, "cidr", r["CidrIp"], r.get("Description")))
        for r in p.get("Ipv6Ranges", []):
            out.add((*head, "cidr6", r["CidrIpv6"], r.get("Description")))
        for r in p.get("UserIdGroupPairs", []):
            out.add((*head, "group", r["GroupId"], r.get("Description")))
        for r in p.get("PrefixListIds", []):
            out.add((*head, "prefix", r["PrefixListId"], r.get("Description")))
    return out


def stack_groups(ec2, stack: str) -> dict[str, dict]:
    groups = ec2.describe_security_groups(Filters=[{"Name": "tag:Stack", "Values": [stack]}])["SecurityGroups"]
    return {g["GroupName"].removeprefix(stack + "-"): g for g in groups}


@pytest.mark.emulator
def test_check_mode_on_an_empty_account_creates_nothing(emulator, shared_base, tmp_path):
    stack = "sgcheck"
    extra = {"webstack_name": stack, "webstack_state_dir": str(tmp_path), "webstack_admin_cidrs": ADMIN}
    extra["security_groups_vpc_id"] = shared_base["network_outputs"]["vpc_id"]
    run = run_playbook(ALONE, "--check", env=emulator.env, extra_vars=extra)
    assert run.rc == 0, run.output[-4000:]
    assert run.changed > 0
    # in an existing VPC (the VPC not there yet is test_stack.py's check run on an empty account)
    assert "Check mode: sgcheck-alb, sgcheck-web, sgcheck-bastion, sgcheck-db would be created" in " ".join(
        run.output.split()
    )
    assert not stack_groups(emulator.client("ec2"), stack)


@pytest.mark.emulator
def test_security_groups_are_wired_idempotent_truthful_and_torn_down(emulator, shared_base, tmp_path):
    stack = "sglife"
    ec2 = emulator.client("ec2")
    vpc_id = shared_base["network_outputs"]["vpc_id"]
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "webstack_admin_cidrs": ADMIN,
        "security_groups_vpc_id": vpc_id,
    }

    provision_converges(ALONE, emulator.env, extra)

    # ---- read AWS back: four groups in the given VPC, named and tagged
    outputs = json.loads((tmp_path / "security_groups.json").read_text())
    groups = stack_groups(ec2, stack)
    assert sorted(groups) == sorted(ROLES)
    ids = {role: groups[role]["GroupId"] for role in ROLES}
    assert outputs["security_groups"] == ids
    for role, group in groups.items():
        assert group["VpcId"] == vpc_id
        assert tags_of(group) == {"Name": f"{stack}-{role}", "Stack": stack, "ManagedBy": "kumo.webstack"}

    ingress = {role: flat_rules(groups[role]["IpPermissions"]) for role in ROLES}
    egress = {role: flat_rules(groups[role]["IpPermissionsEgress"]) for role in ROLES}

    # ---- ALB: 80 and 443 from anywhere (IPv4 and IPv6); out only to the web group's app port
    assert ingress["alb"] == {
        ("tcp", 80, 80, "cidr", "0.0.0.0/0", "HTTP from the allowed IPv4 ranges"),
        ("tcp", 80, 80, "cidr6", "::/0", "HTTP from the allowed IPv6 ranges"),
        ("tcp", 443, 443, "cidr", "0.0.0.0/0", "HTTPS from the allowed IPv4 ranges"),
        ("tcp", 443, 443, "cidr6", "::/0", "HTTPS from the allowed IPv6 ranges"),
    }
    assert egress["alb"] == {
        ("tcp", 80, 80, "group", ids["web"], "App port to the web hosts (traffic and health checks)")
    }

    # ---- web: app port from the ALB group, SSH from the bastion group; all IPv4 out
    all_out = {
        (
            "-1",
            None,
            None,
            "cidr",
            "0.0.0.0/0",
            "All outbound IPv4 (package mirrors and APIs through the NAT gateway / IGW)",
        )
    }
    assert ingress["web"] == {
        ("tcp", 80, 80, "group", ids["alb"], "App port from the load balancer"),
        ("tcp", 22, 22, "group", ids["bastion"], "SSH from the bastion"),
    }
    assert egress["web"] == all_out

    # ---- bastion: SSH from the admin ranges only; all IPv4 out
    assert ingress["bastion"] == {("tcp", 22, 22, "cidr", cidr, "SSH from the admin ranges") for cidr in ADMIN}
    assert egress["bastion"] == all_out

    # ---- db: MySQL from the web group only; no egress at all
    assert ingress["db"] == {("tcp", 3306, 3306, "group", ids["web"], "MySQL from the web hosts")}
    assert egress["db"] == set()

    # ---- every rule is described, and nothing anywhere lets 22 in from the internet
    for role in ROLES:
        assert all(rule[5] for rule in ingress[role] | egress[role]), f"{role} has a rule without a description"
    for role in ROLES:
        for proto, low, high, _kind, source, _desc in ingress[role]:
            covers_22 = proto == "-1" or (proto == "tcp" and low <= 22 <= high)
            assert not (covers_22 and source in ("0.0.0.0/0", "::/0")), f"{role} lets SSH in from {source}"

    # ---- teardown removes the groups (the VPC is not theirs: it stays), and a second teardown
    # is a no-op
    absent = {**extra, "security_groups_state": "absent"}
    down = run_playbook(ALONE, env=emulator.env, extra_vars=absent)
    assert down.rc == 0, down.output[-6000:]
    assert down.changed > 0
    assert not stack_groups(ec2, stack)
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]

    again = run_playbook(ALONE, env=emulator.env, extra_vars=absent)
    assert again.rc == 0, again.output[-6000:]
    assert again.changed == 0, again.output[-6000:]


@pytest.mark.emulator
def test_custom_ports_and_ranges(emulator, shared_base, tmp_path):
    stack = "sgcustom"
    ec2 = emulator.client("ec2")
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "webstack_admin_cidrs": ["0.0.0.0/0"],
        "security_groups_allow_world_ssh": True,
        "security_groups_alb_ingress_cidrs": ["192.0.2.0/24"],
        "security_groups_alb_ingress_ipv6_cidrs": [],
        "security_groups_web_app_port": 8080,
        "security_groups_tags": {"Owner": "qa"},
        "security_groups_vpc_id": shared_base["network_outputs"]["vpc_id"],
    }
    first = run_playbook(ALONE, env=emulator.env, extra_vars=extra)
    assert first.rc == 0, first.output[-6000:]
    groups = stack_groups(ec2, stack)
    ids = {role: groups[role]["GroupId"] for role in ROLES}
    assert {r[:5] for r in flat_rules(groups["alb"]["IpPermissions"])} == {
        ("tcp", 80, 80, "cidr", "192.0.2.0/24"),
        ("tcp", 443, 443, "cidr", "192.0.2.0/24"),
    }
    assert {r[:5] for r in flat_rules(groups["alb"]["IpPermissionsEgress"])} == {
        ("tcp", 8080, 8080, "group", ids["web"])
    }
    assert ("tcp", 8080, 8080, "group", ids["alb"]) in {r[:5] for r in flat_rules(groups["web"]["IpPermissions"])}
    assert {r[:5] for r in flat_rules(groups["bastion"]["IpPermissions"])} == {("tcp", 22, 22, "cidr", "0.0.0.0/0")}
    assert tags_of(groups["db"])["Owner"] == "qa"

    down = run_playbook(ALONE, env=emulator.env, extra_vars={**extra, "security_groups_state": "absent"})
    assert down.rc == 0, down.output[-6000:]
    assert not stack_groups(ec2, stack)


# ---- another topology: the role is not rails-shaped


CHAT_GROUPS = [
    {
        "name": "alb",
        "description": "load balancer: HTTPS from anywhere",
        "ingress": [
            {"ports": 443, "cidrs": ["0.0.0.0/0"], "description": "HTTPS from anywhere"},
            {"ports": 443, "cidrs_ipv6": ["::/0"], "description": "HTTPS from anywhere (IPv6)"},
        ],
        "egress": [{"ports": 8000, "group": "chat", "description": "Chat port to the chat servers"}],
    },
    {
        "name": "chat",
        "description": "chat servers: WebSocket from the load balancer",
        "ingress": [{"ports": "8000", "group": "alb", "description": "Chat port from the load balancer"}],
        "egress": [{"proto": "all", "cidrs": ["0.0.0.0/0"], "description": "All outbound IPv4"}],
    },
    {
        "name": "redis",
        "description": "Redis: pub/sub for the chat servers",
        "ingress": [{"ports": 6379, "group": "chat", "description": "Redis from the chat servers"}],
    },
]


@pytest.mark.emulator
def test_another_topology_from_data_alone(emulator, tmp_path):
    """A chat-like set (ALB -> chat 8000 -> Redis 6379, no bastion, no admin CIDRs) in a VPC of
    its own: the groups and rules are exactly the data's, a second run changes nothing, absent
    removes them."""
    stack = "sgchat"
    ec2 = emulator.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    # a bare inventory: no webstack_admin_cidrs, and no rule needs them
    inventory = ["-i", str(ROOT / "tests" / "integration" / "inventory.yml")]
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "security_groups_vpc_id": vpc_id,
        "security_groups_groups": CHAT_GROUPS,
    }
    first = run_playbook(ALONE, *inventory, env=emulator.env, extra_vars=extra)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    groups = stack_groups(ec2, stack)
    assert sorted(groups) == ["alb", "chat", "redis"]
    ids = {name: g["GroupId"] for name, g in groups.items()}
    for name, group in groups.items():
        assert group["VpcId"] == vpc_id
        assert tags_of(group) == {"Name": f"{stack}-{name}", "Stack": stack, "ManagedBy": "kumo.webstack"}
    assert groups["chat"]["Description"] == f"{stack} chat servers: WebSocket from the load balancer"
    assert flat_rules(groups["alb"]["IpPermissions"]) == {
        ("tcp", 443, 443, "cidr", "0.0.0.0/0", "HTTPS from anywhere"),
        ("tcp", 443, 443, "cidr6", "::/0", "HTTPS from anywhere (IPv6)"),
    }
    assert flat_rules(groups["alb"]["IpPermissionsEgress"]) == {
        ("tcp", 8000, 8000, "group", ids["chat"], "Chat port to the chat servers")
    }
    assert flat_rules(groups["chat"]["IpPermissions"]) == {
        ("tcp", 8000, 8000, "group", ids["alb"], "Chat port from the load balancer")
    }
    assert flat_rules(groups["chat"]["IpPermissionsEgress"]) == {
        ("-1", None, None, "cidr", "0.0.0.0/0", "All outbound IPv4")
    }
    assert flat_rules(groups["redis"]["IpPermissions"]) == {
        ("tcp", 6379, 6379, "group", ids["chat"], "Redis from the chat servers")
    }
    assert flat_rules(groups["redis"]["IpPermissionsEgress"]) == set()

    second = run_playbook(ALONE, *inventory, env=emulator.env, extra_vars=extra)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-6000:]

    down = run_playbook(ALONE, *inventory, env=emulator.env, extra_vars={**extra, "security_groups_state": "absent"})
    assert down.rc == 0, down.output[-6000:]
    assert not stack_groups(ec2, stack)


# ---- bad input: fails in the role's validation, before any AWS call (dead endpoint), all
# cases in one ansible-playbook run (badinput.py), each asserted on its own


MISSING = (
    "webstack_admin_cidrs (security_groups_admin_cidrs) must list the CIDRs allowed to SSH to the bastion,"
    """ e.g. -e '{"webstack_admin_cidrs": ["203.0.113.10/32"]}'"""
)
# the rails groups as the manifest has them, with the manifest's own data they are made of
# (templated in each case's play, as are the knobs they refer to)
RAILS_MANIFEST = yaml.safe_load((ROOT / "playbooks" / "rails" / "vars" / "kind.yml").read_text())
BAD_BASE = {
    "webstack_name": "sgbad",
    "security_groups_vpc_id": "vpc-0123456789abcdef0",
    **{key: value for key, value in RAILS_MANIFEST.items() if key.startswith("__rails")},
    "security_groups_groups": RAILS_MANIFEST["security_groups_groups"],
}
# A bare inventory: the local one sets webstack_admin_cidrs, so "unset" could not be tested.
INVENTORY = ROOT / "tests" / "integration" / "inventory.yml"


def case(case_id: str, variables: dict, messages: list[str]):
    """A bad-input case: its variables (None leaves one unset) and the texts its failure must hold."""
    return pytest.param(variables, messages, id=case_id)


def _chat_with(change) -> list[dict]:
    """CHAT_GROUPS changed by ``change`` (a data case starts from a valid list)."""
    groups = copy.deepcopy(CHAT_GROUPS)
    change(groups)
    return groups


BAD_CASES = [
    case("admin-cidrs-unset", {}, [MISSING]),
    case("admin-cidrs-empty", {"webstack_admin_cidrs": []}, [MISSING]),
    case(
        "admin-cidr-no-prefix",
        {"webstack_admin_cidrs": ["203.0.113.10"]},
        ["must hold IPv4 networks in CIDR form (e.g. 203.0.113.10/32): '203.0.113.10' has no prefix length"],
    ),
    case(
        "admin-cidr-host-bits",
        {"webstack_admin_cidrs": ["203.0.113.10/24"]},
        ["'203.0.113.10/24' has host bits set (did you mean 203.0.113.0/24?)"],
    ),
    case(
        "admin-cidr-world",
        {"webstack_admin_cidrs": ["203.0.113.10/32", "0.0.0.0/0"]},
        ["contains 0.0.0.0/0, which opens SSH on the bastion to the whole internet"],
    ),
    case(
        "alb-cidr-invalid",
        {"webstack_admin_cidrs": ADMIN, "security_groups_alb_ingress_cidrs": ["10.0.0.0/33"]},
        ["security_groups_alb_ingress_cidrs must hold IPv4 CIDRs"],
    ),
    case(
        "alb-ipv6-invalid",
        {"webstack_admin_cidrs": ADMIN, "security_groups_alb_ingress_ipv6_cidrs": ["0.0.0.0/0"]},
        ["security_groups_alb_ingress_ipv6_cidrs IPv6 CIDRs"],
    ),
    case(
        "alb-no-cidrs",
        {
            "webstack_admin_cidrs": ADMIN,
            "security_groups_alb_ingress_cidrs": [],
            "security_groups_alb_ingress_ipv6_cidrs": [],
        },
        ["together they must allow someone to reach the load balancer"],
    ),
    case(
        "app-port-out-of-range",
        {"webstack_admin_cidrs": ADMIN, "security_groups_web_app_port": 70000},
        ["security_groups_web_app_port must be a TCP port from 1 to 65535; got 70000"],
    ),
    case(
        "db-port-out-of-range",
        {"webstack_admin_cidrs": ADMIN, "security_groups_db_port": 0},
        ["security_groups_db_port must be a TCP port from 1 to 65535; got 0"],
    ),
    case("stack", {"webstack_admin_cidrs": ADMIN, "webstack_name": "Bad_Name"}, ["security_groups_stack_name"]),
    case(
        "vpc-id-missing",
        {"webstack_admin_cidrs": ADMIN, "security_groups_vpc_id": ""},
        ["security_groups_vpc_id (default: network_outputs.vpc_id) must be the id of the stack's VPC"],
    ),
    case(
        "argspec-type",
        {"webstack_admin_cidrs": ADMIN, "security_groups_web_app_port": "http"},
        ["security_groups_web_app_port"],
    ),
    # ---- the groups as data (a chat-like list, one thing wrong in each)
    case(
        "world-ssh",
        {
            "security_groups_groups": _chat_with(
                lambda g: g[1]["ingress"].append({"ports": 22, "cidrs": ["0.0.0.0/0"], "description": "SSH"})
            )
        },
        [
            "security_groups_groups[1] (chat) ingress rule 2 ('SSH') opens SSH (port 22) to 0.0.0.0/0, the whole"
            " internet. Narrow its CIDRs, or set security_groups_allow_world_ssh=true"
        ],
    ),
    case(
        "world-ssh-ipv6-range",
        {
            "security_groups_groups": _chat_with(
                lambda g: g[1]["ingress"].append({"ports": "1-1024", "cidrs_ipv6": ["::/0"], "description": "low"})
            )
        },
        ["ingress rule 2 ('low') opens SSH (port 22) to ::/0"],
    ),
    case(
        "unknown-group",
        {"security_groups_groups": _chat_with(lambda g: g[2]["ingress"][0].update(group="chatt"))},
        [
            "security_groups_groups[2] (redis) ingress rule 1 ('Redis from the chat servers') references group"
            " 'chatt', which is not in the list (alb, chat, redis)"
        ],
    ),
    case(
        "duplicate-name",
        {"security_groups_groups": _chat_with(lambda g: g[2].update(name="chat"))},
        ["security_groups_groups[2]: the name 'chat' is used twice (names must be unique)"],
    ),
    case(
        "port-out-of-range",
        {"security_groups_groups": _chat_with(lambda g: g[0]["egress"][0].update(ports=65536))},
        [
            "security_groups_groups[0] (alb) egress rule 1 ('Chat port to the chat servers'): ports must be a"
            " port from 1 to 65535 or a range such as 8000-8010; got 65536"
        ],
    ),
    case(
        "rule-without-description",
        {"security_groups_groups": _chat_with(lambda g: g[2]["ingress"][0].update(description=""))},
        ["security_groups_groups[2] (redis) ingress rule 1 needs a description (every rule carries one)"],
    ),
    case(
        "admin-rule-without-cidrs",
        {
            "security_groups_groups": _chat_with(
                lambda g: g[1]["ingress"].append({"ports": 22, "admin": True, "description": "SSH from the admins"})
            )
        },
        [MISSING],
    ),
]


@pytest.fixture(scope="module")
def bad_cases(dead_endpoint_env, tmp_path_factory):
    """Every BAD_CASES case in one ansible-playbook run (badinput.py), the role alone."""
    return run_cases(
        {p.id: p.values[0] for p in BAD_CASES},
        [
            {
                "name": "The security_groups role",
                "ansible.builtin.include_role": {"name": "kumo.webstack.security_groups"},
            }
        ],
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("security-groups-cases"),
        base_vars=BAD_BASE,
        inventory=INVENTORY,
    )


@pytest.mark.xdist_group("security_groups_bad_input")  # one worker runs the batch (the module fixture) once
@pytest.mark.parametrize(("extra", "messages"), BAD_CASES)
def test_bad_input_fails_fast_with_a_clear_message(extra, messages, bad_cases, request):
    result = bad_cases[request.node.callspec.id]
    for message in messages:
        assert_fails_before_aws(result, message)
