"""The database role (RDS for MySQL) end to end against the embedded emulator, read back with boto3.

The database role runs alone on the worker's shared network and security groups (fixture
shared_base), given their outputs, and its teardown removes only the database: the network and the
security groups have their own tests.
"""

from __future__ import annotations

import json
import stat

import pytest

from .badinput import assert_fails_before_aws, run_role_cases
from .conftest import ROOT, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
PROVISION = PLAYBOOKS / "database_alone.yml"
TEARDOWN = PLAYBOOKS / "database_alone_teardown.yml"

pytestmark = pytest.mark.emulator


def _tags(rds, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=arn)["TagList"]}


def stack_rds(rds, stack: str) -> dict[str, list[str]]:
    """Every RDS instance, subnet group and parameter group tagged Stack=<stack>."""
    found = {
        "instances": [
            d["DBInstanceIdentifier"]
            for d in rds.describe_db_instances()["DBInstances"]
            if _tags(rds, d["DBInstanceArn"]).get("Stack") == stack
        ],
        "subnet_groups": [
            g["DBSubnetGroupName"]
            for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]
            if _tags(rds, g["DBSubnetGroupArn"]).get("Stack") == stack
        ],
        "parameter_groups": [
            g["DBParameterGroupName"]
            for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
            if _tags(rds, g["DBParameterGroupArn"]).get("Stack") == stack
        ],
    }
    return {kind: names for kind, names in found.items() if names}


def final_snapshots(rds, stack: str) -> list[str]:
    return sorted(
        s["DBSnapshotIdentifier"]
        for s in rds.describe_db_snapshots(DBInstanceIdentifier=f"{stack}-db")["DBSnapshots"]
        if s["DBSnapshotIdentifier"].startswith(f"{stack}-final-")
    )


def flat(run) -> str:
    return " ".join(run.output.split())


def log_groups(logs, stack: str) -> dict[str, dict]:
    """The log groups of the stack's instance: name -> {"retention": days or None, "tags": {...}}."""
    prefix = f"/aws/rds/instance/{stack}-db/"
    return {
        g["logGroupName"]: {
            "retention": g.get("retentionInDays"),
            "tags": logs.list_tags_log_group(logGroupName=g["logGroupName"])["tags"],
        }
        for g in logs.describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
    }


