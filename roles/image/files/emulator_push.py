"""Record the push of an image of this Docker engine in the embedded emulator's ECR.

The emulator has ECR's API but no registry that `docker push` could send layers to. Its
PutImage - the call that ends a real push, with the image's manifest - is what makes
DescribeImages list a tag, so that is the one call made here, with the image's manifest:

- when `docker save` gives an OCI layout (Docker 25 and later), the manifest the engine itself
  holds for the image (from index.json; for an index, its linux/amd64 manifest, else the first);
- otherwise (older engines: manifest.json only), a Docker image manifest v2 schema 2 made from
  the image's own config and its layers as the engine keeps them: uncompressed tars, whose
  digests are the config's diff_ids and whose sizes are those of the saved layers. A real push
  would send them gzipped, so a registry would give other layer digests.

The image's digest is the SHA-256 of the manifest sent, as a registry computes it (the emulator
keeps the digest it is given). Only small files of the archive are kept in memory; the layers
are skipped as they stream past. A tag the repository already holds is refused by ECR when the
repository's tags are immutable: the role never calls this for a tag it found there.

    python3 emulator_push.py --image kumo-webstack/bot:0123abcd --repository demo/bot \
        --tag 0123abcd --region ap-northeast-1 [--registry-id 123456789012]

The endpoint and credentials are boto3's usual ones (AWS_ENDPOINT_URL: the emulator). Prints
{"digest", "media_type", "layers"} as JSON; on failure, a message on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import posixpath
import subprocess
import sys
import tarfile

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
SMALL = 4 << 20  # files kept in memory: configs, manifests, index.json (layers are far larger)


class PushError(Exception):
    pass


class Archive:
    """What matters of a `docker save` tar: small regular files' bytes, every file's size, links."""

    def __init__(self):
        self.small: dict[str, bytes] = {}
        self.sizes: dict[str, int] = {}
        self.links: dict[str, str] = {}

    @classmethod
    def read(cls, stream) -> Archive:
        archive = cls()
        with tarfile.open(fileobj=stream, mode="r|", bufsize=1 << 20) as tar:
            for member in tar:
                name = posixpath.normpath(member.name)
                if member.issym():
                    archive.links[name] = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
                elif member.islnk():
                    archive.links[name] = posixpath.normpath(member.linkname)
                elif member.isfile():
                    archive.sizes[name] = member.size
                    if member.size <= SMALL:
                        archive.small[name] = tar.extractfile(member).read()
        return archive

    def _resolve(self, name: str) -> str:
        name = posixpath.normpath(name)
        for _ in range(16):  # a chain of links, not a loop
            if name not in self.links:
                return name
            name = self.links[name]
        raise PushError(f"the saved image's {name} is a loop of links")

    def size(self, name: str) -> int:
        resolved = self._resolve(name)
        if resolved not in self.sizes:
            raise PushError(f"the saved image has no {name}")
        return self.sizes[resolved]

    def content(self, name: str) -> bytes:
        resolved = self._resolve(name)
        if resolved not in self.small:
            raise PushError(f"the saved image has no {name} (or it is too large to be a manifest or config)")
        return self.small[resolved]


def _blob_name(digest: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    return f"blobs/{algorithm}/{encoded}"


def oci_manifest(archive: Archive) -> tuple[bytes, str] | None:
    """The engine's own manifest of the image from an OCI layout, or None without index.json."""
    if "index.json" not in archive.small:
        return None
    descriptors = json.loads(archive.small["index.json"]).get("manifests") or []
    if not descriptors:
        return None
    descriptor = descriptors[0]
    for _ in range(4):  # an index of indexes is allowed, if unusual
        media_type = descriptor.get("mediaType", "")
        content = archive.content(_blob_name(descriptor["digest"]))
        media_type = json.loads(content).get("mediaType", media_type)
        if media_type not in INDEX_TYPES:
            return content, media_type
        entries = json.loads(content).get("manifests") or []
        if not entries:
            raise PushError("the saved image's index lists no manifest")
        descriptor = next(
            (
                e
                for e in entries
                if (e.get("platform") or {}).get("os") == "linux"
                and (e.get("platform") or {}).get("architecture") == "amd64"
            ),
            entries[0],
        )
    raise PushError("the saved image's indexes nest too deep")


def docker_manifest(archive: Archive) -> tuple[bytes, str]:
    """A Docker image manifest v2 schema 2 from manifest.json, the image's config and its layers."""
    try:
        (entry,) = json.loads(archive.content("manifest.json"))
    except ValueError as e:
        raise PushError("the saved archive holds not exactly one image") from e
    config = archive.content(entry["Config"])
    diff_ids = json.loads(config)["rootfs"]["diff_ids"]
    if len(diff_ids) != len(entry["Layers"]):
        raise PushError(f"the image's config lists {len(diff_ids)} layers, the saved archive {len(entry['Layers'])}")
    manifest = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {
            "mediaType": DOCKER_CONFIG,
            "size": len(config),
            "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
        },
        "layers": [
            {"mediaType": DOCKER_LAYER_TAR, "size": archive.size(name), "digest": diff_id}
            for name, diff_id in zip(entry["Layers"], diff_ids, strict=True)
        ],
    }
    return json.dumps(manifest, indent=3).encode(), DOCKER_MANIFEST


def image_manifest(archive: Archive) -> tuple[bytes, str]:
    """The manifest to record for the saved image, and its media type."""
    return oci_manifest(archive) or docker_manifest(archive)


def save(image: str) -> Archive:
    """`docker save image`, read as it streams."""
    with subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            archive = Archive.read(proc.stdout)
        except tarfile.TarError as e:
            proc.kill()
            proc.wait()
            raise PushError(f"docker save {image}: {proc.stderr.read().decode(errors='replace').strip() or e}") from e
        while proc.stdout.read(1 << 16):  # the tar's end padding
            pass
        error = proc.stderr.read().decode(errors="replace").strip()
    if proc.returncode != 0:
        raise PushError(f"docker save {image} failed: {error}")
    return archive


def put_image(client, *, repository, tag, manifest, media_type, registry_id=None):
    """PutImage with the manifest and its digest; returns the recorded digest."""
    params = {
        "repositoryName": repository,
        "imageManifest": manifest.decode(),
        "imageManifestMediaType": media_type,
        "imageTag": tag,
        "imageDigest": "sha256:" + hashlib.sha256(manifest).hexdigest(),
    }
    if registry_id:
        params["registryId"] = registry_id
    try:
        return client.put_image(**params)["image"]["imageId"]["imageDigest"]
    except client.exceptions.ImageAlreadyExistsException as e:
        raise PushError(
            f"ECR repository {repository} already holds tag {tag} (its tags are immutable): nothing was recorded"
        ) from e


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", required=True, help="the image in this Docker engine")
    parser.add_argument("--repository", required=True, help="the ECR repository's name")
    parser.add_argument("--tag", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--registry-id", default=None)
    args = parser.parse_args(argv)
    import boto3  # only here: the unit tests of the manifest need no AWS SDK
    import botocore.exceptions

    try:
        manifest, media_type = image_manifest(save(args.image))
        client = boto3.client("ecr", region_name=args.region)
        digest = put_image(
            client,
            repository=args.repository,
            tag=args.tag,
            manifest=manifest,
            media_type=media_type,
            registry_id=args.registry_id,
        )
    except (PushError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        print(f"emulator_push: {e}", file=sys.stderr)
        return 1
    layers = len(json.loads(manifest).get("layers", []))
    print(json.dumps({"digest": digest, "media_type": media_type, "layers": layers}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
