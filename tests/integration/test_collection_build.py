"""`ansible-galaxy collection build` makes a tarball that installs into an empty collections
path, and whose roles and playbooks run from there (no checkout on the path), in check mode."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from .conftest import ROOT, run_playbook
from .test_stack import stack_leftovers

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.emulator


def test_built_collection_installs_and_runs(emulator, tmp_path):
    build = tmp_path / "build"
    subprocess.run(
        [BIN / "ansible-galaxy", "collection", "build", "--output-path", build, ROOT], check=True, capture_output=True
    )
    (tarball,) = build.glob("kumo-webstack-*.tar.gz")
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert "roles/network/tasks/main.yml" in names
    assert "playbooks/provision.yml" in names
    assert "plugins/modules/acm_certificate_request.py" in names
    leaked = [n for n in names if n.split("/")[0] in {".venv", ".webstack", ".collections", ".cache", ".git"}]
    assert not leaked, leaked

    collections = tmp_path / "collections"
    subprocess.run(
        [BIN / "ansible-galaxy", "collection", "install", "--force", "--no-deps", "-p", collections, tarball],
        check=True,
        capture_output=True,
    )
    assert (collections / "ansible_collections" / "kumo" / "webstack" / "MANIFEST.json").is_file()

    # Run from an unrelated directory with no ansible.cfg: only the installed copy is visible.
    work = tmp_path / "work"
    work.mkdir()
    (work / "ansible.cfg").write_text(f"[defaults]\ncollections_path = {collections}\n")
    env = emulator.env
    env["ANSIBLE_CONFIG"] = str(work / "ansible.cfg")
    env["PWD"] = str(work)
    extra = {
        "webstack_name": "fromtar",
        "webstack_domain": "fromtar.kumo-webstack.example",
        "webstack_admin_cidrs": ["198.51.100.0/24"],
        "webstack_secrets_dir": str(tmp_path / "secrets"),
        "ansible_python_interpreter": sys.executable,
    }

    # --check on an empty account runs every role of the provision and the teardown (their
    # lookups against the emulator, every include) from the installed copy, and creates nothing.
    # Building a stack for real is test_stack's job.
    up = run_playbook(
        "kumo.webstack.provision", "--check", "-i", "localhost,", "-c", "local", env=env, cwd=work, extra_vars=extra
    )
    assert up.rc == 0, up.output[-5000:]
    assert up.changed > 0
    # every role's task files were included from the installed copy, not from the checkout
    installed = f"{collections}/ansible_collections/kumo/webstack/roles/"
    included = re.findall(r"^included: (/\S+) for localhost", up.output, re.MULTILINE)
    assert included, up.output[-3000:]
    assert all(path.startswith(installed) for path in included), included
    roles = {path[len(installed) :].split("/")[0] for path in included}
    assert roles >= {"network", "domain", "security_groups", "database", "storage", "compute", "loadbalancer"}
    assert str(ROOT / ".collections") not in up.output
    # nothing created, no outputs written
    assert stack_leftovers(emulator, "fromtar") == {}
    assert not list(work.glob(".webstack/fromtar/outputs.json"))

    down = run_playbook(
        "kumo.webstack.teardown",
        "--check",
        "-i",
        "localhost,",
        "-c",
        "local",
        env=env,
        cwd=work,
        extra_vars={**extra, "webstack_teardown_skip_final_snapshot": True},
    )
    assert down.rc == 0, down.output[-5000:]
    assert f"{collections}/ansible_collections/kumo/webstack/roles/" in down.output
