"""scripts/emulator_fixes: each fix, on in-process moto, gives AWS's answer; without it moto
answers otherwise (so the fix is still needed on this moto); and the emulator refuses a moto
version its fixes were not written for.

Each test runs its scenario twice: without the fix (moto's own answer) and with only that fix
applied (emulator_fixes.applied puts moto back afterwards). mock_aws starts every scenario
from empty backends.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec as ec_keys
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = ROOT / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

emulator_fixes = importlib.import_module("emulator_fixes")
acm = importlib.import_module("emulator_fixes.acm")
backup = importlib.import_module("emulator_fixes.backup")
cloudfront = importlib.import_module("emulator_fixes.cloudfront")
ec2 = importlib.import_module("emulator_fixes.ec2")
ecs = importlib.import_module("emulator_fixes.ecs")
elasticache = importlib.import_module("emulator_fixes.elasticache")
elbv2 = importlib.import_module("emulator_fixes.elbv2")
rds = importlib.import_module("emulator_fixes.rds")
route53 = importlib.import_module("emulator_fixes.route53")
route53domains = importlib.import_module("emulator_fixes.route53domains")
s3 = importlib.import_module("emulator_fixes.s3")
applied = emulator_fixes.applied

REGION = "ap-northeast-1"
SESSION = boto3.session.Session()


@pytest.fixture(autouse=True)
def fast_moto(monkeypatch):
    """Fake credentials, and no default AMIs (loading them for every fresh EC2 backend takes
    most of a second; the tests need none)."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_URL", "EC2_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@functools.cache
def client(service, region=REGION):
    """One client per service for the whole file (mock_aws answers each; making a client costs
    more than most scenarios)."""
    return SESSION.client(service, region_name=region)


def error_code(call, *args, **kwargs) -> str | None:
    """The AWS error code a call fails with, or None when it succeeds."""
    try:
        call(*args, **kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


def without_and_with(fix, scenario):
    """(moto's answer, the answer with the fix): the scenario run on fresh backends each time."""
    with mock_aws():
        unfixed = scenario()
    with applied(fix), mock_aws():
        fixed = scenario()
    return unfixed, fixed


def vpc_with_subnets(count=2):
    ec2c = client("ec2")
    vpc = ec2c.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2c.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{'acd'[i]}")["Subnet"][
            "SubnetId"
        ]
        for i in range(count)
    ]
    return vpc, subnets


# ---------------------------------------------------------------- the registry


def test_every_fix_has_its_test_and_a_docstring():
    fixes = emulator_fixes.fixes()
    assert {f.service for f in fixes} == set(emulator_fixes.SERVICES)
    tests = set(globals())
    for each in fixes:
        assert f"test_{each.service}_{each.name}" in tests, f"no unit test for {each.service}.{each.name}"
        assert "moto" in each.doc and "AWS" in each.doc, f"{each.service}.{each.name}: say what moto and AWS do"


def test_applied_puts_moto_back():
    from moto.ec2.models.nat_gateways import NatGatewayBackend
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE
    from moto.rds.models import DBInstance

    before = (NatGatewayBackend.delete_nat_gateway, dict(EC2_PREFIX_TO_RESOURCE), "iops" in vars(DBInstance))
    with applied(*(f.apply for f in emulator_fixes.fixes())):
        assert NatGatewayBackend.delete_nat_gateway is not before[0]
        assert EC2_PREFIX_TO_RESOURCE["nat"] == "natgateway"
    assert (NatGatewayBackend.delete_nat_gateway, dict(EC2_PREFIX_TO_RESOURCE), "iops" in vars(DBInstance)) == before


# ---------------------------------------------------------------- the version guard


def test_moto_version_the_fixes_were_written_for_passes():
    for version in emulator_fixes.MOTO_VERSIONS:
        assert emulator_fixes.check_moto_version(version, environ={}) is None


def test_requirements_pin_a_version_the_fixes_were_written_for():
    pins = [line.split("==")[1] for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if "moto" in line]
    assert pins and pins[0] in emulator_fixes.MOTO_VERSIONS
    assert emulator_fixes.installed_moto_version() in emulator_fixes.MOTO_VERSIONS


@pytest.mark.parametrize("found", ["5.2.4", "5.3.0", None])
def test_other_moto_version_refuses_with_what_to_do(found):
    with pytest.raises(emulator_fixes.MotoVersionError) as refused:
        emulator_fixes.check_moto_version(found, environ={})
    message = str(refused.value)
    assert (f"moto {found} is installed" if found else "moto is not installed") in message
    assert "written for moto 5.2.5" in message
    assert "make venv" in message
    assert "pip install 'moto[server]==5.2.5'" in message
    assert "WEBSTACK_EMULATOR_ALLOW_MOTO=1" in message


def test_other_moto_version_only_warns_when_allowed():
    warning = emulator_fixes.check_moto_version("5.3.0", environ={"WEBSTACK_EMULATOR_ALLOW_MOTO": "1"})
    assert "WARNING" in warning and "moto 5.3.0" in warning and "5.2.5" in warning
    with pytest.raises(emulator_fixes.MotoVersionError):
        emulator_fixes.check_moto_version("5.3.0", environ={"WEBSTACK_EMULATOR_ALLOW_MOTO": "0"})


def load_emulator_script():
    spec = importlib.util.spec_from_file_location("emulator_script", SCRIPTS / "emulator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_emulator_exits_1_with_the_message(monkeypatch, capsys):
    emulator = load_emulator_script()
    monkeypatch.setattr(emulator, "installed_moto_version", lambda: "5.3.0")
    monkeypatch.delenv("WEBSTACK_EMULATOR_ALLOW_MOTO", raising=False)
    with pytest.raises(SystemExit) as exited:
        emulator.check()
    assert exited.value.code == 1
    assert "moto 5.3.0 is installed" in capsys.readouterr().err
    monkeypatch.setenv("WEBSTACK_EMULATOR_ALLOW_MOTO", "1")
    emulator.check()
    assert "WARNING: moto 5.3.0" in capsys.readouterr().err


def fake_moto(tmp_path, version):
    """A directory that, first on PYTHONPATH, makes importlib.metadata report moto `version`."""
    info = tmp_path / "fake" / f"moto-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: moto\nVersion: {version}\n")
    return str(tmp_path / "fake")


