"""kumo.webstack.s3_bucket_logging against moto (in-process), and its pure helpers."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.module_utils import s3 as s3_utils
from ansible_collections.kumo.webstack.plugins.modules import s3_bucket_logging

REGION = "ap-northeast-1"
SOURCE = "shop-uploads-123456789012-ap-northeast-1"
TARGET = "shop-logs-123456789012-ap-northeast-1"
PREFIX = f"s3/{SOURCE}/"


def _policy(prefix=PREFIX):
    """The target bucket's grant to the logging service (as the storage role writes it)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowS3ServerAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{TARGET}/{prefix}*",
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{SOURCE}"},
                        "StringEquals": {"aws:SourceAccount": "123456789012"},
                    },
                }
            ],
        }
    )


@pytest.fixture
def s3(aws_env):
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        for name in (SOURCE, TARGET):
            client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        client.put_bucket_ownership_controls(
            Bucket=TARGET, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
        client.put_bucket_policy(Bucket=TARGET, Policy=_policy())
        yield client


def test_on_check_mode_then_on_then_idempotent_then_off(run_module, s3):
    args = {"name": SOURCE, "target_bucket": TARGET, "target_prefix": PREFIX}
    checked = run_module(s3_bucket_logging, args, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"] == {
        "before": {"enabled": False, "target_bucket": "", "target_prefix": ""},
        "after": {"enabled": True, "target_bucket": TARGET, "target_prefix": PREFIX},
    }
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=SOURCE)

    done = run_module(s3_bucket_logging, args)
    assert done["changed"] is True
    assert done["logging"] == {"enabled": True, "target_bucket": TARGET, "target_prefix": PREFIX}
    assert s3.get_bucket_logging(Bucket=SOURCE)["LoggingEnabled"] == {"TargetBucket": TARGET, "TargetPrefix": PREFIX}
    # the target bucket's ACL is never touched (ACLs are disabled on it)
    assert all("URI" not in g["Grantee"] for g in s3.get_bucket_acl(Bucket=TARGET)["Grants"])

    assert run_module(s3_bucket_logging, args, check_mode=True)["changed"] is False
    assert run_module(s3_bucket_logging, args)["changed"] is False

    off = {"name": SOURCE, "state": "absent"}
    assert run_module(s3_bucket_logging, off, check_mode=True)["changed"] is True
    assert "LoggingEnabled" in s3.get_bucket_logging(Bucket=SOURCE)
    gone = run_module(s3_bucket_logging, off)
    assert gone["changed"] is True and gone["logging"]["enabled"] is False
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=SOURCE)
    assert run_module(s3_bucket_logging, off)["changed"] is False


def test_prefix_change_is_a_change(run_module, s3):
    run_module(s3_bucket_logging, {"name": SOURCE, "target_bucket": TARGET, "target_prefix": PREFIX})
    s3.put_bucket_policy(Bucket=TARGET, Policy=_policy("s3/"))
    result = run_module(s3_bucket_logging, {"name": SOURCE, "target_bucket": TARGET, "target_prefix": "s3/"}, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["target_prefix"] == PREFIX
    assert s3.get_bucket_logging(Bucket=SOURCE)["LoggingEnabled"]["TargetPrefix"] == "s3/"


def test_missing_bucket_fails_with_its_name(run_module, s3):
    result = run_module(s3_bucket_logging, {"name": "no-such-bucket", "target_bucket": TARGET})
    assert result.failed
    assert "Bucket no-such-bucket does not exist" in result["msg"]


def test_target_without_permission_fails(run_module, s3, monkeypatch):
    """The error AWS (and moto) give for a target bucket that does not allow the delivery, after
    the retries meant for a policy written just before (not waited for here)."""
    monkeypatch.setattr("time.sleep", lambda _seconds: None)
    s3.delete_bucket_policy(Bucket=TARGET)
    result = run_module(s3_bucket_logging, {"name": SOURCE, "target_bucket": TARGET, "target_prefix": PREFIX})
    assert result.failed
    assert "Failed to put bucket logging" in result["msg"]
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=SOURCE)


def test_helpers():
    assert s3_utils.logging_settings("", "x") == {}
    assert s3_utils.logging_settings(TARGET, None) == {"TargetBucket": TARGET, "TargetPrefix": ""}
    current = {"TargetBucket": TARGET, "TargetPrefix": PREFIX, "TargetObjectKeyFormat": {"SimplePrefix": {}}}
    assert s3_utils.logging_differs(current, {"TargetBucket": TARGET, "TargetPrefix": PREFIX}) is False
    assert s3_utils.logging_differs({}, {}) is False
    assert s3_utils.logging_differs(current, {}) is True
    assert s3_utils.logging_for_output({}) == {"enabled": False, "target_bucket": "", "target_prefix": ""}
