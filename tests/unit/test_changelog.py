"""The changelog: antsibull-changelog writes CHANGELOG.md (Markdown, at the top of the repository)
from changelogs/changelog.yaml; the tool is pinned in .venv at the docs venv's version; galaxy.yml's
version is never behind the last release. (scripts/changelog-check.sh, in make test-lint, lints the
fragments and checks that CHANGELOG.md is up to date.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "changelogs" / "config.yaml").read_text())
CHANGES = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())


def _pin(path: Path, name: str) -> str:
    (version,) = re.findall(rf"^{re.escape(name)}==(\S+)$", path.read_text(), re.M)
    return version


def test_output_is_markdown_at_the_top():
    assert CONFIG["output"] == [{"file": "CHANGELOG.md", "format": "md"}]
    assert (ROOT / "CHANGELOG.md").is_file()
    assert not (ROOT / "CHANGELOG.rst").exists()


def test_released_fragments_are_removed():
    # a release moves the fragments into changelog.yaml; what stays in changelogs/fragments/ is
    # the next release's
    assert CONFIG["keep_fragments"] is False


def test_tool_pins_agree():
    assert _pin(ROOT / "requirements-dev.txt", "antsibull-changelog") == _pin(
        ROOT / "scripts" / "docs-tools.txt", "antsibull-changelog"
    )


def test_galaxy_version_is_not_behind_the_last_release():
    galaxy = Version(yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"])
    releases = [Version(v) for v in CHANGES["releases"]]
    assert releases, "changelog.yaml has no release"
    assert galaxy >= max(releases)
    assert (ROOT / "CHANGELOG.md").read_text().count(f"## v{max(releases)}".replace(".", "\\.")) == 1
