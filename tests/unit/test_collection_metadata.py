"""galaxy.yml and requirements.yml: every collection the roles, playbooks and Molecule scenarios
call is declared, in both, with a range that holds the version the `ansible` package of
requirements-dev.txt ships (what the tests run); the license is COPYING; the built tarball keeps
what the playbooks read at run time and leaves out what only the repository needs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
SHIPPED = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"
# where the collection's content calls other collections (tests/ call them only through these)
CONTENT = ["roles", "playbooks", "molecule", "inventories", ".config/molecule", "site.yml"]
FQCN = re.compile(r"(?<![\w.-])([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\.[a-z_][a-z0-9_]*")


def _used_collections() -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    files = []
    for entry in CONTENT:
        path = ROOT / entry
        files += [path] if path.is_file() else [p for p in path.rglob("*") if p.suffix in {".yml", ".yaml", ".j2"}]
    for path in files:
        for namespace, name in FQCN.findall(path.read_text(errors="replace")):
            # a collection only if the `ansible` package has one by that name (not a host name;
            # ansible.builtin is ansible-core's, kumo.webstack ours)
            if (SHIPPED / namespace / name / "MANIFEST.json").is_file():
                used.setdefault(f"{namespace}.{name}", set()).add(str(path.relative_to(ROOT)))
    return used


def _shipped_version(fqcn: str) -> str:
    manifest = json.loads((SHIPPED / Path(*fqcn.split(".")) / "MANIFEST.json").read_text())
    return manifest["collection_info"]["version"]


def test_every_collection_used_is_declared():
    used = _used_collections()
    # the scan does find them (amazon.aws is everywhere)
    assert "amazon.aws" in used and "community.mysql" in used
    declared = set(GALAXY["dependencies"])
    missing = {name: sorted(paths)[:3] for name, paths in used.items() if name not in declared}
    assert not missing, f"used but not in galaxy.yml's dependencies: {missing}"
    assert declared <= set(used), f"declared but never used: {declared - set(used)}"


def test_requirements_yml_declares_the_same_ranges():
    listed = {c["name"]: c["version"] for c in yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]}
    assert listed == GALAXY["dependencies"]


@pytest.mark.parametrize("fqcn", sorted(GALAXY["dependencies"]))
def test_range_holds_the_shipped_version(fqcn):
    version_range = GALAXY["dependencies"][fqcn]
    shipped = _shipped_version(fqcn)
    assert SpecifierSet(version_range).contains(shipped), (
        f"{fqcn} {shipped} (the `ansible` package) is outside {version_range}"
    )
    # and the range stops before the next major version
    assert f"<{int(shipped.split('.')[0]) + 1}.0.0" in version_range


def test_license_is_the_gpl_text():
    assert GALAXY["license_file"] == "COPYING"
    # `license` and `license_file` are mutually exclusive (Galaxy refuses both)
    assert "license" not in GALAXY
    text = (ROOT / "COPYING").read_text()
    assert text.lstrip().startswith("GNU GENERAL PUBLIC LICENSE\n                       Version 3, 29 June 2007")
    assert "END OF TERMS AND CONDITIONS" in text


def test_no_made_up_urls():
    assert GALAXY["repository"].startswith("https://example.invalid/")
    for key in ("documentation", "homepage", "issues"):
        assert not GALAXY.get(key), f"{key}: no real URL exists yet"


@pytest.fixture(scope="module")
def built_names(tmp_path_factory) -> set[str]:
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        [Path(sys.executable).parent / "ansible-galaxy", "collection", "build", "--output-path", out, ROOT],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (tarball,) = out.glob("kumo-webstack-*.tar.gz")
    with tarfile.open(tarball) as tar:
        return set(tar.getnames())


@pytest.mark.parametrize(
    "path",
    [
        "COPYING",
        "requirements.txt",
        "requirements.yml",
        "execution-environment.yml",
        "meta/execution-environment.yml",
        "meta/ee-requirements.txt",
        "meta/ee-bindep.txt",
        "meta/runtime.yml",
        # the changelog Galaxy shows, and its source
        "CHANGELOG.md",
        "changelogs/changelog.yaml",
        # what the playbooks and roles read or run at run time
        "scripts/build-app-image.sh",
        "scripts/build-base-image.sh",
        "scripts/download-wheels.sh",
        "scripts/chat_check.py",
        "apps/bot/tests/botkit.py",
        "apps/rails_sample/packages.txt",
        "apps/chat/requirements.txt",
    ],
)
def test_tarball_keeps(built_names, path):
    assert path in built_names


@pytest.mark.parametrize(
    "path",
    [
        "requirements-dev.txt",
        "Makefile",
        ".ansible-lint",
        ".yamllint",
        "ruff.toml",
        "pytest.ini",
        "changelogs/.plugin-cache.yaml",
        "context",
    ],
)
def test_tarball_leaves_out(built_names, path):
    assert not [name for name in built_names if name == path or name.startswith(path + "/")]
