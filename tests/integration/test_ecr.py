"""The ecr role (the stack's ECR repositories) end to end against the embedded emulator, read
back with boto3: check mode, creation, idempotence, an image recorded with PutImage, a teardown
that keeps the repository holding it, a forced one that does not, and other stacks untouched."""

from __future__ import annotations

import hashlib
import json

import pytest

from .badinput import assert_fails_before_aws, run_role_cases
from .conftest import ROOT, provision_converges, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
PROVISION = PLAYBOOKS / "ecr_alone.yml"
TEARDOWN = PLAYBOOKS / "ecr_alone_teardown.yml"
ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"

pytestmark = pytest.mark.emulator

LIFECYCLE = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "Expire untagged images 1 day(s) after their push",
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


def repository_names(ecr) -> list[str]:
    """This test's repositories (its stack's and the other stack's): the emulator is shared with
    the other tests of the worker."""
    return sorted(
        r["repositoryName"]
        for r in ecr.describe_repositories()["repositories"]
        if r["repositoryName"].split("/")[0] in ("ecrlife", "other")
    )


def tags_of(ecr, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=arn)["tags"]}


def put_small_image(ecr, repository: str, tag: str) -> str:
    """Record an image as the end of a push does (PutImage with its manifest); returns its digest."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
    layer = b"a layer that was never uploaded (moto does not check)"
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(config),
            "digest": "sha256:" + hashlib.sha256(config.encode()).hexdigest(),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": len(layer),
                "digest": "sha256:" + hashlib.sha256(layer).hexdigest(),
            }
        ],
    }
    image = ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)["image"]
    return image["imageId"]["imageDigest"]


def test_ecr_lifecycle(emulator, tmp_path):
    stack = "ecrlife"
    ecr = emulator.client("ecr")
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "ecr_repositories": [{"name": "bot"}, {"name": "tools/worker"}],
    }
    ours = [f"{stack}/bot", f"{stack}/tools/worker"]
    # another stack's repository, and one in our namespace that another stack's tag claims
    ecr.create_repository(repositoryName="other/bot", tags=[{"Key": "Stack", "Value": "other"}])
    ecr.create_repository(repositoryName=f"{stack}/foreign", tags=[{"Key": "Stack", "Value": "other"}])
    others = sorted(["other/bot", f"{stack}/foreign"])

    # ---- check mode on an empty account creates nothing
    check_empty = run_playbook(PROVISION, "--check", env=emulator.env, extra_vars=extra)
    assert check_empty.rc == 0, check_empty.output[-6000:]
    assert check_empty.changed > 0
    assert "changed: [localhost] => (item=ecrlife/bot)" in check_empty.output
    assert repository_names(ecr) == others

    # ---- first run (what check mode predicted), second run changed=0, --check --diff changed=0
    first = provision_converges(PROVISION, emulator.env, extra)
    assert first.changed == check_empty.changed
    assert repository_names(ecr) == sorted(ours + others)

    outputs = json.loads((tmp_path / "ecr_outputs.json").read_text())
    described = {r["repositoryName"]: r for r in ecr.describe_repositories(repositoryNames=ours)["repositories"]}
    assert outputs == {
        "registry": REGISTRY,
        "repositories": {
            short: {"name": name, "uri": described[name]["repositoryUri"], "arn": described[name]["repositoryArn"]}
            for short, name in zip(("bot", "tools/worker"), ours, strict=True)
        },
    }
    assert outputs["repositories"]["bot"]["uri"] == f"{REGISTRY}/{stack}/bot"
    for name in ours:
        repo = described[name]
        assert repo["imageTagMutability"] == "IMMUTABLE"
        assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo["encryptionConfiguration"] == {"encryptionType": "AES256"}
        assert json.loads(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]) == LIFECYCLE
        assert tags_of(ecr, repo["repositoryArn"]) == {"Stack": stack, "ManagedBy": "kumo.webstack"}

    # ---- an image in the bot repository: a plain teardown keeps it (and says so), deletes the rest
    digest = put_small_image(ecr, f"{stack}/bot", "v1")
    (image,) = ecr.describe_images(repositoryName=f"{stack}/bot")["imageDetails"]
    assert image["imageDigest"] == digest
    assert image["imageTags"] == ["v1"]
    with pytest.raises(ecr.exceptions.ImageAlreadyExistsException):  # IMMUTABLE: the tag cannot move
        put_small_image(ecr, f"{stack}/bot", "v1")

    teardown_extra = {"webstack_name": stack, "webstack_state_dir": str(tmp_path)}
    kept = run_playbook(TEARDOWN, env=emulator.env, extra_vars=teardown_extra)
    assert kept.rc == 0, kept.output[-6000:]
    assert kept.changed > 0
    flat = " ".join(kept.output.split())
    assert f"KEPT: ECR repository {stack}/bot is not empty: it holds 1 image(s). It is kept so no image is lost" in flat
    assert "-e ecr_force_delete=true" in flat
    assert "-e webstack_teardown_force_delete_data=true" in flat
    assert repository_names(ecr) == sorted([f"{stack}/bot", *others])

    # ---- forced: the repository goes with its image; the others' repositories stay
    forced = run_playbook(
        TEARDOWN, env=emulator.env, extra_vars={**teardown_extra, "webstack_teardown_force_delete_data": True}
    )
    assert forced.rc == 0, forced.output[-6000:]
    assert forced.changed > 0
    assert "KEPT:" not in forced.output
    assert repository_names(ecr) == others
    for name in others:
        arn = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]["repositoryArn"]
        assert tags_of(ecr, arn) == {"Stack": "other"}


BAD = [
    pytest.param(
        {"ecr_repositories": [{"name": "Bot"}]},
        "ecr_repositories[0].name must be lowercase letters and digits, separated by single '.', '_', '-' or '/'",
        id="name-uppercase",
    ),
    pytest.param(
        {"ecr_repositories": [{"name": "bot"}, {"name": "tools//worker"}]},
        "ecr_repositories[1].name must be lowercase letters and digits",
        id="name-double-slash",
    ),
    pytest.param(
        {"ecr_repositories": [{"name": "bot"}, {"name": "worker"}, {"name": "bot"}]},
        "ecr_repositories names must be unique; given more than once: bot.",
        id="name-duplicate",
    ),
    pytest.param(
        {"ecr_repositories": [{"name": "bot", "mutable": True}]},
        "ecr_repositories.mutable. Supported parameters include: name.",
        id="repository-unknown-key",
    ),
    pytest.param(
        {"ecr_keep_images": 0},
        "ecr_keep_images must be a whole number from 1 to 10000 (how many of the latest images each repository keeps)",
        id="keep-images-zero",
    ),
    pytest.param(
        {"ecr_untagged_expire_days": True},
        "ecr_untagged_expire_days must be a whole number from 1 to 10000",
        id="expire-days-boolean",
    ),
    pytest.param(
        {"ecr_kms_key": "my key"},
        "ecr_kms_key must be a KMS key id, key ARN, alias (alias/...) or alias ARN, or empty for AES256",
        id="kms-key-bad",
    ),
    pytest.param(
        {"ecr_tags": {"Stack": "x"}},
        "ecr_tags must be a dict of extra tags and may not set Stack or ManagedBy",
        id="tags-stack",
    ),
    pytest.param(
        {"webstack_name": "Bot_1"},
        "ecr_stack_name (default: webstack_name) must be 2-20 lowercase letters, digits or hyphens",
        id="stack-name-bad",
    ),
    pytest.param(
        {"ecr_state": "gone"},
        "value of ecr_state must be one of: present, absent, got: gone",
        id="state-invalid",
    ),
    pytest.param(
        {"ecr_force_delete": "maybe"},
        "argument 'ecr_force_delete' is of type str and we were unable to convert to bool",
        id="force-delete-not-boolean",
    ),
]


@pytest.fixture(scope="module")
def bad_cases(dead_endpoint_env, tmp_path_factory):
    """Every BAD case in one ansible-playbook run (badinput.py), the ecr role alone."""
    return run_role_cases(
        "ecr",
        BAD,
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("ecr-cases"),
        base_vars={"webstack_name": "badecr", "ecr_repositories": [{"name": "bot"}]},
    )


@pytest.mark.xdist_group("ecr_bad_input")
@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_fails_before_any_aws_call(extra, message, bad_cases, request):
    result = bad_cases[request.node.callspec.id]
    assert_fails_before_aws(result, message)
    assert not any(result.case_dir.rglob("*_outputs.json"))
