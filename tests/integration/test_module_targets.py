"""Run each module's integration target (tests/integration/targets/<name>/, role-shaped,
amazon.aws style) against the embedded emulator. A target asserts its own results."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import ROOT

TARGETS = Path(__file__).parent / "targets"
NAMES = sorted(p.name for p in TARGETS.iterdir() if (p / "tasks" / "main.yml").is_file()) if TARGETS.is_dir() else []


@pytest.mark.emulator
@pytest.mark.parametrize("target", NAMES)
def test_target(target, emulator, playbook, tmp_path):
    play = tmp_path / "play.yml"
    play.write_text(
        "- name: Integration target " + target + "\n"
        "  hosts: localhost\n"
        "  gather_facts: false\n"
        "  module_defaults:\n"
        "    group/kumo.webstack.aws:\n"
        "      region: ap-northeast-1\n"
        "  roles:\n"
        "    - role: " + target + "\n"
    )
    env = emulator.env
    env["ANSIBLE_ROLES_PATH"] = str(TARGETS)
    run = playbook(play, "-i", str(ROOT / "tests" / "integration" / "inventory.yml"), env=env)
    assert run.rc == 0, run.output[-6000:]
    assert run.recap()["failed"] == 0
