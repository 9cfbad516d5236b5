#!/usr/bin/env bash
# Build this app's image (scripts/build-app-image.sh: from our base image, no registry pull, once
# per change of its recipe) and print its reference.
#
#   apps/bot/image.sh
exec "$(dirname "$0")/../../scripts/build-app-image.sh" "$(dirname "$0")"
