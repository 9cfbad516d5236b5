#!/usr/bin/env bash
# Test the sample Rails app in a container from our base image with Debian's Ruby and gems
# (rubygems.org is never used). Builds kumo-webstack/ruby:<recipe hash> once, then:
#   1. `rails test` (sqlite3, Disk service) with the development/test gem set;
#   2. production gem set only: `bundle check`, `assets:precompile`, `db:migrate` against a
#      MariaDB in the same container, then boots under Puma (TCP) and Unicorn (UNIX socket)
#      and checks `/`, `/up` (200; 503 once the database is stopped) and a fingerprinted asset.
#
#   apps/rails_sample/test.sh            # everything
#   apps/rails_sample/test.sh --image    # build (if needed) and print the image reference
#   apps/rails_sample/test.sh unit       # only `rails test`
#
# The app is bind-mounted read-only and copied inside, so nothing is written to the checkout.
set -euo pipefail

app=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$app/../.." && pwd)
base=$("$root/scripts/build-base-image.sh")
tag=$(cat "$0" "$app/packages.txt" "$app/ci/Dockerfile" "$app/ci/packages-test.txt" <(echo "$base") \
      | sha256sum | cut -c1-12)
image="kumo-webstack/ruby:$tag"

if ! docker image inspect "$image" >/dev/null 2>&1; then
  echo "rails_sample: building $image from $base (apt-get, once)" >&2
  ctx=$(mktemp -d /tmp/rails-sample-image.XXXXXX)
  trap 'rm -rf "$ctx"' EXIT
  cp "$app/packages.txt" "$app/ci/packages-test.txt" "$ctx/"
  docker build --quiet --build-arg "BASE_IMAGE=$base" -t "$image" -f "$app/ci/Dockerfile" "$ctx" >/dev/null
fi

if [ "${1:-}" = "--image" ]; then
  echo "$image"
  exit 0
fi

what=${1:-all}
name="rails_sample_test_$$"
exec docker run --rm --name "$name" --network none \
  -v "$app:/src:ro" -e "WHAT=$what" "$image" bash /src/ci/run-tests.sh
