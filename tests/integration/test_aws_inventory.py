"""inventories/aws without AWS: the connection check the host playbooks run first
(webstack_connection ssh|ssm, playbooks/tasks/connection_check.yml) and the example vault
(group_vars/all/vault.yml.example -> vault.yml, encrypted, feeding the role variables through
group_vars/all/secrets.yml). No emulator: the AWS endpoint is a dead one, so nothing here could
reach AWS or a host unnoticed.

The inventory read back from an emulator holding a stack's instances (aws_ec2 plugin, SSH through
the bastion, SSM): awsinventory.py, run by test_compute.py on the instances it launches.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .badinput import assert_fails_before_aws, run_cases
from .conftest import FAIL_FAST_TIMEOUT, ROOT, run_playbook

INVENTORY = ROOT / "inventories" / "aws"
CONNECTION_CHECK = ROOT / "playbooks" / "tasks" / "connection_check.yml"
BIN = Path(sys.executable).parent

# ---- webstack_connection: checked before any host is contacted

CASES = {
    "ssh-default": ({}, None),
    "ssm-with-bucket": ({"webstack_connection": "ssm", "webstack_ssm_bucket_name": "ssmchk-transfer"}, None),
    "unknown-connection": (
        {"webstack_connection": "telnet"},
        "webstack_connection must be ssh (the private hosts through the bastion) or ssm",
    ),
    "ssm-without-bucket": (
        {"webstack_connection": "ssm"},
        "webstack_connection ssm needs webstack_ssm_bucket_name: the S3 bucket",
    ),
    "ssm-bad-bucket": (
        {"webstack_connection": "ssm", "webstack_ssm_bucket_name": "My_Bucket"},
        "got 'My_Bucket'. Give it with -e webstack_ssm_bucket_name=",
    ),
    "ssm-bad-region": (
        {"webstack_connection": "ssm", "webstack_ssm_bucket_name": "ssmchk-transfer", "webstack_aws_region": "tokyo"},
        "webstack_connection ssm needs the stack's region in webstack_aws_region (e.g. ap-northeast-1); got 'tokyo'",
    ),
}


def vault_encrypt(path: Path, password_file: Path) -> None:
    """ansible-vault encrypt, in place, with the password in password_file."""
    encrypted = subprocess.run(
        [str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password_file), str(path)],
        capture_output=True,
        text=True,
        timeout=FAIL_FAST_TIMEOUT,
    )
    assert encrypted.returncode == 0, encrypted.stderr


@pytest.fixture(scope="module")
def connection_cases(dead_endpoint_env, tmp_path_factory):
    """Every case in one ansible-playbook run, with inventories/aws's group_vars (its hosts.yml:
    localhost only, no inventory plugin)."""
    return run_cases(
        {case_id: variables for case_id, (variables, _) in CASES.items()},
        [{"name": "Check the connection", "ansible.builtin.include_tasks": str(CONNECTION_CHECK)}],
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("connection-cases"),
        base_vars={"webstack_name": "ssmchk"},
        inventory=INVENTORY / "hosts.yml",
    )


@pytest.mark.parametrize("case_id", list(CASES))
def test_connection_check(case_id, connection_cases):
    result = connection_cases[case_id]
    message = CASES[case_id][1]
    if message is None:
        assert not result.failed, f"{result.task}: {result.msg}"
    else:
        assert_fails_before_aws(result, message)


def test_a_host_playbook_stops_at_a_bad_connection_before_anything_else(dead_endpoint_env, tmp_path):
    """playbooks/rails/configure.yml with ssm and no bucket: the check is its first task (through
    tasks/stack_outputs.yml, which every playbook reading a stack runs first), before outputs.json
    is read or any host contacted."""
    run = run_playbook(
        ROOT / "playbooks" / "rails" / "configure.yml",
        "-i",
        str(INVENTORY / "hosts.yml"),
        env=dead_endpoint_env,
        extra_vars={"webstack_name": "ssmchk", "webstack_state_dir": str(tmp_path), "webstack_connection": "ssm"},
        timeout=FAIL_FAST_TIMEOUT,
    )
    assert run.rc != 0
    flat = " ".join(run.output.split())
    assert "webstack_connection ssm needs webstack_ssm_bucket_name" in flat, run.output[-3000:]
    assert "TASK [Read outputs.json" not in run.output
    assert run.recap() == {"ok": 2, "changed": 0, "unreachable": 0, "failed": 1}
    assert "PLAY [Harden the bastion" not in run.output


# ---- the example vault: encrypted, it feeds the role variables, and its values are never shown

# role variable <- the vault variable group_vars/all/secrets.yml feeds it from
ROLE_VARIABLES = {
    "database_master_password": "vault_database_master_password",
    "rails_app_db_master_password": "vault_database_master_password",
    "rails_app_secret_key_base": "vault_rails_app_secret_key_base",
    "rails_app_db_password": "vault_rails_app_db_password",
    "cache_auth_token": "vault_cache_auth_token",
    "bot_access_token": "vault_bot_access_token",
    "bot_channel_secret": "vault_bot_channel_secret",
}


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@pytest.fixture
def vaulted_inventory(tmp_path):
    """A copy of inventories/aws (no aws_ec2.yml: no AWS call) whose group_vars/all/vault.yml is
    the example, encrypted with ansible-vault as its header says. Returns (inventory, password
    file, the example's values)."""
    inventory = tmp_path / "aws"
    shutil.copytree(INVENTORY, inventory, ignore=shutil.ignore_patterns("aws_ec2.yml", "vault.yml"))
    example = inventory / "group_vars" / "all" / "vault.yml.example"
    values = yaml.safe_load(example.read_text())
    vault = inventory / "group_vars" / "all" / "vault.yml"
    shutil.copy(example, vault)
    password_file = tmp_path / "vault-password"
    password_file.write_text("a test vault password\n")
    password_file.chmod(0o600)
    vault_encrypt(vault, password_file)
    text = vault.read_text()
    assert text.startswith("$ANSIBLE_VAULT;1.1;AES256")
    for value in values.values():
        assert value not in text
    return inventory, password_file, values


def test_the_vault_feeds_the_role_variables(vaulted_inventory, dead_endpoint_env):
    """Each role variable holds its vault value (compared by hash and length: never printed)."""
    inventory, password_file, values = vaulted_inventory
    assert set(values) == set(ROLE_VARIABLES.values()), "every vault variable of the example feeds a role variable"
    probe = "{{ {" + ", ".join(f"'{v}': [{v} | hash('sha256'), {v} | length]" for v in ROLE_VARIABLES) + "} }}"
    env = dict(dead_endpoint_env, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    run = subprocess.run(
        [
            str(BIN / "ansible"),
            "localhost",
            "-i",
            str(inventory),
            "--vault-password-file",
            str(password_file),
            "-e",
            "webstack_name=vaultchk",
            "-m",
            "ansible.builtin.debug",
            "-a",
            f"msg={probe}",
        ],
        cwd=ROOT,
        env={**env, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        capture_output=True,
        text=True,
        timeout=FAIL_FAST_TIMEOUT,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for value in values.values():
        assert value not in run.stdout and value not in run.stderr
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"]
    for variable, vault_variable in ROLE_VARIABLES.items():
        secret = values[vault_variable]
        assert result[variable] == [_sha256(secret), len(secret)], variable


def test_the_roles_check_vaulted_secrets_without_showing_them(vaulted_inventory, dead_endpoint_env, tmp_path):
    """The database and cache roles' checks (their validate entry points, no AWS call) accept the
    vault's values; a bad vaulted password fails, named but not shown."""
    inventory, password_file, values = vaulted_inventory
    playbook = tmp_path / "validate.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Check the roles' secrets",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": f"Check the {role} role's variables",
                            "ansible.builtin.include_role": {"name": f"kumo.webstack.{role}", "tasks_from": "validate"},
                        }
                        for role in ("database", "cache")
                    ],
                }
            ]
        )
    )
    args = ("-i", str(inventory), "--vault-password-file", str(password_file), "-v")
    extra = {"webstack_name": "vaultchk", "webstack_secrets_dir": str(tmp_path / "secrets")}
    good = run_playbook(playbook, *args, env=dead_endpoint_env, extra_vars=extra, timeout=FAIL_FAST_TIMEOUT)
    assert good.rc == 0, good.output[-4000:]
    for value in values.values():
        assert value not in good.output

    # a vaulted value the database role refuses (an @ is not allowed in an RDS master password),
    # given on the command line from a vault file of its own
    bad_value = "vaulted@password-9f3c"
    bad_vault = tmp_path / "bad-vault.yml"
    bad_vault.write_text(yaml.safe_dump({"vault_database_master_password": bad_value}))
    vault_encrypt(bad_vault, password_file)
    bad = run_playbook(
        playbook, *args, "-e", f"@{bad_vault}", env=dead_endpoint_env, extra_vars=extra, timeout=FAIL_FAST_TIMEOUT
    )
    assert bad.rc != 0
    flat = " ".join(bad.output.split())
    assert "database_master_password" in flat and "(the value is not shown)" in flat, bad.output[-3000:]
    assert bad_value not in bad.output
    for value in values.values():
        assert value not in bad.output
    assert "Could not connect" not in flat
