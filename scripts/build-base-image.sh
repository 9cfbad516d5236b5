#!/usr/bin/env bash
# Build the test-host base image (Debian bookworm + systemd, sshd, python3, sudo)
# from debootstrap, with no registry pull. The tag is a hash of the recipe, so the
# image is rebuilt only when the recipe changes. Prints the image reference.
#
#   scripts/build-base-image.sh            # build if absent, print the reference
#   scripts/build-base-image.sh --print    # print the reference only
#
# Environment:
#   WEBSTACK_BASE_IMAGE   use this image instead (e.g. one pulled from a registry)
#   DEBIAN_MIRROR         mirror for debootstrap (default: the one apt uses here)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
recipe_dir="$root/images/base"
repo="kumo-webstack/base"

if [ -n "${WEBSTACK_BASE_IMAGE:-}" ]; then
  echo "$WEBSTACK_BASE_IMAGE"
  exit 0
fi

tag=$(cat "$0" "$recipe_dir"/* | sha256sum | cut -c1-12)
image="$repo:$tag"

if [ "${1:-}" = "--print" ]; then
  echo "$image"
  exit 0
fi

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "build-base-image: debootstrap needs root; run as root, or set WEBSTACK_BASE_IMAGE to an image" \
       "with systemd, sshd, python3 and sudo." >&2
  exit 1
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  "$here/apt-install.sh" debootstrap
fi

mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  # the first non-security archive apt is configured with (deb822 or one-line style)
  mirror=$( { grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources || true
              grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true; } \
            | grep -v security | head -n1 | sed -E 's/^URIs:[[:space:]]*//; s/^deb (\[[^]]*\] )?//' | awk '{print $1}')
fi
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d /tmp/webstack-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
packages=$(grep -vE '^\s*(#|$)' "$recipe_dir/packages.txt" | paste -sd, -)

echo "build-base-image: debootstrap bookworm from $mirror (a few minutes, once)" >&2
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}

# Configure the root filesystem for a container that runs systemd.
cp "$recipe_dir/setup-rootfs.sh" "$rootfs/tmp/setup-rootfs.sh"
chroot "$rootfs" /bin/sh /tmp/setup-rootfs.sh >&2
rm -f "$rootfs/tmp/setup-rootfs.sh"

echo "build-base-image: importing $image" >&2
tar -C "$rootfs" -c . | docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  --message "kumo.webstack test-host base, recipe $tag" \
  - "$image" >/dev/null
docker tag "$image" "$repo:latest"
echo "$image"
