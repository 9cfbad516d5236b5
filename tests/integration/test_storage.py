"""The storage role (uploads bucket and log bucket) end to end against the embedded emulator, read
back with boto3.

The buckets stand alone: on the worker's shared network (fixture shared_base, whose S3 endpoint
the uploads bucket's policy names) or on none. Each test tears down only its buckets; the network
has its own tests.
"""

from __future__ import annotations

import json

import pytest

from .badinput import assert_fails_before_aws, run_role_cases
from .conftest import ROOT, provision_converges, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
PROVISION = PLAYBOOKS / "storage_alone.yml"
TEARDOWN = PLAYBOOKS / "storage_alone_teardown.yml"
ACCOUNT = "123456789012"
# the Elastic Load Balancing account that writes access logs in ap-northeast-1 (a region older
# than August 2022: AWS's "Enable access logs for your Application Load Balancer", step 2)
ELB_TOKYO = "582318560864"

pytestmark = pytest.mark.emulator


def stack_buckets(s3, stack: str) -> list[str]:
    """Every bucket tagged Stack=<stack>."""
    found = []
    for bucket in s3.list_buckets()["Buckets"]:
        try:
            tags = s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"]
        except s3.exceptions.ClientError:
            continue
        if {"Key": "Stack", "Value": stack} in tags:
            found.append(bucket["Name"])
    return found