def test_emulator_sh_start_shows_the_message(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=fake_moto(tmp_path, "9.9.9"), WEBSTACK_PYTHON=sys.executable)
    env.update(WEBSTACK_STATE_DIR=str(tmp_path / "state"), WEBSTACK_EMULATOR_PORT=str(port))
    env.pop("WEBSTACK_EMULATOR_ALLOW_MOTO", None)
    run = subprocess.run(
        [str(SCRIPTS / "emulator.sh"), "start"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 1
    assert "moto 9.9.9 is installed" in run.stderr and "written for moto 5.2.5" in run.stderr
    assert "make venv" in run.stderr
    assert not list((tmp_path / "state").glob("*.pid")), "nothing may have been started"


# ---------------------------------------------------------------- ACM


def test_acm_request_certificate_key_algorithm():
    def algorithm():
        acmc = client("acm")
        arn = acmc.request_certificate(
            DomainName="shop.example.com", ValidationMethod="DNS", KeyAlgorithm="EC_prime256v1"
        )["CertificateArn"]
        return acmc.describe_certificate(CertificateArn=arn)["Certificate"]["KeyAlgorithm"]

    unfixed, fixed = without_and_with(acm.request_certificate_key_algorithm, algorithm)
    assert unfixed == "RSA_2048"
    assert fixed == "EC_prime256v1"


def alb_with_https_listener():
    """An ALB with an HTTPS listener on an imported certificate: (elbv2 client, lb ARN,
    listener ARN, certificate ARN)."""
    key = ec_keys.generate_private_key(ec_keys.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "shop.example.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_arn = client("acm").import_certificate(
        Certificate=cert.public_bytes(serialization.Encoding.PEM),
        PrivateKey=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ),
    )["CertificateArn"]
    vpc, subnets = vpc_with_subnets()
    lb = client("elbv2")
    lb_arn = lb.create_load_balancer(Name="shop", Subnets=subnets, Type="application")["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    tg_arn = lb.create_target_group(Name="shop-web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0][
        "TargetGroupArn"
    ]
    listener_arn = lb.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": cert_arn}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
    )["Listeners"][0]["ListenerArn"]
    return lb, lb_arn, listener_arn, cert_arn


def test_acm_in_use_by_follows_listeners():
    def in_use_by():
        lb, lb_arn, listener_arn, cert_arn = alb_with_https_listener()
        used = client("acm").describe_certificate(CertificateArn=cert_arn)["Certificate"].get("InUseBy", [])
        lb.delete_listener(ListenerArn=listener_arn)
        after = client("acm").describe_certificate(CertificateArn=cert_arn)["Certificate"].get("InUseBy", [])
        return used == [lb_arn], after

    (unfixed_lb, unfixed_after), (fixed_lb, fixed_after) = without_and_with(acm.in_use_by_follows_listeners, in_use_by)
    assert unfixed_after != [], "moto keeps the deleted listener in InUseBy"
    assert fixed_lb, "in use by the load balancer while its listener uses it"
    assert fixed_after == []


# ---------------------------------------------------------------- AWS Backup

ROLE_ARN = "arn:aws:iam::123456789012:role/shop-backup"
VOLUME_ARN = f"arn:aws:ec2:{REGION}:123456789012:volume/vol-0123456789abcdef0"


def shop_plan(backup, **rule):
    """The vault shop and a plan shop with one daily rule into it; returns the plan's id."""
    backup.create_backup_vault(BackupVaultName="shop")
    plan = {"BackupPlanName": "shop", "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "shop", **rule}]}
    return backup.create_backup_plan(BackupPlan=plan)["BackupPlanId"]


def test_backup_describe_missing_vault_access_denied():
    def describe_missing():
        return error_code(client("backup").describe_backup_vault, BackupVaultName="nothing-here")

    unfixed, fixed = without_and_with(backup.describe_missing_vault_access_denied, describe_missing)
    assert unfixed == "ResourceNotFoundException"
    assert fixed == "AccessDeniedException"


def test_backup_vault_default_encryption_key():
    def key_of_new_vault():
        backup_client = client("backup")
        backup_client.create_backup_vault(BackupVaultName="shop")
        return backup_client.describe_backup_vault(BackupVaultName="shop").get("EncryptionKeyArn")

    unfixed, fixed = without_and_with(backup.vault_default_encryption_key, key_of_new_vault)
    assert unfixed is None, "moto keeps no key"
    assert fixed.startswith(f"arn:aws:kms:{REGION}:123456789012:key/")


def test_backup_deleted_plan_name_reusable():
    def again_after_delete():
        backup_client = client("backup")
        backup_client.delete_backup_plan(BackupPlanId=shop_plan(backup_client))
        plan = {"BackupPlanName": "shop", "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "shop"}]}
        return error_code(backup_client.create_backup_plan, BackupPlan=plan)

    unfixed, fixed = without_and_with(backup.deleted_plan_name_reusable, again_after_delete)
    assert unfixed == "AlreadyExistsException"
    assert fixed is None


def test_backup_update_backup_plan():
    def update_retention():
        backup_client = client("backup")
        plan_id = shop_plan(backup_client, Lifecycle={"DeleteAfterDays": 35})
        before = backup_client.get_backup_plan(BackupPlanId=plan_id)["VersionId"]
        rules = [{"RuleName": "daily", "TargetBackupVaultName": "shop", "Lifecycle": {"DeleteAfterDays": 7}}]
        try:
            backup_client.update_backup_plan(
                BackupPlanId=plan_id, BackupPlan={"BackupPlanName": "shop", "Rules": rules}
            )
        except NotImplementedError:
            return "not implemented"
        after = backup_client.get_backup_plan(BackupPlanId=plan_id)
        return after["BackupPlan"]["Rules"][0]["Lifecycle"], after["VersionId"] != before

    unfixed, fixed = without_and_with(backup.update_backup_plan, update_retention)
    assert unfixed == "not implemented"
    assert fixed == ({"DeleteAfterDays": 7}, True)


def test_backup_backup_selections():
    def lifecycle():
        backup_client = client("backup")
        plan_id = shop_plan(backup_client)
        selection = {
            "SelectionName": "shop",
            "IamRoleArn": ROLE_ARN,
            "Resources": [f"arn:aws:ec2:{REGION}:123456789012:volume/*"],
            "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/Stack", "ConditionValue": "shop"}]},
        }
        try:
            made = backup_client.create_backup_selection(BackupPlanId=plan_id, BackupSelection=selection)
        except NotImplementedError:
            return "not implemented"
        selection_id = made["SelectionId"]
        listed = [
            (s["SelectionName"], s["SelectionId"], s["IamRoleArn"])
            for s in backup_client.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
        ]
        got = backup_client.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)["BackupSelection"]
        refused = error_code(backup_client.delete_backup_plan, BackupPlanId=plan_id)
        backup_client.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
        gone = error_code(backup_client.get_backup_selection, BackupPlanId=plan_id, SelectionId=selection_id)
        deleted = error_code(backup_client.delete_backup_plan, BackupPlanId=plan_id)
        return listed == [("shop", selection_id, ROLE_ARN)], got, refused, gone, deleted

    unfixed, fixed = without_and_with(backup.backup_selections, lifecycle)
    assert unfixed == "not implemented"
    assert fixed == (
        True,
        {
            "SelectionName": "shop",
            "IamRoleArn": ROLE_ARN,
            "Resources": [f"arn:aws:ec2:{REGION}:123456789012:volume/*"],
            "NotResources": [],
            "ListOfTags": [],
            "Conditions": {
                "StringEquals": [{"ConditionKey": "aws:ResourceTag/Stack", "ConditionValue": "shop"}],
                "StringNotEquals": [],
                "StringLike": [],
                "StringNotLike": [],
            },
        },
        "InvalidRequestException",
        "ResourceNotFoundException",
        None,
    )