def test_database_is_private_encrypted_idempotent_and_torn_down_keeping_a_snapshot(emulator, shared_base, tmp_path):
    stack = "dblife"
    rds, logs = emulator.client("rds"), emulator.client("logs")
    stack_tags = {"Stack": stack, "ManagedBy": "kumo.webstack"}
    error_log, slow_log = f"/aws/rds/instance/{stack}-db/error", f"/aws/rds/instance/{stack}-db/slowquery"
    secrets = tmp_path / "secrets"
    password_file = secrets / "db-master-password"
    outputs_file = tmp_path / "database_outputs.json"
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "webstack_secrets_dir": str(secrets),
    }
    net, sgs = shared_base["network_outputs"], shared_base["security_groups_outputs"]
    alone = {**extra, "network_outputs": net, "security_groups_outputs": sgs}
    runs = []

    # ---- --check on an empty account (no network yet, so no outputs to stand on): predicts the
    # database, creates nothing (not even the password)
    check_empty = run_playbook(PROVISION, "--check", env=emulator.env, extra_vars=extra)
    assert check_empty.rc == 0, check_empty.output[-6000:]
    assert check_empty.changed > 0
    assert f"the RDS instance {stack}-db would be created" in flat(check_empty)
    assert f"the log groups {error_log}, {slow_log} and the RDS instance" in flat(check_empty)
    assert stack_rds(rds, stack) == {}
    assert log_groups(logs, stack) == {}
    assert not secrets.exists()
    assert "Ensure the secrets directory is private" not in check_empty.output

    # ---- first run: the database on the shared network and security groups. The secrets
    # directory already exists, too open: the role closes it before writing the password.
    secrets.mkdir(mode=0o755)
    secrets.chmod(0o755)
    first = run_playbook(PROVISION, env=emulator.env, extra_vars=alone)
    runs.append(first)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    assert "Wait for the database instance to become available: dblife-db" in first.output

    # ---- the generated password: 32 letters and digits, in a private file in a private directory
    password = password_file.read_text().strip()
    assert len(password) == 32 and password.isalnum()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700

    db = json.loads(outputs_file.read_text())
    private_subnets = set(net["subnets"]["private"].values())
    assert db == {
        "instance_id": f"{stack}-db",
        "arn": f"arn:aws:rds:ap-northeast-1:123456789012:db:{stack}-db",
        "endpoint": db["endpoint"],
        "port": 3306,
        "db_name": "app",
        "master_username": "admin",
        "password_file": str(password_file),
        "engine_version": db["engine_version"],
        "subnet_group": f"{stack}-db",
        "parameter_group": f"{stack}-mysql",
    }
    assert db["endpoint"].startswith(f"{stack}-db.")
    # a major version alone ("8.4"): RDS picked a minor version, which the outputs report
    assert db["engine_version"].startswith("8.4.")

    # ---- idempotent
    second = run_playbook(PROVISION, env=emulator.env, extra_vars=alone)
    runs.append(second)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-6000:]

    # ---- read AWS back
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=f"{stack}-db")["DBInstances"]
    assert instance["Engine"] == "mysql" and instance["EngineVersion"] == db["engine_version"]
    assert instance["DBInstanceClass"] == "db.t4g.micro"
    assert instance["StorageEncrypted"] is True
    assert instance["PubliclyAccessible"] is False
    assert instance["DeletionProtection"] is True
    assert instance["MultiAZ"] is False
    assert instance["AutoMinorVersionUpgrade"] is True
    assert instance["CopyTagsToSnapshot"] is True
    assert instance["BackupRetentionPeriod"] == 7
    assert instance["PreferredBackupWindow"] == "17:00-17:30"
    assert instance["PreferredMaintenanceWindow"] == "sun:18:00-sun:18:30"
    assert instance["StorageType"] == "gp3"
    assert instance["AllocatedStorage"] == 20 and instance["MaxAllocatedStorage"] == 100
    assert instance["DBName"] == "app" and instance["MasterUsername"] == "admin"
    # IAM database authentication, and the error and slow query logs exported to log groups the
    # role made first: kept 30 days (RDS would make them with no expiry), tagged with the stack
    assert instance["IAMDatabaseAuthenticationEnabled"] is True
    assert sorted(instance["EnabledCloudwatchLogsExports"]) == ["error", "slowquery"]
    assert log_groups(logs, stack) == {
        error_log: {"retention": 30, "tags": stack_tags},
        slow_log: {"retention": 30, "tags": stack_tags},
    }
    assert instance["Endpoint"] == {"Address": db["endpoint"], "Port": 3306}
    assert [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]] == [sgs["db"]]
    assert instance["DBSubnetGroup"]["DBSubnetGroupName"] == f"{stack}-db"
    assert {s["SubnetIdentifier"] for s in instance["DBSubnetGroup"]["Subnets"]} == private_subnets
    assert [g["DBParameterGroupName"] for g in instance["DBParameterGroups"]] == [f"{stack}-mysql"]
    assert _tags(rds, instance["DBInstanceArn"]) == {
        "Stack": stack,
        "ManagedBy": "kumo.webstack",
        "Name": f"{stack}-db",
    }

    (subnet_group,) = rds.describe_db_subnet_groups(DBSubnetGroupName=f"{stack}-db")["DBSubnetGroups"]
    assert {s["SubnetIdentifier"] for s in subnet_group["Subnets"]} == private_subnets
    assert subnet_group["VpcId"] == net["vpc_id"]
    assert _tags(rds, subnet_group["DBSubnetGroupArn"])["Stack"] == stack

    (group,) = rds.describe_db_parameter_groups(DBParameterGroupName=f"{stack}-mysql")["DBParameterGroups"]
    assert group["DBParameterGroupFamily"] == "mysql8.4"
    assert _tags(rds, group["DBParameterGroupArn"])["Stack"] == stack
    params = {
        p["ParameterName"]: p.get("ParameterValue")
        for p in rds.describe_db_parameters(DBParameterGroupName=f"{stack}-mysql", Source="user")["Parameters"]
    }
    assert params == {
        "character_set_server": "utf8mb4",
        "collation_server": "utf8mb4_0900_ai_ci",
        "require_secure_transport": "1",
        # the slow query log written to files, which RDS exports
        "slow_query_log": "1",
        "log_output": "FILE",
    }

    # ---- a change converges (retention, autoscaling ceiling, extra parameters; IAM authentication
    # and every log export turned off, the log groups' retention shortened), and then --check
    # --diff predicts no change: [] is compared as an empty set, not sent again
    changed_vars = {
        **alone,
        "database_backup_retention_period": 3,
        "database_max_allocated_storage": 200,
        "database_parameters": {"max_connections": 150, "slow_query_log": 1},
        "database_iam_authentication": False,
        "database_cloudwatch_logs_exports": [],
        "database_log_retention_days": 14,
    }
    password_file.chmod(0o644)  # loosened by someone: the next run closes it again
    change = run_playbook(PROVISION, env=emulator.env, extra_vars=changed_vars)
    runs.append(change)
    assert change.rc == 0, change.output[-6000:]
    assert change.changed > 0
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert password_file.read_text().strip() == password, "the password was generated again"
    check = run_playbook(PROVISION, "--check", "--diff", env=emulator.env, extra_vars=changed_vars)
    runs.append(check)
    assert check.rc == 0, check.output[-6000:]
    assert check.changed == 0, check.output[-6000:]
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=f"{stack}-db")["DBInstances"]
    assert instance["BackupRetentionPeriod"] == 3 and instance["MaxAllocatedStorage"] == 200
    assert instance["IAMDatabaseAuthenticationEnabled"] is False
    assert instance["EnabledCloudwatchLogsExports"] == []
    # no longer exported, the logs already there are kept, at the new retention
    assert log_groups(logs, stack) == {
        error_log: {"retention": 14, "tags": stack_tags},
        slow_log: {"retention": 14, "tags": stack_tags},
    }
    params = {
        p["ParameterName"]: p.get("ParameterValue")
        for p in rds.describe_db_parameters(DBParameterGroupName=f"{stack}-mysql", Source="user")["Parameters"]
    }
    assert params["max_connections"] == "150" and params["slow_query_log"] == "1"

    # ---- an instance with the stack's name but another stack's tag is refused, not deleted
    arn = instance["DBInstanceArn"]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "Stack", "Value": "other"}])
    refused = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert refused.rc != 0
    assert f"RDS instance {stack}-db exists but is not tagged Stack={stack}" in flat(refused)
    assert rds.describe_db_instances(DBInstanceIdentifier=f"{stack}-db")["DBInstances"][0]["DeletionProtection"]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "Stack", "Value": stack}])

    # ---- teardown of the database: deletion protection lifted, final snapshot kept, password file kept
    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    runs.append(down)
    assert down.rc == 0, down.output[-6000:]
    assert "Lift deletion protection (the instance is deleted next) from dblife-db" in down.output
    assert "Wait for the database instance to be deleted: dblife-db" in down.output
    (snapshot,) = final_snapshots(rds, stack)
    assert snapshot.startswith(f"{stack}-final-") and len(snapshot) == len(f"{stack}-final-") + 14
    assert f"kept in the final snapshot {snapshot}" in flat(down)
    assert f"The master password file {password_file} is kept" in flat(down)
    # the log groups are the instance's data too: kept with the final snapshot, and reported
    assert (
        f"Its log groups are kept with the snapshot, each until its retention expires its events: "
        f"{error_log} (14 days), {slow_log} (14 days)." in flat(down)
    )
    assert set(log_groups(logs, stack)) == {error_log, slow_log}
    assert stack_rds(rds, stack) == {}
    assert password_file.read_text().strip() == password

    down_again = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    runs.append(down_again)
    assert down_again.rc == 0, down_again.output[-6000:]
    assert down_again.changed == 0, down_again.output[-6000:]
    assert final_snapshots(rds, stack) == [snapshot]
    assert f"Its log groups are kept (database_skip_final_snapshot deletes them): {error_log}, {slow_log}." in flat(
        down_again
    )

    # ---- a fresh instance with the password from a variable: no password file in the outputs
    vault_password = "Vault-Kept-Secret-4711"
    fresh = run_playbook(PROVISION, env=emulator.env, extra_vars={**alone, "database_master_password": vault_password})
    assert fresh.rc == 0, fresh.output[-6000:]
    assert vault_password not in fresh.output
    assert json.loads(outputs_file.read_text())["password_file"] == ""
    assert vault_password not in outputs_file.read_text()
    # created with the defaults again; the kept log groups are taken back at their retention
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=f"{stack}-db")["DBInstances"]
    assert instance["IAMDatabaseAuthenticationEnabled"] is True
    assert sorted(instance["EnabledCloudwatchLogsExports"]) == ["error", "slowquery"]
    retention = {name: group["retention"] for name, group in log_groups(logs, stack).items()}
    assert retention == {error_log: 30, slow_log: 30}

    # ---- the teardown told to skip the final snapshot: no new snapshot, nothing of the stack left
    gone = run_playbook(TEARDOWN, env=emulator.env, extra_vars={**extra, "webstack_teardown_skip_final_snapshot": True})
    runs.append(gone)
    assert gone.rc == 0, gone.output[-6000:]
    assert "deleted without a final snapshot" in flat(gone)
    assert final_snapshots(rds, stack) == [snapshot], "skip_final_snapshot took a snapshot, or deleted the old one"
    assert stack_rds(rds, stack) == {}
    assert "and so are its log groups" in flat(gone)
    assert log_groups(logs, stack) == {}

    # ---- the password never appears in any output, nor in the outputs file
    for run in [check_empty, *runs]:
        assert password not in run.output
    assert password not in outputs_file.read_text()


