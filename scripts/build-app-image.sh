#!/usr/bin/env bash
# Build one of our apps' images (apps/<app>: its Dockerfile, requirements.txt and its Python
# package) from our base image (scripts/build-base-image.sh: no registry pull), with wheels
# downloaded here (this machine's pip reaches PyPI; the build may not). The tag is a hash of the
# recipe and the package's files, so an image is built once per change. Prints its reference,
# kumo-webstack/<app>:<hash>; says "<app>: building ..." on stderr when it builds.
#
#   scripts/build-app-image.sh apps/chat          (apps/chat/image.sh and apps/bot/image.sh call it)
#   scripts/build-app-image.sh --print apps/bot   # print the reference only: no build, no Docker call
set -euo pipefail

print_only=false
if [ "${1:-}" = "--print" ]; then print_only=true; shift; fi
[ "$#" -eq 1 ] && [ -f "$1/Dockerfile" ] || { echo "usage: $0 [--print] apps/<app> (a directory with a Dockerfile)" >&2; exit 2; }
app=$(cd "$1" && pwd)
name=$(basename "$app")
package="$app/kumo_$name"
[ -d "$package" ] || { echo "$0: $name has no package directory $package" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
if $print_only; then base=$("$root/scripts/build-base-image.sh" --print); else base=$("$root/scripts/build-base-image.sh"); fi
# The files in byte order (LC_ALL=C), so the hash does not depend on the locale's collation.
tag=$( { cat "$0" "$app/Dockerfile" "$app/requirements.txt"
         find "$package" -type f -not -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z | xargs -0 cat
         echo "$base"; } | sha256sum | cut -c1-12)
image="kumo-webstack/$name:$tag"
if $print_only; then echo "$image"; exit 0; fi

if ! docker image inspect "$image" >/dev/null 2>&1; then
  echo "$name: building $image from $base" >&2
  ctx=$(mktemp -d "/tmp/$name-image.XXXXXX")
  trap 'rm -rf "$ctx"' EXIT
  cp -r "$app/Dockerfile" "$app/requirements.txt" "$package" "$ctx/"
  find "$ctx" -name __pycache__ -prune -exec rm -rf {} +
  # The images run Debian bookworm's python3 (3.11.2): wheels for that
  "$(dirname "$0")/download-wheels.sh" "$app" "$ctx/wheels" >&2
  docker build --quiet --build-arg "BASE_IMAGE=$base" -t "$image" "$ctx" >/dev/null
fi
echo "$image"