def test_backup_recovery_points():
    def backup_then_delete():
        backup_client = client("backup")
        backup_client.create_backup_vault(BackupVaultName="shop")
        try:
            job = backup_client.start_backup_job(
                BackupVaultName="shop",
                ResourceArn=VOLUME_ARN,
                IamRoleArn=ROLE_ARN,
                Lifecycle={"DeleteAfterDays": 35},
                RecoveryPointTags={"Stack": "shop"},
            )
        except (NotImplementedError, ClientError) as error:
            return type(error).__name__
        points = backup_client.list_recovery_points_by_backup_vault(BackupVaultName="shop")["RecoveryPoints"]
        held = backup_client.describe_backup_vault(BackupVaultName="shop")["NumberOfRecoveryPoints"]
        tags = backup_client.list_tags(ResourceArn=job["RecoveryPointArn"])["Tags"]
        refused = error_code(backup_client.delete_backup_vault, BackupVaultName="shop")
        backup_client.delete_recovery_point(BackupVaultName="shop", RecoveryPointArn=job["RecoveryPointArn"])
        deleted = error_code(backup_client.delete_backup_vault, BackupVaultName="shop")
        return (
            [(p["RecoveryPointArn"], p["ResourceArn"], p["ResourceType"], p["Status"]) for p in points],
            held,
            tags,
            refused,
            deleted,
            [v["BackupVaultName"] for v in backup_client.list_backup_vaults()["BackupVaultList"]],
            job["RecoveryPointArn"],
        )

    unfixed, fixed = without_and_with(backup.recovery_points, backup_then_delete)
    assert unfixed == "ClientError", "moto routes no StartBackupJob"
    arn = fixed[-1]
    assert arn.startswith(f"arn:aws:backup:{REGION}:123456789012:recovery-point:")
    assert fixed[:-1] == (
        [(arn, VOLUME_ARN, "EBS", "COMPLETED")],
        1,
        {"Stack": "shop"},
        "InvalidRequestException",
        None,
        [],
    )


# ---------------------------------------------------------------- CloudFront

OAC_CONFIG = {
    "Name": "sorry-pages",
    "Description": "",
    "SigningProtocol": "sigv4",
    "SigningBehavior": "always",
    "OriginAccessControlOriginType": "s3",
}


def origin_access_control(name="sorry-pages"):
    """(id, ETag) of a new origin access control."""
    control = client("cloudfront", "us-east-1").create_origin_access_control(
        OriginAccessControlConfig={**OAC_CONFIG, "Name": name}
    )
    return control["OriginAccessControl"]["Id"], control["ETag"]


