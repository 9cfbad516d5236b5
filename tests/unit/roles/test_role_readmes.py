"""Every role's README.md is the one scripts/role_readme.py renders from its
meta/argument_specs.yml (house style 36: generated, and CI fails on drift)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
SPEC = Path("meta") / "argument_specs.yml"


def _load_generator():
    path = ROOT / "scripts" / "role_readme.py"
    spec = importlib.util.spec_from_file_location("role_readme", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


role_readme = _load_generator()


def _render(role: Path) -> str:
    if not (role / SPEC).is_file():
        pytest.fail(f"roles/{role.name} has no {SPEC}, so its README cannot be generated")
    return role_readme.render(role)


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_readme_is_generated_from_argument_specs(role):
    expected = _render(role)
    readme = role / "README.md"
    actual = readme.read_text(encoding="utf-8") if readme.is_file() else None
    fix = f"run `python scripts/role_readme.py {role.name}`"
    assert actual is not None, f"roles/{role.name}/README.md is missing: {fix}"
    assert actual == expected, f"roles/{role.name}/README.md differs from its argument_specs: {fix}"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_rendered_defaults_are_the_spec_defaults(role):
    """Each variable's yaml block parses, and to the default the spec documents, or, where the
    spec leaves it to the description (a Jinja default of an option that is not a string), to the
    one defaults/main.yml sets."""
    text = _render(role)
    options = yaml.safe_load((role / SPEC).read_text())["argument_specs"]["main"].get("options") or {}
    defaults_file = role / "defaults" / "main.yml"
    role_defaults = (yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.exists() else {}
    options = {
        name: {"default": role_defaults[name], **option} if name in role_defaults else option
        for name, option in options.items()
    }
    section = text.split("## Role Variables\n", 1)[1].split("\n## ", 1)[0]
    blocks = [yaml.safe_load(b) for b in re.findall(r"^```yaml\n(.*?)^```$", section, re.M | re.S)]
    assert [next(iter(b)) for b in blocks] == list(options)
    for block in blocks:
        ((name, value),) = block.items()
        assert value == options[name].get("default"), name


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_rendering_is_clean(role):
    text = _render(role)
    assert text == _render(role)
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert not [n for n, line in enumerate(text.splitlines(), 1) if line != line.rstrip()], "trailing spaces"
    assert text.startswith(role_readme.HEADER + "\n")


def test_markup_becomes_markdown():
    render = role_readme.markup
    assert render("Use O(x_state=absent) or V(present), C(<stack>-db), I(y).") == (
        "Use `x_state=absent` or `present`, `<stack>-db`, `y`."
    )
    assert render("With M(kumo.webstack.acm_certificate_request) and V([]).") == (
        "With kumo.webstack.acm_certificate_request and `[]`."
    )
    assert render("A <stack> name, B(bold), U(https://example.invalid)") == (
        r"A \<stack> name, **bold**, <https://example.invalid>"
    )
    assert render("L(the docs,https://example.invalid/x)") == "[the docs](https://example.invalid/x)"
    assert render("C(a`b)") == "`` a`b ``"
