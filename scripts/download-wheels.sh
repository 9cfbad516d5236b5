#!/usr/bin/env bash
# Download the wheels of an app's requirements.txt for Debian bookworm's python3 (3.11.2, x86_64),
# whatever Python runs this script, into DEST: for hosts and image builds that cannot reach PyPI
# themselves (this machine's pip can). Markers are dropped from the requirements (this pip would
# judge them against its own Python). DEST/.requirements-<hash> records what was downloaded; the
# script prints "downloaded ..." only when it downloaded.
#
#   scripts/download-wheels.sh apps/chat .webstack/chat-wheels
set -euo pipefail

app=${1:?usage: download-wheels.sh APP_DIR DEST}
dest=${2:?usage: download-wheels.sh APP_DIR DEST}
hash=$(sha256sum "$app/requirements.txt" | cut -c1-12)
[ -f "$dest/.requirements-$hash" ] && exit 0

mkdir -p "$dest"
sed 's/;.*//' "$app/requirements.txt" >"$dest/.wheels.txt"
python3 -m pip download --quiet --only-binary=:all: --python-version 3.11.2 --implementation cp \
  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
  -d "$dest" -r "$dest/.wheels.txt"
rm -f "$dest"/.requirements-* "$dest/.wheels.txt"
touch "$dest/.requirements-$hash"
echo "downloaded the wheels of $app/requirements.txt into $dest"