def s3_distribution(control_id=""):
    """A distribution with one S3 origin (behind the origin access control, if given): (id, ETag)."""
    origin = {
        "Id": "s3-origin",
        "DomainName": "sorry-pages.s3.ap-northeast-1.amazonaws.com",
        "OriginPath": "/example.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    if control_id:
        origin["OriginAccessControlId"] = control_id
    created = client("cloudfront", "us-east-1").create_distribution(
        DistributionConfig={
            "CallerReference": "sorry-example-com",
            "Comment": "sorry",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "s3-origin",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )
    return created["Distribution"]["Id"], created["ETag"]


def disable(distribution_id):
    """Disable a distribution with the ETag it has now: the UpdateDistribution answer."""
    cf = client("cloudfront", "us-east-1")
    current = cf.get_distribution_config(Id=distribution_id)
    config = {**current["DistributionConfig"], "Enabled": False}
    return cf.update_distribution(Id=distribution_id, IfMatch=current["ETag"], DistributionConfig=config)


def test_cloudfront_origin_access_control_id():
    def origin_read_back():
        control_id, _ = origin_access_control()
        distribution_id, _ = s3_distribution(control_id)
        cf = client("cloudfront", "us-east-1")
        origin = cf.get_distribution_config(Id=distribution_id)["DistributionConfig"]["Origins"]["Items"][0]
        listed = cf.list_distributions()["DistributionList"]["Items"][0]["Origins"]["Items"][0]
        return (
            origin.get("OriginAccessControlId") == control_id,
            origin.get("S3OriginConfig"),
            listed.get("OriginAccessControlId") == control_id,
        )

    unfixed, fixed = without_and_with(cloudfront.origin_access_control_id, origin_read_back)
    assert unfixed == (False, None, False), "moto drops OriginAccessControlId and S3OriginConfig"
    assert fixed == (True, {"OriginAccessIdentity": ""}, True)


def test_cloudfront_origin_access_control_name_unique():
    def same_name_twice():
        origin_access_control()
        other, etag = origin_access_control("other")
        again = error_code(
            client("cloudfront", "us-east-1").create_origin_access_control, OriginAccessControlConfig=OAC_CONFIG
        )
        renamed = error_code(
            client("cloudfront", "us-east-1").update_origin_access_control,
            Id=other,
            IfMatch=etag,
            OriginAccessControlConfig=OAC_CONFIG,
        )
        return again, renamed

    unfixed, fixed = without_and_with(cloudfront.origin_access_control_name_unique, same_name_twice)
    assert unfixed == (None, None), "moto accepts a name already taken"
    assert fixed == ("OriginAccessControlAlreadyExists", "OriginAccessControlAlreadyExists")


def test_cloudfront_origin_access_control_in_use():
    def delete_used_then_unknown():
        control_id, etag = origin_access_control()
        s3_distribution(control_id)
        cf = client("cloudfront", "us-east-1")
        in_use = error_code(cf.delete_origin_access_control, Id=control_id, IfMatch=etag)
        try:
            unknown = error_code(cf.delete_origin_access_control, Id="E0000000000000", IfMatch=etag)
        except KeyError:
            unknown = "KeyError"  # what moto's server answers with a 500
        return in_use, unknown

    # The fix reads which control each origin uses, which moto keeps only with origin_access_control_id.
    with applied(cloudfront.origin_access_control_id):
        unfixed, fixed = without_and_with(cloudfront.origin_access_control_in_use, delete_used_then_unknown)
    assert unfixed == (None, "KeyError"), "moto deletes a control in use"
    assert fixed == ("OriginAccessControlInUse", "NoSuchOriginAccessControl")


def test_cloudfront_if_match_etag():
    def stale_etags():
        cf = client("cloudfront", "us-east-1")
        distribution_id, created_etag = s3_distribution()
        updated = disable(distribution_id)
        cf.get_distribution(Id=distribution_id)  # Deployed
        stale_delete = error_code(cf.delete_distribution, Id=distribution_id, IfMatch=created_etag)
        control_id, control_etag = origin_access_control()
        changed = cf.update_origin_access_control(
            Id=control_id, IfMatch=control_etag, OriginAccessControlConfig={**OAC_CONFIG, "Description": "x"}
        )
        no_if_match = error_code(cf.update_origin_access_control, Id=control_id, OriginAccessControlConfig=OAC_CONFIG)
        stale_control = error_code(cf.delete_origin_access_control, Id=control_id, IfMatch=control_etag)
        return (
            updated["ETag"] != created_etag,
            stale_delete,
            changed["ETag"] != control_etag,
            stale_control,
            no_if_match,
        )

    unfixed, fixed = without_and_with(cloudfront.if_match_etag, stale_etags)
    assert unfixed == (False, None, False, None, None), "moto keeps one ETag and accepts any IfMatch"
    assert fixed == (True, "PreconditionFailed", True, "PreconditionFailed", "InvalidIfMatchVersion")


def test_cloudfront_update_distribution_in_progress():
    def statuses():
        distribution_id, _ = s3_distribution()
        cf = client("cloudfront", "us-east-1")
        deployed = cf.get_distribution(Id=distribution_id)["Distribution"]["Status"]
        updated = disable(distribution_id)["Distribution"]["Status"]
        then = cf.get_distribution(Id=distribution_id)["Distribution"]["Status"]
        return deployed, updated, then

    unfixed, fixed = without_and_with(cloudfront.update_distribution_in_progress, statuses)
    assert unfixed == ("Deployed", "Deployed", "Deployed")
    assert fixed == ("Deployed", "InProgress", "Deployed")


def test_cloudfront_delete_distribution_not_disabled():
    def delete_enabled():
        distribution_id, etag = s3_distribution()
        cf = client("cloudfront", "us-east-1")
        enabled = error_code(cf.delete_distribution, Id=distribution_id, IfMatch=etag)
        if enabled is None:
            return enabled, None
        disable(distribution_id)
        cf.get_distribution(Id=distribution_id)  # Deployed
        return enabled, error_code(cf.delete_distribution, Id=distribution_id, IfMatch=etag)

    unfixed, fixed = without_and_with(cloudfront.delete_distribution_not_disabled, delete_enabled)
    assert unfixed == (None, None), "moto deletes an enabled distribution"
    assert fixed == ("DistributionNotDisabled", None)


# ---------------------------------------------------------------- EC2


def nat_gateway_with_address(tags=None):
    ec2c = client("ec2")
    _, (subnet, _) = vpc_with_subnets()
    allocation = ec2c.allocate_address(
        Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": tags or []}] if tags else []
    )["AllocationId"]
    gateway = ec2c.create_nat_gateway(
        SubnetId=subnet,
        AllocationId=allocation,
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": tags}] if tags else [],
    )["NatGateway"]["NatGatewayId"]
    return ec2c, allocation, gateway


def test_ec2_describe_tags_resource_types():
    def tagged_types():
        ec2c, _, _ = nat_gateway_with_address(tags=[{"Key": "Stack", "Value": "shop"}])
        return sorted(
            tag["ResourceType"]
            for kind in ("natgateway", "elastic-ip")
            for tag in ec2c.describe_tags(Filters=[{"Name": "resource-type", "Values": [kind]}])["Tags"]
        )

    unfixed, fixed = without_and_with(ec2.describe_tags_resource_types, tagged_types)
    assert unfixed == []
    assert fixed == ["elastic-ip", "natgateway"]


def test_ec2_create_image_snapshot_tags():
    def create_image():
        ec2c = client("ec2")
        image = ec2c.register_image(Name="base", RootDeviceName="/dev/xvda")["ImageId"]
        instance = ec2c.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        specs = [{"ResourceType": kind, "Tags": [{"Key": "Stack", "Value": "chat"}]} for kind in ("image", "snapshot")]
        try:
            ec2c.create_image(InstanceId=instance, Name="chat-baked", TagSpecifications=specs)
        except NotImplementedError:
            return "NotImplementedError"
        (baked,) = ec2c.describe_images(Owners=["self"], Filters=[{"Name": "tag:Stack", "Values": ["chat"]}])["Images"]
        snapshot = baked["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
        (tagged,) = ec2c.describe_snapshots(Filters=[{"Name": "tag:Stack", "Values": ["chat"]}])["Snapshots"]
        return tagged["SnapshotId"] == snapshot

    unfixed, fixed = without_and_with(ec2.create_image_snapshot_tags, create_image)
    assert unfixed == "NotImplementedError", "moto does not tag the snapshots of CreateImage"
    assert fixed is True


def test_ec2_describe_nat_gateways_tag_filters():
    def by_tag():
        ec2c, _, shop = nat_gateway_with_address(tags=[{"Key": "Stack", "Value": "shop"}])
        _, _, blog = nat_gateway_with_address(tags=[{"Key": "Stack", "Value": "blog"}])

        def ids(filters):
            return sorted(n["NatGatewayId"] for n in ec2c.describe_nat_gateways(Filters=filters)["NatGateways"])

        return (
            ids([{"Name": "tag:Stack", "Values": ["shop"]}]) == [shop],
            ids([{"Name": "tag-key", "Values": ["Stack"]}]) == sorted([shop, blog]),
            ids([{"Name": "tag-value", "Values": ["blog"]}]) == [blog],
            ids([{"Name": "tag:Stack", "Values": ["none"]}]) == [],
        )

    unfixed, fixed = without_and_with(ec2.describe_nat_gateways_tag_filters, by_tag)
    assert unfixed[0] is False, "moto returns every gateway for a tag filter"
    assert fixed == (True, True, True, True)


def test_ec2_delete_nat_gateway_frees_address():
    def after_delete():
        ec2c, allocation, gateway = nat_gateway_with_address()
        ec2c.delete_nat_gateway(NatGatewayId=gateway)
        (address,) = ec2c.describe_addresses(AllocationIds=[allocation])["Addresses"]
        return "AssociationId" in address, error_code(ec2c.release_address, AllocationId=allocation)

    unfixed, fixed = without_and_with(ec2.delete_nat_gateway_frees_address, after_delete)
    assert unfixed[0] is True, "moto keeps the gateway's address associated"
    assert fixed == (False, None)


def test_ec2_terminate_instance_frees_address():
    def after_terminate():
        ec2c = client("ec2")
        instance = ec2c.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1, InstanceType="t3.micro")[
            "Instances"
        ][0]
        allocation = ec2c.allocate_address(Domain="vpc")["AllocationId"]
        ec2c.associate_address(InstanceId=instance["InstanceId"], AllocationId=allocation)
        ec2c.terminate_instances(InstanceIds=[instance["InstanceId"]])
        (address,) = ec2c.describe_addresses(AllocationIds=[allocation])["Addresses"]
        return address.get("InstanceId") or None, address.get("AssociationId")

    unfixed, fixed = without_and_with(ec2.terminate_instance_frees_address, after_terminate)
    assert unfixed[0], "moto keeps the address associated with the terminated instance"
    assert fixed == (None, None)


def test_ec2_rule_descriptions_return():
    def answers():
        ec2c = client("ec2")
        vpc, _ = vpc_with_subnets(1)
        group = ec2c.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
        rule = {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}
        ec2c.authorize_security_group_ingress(GroupId=group, IpPermissions=[rule])
        ec2c.authorize_security_group_egress(GroupId=group, IpPermissions=[rule])
        described = {**rule, "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "from the lb"}]}
        ingress = ec2c.update_security_group_rule_descriptions_ingress(GroupId=group, IpPermissions=[described])
        egress = ec2c.update_security_group_rule_descriptions_egress(GroupId=group, IpPermissions=[described])
        return ingress.get("Return"), egress.get("Return")

    unfixed, fixed = without_and_with(ec2.rule_descriptions_return, answers)
    assert unfixed == (None, None)
    assert fixed == (True, True)


def test_ec2_flow_log_to_log_group_arn():
    def flow_log():
        logs = client("logs")
        logs.create_log_group(logGroupName="/webstack/shop/vpc-flow-logs")
        arn = logs.describe_log_groups()["logGroups"][0]["arn"].removesuffix(":*")
        ec2c = client("ec2")
        vpc = ec2c.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2c.create_flow_logs(
            ResourceIds=[vpc],
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogDestination=arn,
            DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/shop-vpc-flow-logs",
        )
        (found,) = ec2c.describe_flow_logs()["FlowLogs"]
        return found.get("LogGroupName"), found["DeliverLogsStatus"], found["LogDestination"] == arn

    unfixed, fixed = without_and_with(ec2.flow_log_to_log_group_arn, flow_log)
    assert unfixed == (None, "FAILED", True), "moto finds the log group by LogGroupName only"
    assert fixed == ("/webstack/shop/vpc-flow-logs", "SUCCESS", True)


def test_ec2_debian_images():
    def debian_12():
        images = client("ec2").describe_images(
            Owners=[ec2.DEBIAN_OWNER], Filters=[{"Name": "name", "Values": ["debian-12-amd64-*"]}]
        )["Images"]
        return sorted(image["Name"] for image in images)

    unfixed, fixed = without_and_with(ec2.debian_images, debian_12)
    assert unfixed == []
    assert fixed == [f"debian-12-amd64-{build}" for build, _ in ec2.DEBIAN_12_RELEASES]


# ---------------------------------------------------------------- ECS

TASK_DEFINITION = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/demo-bot:"


def ecs_service_behind_target_group():
    """A Fargate Spot service of 1 task (revision 1 of 2) in a subnet, behind an IP target group."""
    vpc, (subnet, _) = vpc_with_subnets()
    group = client("ec2").create_security_group(GroupName="bot", Description="bot", VpcId=vpc)["GroupId"]
    target_group = client("elbv2").create_target_group(
        Name="bot", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    ecsc = client("ecs")
    ecsc.create_cluster(clusterName="demo")
    for image in ("bot:1", "bot:2"):
        ecsc.register_task_definition(
            family="demo-bot",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="2048",
            containerDefinitions=[{"name": "bot", "image": image}],
        )
    ecsc.create_service(
        cluster="demo",
        serviceName="bot",
        taskDefinition="demo-bot:1",
        desiredCount=1,
        capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}],
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        healthCheckGracePeriodSeconds=60,
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "ENABLED"}
        },
        loadBalancers=[{"targetGroupArn": target_group, "containerName": "bot", "containerPort": 8080}],
    )
    return ecsc, target_group


