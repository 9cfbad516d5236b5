"""Every role documents its variables in meta/argument_specs.yml, and the documented
defaults are the ones defaults/main.yml really sets (no drift between the two).

A default that is a Jinja expression is left out of the spec on an option that is not a string
(bool, int, list, dict, path): the docs tools (antsibull-docs, the docs site) want such a default
to have the option's type. Its description says it in words instead, naming the variables the
expression reads; defaults/main.yml keeps the expression, and the role README shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .test_role_readmes import role_readme  # scripts/role_readme.py, loaded once

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
# types whose spec default may be a Jinja expression (a string like any other)
STRING_TYPES = {"str", "raw"}


def _specs(role: Path) -> dict:
    return yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]


def _defaults(role: Path) -> dict:
    defaults_file = role / "defaults" / "main.yml"
    return (yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.exists() else {}


def _is_jinja(value) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _text(description) -> str:
    return " ".join([description] if isinstance(description, str) else description or [])


def _all_options(options: dict, path: str = ""):
    for name, option in (options or {}).items():
        yield f"{path}{name}", option or {}
        yield from _all_options((option or {}).get("options"), f"{path}{name}.")


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_role_has_argument_specs(role):
    specs = _specs(role)
    main = specs["main"]
    assert main.get("short_description")
    assert main.get("version_added"), "the main entry point has no version_added (the changelog lists new roles by it)"
    for name, option in main["options"].items():
        assert name.startswith(role.name + "_"), f"{name} is not prefixed with {role.name}_"
        assert option.get("description"), f"{name} has no description"
        assert option.get("type"), f"{name} has no type"
    for entry, spec in specs.items():
        # ansible-doc and the docs site show both; antsibull-docs refuses an entry point without a description
        assert spec.get("short_description"), f"entry point {entry} has no short_description"
        assert spec.get("description"), f"entry point {entry} has no description"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_jinja_defaults_only_on_strings(role):
    for entry, spec in _specs(role).items():
        for name, option in _all_options(spec.get("options")):
            if _is_jinja(option.get("default")):
                assert option.get("type", "str") in STRING_TYPES, (
                    f"{entry}: {name} ({option['type']}) has the Jinja default {option['default']!r}: leave it to "
                    "defaults/main.yml and say it in the description"
                )


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_spec_defaults_match_role_defaults(role):
    options = _specs(role)["main"]["options"]
    defaults = _defaults(role)
    undocumented = sorted(set(defaults) - set(options))
    assert not undocumented, f"defaults without an argument spec: {undocumented}"
    for name, value in defaults.items():
        if "default" in options[name]:
            assert options[name]["default"] == value, (
                f"{name}: spec says {options[name]['default']!r}, defaults {value!r}"
            )
            continue
        # no spec default: only for a Jinja default of an option that is not a string
        assert _is_jinja(value), f"{name}: default {value!r} is not documented in the spec"
        assert options[name]["type"] not in STRING_TYPES, (
            f"{name}: a string option keeps its default {value!r} in the spec"
        )


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_templated_defaults_are_described(role):
    """An option whose Jinja default is not in the spec says it in words: the description speaks of
    the default and names every variable the expression reads."""
    options = _specs(role)["main"]["options"]
    for name, value in _defaults(role).items():
        if "default" in options[name]:
            continue
        description = _text(options[name]["description"])
        assert "default" in description.lower(), f"{name}: the description does not say the default {value!r}"
        read = dict.fromkeys(ref.split(".")[0] for ref in role_readme._references(value))
        assert read, f"{name}: {value!r} reads no variable"
        missing = [variable for variable in read if variable not in description]
        assert not missing, f"{name}: the description does not name {missing}, which its default {value!r} reads"


def test_some_defaults_are_left_to_the_description():
    """The case above is not empty: the stack-wide wait, for one."""
    cache = ROOT / "roles" / "cache"
    assert "default" not in _specs(cache)["main"]["options"]["cache_wait"]
    assert _is_jinja(_defaults(cache)["cache_wait"])
