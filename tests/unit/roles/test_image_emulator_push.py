"""roles/image/files/emulator_push.py, the image role's push into the emulator's ECR: the manifest
it takes from `docker save` (an OCI layout's own, or one made from the image's config and layers),
its PutImage (against moto) and its command line with a stand-in `docker`. The integration test
(test_image.py) runs it on a real image."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

SPEC = importlib.util.spec_from_file_location(
    "image_emulator_push", Path(__file__).parents[3] / "roles" / "image" / "files" / "emulator_push.py"
)
push = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(push)

REGION = "ap-northeast-1"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_of(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    """A tar holding the files (name -> content) and symbolic links (name -> target)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return out.getvalue()


LAYER_A = b"layer a " * 100
LAYER_B = b"layer b " * 10
CONFIG = json.dumps(
    {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [sha(LAYER_A), sha(LAYER_B), sha(LAYER_A)]},
    }
).encode()


def legacy_save() -> bytes:
    """What Docker before 25 saves: manifest.json, <id>.json, <layer>/layer.tar (a repeated layer as a link)."""
    config_name = hashlib.sha256(CONFIG).hexdigest() + ".json"
    manifest = [
        {
            "Config": config_name,
            "RepoTags": ["kumo-webstack/x:1"],
            "Layers": ["a/layer.tar", "b/layer.tar", "c/layer.tar"],
        }
    ]
    return tar_of(
        {
            config_name: CONFIG,
            "a/VERSION": b"1.0",
            "a/layer.tar": LAYER_A,
            "b/layer.tar": LAYER_B,
            "manifest.json": json.dumps(manifest).encode(),
            "repositories": b"{}",
        },
        links={"c/layer.tar": "../a/layer.tar"},
    )


def oci_manifest_bytes(layer=LAYER_A) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha(CONFIG),
                "size": len(CONFIG),
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(layer), "size": len(layer)}
            ],
        },
        indent=2,
    ).encode()


def blob(data: bytes) -> str:
    return "blobs/sha256/" + hashlib.sha256(data).hexdigest()


def test_legacy_save_gives_a_docker_v2_manifest_of_the_image():
    archive = push.Archive.read(io.BytesIO(legacy_save()))
    manifest, media_type = push.image_manifest(archive)
    assert media_type == "application/vnd.docker.distribution.manifest.v2+json"
    parsed = json.loads(manifest)
    assert parsed == {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(CONFIG),
            "digest": sha(CONFIG),
        },
        "layers": [
            {"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "size": len(LAYER_A), "digest": sha(LAYER_A)},
            {"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "size": len(LAYER_B), "digest": sha(LAYER_B)},
            {"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "size": len(LAYER_A), "digest": sha(LAYER_A)},
        ],
    }


def test_layers_are_not_kept_in_memory(monkeypatch):
    monkeypatch.setattr(push, "SMALL", 100)
    archive = push.Archive.read(io.BytesIO(legacy_save()))
    assert "a/layer.tar" not in archive.small
    assert archive.size("c/layer.tar") == len(LAYER_A)
    with pytest.raises(push.PushError, match="too large to be a manifest or config"):
        archive.content("a/layer.tar")


def test_oci_layout_gives_the_engines_own_manifest():
    manifest = oci_manifest_bytes()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest), "size": len(manifest)}
        ],
    }
    saved = tar_of(
        {
            blob(LAYER_A): LAYER_A,
            blob(CONFIG): CONFIG,
            blob(manifest): manifest,
            "index.json": json.dumps(index).encode(),
            "manifest.json": json.dumps([{"Config": blob(CONFIG), "Layers": [blob(LAYER_A)]}]).encode(),
            "oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
        }
    )
    found, media_type = push.image_manifest(push.Archive.read(io.BytesIO(saved)))
    assert found == manifest  # verbatim: its digest is the image's
    assert media_type == "application/vnd.oci.image.manifest.v1+json"


def test_oci_index_gives_its_linux_amd64_manifest():
    arm = oci_manifest_bytes(LAYER_B)
    amd = oci_manifest_bytes(LAYER_A)
    inner = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"digest": sha(arm), "size": len(arm), "platform": {"os": "linux", "architecture": "arm64"}},
                {"digest": sha(amd), "size": len(amd), "platform": {"os": "linux", "architecture": "amd64"}},
            ],
        }
    ).encode()
    index = {"manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(inner)}]}
    saved = tar_of({blob(arm): arm, blob(amd): amd, blob(inner): inner, "index.json": json.dumps(index).encode()})
    found, _ = push.image_manifest(push.Archive.read(io.BytesIO(saved)))
    assert found == amd


def test_a_config_that_does_not_match_the_layers_is_refused():
    config_name = "cfg.json"
    saved = tar_of(
        {
            config_name: CONFIG,
            "a/layer.tar": LAYER_A,
            "manifest.json": json.dumps([{"Config": config_name, "Layers": ["a/layer.tar"]}]).encode(),
        }
    )
    with pytest.raises(push.PushError, match="the image's config lists 3 layers, the saved archive 1"):
        push.image_manifest(push.Archive.read(io.BytesIO(saved)))


def test_put_image_records_the_manifest_and_refuses_an_existing_tag(aws_env):
    manifest, media_type = push.image_manifest(push.Archive.read(io.BytesIO(legacy_save())))
    with mock_aws():
        ecr = boto3.client("ecr", region_name=REGION)
        ecr.create_repository(repositoryName="demo/bot", imageTagMutability="IMMUTABLE")
        digest = push.put_image(ecr, repository="demo/bot", tag="v1", manifest=manifest, media_type=media_type)
        assert digest == sha(manifest)
        (detail,) = ecr.describe_images(repositoryName="demo/bot")["imageDetails"]
        assert detail["imageTags"] == ["v1"]
        assert detail["imageDigest"] == digest
        with pytest.raises(push.PushError, match="already holds tag v1 .its tags are immutable.: nothing was recorded"):
            push.put_image(ecr, repository="demo/bot", tag="v1", manifest=manifest, media_type=media_type)


@pytest.fixture
def fake_docker(tmp_path, monkeypatch):
    """A `docker` on PATH whose `save` writes saved.tar (or fails when there is none)."""
    saved = tmp_path / "saved.tar"
    script = tmp_path / "bin" / "docker"
    script.parent.mkdir()
    script.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = save ] && [ -f {saved} ] && exec cat {saved}\n'
        'echo "Error response from daemon: reference does not exist" >&2\nexit 1\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    return saved


def test_command_line_records_the_push(fake_docker, aws_env, capsys):
    fake_docker.write_bytes(legacy_save())
    with mock_aws():
        boto3.client("ecr", region_name=REGION).create_repository(repositoryName="demo/bot")
        argv = ["--image", "kumo-webstack/x:1", "--repository", "demo/bot", "--tag", "1", "--region", REGION]
        assert push.main([*argv, "--registry-id", "123456789012"]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed["media_type"] == "application/vnd.docker.distribution.manifest.v2+json"
        assert printed["layers"] == 3
        (detail,) = boto3.client("ecr", region_name=REGION).describe_images(repositoryName="demo/bot")["imageDetails"]
        assert detail["imageDigest"] == printed["digest"]

        assert push.main(argv) == 1  # the tag again
        assert "already holds tag 1" in capsys.readouterr().err


def test_command_line_reports_docker_save_failing(fake_docker, aws_env, capsys):
    argv = ["--image", "kumo-webstack/x:1", "--repository", "demo/bot", "--tag", "1", "--region", REGION]
    assert push.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "emulator_push: docker save kumo-webstack/x:1: Error response from daemon: reference does not exist"
    )
