#!/usr/bin/env bash
# Build the bot's image from our base image (scripts/build-base-image.sh: no registry pull) with
# wheels downloaded here (this machine's pip reaches PyPI; the build may not). The tag is a hash
# of the recipe, so it is built once per change. Prints the image reference.
#
#   apps/bot/image.sh
set -euo pipefail

app=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$app/../.." && pwd)
base=$("$root/scripts/build-base-image.sh")
tag=$(cat "$0" "$app/Dockerfile" "$app/requirements.txt" "$app"/kumo_bot/*.py <(echo "$base") \
      | sha256sum | cut -c1-12)
image="kumo-webstack/bot:$tag"

if ! docker image inspect "$image" >/dev/null 2>&1; then
  echo "bot: building $image from $base" >&2
  ctx=$(mktemp -d /tmp/bot-image.XXXXXX)
  trap 'rm -rf "$ctx"' EXIT
  cp -r "$app/Dockerfile" "$app/requirements.txt" "$app/kumo_bot" "$ctx/"
  find "$ctx" -name __pycache__ -prune -exec rm -rf {} +
  # The image runs Debian bookworm's python3 (3.11.2): wheels for that, whatever Python runs
  # this script (markers dropped: this pip would judge them against its own Python).
  sed 's/;.*//' "$app/requirements.txt" >"$ctx/wheels.txt"
  python3 -m pip download --quiet --only-binary=:all: --python-version 3.11.2 --implementation cp \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
    -d "$ctx/wheels" -r "$ctx/wheels.txt"
  docker build --quiet --build-arg "BASE_IMAGE=$base" -t "$image" "$ctx" >/dev/null
fi
echo "$image"
