"""The image role against the embedded emulator, in the local twin's emulator mode, with a small
test app (tests/integration/apps/imgtest: built in seconds, like the bot by
scripts/build-app-image.sh): check mode on a fresh repository predicts the push and makes none,
the first run builds the image, tags it <uri>:<tag> in this Docker engine and records the push
(DescribeImages lists the tag, with the digest of the image's manifest), a second run and
--check --diff change nothing (the immutable tag is never pushed again), a lost local tag is put
back without a second PutImage, and an ECR token's result never prints."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
import yaml

from .badinput import assert_fails_before_aws, run_role_cases
from .conftest import ROOT, run_playbook

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "image_alone.yml"
APP = ROOT / "tests" / "integration" / "apps" / "imgtest"
ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
PASSWORD = f"{ACCOUNT}-auth-token"  # the emulator's ECR password (moto)

pytestmark = pytest.mark.emulator


def docker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)


def image_id(ref: str) -> str | None:
    found = docker("image", "inspect", "--format", "{{.Id}}", ref)
    return found.stdout.strip() if found.returncode == 0 else None


def recipe_ref() -> str:
    printed = subprocess.run(
        [str(ROOT / "scripts" / "build-app-image.sh"), "--print", str(APP)],
        capture_output=True,
        text=True,
        check=True,
    )
    return printed.stdout.strip()


def image_outputs(run) -> dict:
    """The image_outputs the playbook printed (msg: IMAGE_OUTPUTS=<json>, folded by the YAML callback)."""
    block = run.output.split("TASK [Show the image outputs]", 1)[1].split("\n\n", 1)[0]
    msg = yaml.safe_load(block.split("ok: [localhost] =>", 1)[1])["msg"]
    return json.loads(msg.split("IMAGE_OUTPUTS=", 1)[1])


def changed_task(run, name: str) -> bool:
    """Whether the task whose name starts with `name` reported changed."""
    for block in run.output.split("TASK [")[1:]:
        if block.split("]", 1)[0].split(" : ", 1)[-1].startswith(name):
            return "\nchanged: [localhost]" in block
    raise AssertionError(f"no task {name!r} in the output:\n{run.output[-3000:]}")


def test_image_lifecycle(emulator, tmp_path):
    stack = "imglife"
    name = f"{stack}/app"
    ecr = emulator.client("ecr")
    repo = ecr.create_repository(
        repositoryName=name, imageTagMutability="IMMUTABLE", tags=[{"Key": "Stack", "Value": stack}]
    )["repository"]
    uri = repo["repositoryUri"]
    assert uri == f"{REGISTRY}/{name}"
    ref = recipe_ref()
    tag = ref.rsplit(":", 1)[1]
    pushed = f"{uri}:{tag}"
    # this engine as a fresh machine's: neither the app's image nor <uri>:<tag> from an earlier run
    docker("rmi", pushed)
    docker("rmi", ref)
    assert image_id(ref) is None
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "image_app_dir": str(APP),
        "image_repository": "app",
        "ecr_outputs": {
            "registry": REGISTRY,
            "repositories": {"app": {"name": name, "uri": uri, "arn": repo["repositoryArn"]}},
        },
    }
    try:
        # ---- check mode on the fresh repository: the push is predicted, nothing built or pushed
        check_fresh = run_playbook(PLAYBOOK, "--check", env=emulator.env, extra_vars=extra)
        assert check_fresh.rc == 0, check_fresh.output[-6000:]
        assert check_fresh.changed > 0
        flat = " ".join(check_fresh.output.split())
        assert (
            f"Would build {ref} from {APP} unless this Docker engine has it, and push it as {pushed} (emulator)" in flat
        )
        assert ecr.describe_images(repositoryName=name)["imageDetails"] == []
        assert image_id(ref) is None
        assert image_id(pushed) is None

        # ---- first run: built, tagged here, the push recorded
        first = run_playbook(PLAYBOOK, env=emulator.env, extra_vars=extra)
        assert first.rc == 0, first.output[-6000:]
        assert changed_task(first, "Build the image once per recipe")
        assert changed_task(first, f"Tag the image in this Docker engine {pushed}")
        assert changed_task(first, "Record the push")
        built = image_id(ref)
        assert built is not None
        assert image_id(pushed) == built

        (detail,) = ecr.describe_images(repositoryName=name)["imageDetails"]
        assert detail["imageTags"] == [tag]
        digest = detail["imageDigest"]
        assert image_outputs(first) == {
            "uri": pushed,
            "repository_uri": uri,
            "tag": tag,
            "digest": digest,
            "local_ref": ref,
        }

        # the recorded manifest is the image's: its config is the image itself, its layers the image's
        (image,) = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageTag": tag}])["images"]
        manifest = image["imageManifest"]
        assert digest == "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        recorded = json.loads(manifest)
        layers = json.loads(docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", ref).stdout)
        assert recorded["config"]["digest"] == built
        assert [layer["digest"] for layer in recorded["layers"]] == layers

        # ---- a second run changes nothing (no build, no push of the immutable tag), and an ECR
        # token read without no_log never prints (its action plugin hides the result)
        second = run_playbook(PLAYBOOK, "-v", env=emulator.env, extra_vars={**extra, "image_test_token": True})
        assert second.rc == 0, second.output[-6000:]
        assert second.changed == 0, second.output[-6000:]
        assert PASSWORD not in second.output
        assert f"token for {REGISTRY}, user AWS, password of {len(PASSWORD)} characters" in " ".join(
            second.output.split()
        )
        check = run_playbook(PLAYBOOK, "--check", "--diff", env=emulator.env, extra_vars=extra)
        assert check.rc == 0, check.output[-6000:]
        assert check.changed == 0, check.output[-6000:]

        # ---- the tag lost here (the twin runs the image from here): put back, no second PutImage
        assert docker("rmi", pushed).returncode == 0
        again = run_playbook(PLAYBOOK, env=emulator.env, extra_vars=extra)
        assert again.rc == 0, again.output[-6000:]
        assert changed_task(again, f"Tag the image in this Docker engine {pushed}")
        assert not changed_task(again, "Build the image once per recipe")
        assert not changed_task(again, "Record the push")
        assert image_id(pushed) == built
        assert [d["imageDigest"] for d in ecr.describe_images(repositoryName=name)["imageDetails"]] == [digest]
        assert image_outputs(again)["digest"] == digest
    finally:
        docker("rmi", pushed)  # the tag only: the app's image stays cached by its recipe's hash


BAD = [
    pytest.param(
        {"image_repository": "Bot"},
        "image_repository must be the short name of an ECR repository of the ecr role",
        id="repository-uppercase",
    ),
    pytest.param(
        {"image_repository_uri": f"{REGISTRY}/badimage/bot:v1"},
        "image_repository_uri (default: ecr_outputs.repositories.bot.uri) must be the URI of a private ECR repository",
        id="uri-with-tag",
    ),
    pytest.param(
        {"image_repository_uri": "docker.io/library/bot"},
        "must be the URI of a private ECR repository, <account>.dkr.ecr.<region>.amazonaws.com/<name>",
        id="uri-not-ecr",
    ),
    pytest.param(
        {"image_repository_uri": None},
        "image_repository_uri (default: ecr_outputs.repositories.bot.uri) is empty. Run kumo.webstack.ecr first",
        id="uri-unknown",
    ),
    pytest.param(
        {"image_tag": "-v1"},
        "image_tag must be a Docker tag, up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'",
        id="tag-leading-dash",
    ),
    pytest.param({"image_tag": "v" * 129}, "image_tag must be a Docker tag", id="tag-too-long"),
    pytest.param(
        {"image_app_dir": "/nonexistent/bot"},
        "image_app_dir must be an app's directory <name> (lowercase) holding a Dockerfile, a requirements.txt and the "
        "package kumo_<name>/, absolute or relative to the collection's root (where apps/ is); got '/nonexistent/bot'",
        id="app-dir-missing",
    ),
    pytest.param(
        {"image_app_dir": str(ROOT / "roles" / "image")},
        f"image_app_dir must be an app's directory <name> (lowercase) holding a Dockerfile, a requirements.txt and the "
        f"package kumo_<name>/, absolute or relative to the collection's root (where apps/ is); "
        f"got '{ROOT / 'roles' / 'image'}'",
        id="app-dir-not-an-app",
    ),
    pytest.param(
        {"image_push": "docker"},
        "value of image_push must be one of: registry, emulator, got: docker",
        id="push-invalid",
    ),
    pytest.param(
        {"image_state": "gone"},
        "value of image_state must be one of: present, absent, got: gone",
        id="state-invalid",
    ),
]


@pytest.fixture(scope="module")
def bad_cases(dead_endpoint_env, tmp_path_factory):
    """Every BAD case in one ansible-playbook run (badinput.py), the image role alone."""
    return run_role_cases(
        "image",
        BAD,
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("image-cases"),
        base_vars={"webstack_name": "badimage", "image_repository_uri": f"{REGISTRY}/badimage/bot"},
    )


@pytest.mark.xdist_group("image_bad_input")
@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_fails_before_any_aws_call(extra, message, bad_cases, request):
    result = bad_cases[request.node.callspec.id]
    assert_fails_before_aws(result, message)