def test_bucket_is_private_encrypted_idempotent_and_torn_down(emulator, shared_base, tmp_path):
    stack = "stlife"
    bucket = f"{stack}-uploads-{ACCOUNT}-ap-northeast-1"
    logs = f"{stack}-logs-{ACCOUNT}-ap-northeast-1"
    s3 = emulator.client("s3")
    ec2 = emulator.client("ec2")
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "network_outputs": shared_base["network_outputs"],
    }
    # the shared network's S3 gateway endpoint, which the bucket policy must name
    endpoint_id = shared_base["network_outputs"]["s3_endpoint_id"]
    (endpoint,) = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    assert endpoint["ServiceName"] == "com.amazonaws.ap-northeast-1.s3"

    check_empty = run_playbook(PROVISION, "--check", env=emulator.env, extra_vars=extra)
    assert check_empty.rc == 0, check_empty.output[-6000:]
    assert f"bucket {bucket} would be created" in " ".join(check_empty.output.split())
    assert f"log bucket {logs} would be created" in " ".join(check_empty.output.split())
    assert stack_buckets(s3, stack) == []

    provision_converges(PROVISION, emulator.env, extra)

    outputs = json.loads((tmp_path / "storage_outputs.json").read_text())
    assert outputs == {
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "region": "ap-northeast-1",
        "log_bucket": logs,
        "log_bucket_arn": f"arn:aws:s3:::{logs}",
        "alb_log_prefix": "alb",
    }
    assert sorted(stack_buckets(s3, stack)) == sorted([bucket, logs])
    for name in (bucket, logs):
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "ap-northeast-1"
        pab = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        assert pab == {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        }
        (ownership,) = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
        assert ownership == {"ObjectOwnership": "BucketOwnerEnforced"}
        tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}
        assert tags == {"Stack": stack, "ManagedBy": "kumo.webstack"}
    # uploads: SSE-KMS under the AWS managed key (no key id: S3's default for aws:kms) with a bucket
    # key; its server access logs go to the log bucket
    (sse,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert sse["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms"}
    assert sse["BucketKeyEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == {
        "TargetBucket": logs,
        "TargetPrefix": f"s3/{bucket}/",
    }
    # logs: SSE-S3 (the only encryption ELB and S3 deliver logs under), unversioned, expiring
    (sse,) = s3.get_bucket_encryption(Bucket=logs)["ServerSideEncryptionConfiguration"]["Rules"]
    assert sse["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert s3.get_bucket_versioning(Bucket=logs).get("Status") is None
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=logs)
    log_rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=logs)["Rules"]}
    assert log_rules["expire-logs"]["Expiration"] == {"Days": 90}
    assert log_rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 7
    }
    assert set(log_rules) == {"expire-logs", "abort-incomplete-multipart-uploads"}
    log_policy = {s["Sid"]: s for s in json.loads(s3.get_bucket_policy(Bucket=logs)["Policy"])["Statement"]}
    assert log_policy == {
        "DenyInsecureTransport": {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{logs}", f"arn:aws:s3:::{logs}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        "AllowLoadBalancerAccessLogs": {
            "Sid": "AllowLoadBalancerAccessLogs",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ELB_TOKYO}:root"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{logs}/alb/AWSLogs/{ACCOUNT}/*",
        },
        "AllowS3ServerAccessLogs": {
            "Sid": "AllowS3ServerAccessLogs",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{logs}/s3/{bucket}/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"},
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
            },
        },
    }

    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert set(rules) == {"abort-incomplete-multipart-uploads", "expire-noncurrent-versions"}
    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert all(r["Status"] == "Enabled" for r in rules.values())

    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert set(statements) == {"DenyInsecureTransport", "DenyObjectAccessOutsideVpcEndpoint"}
    assert statements["DenyInsecureTransport"] == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    vpce = statements["DenyObjectAccessOutsideVpcEndpoint"]
    assert vpce["Effect"] == "Deny"
    assert sorted(vpce["Action"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert vpce["Resource"] == f"arn:aws:s3:::{bucket}/*", "the deny covers objects only, never bucket configuration"
    assert vpce["Condition"] == {"StringNotEquals": {"aws:SourceVpce": endpoint["VpcEndpointId"]}}

    # ---- an allowed principal joins the endpoint condition; a dropped rule is removed; idempotent again
    role = f"arn:aws:iam::{ACCOUNT}:role/{stack}-web"
    extra2 = {
        **extra,
        "storage_allowed_principal_arns": [role],
        "storage_lifecycle_rules": [
            {"id": "abort-incomplete-multipart-uploads", "abort_incomplete_multipart_upload_days": 3}
        ],
    }
    changed = run_playbook(PROVISION, env=emulator.env, extra_vars=extra2)
    assert changed.rc == 0, changed.output[-6000:]
    assert changed.changed > 0
    again = run_playbook(PROVISION, env=emulator.env, extra_vars=extra2)
    assert again.changed == 0, again.output[-6000:]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    vpce = next(s for s in policy["Statement"] if s["Sid"] == "DenyObjectAccessOutsideVpcEndpoint")
    assert vpce["Condition"] == {
        "StringNotEquals": {"aws:SourceVpce": endpoint["VpcEndpointId"]},
        "ArnNotLike": {"aws:PrincipalArn": role},
    } or vpce["Condition"] == {
        "StringNotEquals": {"aws:SourceVpce": endpoint["VpcEndpointId"]},
        "ArnNotLike": {"aws:PrincipalArn": [role]},
    }
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["ID"] == "abort-incomplete-multipart-uploads"
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 3}

    # ---- a non-empty bucket survives a plain teardown, with a message saying how to force it, and
    # the log bucket with it (it holds that bucket's access record)
    # the emulator enforces the policy: a plain-HTTP upload from outside the endpoint is refused,
    # while bucket configuration stays open to the account (the deny covers objects only)
    with pytest.raises(s3.exceptions.ClientError, match="Forbidden|AccessDenied"):
        s3.put_object(Bucket=bucket, Key="images/a.png", Body=b"png")
    s3.delete_bucket_policy(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="images/a.png", Body=b"png")
    s3.put_object(Bucket=bucket, Key="images/a.png", Body=b"png2")  # a second version
    kept = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert kept.rc != 0
    flat = " ".join(kept.output.split())
    assert f"Bucket {bucket} is not empty: it holds 1 object(s) (plus any older versions and delete markers)" in flat
    assert (
        f"Bucket {logs} (the log bucket of the stack) is kept with it: it holds the access record of that bucket"
        in flat
    )
    assert "-e storage_force_delete=true" in flat
    assert "webstack_teardown_force_delete_data=true" in flat
    assert sorted(stack_buckets(s3, stack)) == sorted([bucket, logs])

    # ---- only older versions / delete markers left: still kept
    s3.delete_object(Bucket=bucket, Key="images/a.png")  # leaves a delete marker over two versions
    kept2 = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert kept2.rc != 0
    assert "still holds older object versions or delete markers" in " ".join(kept2.output.split()), kept2.output[-4000:]
    assert sorted(stack_buckets(s3, stack)) == sorted([bucket, logs])

    # ---- forced teardown in check mode predicts the deletion and deletes nothing
    forced = {**extra, "storage_force_delete": True}
    check_down = run_playbook(TEARDOWN, "--check", env=emulator.env, extra_vars=forced)
    assert check_down.rc == 0, check_down.output[-6000:]
    assert f"bucket {bucket} would be deleted" in " ".join(check_down.output.split())
    assert f"log bucket {logs} would be deleted" in " ".join(check_down.output.split())
    assert sorted(stack_buckets(s3, stack)) == sorted([bucket, logs])

    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=forced)
    assert down.rc == 0, down.output[-6000:]
    assert down.changed > 0
    assert {bucket, logs}.isdisjoint(b["Name"] for b in s3.list_buckets()["Buckets"])
    assert stack_buckets(s3, stack) == []

    again = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert again.rc == 0, again.output[-6000:]
    assert again.changed == 0, again.output[-6000:]


