"""`ansible-galaxy collection build` makes a tarball that installs into an empty collections
path, and whose roles and playbooks run from there (no checkout on the path)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from .conftest import ROOT, run_playbook

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

    up = run_playbook("kumo.webstack.provision", "-i", "localhost,", "-c", "local", env=env, cwd=work, extra_vars=extra)
    assert up.rc == 0, up.output[-5000:]
    # the role's task files were included from the installed copy, not from the checkout
    assert f"{collections}/ansible_collections/kumo/webstack/roles/network/tasks/present_vpc.yml" in up.output
    assert str(ROOT / ".collections") not in up.output
    assert (work / ".webstack" / "outputs.json").is_file()
    vpcs = emulator.client("ec2").describe_vpcs(Filters=[{"Name": "tag:Stack", "Values": ["fromtar"]}])["Vpcs"]
    assert len(vpcs) == 1

    down = run_playbook(
        "kumo.webstack.teardown",
        "-i",
        "localhost,",
        "-c",
        "local",
        env=env,
        cwd=work,
        extra_vars={**extra, "webstack_teardown_skip_final_snapshot": True},
    )
    assert down.rc == 0, down.output[-5000:]
    vpcs = emulator.client("ec2").describe_vpcs(Filters=[{"Name": "tag:Stack", "Values": ["fromtar"]}])["Vpcs"]
    assert vpcs == []