def test_ecs_create_service_settings():
    def created():
        ecsc, _ = ecs_service_behind_target_group()
        found = ecsc.describe_services(cluster="demo", services=["bot"])["services"][0]
        return (
            found.get("launchType"),
            found.get("capacityProviderStrategy"),
            found.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker"),
            found.get("healthCheckGracePeriodSeconds"),
        )

    unfixed, fixed = without_and_with(ecs.create_service_settings, created)
    assert unfixed == ("EC2", None, None, None)
    assert fixed == (
        None,
        [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}],
        {"enable": True, "rollback": True},
        60,
    )


def test_ecs_list_tags_of_untagged_resource():
    def tags():
        ecsc = client("ecs")
        arn = ecsc.create_cluster(clusterName="demo")["cluster"]["clusterArn"]
        return ecsc.list_tags_for_resource(resourceArn=arn).get("tags")

    unfixed, fixed = without_and_with(ecs.list_tags_of_untagged_resource, tags)
    assert unfixed is None
    assert fixed == []


def test_ecs_service_deployments_roll_out():
    def rollout():
        ecsc, target_group = ecs_service_behind_target_group()
        elbv2c = client("elbv2")

        def look():
            found = ecsc.describe_services(cluster="demo", services=["bot"])["services"][0]
            targets = elbv2c.describe_target_health(TargetGroupArn=target_group)["TargetHealthDescriptions"]
            return (
                found["taskDefinition"],
                [(d["status"], d["rolloutState"], d["runningCount"]) for d in found["deployments"]],
                found["deployments"][0]["id"],
                [t["TargetHealth"]["State"] for t in targets],
            )

        created = look()
        ecsc.update_service(cluster="demo", service="bot", taskDefinition="demo-bot:2")
        updated = look()
        ecsc.update_service(cluster="demo", service="bot", desiredCount=2)
        scaled = look()
        ecsc.delete_service(cluster="demo", service="bot", force=True)
        return created, updated, scaled, look()[3]

    unfixed, fixed = without_and_with(ecs.service_deployments_roll_out, rollout)
    created, updated, _, _ = unfixed
    assert created[1] == [("PRIMARY", "IN_PROGRESS", 0)] and created[3] == []
    assert updated[0] == "demo-bot:2" and updated[2] == created[2], "moto makes no new deployment"

    created, updated, scaled, deleted = fixed
    assert created[:2] == (TASK_DEFINITION + "1", [("PRIMARY", "COMPLETED", 1)])
    assert created[3] == ["healthy"]
    assert updated[:2] == (TASK_DEFINITION + "2", [("PRIMARY", "COMPLETED", 1)])
    assert updated[2] != created[2]
    assert scaled[1:] == ([("PRIMARY", "COMPLETED", 2)], updated[2], ["healthy", "healthy"])
    assert deleted == []


