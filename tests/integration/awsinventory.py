"""inventories/aws (the amazon.aws.aws_ec2 inventory plugin and its group_vars) read back from an
emulator holding a stack's instances: the groups, and how the host plays would reach each host,
over SSH through the bastion and over SSM, without reaching any.

The plugin takes no endpoint from aws_ec2.yml: boto3 resolves it as for any AWS call, from the
standard AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_EC2) of the environment, which Emulator.env sets
(the plugin's own endpoint_url option, also read from AWS_URL, would take precedence).

Nothing here connects to an instance: the emulator's addresses (10.x, made-up public IPs) are only
rendered. ansible-inventory lists the hosts; tests/integration/playbooks/inventory_connection_vars.yml
renders each host's connection variables in its own context on localhost (a delegated set_fact),
under the plain linear strategy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import FAIL_FAST_TIMEOUT, ROOT, run_playbook

INVENTORY = ROOT / "inventories" / "aws"
RENDER = ROOT / "tests" / "integration" / "playbooks" / "inventory_connection_vars.yml"
# every group aws_ec2.yml makes from the stack's Role tags
STACK_GROUPS = ("bastion", "web", "sorry", "chat", "chat_builder", "private")


def _env(emulator) -> dict[str, str]:
    env = dict(emulator.env)
    env["ANSIBLE_STRATEGY"] = "linear"  # nothing of Mitogen's: no connection but localhost's
    env.pop("ANSIBLE_STRATEGY_PLUGINS", None)
    return env


def ansible_inventory(emulator, *args: str) -> str:
    cmd = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(INVENTORY), *args]
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(emulator), capture_output=True, text=True, timeout=FAIL_FAST_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


def graph_groups(graph: str) -> dict[str, set[str]]:
    """ansible-inventory --graph's text as group -> its hosts (direct members)."""
    groups: dict[str, set[str]] = {}
    stack: list[tuple[int, str]] = []
    for line in graph.splitlines():
        name = line.lstrip(" |-")
        depth = len(line) - len(name)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if name.startswith("@"):
            group = name[1:].rstrip(":")
            groups.setdefault(group, set())
            stack.append((depth, group))
        elif name and stack:
            groups[stack[-1][1]].add(name)
    return groups


def _plain(value):
    """--list's JSON marks values from the plugin as unsafe ({"__ansible_unsafe": value}): the value."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def render_connection_vars(emulator, tmp_path: Path, extra_vars: dict) -> dict[str, dict]:
    out = tmp_path / f"connection-vars-{len(list(tmp_path.glob('connection-vars-*')))}.json"
    run = run_playbook(
        RENDER, "-i", str(INVENTORY), env=_env(emulator), extra_vars={**extra_vars, "inventory_vars_file": str(out)}
    )
    assert run.rc == 0, run.output[-6000:]
    return json.loads(out.read_text())


def assert_aws_inventory(emulator, tmp_path: Path, *, stack: str, compute: dict, secrets_dir: str, other: set[str]):
    """inventories/aws for ``stack``, whose compute_outputs are ``compute`` (a bastion with its
    public IP, web servers in private subnets): its instances, and only its, in the groups
    bastion, web and private; the bastion at its public IP, the web servers at their private IPs
    through the bastion (ProxyCommand with the admin key) or, with webstack_connection ssm, by
    Session Manager. ``other``: names of another stack's instances, in none of those groups."""
    bastion = compute["bastion"]
    web = {w["name"]: w for w in compute["web"]}
    base = {"webstack_name": stack, "webstack_secrets_dir": secrets_dir}
    key = compute["private_key_path"]
    assert key == f"{secrets_dir}/{stack}-admin"

    # ---- the groups (--graph)
    groups = graph_groups(ansible_inventory(emulator, "--graph", "-e", f"webstack_name={stack}"))
    assert groups["bastion"] == {f"{stack}-bastion"}, groups
    assert groups["web"] == set(web), groups
    assert groups["private"] == set(web), groups
    for name in STACK_GROUPS:
        assert not groups.get(name, set()) & other, (name, groups)

    # ---- the host variables (--list: the plugin's, concrete; group_vars' are templates there)
    listed = _plain(json.loads(ansible_inventory(emulator, "--list", "-e", json.dumps(base))))
    for name in STACK_GROUPS:
        assert set(listed.get(name, {}).get("hosts", [])) == groups.get(name, set()), name
    hostvars = listed["_meta"]["hostvars"]
    assert hostvars[f"{stack}-bastion"]["ansible_host"] == bastion["public_ip"]
    assert hostvars[f"{stack}-bastion"]["instance_id"] == bastion["instance_id"]
    for name, instance in web.items():
        assert hostvars[name]["ansible_host"] == instance["private_ip"]
        assert hostvars[name]["instance_id"] == instance["instance_id"]
        assert hostvars[name]["webstack_host_role"] == "web"
        # the SSM connection's variables are there for every private host, whichever connection
        for option in ("ansible_connection", "ansible_aws_ssm_instance_id", "ansible_aws_ssm_bucket_name"):
            assert option in hostvars[name], option
    assert "ansible_ssh_common_args" not in hostvars[f"{stack}-bastion"]

    # ---- SSH (the default): the bastion at its public IP, the web servers through it
    ssh = render_connection_vars(emulator, tmp_path, base)
    assert ssh[f"{stack}-bastion"] == {
        "ansible_host": bastion["public_ip"],
        "ansible_user": "ec2-user",
        "ansible_ssh_private_key_file": key,
    }
    for name, instance in web.items():
        assert ssh[name]["ansible_connection"] == "ssh"
        assert ssh[name]["ansible_host"] == instance["private_ip"]
        assert ssh[name]["ansible_ssh_private_key_file"] == key
        assert ssh[name]["ansible_ssh_common_args"] == (
            f'-o ProxyCommand="ssh -W %h:%p -q -i {key} ec2-user@{bastion["public_ip"]}"'
        )

    # ---- SSM: the web servers by instance id through Session Manager, no ProxyCommand; the
    # bastion still by SSH
    bucket = f"{stack}-ssm-transfer"
    ssm = render_connection_vars(
        emulator, tmp_path, {**base, "webstack_connection": "ssm", "webstack_ssm_bucket_name": bucket}
    )
    assert ssm[f"{stack}-bastion"] == ssh[f"{stack}-bastion"]
    for name, instance in web.items():
        assert ssm[name]["ansible_connection"] == "amazon.aws.aws_ssm"
        assert ssm[name]["ansible_aws_ssm_instance_id"] == instance["instance_id"]
        assert ssm[name]["ansible_aws_ssm_region"] == emulator.env["AWS_REGION"]
        assert ssm[name]["ansible_aws_ssm_bucket_name"] == bucket
        assert ssm[name]["ansible_ssh_common_args"] == ""
