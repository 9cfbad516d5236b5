#!/usr/bin/env bash
# ansible-test sanity on our plugins. ansible-test needs the collection under a real
# ansible_collections/<ns>/<name> path, so the tracked (and new, unignored) files are
# copied into .cache/sanity/ansible_collections/kumo/webstack first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.cache/sanity/ansible_collections/kumo/webstack"
rm -rf "$dest"
mkdir -p "$dest"
cd "$root"
git ls-files -z --cached --others --exclude-standard -- galaxy.yml meta plugins tests/sanity \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | xargs -0 -I{} cp --parents {} "$dest"/
# ansible-test downloads a pip bootstrap script from a host we cannot reach: seed its
# cache with our offline stand-in (same job, done with ensurepip + the configured index).
pip_version=$("$root/.venv/bin/python" - <<'PY'
import re, ansible_test, pathlib
src = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if ! cmp -s "$root/scripts/ansible-test-get-pip.py" "$cache"; then
  mkdir -p "$(dirname "$cache")"
  cp "$root/scripts/ansible-test-get-pip.py" "$cache"
fi

# Our modules import amazon.aws (module_utils, doc fragments): put it beside us, as an
# installed collection would be, from the `ansible` package in the virtualenv.
aws_src=$("$root/.venv/bin/python" -c 'import ansible_collections.amazon.aws as m, os; print(list(m.__path__)[0])')
mkdir -p "$root/.cache/sanity/ansible_collections/amazon"
rm -rf "$root/.cache/sanity/ansible_collections/amazon/aws"
cp -r "$aws_src" "$root/.cache/sanity/ansible_collections/amazon/aws"

cd "$dest"
git init -q . && git add -A >/dev/null && git -c user.name=sanity -c user.email=sanity@localhost commit -qm sanity
# Only the plugins are ours to check here; roles and playbooks are linted by ansible-lint.
export PATH="$root/.venv/bin:$PATH"
exec "$root/.venv/bin/ansible-test" sanity --python "$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')" \
  --color no "$@" plugins/