def test_empty_bucket_alone_is_torn_down_and_foreign_bucket_refused(emulator, tmp_path):
    """Without a network (no network_outputs, so no endpoint), an empty bucket goes on a plain
    teardown, and a log bucket holding logs is kept; a bucket with our name but another stack's tag
    is never touched."""
    stack = "stalone"
    bucket = f"{stack}-uploads-{ACCOUNT}-ap-northeast-1"
    logs = f"{stack}-logs-{ACCOUNT}-ap-northeast-1"
    s3 = emulator.client("s3")
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "storage_versioning": False,
        "storage_lifecycle_rules": [{"id": "expire-tmp", "prefix": "tmp/", "expiration_days": 1}],
    }
    up = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert up.rc == 0, up.output[-6000:]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["DenyInsecureTransport"]
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") in (None, "Suspended")
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["ID"] == "expire-tmp" and rule["Expiration"] == {"Days": 1}

    # a bucket that carries our derived name but another stack's tag is refused, not deleted
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "Stack", "Value": "other"}]})
    refused = run_playbook(TEARDOWN, env=emulator.env, extra_vars={**extra, "storage_force_delete": True})
    assert refused.rc != 0
    assert f"Bucket {bucket} exists but is not tagged Stack={stack}" in " ".join(refused.output.split())
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    # the empty uploads bucket goes; the log bucket, holding logs, is kept (and said so): the test
    # file ELB writes when access logs are turned on, and the uploads bucket's server access logs,
    # which the emulator (moto) delivers as AWS would
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "Stack", "Value": stack}]})
    s3.put_object(Bucket=logs, Key=f"alb/AWSLogs/{ACCOUNT}/ELBAccessLogTestFile", Body=b"")
    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert down.rc != 0, down.output[-6000:]
    flat = " ".join(down.output.split())
    assert f"Bucket {logs} (the log bucket of the stack) is not empty: it holds " in flat, down.output[-3000:]
    assert " log object(s), the record of who did what; they expire after 90 days" in flat
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert stack_buckets(s3, stack) == [logs]
    assert any(o["Key"].startswith(f"s3/{bucket}/") for o in s3.list_objects_v2(Bucket=logs)["Contents"])
    for listed in s3.list_objects_v2(Bucket=logs)["Contents"]:
        s3.delete_object(Bucket=logs, Key=listed["Key"])
    s3.delete_bucket(Bucket=logs)


def test_the_log_bucket_alone_for_a_kind_without_uploads(emulator, tmp_path):
    """storage_uploads_bucket_enabled false (the chat and sorry kinds): the log bucket alone, its
    policy without the uploads bucket's server access logs statement, idempotent and true in check
    mode; its outputs name no uploads bucket. A plain teardown keeps it while it holds logs, a forced
    one deletes it."""
    stack = "stlogs"
    bucket = f"{stack}-uploads-{ACCOUNT}-ap-northeast-1"
    logs = f"{stack}-logs-{ACCOUNT}-ap-northeast-1"
    s3 = emulator.client("s3")
    extra = {"webstack_name": stack, "webstack_state_dir": str(tmp_path), "storage_uploads_bucket_enabled": False}

    check_empty = run_playbook(PROVISION, "--check", env=emulator.env, extra_vars=extra)
    assert check_empty.rc == 0, check_empty.output[-6000:]
    flat = " ".join(check_empty.output.split())
    assert f"log bucket {logs} would be created" in flat
    assert f"Check mode: bucket {bucket} would be created" not in flat
    assert stack_buckets(s3, stack) == []

    provision_converges(PROVISION, emulator.env, extra)
    outputs = json.loads((tmp_path / "storage_outputs.json").read_text())
    assert outputs == {
        "bucket": "",
        "arn": "",
        "region": "ap-northeast-1",
        "log_bucket": logs,
        "log_bucket_arn": f"arn:aws:s3:::{logs}",
        "alb_log_prefix": "alb",
    }
    assert stack_buckets(s3, stack) == [logs]
    (sse,) = s3.get_bucket_encryption(Bucket=logs)["ServerSideEncryptionConfiguration"]["Rules"]
    assert sse["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert s3.get_bucket_versioning(Bucket=logs).get("Status") is None
    policy = json.loads(s3.get_bucket_policy(Bucket=logs)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["DenyInsecureTransport", "AllowLoadBalancerAccessLogs"]
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=logs)["Rules"]}
    assert rules["expire-logs"]["Expiration"] == {"Days": 90}

    # the test file ELB writes when access logs are turned on: a plain teardown keeps the bucket
    s3.put_object(Bucket=logs, Key=f"alb/AWSLogs/{ACCOUNT}/ELBAccessLogTestFile", Body=b"")
    kept = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert kept.rc != 0, kept.output[-6000:]
    flat = " ".join(kept.output.split())
    assert f"Bucket {logs} (the log bucket of the stack) is not empty: it holds 1 log object(s)" in flat
    assert stack_buckets(s3, stack) == [logs]

    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars={**extra, "storage_force_delete": True})
    assert down.rc == 0, down.output[-6000:]
    assert stack_buckets(s3, stack) == []


