"""kumo.webstack.ecr_repository and ecr_repository_info against moto, Stubber for AWS-only answers."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.module_utils.ecr import canonical_policy
from ansible_collections.kumo.webstack.plugins.modules import ecr_repository, ecr_repository_info

REGION = "ap-northeast-1"
NAME = "bot1/bot"
ARN = f"arn:aws:ecr:{REGION}:123456789012:repository/{NAME}"
TAGS = {"Stack": "bot1", "ManagedBy": "kumo.webstack"}
POLICY = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "Expire untagged images after 1 day",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 1,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": "Keep only the last 10 images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10},
            "action": {"type": "expire"},
        },
    ]
}
ARGS = {
    "name": NAME,
    "image_tag_mutability": "IMMUTABLE",
    "scan_on_push": True,
    "encryption": "AES256",
    "lifecycle_policy": POLICY,
    "tags": TAGS,
}


@pytest.fixture
def moto(aws_env):
    with mock_aws():
        yield boto3.client("ecr", region_name=REGION)


def _tags(client, arn=ARN):
    return {t["Key"]: t["Value"] for t in client.list_tags_for_resource(resourceArn=arn)["tags"]}


def _push(client, name=NAME, tag="v1", layer="a"):
    """Record an image the way a push ends: PutImage with a manifest (moto takes its digest from the layers)."""
    digest = "sha256:" + hashlib.sha256(layer.encode()).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1, "digest": digest}],
    }
    client.put_image(repositoryName=name, imageManifest=json.dumps(manifest), imageTag=tag)


def test_create_check_mode_then_create_then_idempotent(run_module, moto):
    checked = run_module(ecr_repository, ARGS, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"] == {}
    assert checked["diff"]["after"] == {
        "name": NAME,
        "image_tag_mutability": "IMMUTABLE",
        "scan_on_push": True,
        "encryption": "AES256",
        "kms_key": None,
        "lifecycle_policy": canonical_policy(POLICY),
        "tags": TAGS,
    }
    assert moto.describe_repositories()["repositories"] == []

    created = run_module(ecr_repository, ARGS)
    assert created["changed"] is True
    repo = created["repository"]
    assert repo["arn"] == ARN
    assert repo["uri"] == f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{NAME}"
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["scan_on_push"] is True
    assert repo["encryption"] == "AES256"
    assert repo["lifecycle_policy"] == canonical_policy(POLICY)
    assert repo["tags"] == TAGS
    (described,) = moto.describe_repositories(repositoryNames=[NAME])["repositories"]
    assert described["imageScanningConfiguration"] == {"scanOnPush": True}
    assert described["encryptionConfiguration"] == {"encryptionType": "AES256"}
    assert json.loads(moto.get_lifecycle_policy(repositoryName=NAME)["lifecyclePolicyText"]) == POLICY
    assert _tags(moto) == TAGS

    checked_again = run_module(ecr_repository, ARGS, check_mode=True, diff=True)
    assert checked_again["changed"] is False
    assert checked_again["diff"]["before"] == checked_again["diff"]["after"]
    assert run_module(ecr_repository, ARGS)["changed"] is False


def test_drift_is_put_back(run_module, moto):
    run_module(ecr_repository, ARGS)
    moto.put_image_tag_mutability(repositoryName=NAME, imageTagMutability="MUTABLE")
    moto.put_image_scanning_configuration(repositoryName=NAME, imageScanningConfiguration={"scanOnPush": False})
    moto.put_lifecycle_policy(repositoryName=NAME, lifecyclePolicyText=json.dumps({"rules": POLICY["rules"][:1]}))
    moto.tag_resource(resourceArn=ARN, tags=[{"Key": "Owner", "Value": "someone"}, {"Key": "Stack", "Value": "x"}])

    checked = run_module(ecr_repository, ARGS, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["image_tag_mutability"] == "MUTABLE"
    assert checked["diff"]["after"]["tags"] == TAGS
    assert _tags(moto) == {"Owner": "someone", "Stack": "x", "ManagedBy": "kumo.webstack"}  # nothing written

    fixed = run_module(ecr_repository, ARGS)
    assert fixed["changed"] is True
    assert fixed["repository"]["image_tag_mutability"] == "IMMUTABLE"
    assert fixed["repository"]["scan_on_push"] is True
    assert fixed["repository"]["lifecycle_policy"] == canonical_policy(POLICY)
    assert _tags(moto) == TAGS
    assert run_module(ecr_repository, ARGS)["changed"] is False


def test_settings_left_out_are_not_touched(run_module, moto):
    run_module(ecr_repository, ARGS)
    result = run_module(ecr_repository, {"name": NAME})
    assert result["changed"] is False
    assert result["repository"]["tags"] == TAGS
    assert result["repository"]["lifecycle_policy"] == canonical_policy(POLICY)


def test_policy_compared_as_json(run_module, moto):
    run_module(ecr_repository, ARGS)
    reordered = {"rules": list(reversed(POLICY["rules"]))}
    as_text = dict(ARGS, lifecycle_policy=json.dumps(reordered))
    assert run_module(ecr_repository, as_text)["changed"] is False


def test_encryption_of_an_existing_repository_is_not_changed(run_module, moto):
    run_module(ecr_repository, ARGS)
    args = dict(ARGS, encryption="KMS", kms_key="alias/bot1-images")
    for check_mode in (True, False):
        result = run_module(ecr_repository, args, check_mode=check_mode)
        assert result.failed
        assert result["msg"].startswith(
            f"Repository {NAME} is encrypted with AES256, not KMS key alias/bot1-images: ECR sets a repository's"
        )


def test_kms_key_given_by_alias_matches_the_key_arn(run_module, moto, aws_env):
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/bot1-images", TargetKeyId=key["KeyId"])
    moto.create_repository(repositoryName=NAME, encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key["Arn"]})
    args = {"name": NAME, "encryption": "KMS", "kms_key": "alias/bot1-images"}
    assert run_module(ecr_repository, args)["changed"] is False
    assert run_module(ecr_repository, dict(args, kms_key=key["KeyId"]))["changed"] is False
    other = kms.create_key()["KeyMetadata"]["Arn"]
    assert run_module(ecr_repository, dict(args, kms_key=other)).failed


def test_kms_key_without_kms_encryption_is_refused(run_module, moto):
    result = run_module(ecr_repository, {"name": NAME, "encryption": "AES256", "kms_key": "alias/x"})
    assert result.failed
    assert result["msg"] == "kms_key is only used with encryption=KMS; leave it out for AES256."


def test_delete_keeps_a_repository_with_images_unless_forced(run_module, moto):
    run_module(ecr_repository, ARGS)
    _push(moto)
    _push(moto, tag="v2", layer="b")
    absent = {"name": NAME, "state": "absent"}
    for check_mode in (True, False):
        refused = run_module(ecr_repository, absent, check_mode=check_mode)
        assert refused.failed
        assert refused["msg"] == (
            f"Repository {NAME} is not empty: it holds 2 image(s). Set force_delete=true to delete it with its images."
        )
        assert refused["image_count"] == 2
    assert len(moto.describe_repositories()["repositories"]) == 1

    forced = dict(absent, force_delete=True)
    assert run_module(ecr_repository, forced, check_mode=True)["changed"] is True
    assert len(moto.describe_repositories()["repositories"]) == 1
    deleted = run_module(ecr_repository, forced)
    assert deleted["changed"] is True
    assert deleted["repository"] == {}
    assert moto.describe_repositories()["repositories"] == []
    assert run_module(ecr_repository, forced, check_mode=True)["changed"] is False
    assert run_module(ecr_repository, absent)["changed"] is False


def test_delete_of_an_empty_repository(run_module, moto):
    run_module(ecr_repository, ARGS)
    result = run_module(ecr_repository, {"name": NAME, "state": "absent"}, diff=True)
    assert result["changed"] is True
    assert result["diff"] == {"before": {"name": NAME}, "after": {}}
    assert moto.describe_repositories()["repositories"] == []


def test_info_by_prefix_and_by_names(run_module, moto):
    run_module(ecr_repository, ARGS)
    run_module(ecr_repository, {"name": "bot1/worker", "tags": {"Stack": "bot1"}})
    run_module(ecr_repository, {"name": "bot10/bot", "tags": {"Stack": "bot10"}})
    _push(moto)

    found = run_module(ecr_repository_info, {"name_prefix": "bot1/"})
    assert found["changed"] is False
    assert [r["name"] for r in found["repositories"]] == [NAME, "bot1/worker"]
    bot, worker = found["repositories"]
    assert bot["image_count"] == 1
    assert bot["tags"] == TAGS
    assert bot["lifecycle_policy"] == canonical_policy(POLICY)
    assert worker == dict(
        worker,
        image_count=0,
        tags={"Stack": "bot1"},
        lifecycle_policy=None,
        image_tag_mutability="MUTABLE",
        scan_on_push=False,
        encryption="AES256",
    )

    named = run_module(ecr_repository_info, {"names": ["bot10/bot", "missing/one"]})
    assert [r["name"] for r in named["repositories"]] == ["bot10/bot"]
    assert len(run_module(ecr_repository_info, {})["repositories"]) == 3


def test_info_with_images(run_module, moto):
    run_module(ecr_repository, ARGS)
    run_module(ecr_repository, {"name": "bot1/worker"})
    _push(moto)
    _push(moto, tag="v2", layer="b")

    plain = run_module(ecr_repository_info, {"names": [NAME]})
    assert "images" not in plain["repositories"][0]

    found = run_module(ecr_repository_info, {"names": [NAME, "bot1/worker"], "images": True})
    bot, worker = found["repositories"]
    assert worker["images"] == []
    described = {d["imageTags"][0]: d for d in moto.describe_images(repositoryName=NAME)["imageDetails"]}
    assert sorted(i["tags"] for i in bot["images"]) == [["v1"], ["v2"]]  # pushed in the same second
    first = next(i for i in bot["images"] if i["tags"] == ["v1"])
    assert first["digest"] == described["v1"]["imageDigest"]
    assert first["size_in_bytes"] == described["v1"]["imageSizeInBytes"]
    assert first["manifest_media_type"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert first["pushed_at"].endswith("Z")


def test_api_error_is_reported(run_module, module_stubber):
    stubber = module_stubber("ecr")
    stubber.add_client_error("describe_repositories", "AccessDeniedException", "not authorized", 403)
    result = run_module(ecr_repository, {"name": NAME})
    assert result.failed
    assert result["msg"].startswith("Failed to describe repository")


def test_canonical_policy():
    assert canonical_policy(None) is None
    text = json.dumps({"rules": [{"rulePriority": 2}, {"rulePriority": 1, "description": "d"}]})
    assert canonical_policy(text) == {
        "rules": [{"rulePriority": 1, "description": "d"}, {"rulePriority": 2, "description": ""}]
    }