# ---------------------------------------------------------------- ELBv2


def chat_replication_group(**extra):
    """A two-node Redis replication group chat-redis; returns the elasticache client."""
    cache = client("elasticache")
    cache.create_replication_group(
        ReplicationGroupId="chat-redis",
        ReplicationGroupDescription="chat",
        CacheNodeType="cache.t4g.micro",
        Engine="redis",
        NumCacheClusters=2,
        **extra,
    )
    return cache


def test_elasticache_deleted_replication_group_goes():
    def after_delete():
        cache = chat_replication_group()
        answered = cache.delete_replication_group(ReplicationGroupId="chat-redis")["ReplicationGroup"]["Status"]
        return answered, error_code(cache.describe_replication_groups, ReplicationGroupId="chat-redis")

    unfixed, fixed = without_and_with(elasticache.deleted_replication_group_goes, after_delete)
    assert unfixed == ("deleting", None), "moto keeps the group in deleting"
    assert fixed == ("deleting", "ReplicationGroupNotFoundFault")


def test_elasticache_final_snapshot_on_delete():
    def delete_with_final_snapshot():
        cache = chat_replication_group()
        cache.delete_replication_group(ReplicationGroupId="chat-redis", FinalSnapshotIdentifier="chat-redis-final")
        return [(s["SnapshotName"], s["ReplicationGroupId"]) for s in cache.describe_snapshots()["Snapshots"]]

    unfixed, fixed = without_and_with(elasticache.final_snapshot_on_delete, delete_with_final_snapshot)
    assert unfixed == [], "moto takes no final snapshot"
    assert fixed == [("chat-redis-final", "chat-redis")]


def test_elasticache_delete_cache_subnet_group():
    def lifecycle():
        _, subnets = vpc_with_subnets()
        cache = client("elasticache")
        cache.create_cache_subnet_group(
            CacheSubnetGroupName="chat-redis", CacheSubnetGroupDescription="chat", SubnetIds=subnets
        )
        chat_replication_group(CacheSubnetGroupName="chat-redis")
        try:
            in_use = error_code(cache.delete_cache_subnet_group, CacheSubnetGroupName="chat-redis")
        except NotImplementedError:
            return "not implemented"
        cache.delete_replication_group(ReplicationGroupId="chat-redis")
        deleted = error_code(cache.delete_cache_subnet_group, CacheSubnetGroupName="chat-redis")
        missing = error_code(cache.delete_cache_subnet_group, CacheSubnetGroupName="chat-redis")
        return in_use, deleted, missing

    unfixed, fixed = without_and_with(elasticache.delete_cache_subnet_group, lifecycle)
    assert unfixed == "not implemented"
    # with this fix alone, the replication group moto keeps in deleting still uses the subnet
    # group; with deleted_replication_group_goes too, the subnet group can go once it is gone
    with applied(elasticache.delete_cache_subnet_group, elasticache.deleted_replication_group_goes), mock_aws():
        both = lifecycle()
    assert both == ("CacheSubnetGroupInUse", None, "CacheSubnetGroupNotFoundFault")
    assert fixed[0] == "CacheSubnetGroupInUse"


def test_elbv2_alb_attribute_defaults():
    def attributes():
        _, subnets = vpc_with_subnets()
        lb = client("elbv2")
        arn = lb.create_load_balancer(Name="shop", Subnets=subnets, Type="application")["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
        return {a["Key"]: a["Value"] for a in lb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}

    unfixed, fixed = without_and_with(elbv2.alb_attribute_defaults, attributes)
    assert "routing.http2.enabled" not in unfixed
    assert fixed["idle_timeout.timeout_seconds"] == "60"
    assert fixed["routing.http2.enabled"] == "true"
    assert fixed["routing.http.drop_invalid_header_fields.enabled"] == "false"
    assert fixed["load_balancing.cross_zone.enabled"] == "true"


def test_elbv2_deletion_protection():
    def delete_protected():
        _, subnets = vpc_with_subnets()
        lb = client("elbv2")
        arn = lb.create_load_balancer(Name="shop", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        lb.modify_load_balancer_attributes(
            LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}]
        )
        return error_code(lb.delete_load_balancer, LoadBalancerArn=arn)

    unfixed, fixed = without_and_with(elbv2.deletion_protection, delete_protected)
    assert unfixed is None, "moto deletes a protected load balancer"
    assert fixed == "OperationNotPermitted"


