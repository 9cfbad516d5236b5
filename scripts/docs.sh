#!/usr/bin/env bash
# The collection's docs site, and a cheap check of its docs.
#
#   scripts/docs.sh           build the site (modules, filters, the inventory plugin, the lookup,
#                             the roles) into build/docs/html, offline; Sphinx warnings are errors
#   scripts/docs.sh --check   lint the plugin and role docs (markup, references to options, return
#                             values and plugins of this collection and of the ones it depends on,
#                             the RST each page would get), without building the site
#
# The tools (scripts/docs-tools.txt) go into a venv of their own, .cache/docs-venv, made again when
# that file changes. The collections this one depends on come from the `ansible` package in .venv
# (make venv), as in scripts/sanity.sh, so references to their plugins are checked too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

mode=build
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

say() { echo "docs: $*" >&2; }

# --- the tools
venv="$root/.cache/docs-venv"
stamp="$venv/.tools-$(sha256sum scripts/docs-tools.txt | cut -c1-12)"
if [ ! -e "$stamp" ]; then
  say "installing the docs tools into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r scripts/docs-tools.txt \
    >"$venv/pip.log" 2>&1; then
    cat "$venv/pip.log" >&2
    exit 1
  fi
  touch "$stamp"
fi

# --- the collections. antsibull-docs reads a copy of this one, staged outside the work tree (it
# would copy only Git's files from inside it): galaxy.yml, meta, plugins and the roles' specs, as
# they are (every entry point has a description, and a Jinja default only on a string option:
# tests/unit/roles/test_argument_specs.py). Beside it, the collections galaxy.yml depends on that
# the docs refer to (and what they depend on), linked from .venv's `ansible` package, so those
# references are checked too.
[ -x "$root/.venv/bin/python" ] || { say "no .venv: run make venv first"; exit 1; }
stage=$(mktemp -d "${TMPDIR:-/tmp}/kumo-webstack-docs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
"$root/.venv/bin/python" - "$stage" <<'PY'
import glob
import json
import os
import re
import shutil
import sys

import yaml

stage = sys.argv[1]
own = os.path.join(stage, "ansible_collections", "kumo", "webstack")
os.makedirs(own)
shutil.copy("galaxy.yml", own)
for tree in ("meta", "plugins"):
    shutil.copytree(tree, os.path.join(own, tree), ignore=shutil.ignore_patterns("__pycache__"))
texts = []
for spec_path in sorted(glob.glob("roles/*/meta/argument_specs.yml")):
    with open(spec_path) as f:
        texts.append(f.read())
    dest = os.path.join(own, os.path.dirname(spec_path))
    os.makedirs(dest)
    shutil.copy(spec_path, dest)
for path in glob.glob("plugins/**/*", recursive=True):
    if path.endswith((".py", ".yml")) and os.path.isfile(path):
        with open(path) as f:
            texts.append(f.read())
texts = "\n".join(texts)


def dependencies(path):
    manifest = os.path.join(path, "MANIFEST.json")
    if os.path.exists(manifest):
        with open(manifest) as f:
            return json.load(f)["collection_info"].get("dependencies") or {}
    with open(os.path.join(path, "galaxy.yml")) as f:
        return yaml.safe_load(f).get("dependencies") or {}


todo = [fqcn for fqcn in sorted(dependencies(".")) if re.search(rf"\b{re.escape(fqcn)}\.\w", texts)]
done = set()
while todo:
    fqcn = todo.pop(0)
    if fqcn in done:
        continue
    done.add(fqcn)
    namespace, name = fqcn.split(".")
    try:
        module = __import__(f"ansible_collections.{namespace}.{name}", fromlist=["_"])
    except ImportError:
        sys.exit(f"docs: {fqcn} is not in .venv's ansible package; run make venv")
    link = os.path.join(stage, "ansible_collections", namespace, name)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink(list(module.__path__)[0], link)
    todo.extend(sorted(dependencies(list(module.__path__)[0])))
PY

export PATH="$venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$stage"
# Only ansible-doc runs here: none of the playbook settings apply
unset ANSIBLE_STRATEGY ANSIBLE_STRATEGY_PLUGINS

if [ "$mode" = check ]; then
  # "all": the collections staged beside this one (each is dumped once, none copied again)
  antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all \
    "$stage/ansible_collections/kumo/webstack" 2>&1 \
    | sed -E "s#[^ :]*/(kumo-webstack-docs\.|antsibull-docs-)[^/]*/ansible_collections/kumo/webstack/#$root/#g"
  exit "${PIPESTATUS[0]}"
fi

# --- the site
rst="$root/.cache/docs/rst"
out="$root/build/docs/html"
mkdir -p "$rst"
chmod og-w "$rst"  # antsibull-docs writes only into a directory no one else may write to
antsibull-docs collection --use-current --squash-hierarchy --fail-on-error --cleanup everything \
  --dest-dir "$rst" kumo.webstack
rm -rf "$out"
sphinx-build -q -b html -c docs/sphinx -W --keep-going "$rst" "$out"
say "the site is in ${out#"$root"/}/index.html"
