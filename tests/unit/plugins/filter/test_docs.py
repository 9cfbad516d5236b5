"""Every filter has its ansible-doc sidecar (plugins/filter/<name>.yml), and the sidecar
documents the function's arguments: ansible-doc reads nothing else for a filter."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
import yaml

FILTER_DIR = Path(__file__).resolve().parents[4] / "plugins" / "filter"
MODULES = sorted(p.stem for p in FILTER_DIR.glob("*.py") if p.stem != "__init__")


def all_filters():
    for stem in MODULES:
        module = importlib.import_module(f"ansible_collections.kumo.webstack.plugins.filter.{stem}")
        yield from module.FilterModule().filters().items()


FILTERS = dict(all_filters())


def test_every_sidecar_belongs_to_a_filter():
    assert sorted(p.stem for p in FILTER_DIR.glob("*.yml")) == sorted(FILTERS)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_sidecar_documents_the_arguments(name):
    doc = yaml.safe_load((FILTER_DIR / f"{name}.yml").read_text())
    assert set(doc) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    documentation = doc["DOCUMENTATION"]
    assert documentation["name"] == name
    assert documentation["short_description"] and documentation["description"]
    assert f"kumo.webstack.{name}" in doc["EXAMPLES"]
    assert "_value" in doc["RETURN"]
    params = list(inspect.signature(FILTERS[name]).parameters.values())
    assert set(documentation["options"]) == {"_input"} | {p.name for p in params[1:]}
    required = {p.name for p in params[1:] if p.default is inspect.Parameter.empty}
    assert {k for k, v in documentation["options"].items() if v.get("required")} == {"_input"} | required
    positional = [p.strip() for p in str(documentation.get("positional", "")).split(",") if p.strip()]
    assert positional == [p.name for p in params[1:] if p.default is inspect.Parameter.empty]
