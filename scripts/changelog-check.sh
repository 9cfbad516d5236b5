#!/usr/bin/env bash
# The changelog's check, in `make test-lint` (offline, a few seconds):
#   - `antsibull-changelog lint`: every fragment in changelogs/fragments/ is valid for
#     changelogs/config.yaml (known sections, lists of strings, valid RST) and changelog.yaml is
#     well-formed. Fragments of changes not released yet are fine: the next release takes them.
#   - CHANGELOG.md is what `antsibull-changelog generate` writes from changelogs/changelog.yaml
#     (it is generated, never edited by hand): generate runs in a scratch copy of galaxy.yml and
#     changelogs/ and the result is compared with the committed file.
# antsibull-changelog comes from .venv (requirements-dev.txt).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

antsibull-changelog lint

scratch=$(mktemp -d "${TMPDIR:-/tmp}/kumo-webstack-changelog.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cp galaxy.yml "$scratch/"
mkdir "$scratch/changelogs"
cp changelogs/config.yaml changelogs/changelog.yaml "$scratch/changelogs/"
(cd "$scratch" && antsibull-changelog generate)
if ! diff -u CHANGELOG.md "$scratch/CHANGELOG.md"; then
  echo "changelog: CHANGELOG.md is not what changelogs/changelog.yaml generates;" \
    "run: antsibull-changelog generate" >&2
  exit 1
fi