def test_elbv2_duplicate_listener_port():
    def create_twice():
        lb, lb_arn, listener_arn, cert_arn = alb_with_https_listener()
        (listener,) = lb.describe_listeners(ListenerArns=[listener_arn])["Listeners"]
        same = lb.create_listener(
            LoadBalancerArn=lb_arn,
            Protocol="HTTPS",
            Port=443,
            Certificates=[{"CertificateArn": cert_arn}],
            DefaultActions=listener["DefaultActions"],
        )["Listeners"][0]["ListenerArn"]
        other = error_code(
            lb.create_listener,
            LoadBalancerArn=lb_arn,
            Protocol="HTTPS",
            Port=443,
            Certificates=[{"CertificateArn": cert_arn}],
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
        )
        count = len(lb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"])
        return same == listener_arn, other, count

    unfixed, fixed = without_and_with(elbv2.duplicate_listener_port, create_twice)
    assert unfixed == (False, None, 3), "moto adds a listener on a port already taken"
    assert fixed == (True, "DuplicateListener", 1)


def test_elbv2_listener_ssl_policy():
    def listeners():
        lb, lb_arn, _, cert_arn = alb_with_https_listener()
        action = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
        bogus = error_code(
            lb.create_listener,
            LoadBalancerArn=lb_arn,
            Protocol="HTTPS",
            Port=8443,
            SslPolicy="ELBSecurityPolicy-No-Such-Policy",
            Certificates=[{"CertificateArn": cert_arn}],
            DefaultActions=action,
        )
        http = lb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80, DefaultActions=action)
        return bogus, http["Listeners"][0].get("SslPolicy")

    unfixed, fixed = without_and_with(elbv2.listener_ssl_policy, listeners)
    assert unfixed[0] is None and unfixed[1], "moto accepts any policy and gives HTTP one"
    assert fixed == ("SSLPolicyNotFound", None)


# ---------------------------------------------------------------- RDS


def test_elbv2_target_group_stickiness_attributes():
    def attributes():
        _, subnets = vpc_with_subnets()
        vpc = client("ec2").describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
        arn = client("elbv2").create_target_group(Name="chat-chat", Protocol="HTTP", Port=8080, VpcId=vpc)[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        found = client("elbv2").describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
        return {a["Key"]: a["Value"] for a in found if a["Key"].startswith("stickiness.")}

    unfixed, fixed = without_and_with(elbv2.target_group_stickiness_attributes, attributes)
    assert "stickiness.lb_cookie.duration_seconds" not in unfixed
    assert fixed == {
        "stickiness.enabled": "false",
        "stickiness.type": "lb_cookie",
        "stickiness.lb_cookie.duration_seconds": "86400",
        "stickiness.app_cookie.cookie_name": "",
        "stickiness.app_cookie.duration_seconds": "86400",
    }


def test_rds_describe_missing_parameter_group():
    def describe_missing():
        return error_code(client("rds").describe_db_parameter_groups, DBParameterGroupName="shop-mysql84")

    unfixed, fixed = without_and_with(rds.describe_missing_parameter_group, describe_missing)
    assert unfixed is None, "moto answers an empty list"
    assert fixed == "DBParameterGroupNotFound"


def test_rds_describe_parameters_lists_family():
    def parameters():
        rdsc = client("rds")
        rdsc.create_db_parameter_group(
            DBParameterGroupName="shop", DBParameterGroupFamily="mysql8.0", Description="shop"
        )
        rdsc.modify_db_parameter_group(
            DBParameterGroupName="shop",
            Parameters=[{"ParameterName": "max_connections", "ParameterValue": "200", "ApplyMethod": "immediate"}],
        )
        listed = rdsc.describe_db_parameters(DBParameterGroupName="shop")["Parameters"]
        return {p["ParameterName"]: p for p in listed}

    unfixed, fixed = without_and_with(rds.describe_parameters_lists_family, parameters)
    assert "wait_timeout" not in unfixed and "DataType" not in unfixed["max_connections"]
    assert fixed["wait_timeout"]["Source"] == "engine-default" and fixed["wait_timeout"]["IsModifiable"]
    assert fixed["max_connections"]["Source"] == "user"
    assert fixed["max_connections"]["ParameterValue"] == "200"
    assert fixed["max_connections"]["DataType"] == "integer"


def create_mysql(storage=20, **extra):
    rdsc = client("rds")
    rdsc.create_db_instance(
        DBInstanceIdentifier="shop",
        DBInstanceClass="db.t4g.micro",
        Engine="mysql",
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=storage,
        **extra,
    )
    return rdsc.describe_db_instances(DBInstanceIdentifier="shop")["DBInstances"][0]


def test_rds_mysql_major_version_completed():
    unfixed, fixed = without_and_with(
        rds.mysql_major_version_completed, lambda: create_mysql(EngineVersion="8.4")["EngineVersion"]
    )
    assert unfixed == "8.4"
    assert fixed == rds.MYSQL_DEFAULT_MINOR["8.4"]


def test_rds_gp3_baseline_performance():
    def performance(storage):
        def scenario():
            instance = create_mysql(storage, StorageType="gp3")
            return instance.get("Iops"), instance.get("StorageThroughput")

        return scenario

    unfixed, fixed = without_and_with(rds.gp3_baseline_performance, performance(20))
    assert unfixed == (None, None)
    assert fixed == (3000, 125)
    with applied(rds.gp3_baseline_performance), mock_aws():
        assert performance(400)() == (12000, 500)


def test_rds_modify_subnet_group_keeps_it():
    def after_modify():
        _, subnets = vpc_with_subnets(3)
        rdsc = client("rds")
        rdsc.create_db_subnet_group(DBSubnetGroupName="shop", DBSubnetGroupDescription="shop", SubnetIds=subnets[:2])
        rdsc.modify_db_subnet_group(DBSubnetGroupName="shop", SubnetIds=subnets)
        return error_code(rdsc.describe_db_subnet_groups, DBSubnetGroupName="shop")

    unfixed, fixed = without_and_with(rds.modify_subnet_group_keeps_it, after_modify)
    assert unfixed == "DBSubnetGroupNotFoundFault"
    assert fixed is None


# ---------------------------------------------------------------- Route 53, Route 53 Domains


def test_route53_alias_target_dns_name():
    def alias_dns_name():
        r53 = client("route53")
        zone = r53.create_hosted_zone(Name="example.com", CallerReference="1")["HostedZone"]["Id"]
        r53.change_resource_record_sets(
            HostedZoneId=zone,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "CREATE",
                        "ResourceRecordSet": {
                            "Name": "shop.example.com",
                            "Type": "A",
                            "AliasTarget": {
                                "HostedZoneId": "Z14GRHDCWA56QT",
                                "DNSName": "Shop-123.ap-northeast-1.elb.amazonaws.com",
                                "EvaluateTargetHealth": False,
                            },
                        },
                    }
                ]
            },
        )
        records = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
        return [r["AliasTarget"]["DNSName"] for r in records if "AliasTarget" in r]

    unfixed, fixed = without_and_with(route53.alias_target_dns_name, alias_dns_name)
    assert unfixed == ["Shop-123.ap-northeast-1.elb.amazonaws.com"]
    assert fixed == ["shop-123.ap-northeast-1.elb.amazonaws.com."]