BAD = [
    pytest.param(
        {"storage_bucket_name": "Uploads-Bucket"},
        "storage_bucket_name must be a valid S3 bucket name",
        id="name-uppercase",
    ),
    pytest.param({"storage_bucket_name": "a" * 64}, "(64 characters)", id="name-too-long"),
    pytest.param(
        {"storage_bucket_name": "my..bucket"}, "storage_bucket_name must be a valid S3 bucket name", id="name-dots"
    ),
    pytest.param(
        {"storage_bucket_name": "192.168.1.1"}, "storage_bucket_name must be a valid S3 bucket name", id="name-ip"
    ),
    pytest.param(
        {"storage_lifecycle_rules": [{"abort_incomplete_multipart_upload_days": 7}]},
        "storage_lifecycle_rules[0] must be a dict with a non-empty 'id'",
        id="rule-no-id",
    ),
    pytest.param(
        {"storage_lifecycle_rules": [{"id": "x"}]}, "storage_lifecycle_rules[0] must be a dict", id="rule-no-action"
    ),
    pytest.param(
        {"storage_lifecycle_rules": [{"id": "x", "expiration_days": 0}]}, "positive whole days", id="rule-zero-days"
    ),
    pytest.param(
        {"storage_lifecycle_rules": [{"id": "x", "expiration_days": 1, "transition": 3}]},
        "and no other keys than",
        id="rule-unknown-key",
    ),
    pytest.param(
        {"storage_lifecycle_rules": [{"id": "x", "expiration_days": 1}, {"id": "x", "expiration_days": 2}]},
        'storage_lifecycle_rules ids must be unique; got ["x", "x"]',
        id="rule-duplicate-id",
    ),
    pytest.param(
        {"storage_vpc_endpoint_id": "endpoint-1"}, "storage_vpc_endpoint_id must be a VPC endpoint id", id="vpce"
    ),
    pytest.param({"storage_allowed_principal_arns": ["web-role"]}, 'not valid: ["web-role"]', id="principal-not-arn"),
    pytest.param({"storage_kms_key_id": "my key"}, "storage_kms_key_id must be a KMS key id", id="kms"),
    pytest.param({"storage_region": "tokyo"}, "storage_region must be an AWS region name", id="region"),
    pytest.param(
        {"storage_bucket_name": "shop-files", "storage_log_bucket_name": "shop-files"},
        "storage_log_bucket_name must be a valid S3 bucket name other than storage_bucket_name",
        id="log-name-same-as-uploads",
    ),
    pytest.param(
        {"storage_log_expiration_days": 0},
        "storage_log_expiration_days must be a whole number of days from 1 to 3650",
        id="log-expiration-zero",
    ),
    pytest.param(
        {"storage_alb_log_prefix": "alb/AWSLogs"}, "without 'AWSLogs' (got 'alb/AWSLogs')", id="alb-prefix-awslogs"
    ),
    pytest.param({"webstack_name": "Bad_Name"}, "storage_stack_name (default: webstack_name) must be", id="stack-name"),
    pytest.param(
        {"storage_uploads_bucket_enabled": False, "storage_log_bucket_enabled": False},
        "storage_uploads_bucket_enabled and storage_log_bucket_enabled must not both be false: the role would build"
        " no bucket (got storage_uploads_bucket_enabled 'False', storage_log_bucket_enabled 'False')",
        id="no-bucket-at-all",
    ),
    pytest.param(
        {"storage_uploads_bucket_enabled": "logs-only"},
        "argument 'storage_uploads_bucket_enabled' is of type str and we were unable to convert to bool",
        id="uploads-enabled-not-bool",
    ),
]


@pytest.fixture(scope="module")
def bad_cases(dead_endpoint_env, tmp_path_factory):
    """Every BAD case in one ansible-playbook run (badinput.py), the storage role alone."""
    return run_role_cases(
        "storage",
        BAD,
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("storage-cases"),
        base_vars={"webstack_name": "badstore"},
    )


@pytest.mark.xdist_group("storage_bad_input")
@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_fails_before_any_aws_call(extra, message, bad_cases, request):
    result = bad_cases[request.node.callspec.id]
    assert_fails_before_aws(result, message)
    assert not any(result.case_dir.rglob("*_outputs.json"))