BAD = [
    pytest.param(
        {"database_instance_class": "t3.micro"}, "database_instance_class must be an RDS instance class", id="class"
    ),
    pytest.param(
        {"database_backup_retention_period": 0},
        "database_backup_retention_period must be a number of days",
        id="retention",
    ),
    pytest.param(
        {"database_master_password": "pw/Xy12"}, "database_master_password must be a string of 8 to 41", id="pw"
    ),
    pytest.param({"database_master_username": "select"}, "database_master_username must be", id="reserved-user"),
    pytest.param(
        {"database_master_username": "rdsadmin"},
        "database_master_username 'rdsadmin' is a user RDS creates on every MySQL instance for itself",
        id="rds-user",
    ),
    pytest.param(
        {"database_cloudwatch_logs_exports": ["error", "slow"]},
        "value of database_cloudwatch_logs_exports must be one or more of: audit, error, general, slowquery,"
        " iam-db-auth-error. Got no match for: slow",
        id="log-type",
    ),
    pytest.param(
        {"database_log_retention_days": 10},
        "value of database_log_retention_days must be one of: 1, 3, 5, 7, 14, 30,",
        id="log-retention",
    ),
    pytest.param(
        {"database_maintenance_window": "sun:17:10-sun:17:40"}, "not overlapping each other", id="windows-overlap"
    ),
]


@pytest.fixture(scope="module")
def bad_cases(dead_endpoint_env, tmp_path_factory):
    """Every BAD case in one ansible-playbook run (badinput.py), the database role alone."""
    return run_role_cases(
        "database",
        BAD,
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("database-cases"),
        base_vars={"webstack_name": "baddb"},
    )


@pytest.mark.xdist_group("database_bad_input")
@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_fails_before_any_aws_call(extra, message, bad_cases, request):
    result = bad_cases[request.node.callspec.id]
    assert_fails_before_aws(result, message)
    assert not any(result.case_dir.rglob("*_outputs.json"))
    # the master password is generated only after validation
    assert not (result.case_dir / "secrets").exists()