def test_route53domains_duplicate_request_only_while_pending():
    contact = {
        "FirstName": "Ops",
        "LastName": "Team",
        "ContactType": "COMPANY",
        "OrganizationName": "Kumo",
        "AddressLine1": "1-1 Chiyoda",
        "City": "Tokyo",
        "CountryCode": "JP",
        "ZipCode": "1000001",
        "PhoneNumber": "+81.312345678",
        "Email": "ops@example.com",
    }

    def change_name_servers_twice():
        domains = client("route53domains", "us-east-1")
        domains.register_domain(
            DomainName="kumo-shop.com",
            DurationInYears=2,
            AdminContact=contact,
            RegistrantContact=contact,
            TechContact=contact,
        )
        results = []
        for server in ("ns1.example.net", "ns2.example.net"):
            results.append(
                error_code(
                    domains.update_domain_nameservers, DomainName="kumo-shop.com", Nameservers=[{"Name": server}]
                )
            )
        return results

    unfixed, fixed = without_and_with(route53domains.duplicate_request_only_while_pending, change_name_servers_twice)
    assert unfixed == [None, "DuplicateRequest"]
    assert fixed == [None, None]


# ---------------------------------------------------------------- S3


def bucket_with_policy(statements):
    s3c = client("s3")
    s3c.create_bucket(Bucket="shop-uploads", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3c.put_object(Bucket="shop-uploads", Key="a.txt", Body=b"a")
    policy = {"Version": "2012-10-17", "Statement": statements}
    s3c.put_bucket_policy(Bucket="shop-uploads", Policy=json.dumps(policy))
    return s3c


def test_s3_bucket_policy_conditions():
    """The uploads bucket's kind of policy (deny without TLS, deny outside the VPC endpoint):
    a request from the twin's forwarder (through the endpoint, on AWS) is not denied, one from
    elsewhere is; a Deny whose condition does not hold does not apply (an SDK call is HTTPS on
    AWS, so the deny of plain HTTP does not)."""
    from moto.s3.models import s3_backends

    def answers():
        vpc, _ = vpc_with_subnets(1)
        endpoint = client("ec2").create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3")
        endpoint_id = endpoint["VpcEndpoint"]["VpcEndpointId"]
        s3c = bucket_with_policy(
            [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": ["arn:aws:s3:::shop-uploads", "arn:aws:s3:::shop-uploads/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": "arn:aws:s3:::shop-uploads/*",
                    "Condition": {"StringNotEquals": {"aws:SourceVpce": endpoint_id}},
                },
            ]
        )
        plain = error_code(s3c.get_object, Bucket="shop-uploads", Key="a.txt")
        (bucket,) = [b for backend in s3_backends.values() for b in backend["global"].buckets.values()]
        s3._request.peer = next(iter(s3.ENDPOINT_PEERS))  # what key_response records of a request
        try:
            forwarded = bucket.get_permission("s3:GetObject", "arn:aws:s3:::shop-uploads/a.txt").name
        finally:
            s3._request.peer = None
        s3c.put_bucket_policy(
            Bucket="shop-uploads",
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::shop-uploads/*",
                            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0aaaaaaaaaaaaaaaa"}},
                        }
                    ],
                }
            ),
        )
        elsewhere = error_code(s3c.get_object, Bucket="shop-uploads", Key="a.txt")
        # the deny of plain HTTP alone: an SDK call (HTTPS on AWS) is not denied by it
        tls_deny = {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::shop-uploads", "arn:aws:s3:::shop-uploads/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        s3c.put_bucket_policy(
            Bucket="shop-uploads", Policy=json.dumps({"Version": "2012-10-17", "Statement": [tls_deny]})
        )
        over_tls = error_code(s3c.get_object, Bucket="shop-uploads", Key="a.txt")
        return plain, forwarded, elsewhere, over_tls

    unfixed, fixed = without_and_with(s3.bucket_policy_conditions, answers)
    assert unfixed == ("403", "DENIED", "403", "403"), "moto applies every Deny, its condition ignored"
    assert fixed == ("403", "NEUTRAL", None, None)


def test_s3_logging_target_policy():
    """A log bucket's policy as the storage role writes it (deny of plain HTTP first, then the
    grant to the logging service): moto fails PutBucketLogging with a 500 on the "*" principal;
    fixed, it is accepted, and a policy without the grant is still refused."""
    grant = {
        "Sid": "AllowS3ServerAccessLogs",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::shop-logs/s3/shop-uploads/*",
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::shop-uploads"}},
    }
    deny = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::shop-logs", "arn:aws:s3:::shop-logs/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }

    def answers():
        s3c = client("s3")
        for name in ("shop-uploads", "shop-logs"):
            s3c.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        logging = {"LoggingEnabled": {"TargetBucket": "shop-logs", "TargetPrefix": "s3/shop-uploads/"}}
        out = []
        for statements in ([deny, grant], [deny]):
            s3c.put_bucket_policy(
                Bucket="shop-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
            )
            try:
                out.append(error_code(s3c.put_bucket_logging, Bucket="shop-uploads", BucketLoggingStatus=logging))
            except Exception as error:  # moto's 500 surfaces as a botocore error after its retries
                out.append(type(error).__name__)
        return out

    unfixed, fixed = without_and_with(s3.logging_target_policy, answers)
    assert unfixed[0] not in (None, "InvalidTargetBucketForLogging"), unfixed
    assert fixed == [None, "InvalidTargetBucketForLogging"]
