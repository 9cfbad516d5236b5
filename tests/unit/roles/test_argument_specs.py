"""Every role documents its variables in meta/argument_specs.yml, and the documented
defaults are the ones defaults/main.yml really sets (no drift between the two)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_role_has_argument_specs(role):
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())
    main = specs["argument_specs"]["main"]
    assert main.get("short_description")
    for name, option in main["options"].items():
        assert name.startswith(role.name + "_"), f"{name} is not prefixed with {role.name}_"
        assert option.get("description"), f"{name} has no description"
        assert option.get("type"), f"{name} has no type"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_spec_defaults_match_role_defaults(role):
    options = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    defaults_file = role / "defaults" / "main.yml"
    defaults = yaml.safe_load(defaults_file.read_text()) or {} if defaults_file.exists() else {}
    undocumented = sorted(set(defaults) - set(options))
    assert not undocumented, f"defaults without an argument spec: {undocumented}"
    for name, value in defaults.items():
        assert "default" in options[name], f"{name}: default {value!r} is not documented in the spec"
        assert options[name]["default"] == value, f"{name}: spec says {options[name]['default']!r}, defaults {value!r}"
