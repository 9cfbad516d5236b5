#!/usr/bin/env bash
# Install Debian packages, quietly, as root. When the first try fails (a fresh machine may have
# no package index yet) it runs `apt-get update` once and tries again. Anywhere else (not root,
# no apt-get) it says what to install and exits 1.
#
#   scripts/apt-install.sh PACKAGE...
set -euo pipefail

say() { echo "apt-install: $*" >&2; }

[ "$#" -gt 0 ] || { say "usage: $0 PACKAGE..."; exit 2; }
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "install $* with your package manager (this script installs only as root with apt-get)"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
say "installing $*"
if ! apt-get install -y -qq "$@" >/dev/null 2>&1; then
  say "install failed; running apt-get update and retrying"
  apt-get update -qq >/dev/null
  apt-get install -y -qq "$@" >/dev/null
fi
