"""Every kind's load balancer logs its access logs: the kinds' manifests, rendered as the playbooks
see them, list the storage role (which builds the log bucket the loadbalancer role's
loadbalancer_access_logs_bucket defaults to) before the loadbalancer role, with keeps_data so a
teardown keeps a log bucket that holds logs; the kinds that take no uploads build the log bucket
alone (storage_uploads_bucket_enabled false)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ..manifest import ROOT, render_manifest

KINDS = sorted(p.parent.parent.name for p in (Path(ROOT) / "playbooks").glob("*/vars/kind.yml"))
STORAGE_DEFAULTS = yaml.safe_load((Path(ROOT) / "roles" / "storage" / "defaults" / "main.yml").read_text())


def test_the_four_kinds_are_found():
    assert KINDS == ["bot", "chat", "rails", "sorry"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("variables", [{}, {"sorry_pages_domains": [{"name": "example.com", "status": 503}]}])
def test_a_kind_with_a_load_balancer_builds_the_log_bucket_before_it(kind, variables):
    roles = render_manifest(kind, "webstack_kind_roles", webstack_domain="example.com", **variables)
    names = [r["role"] for r in roles]
    assert "loadbalancer" in names, kind
    assert "storage" in names, f"{kind}: no storage role, so no log bucket and no ALB access logs"
    assert names.index("storage") < names.index("loadbalancer"), names
    (storage,) = [r for r in roles if r["role"] == "storage"]
    assert storage.get("keeps_data") is True, storage


@pytest.mark.parametrize(("kind", "uploads"), [("rails", True), ("bot", True), ("chat", False), ("sorry", False)])
def test_the_kinds_without_uploads_build_the_log_bucket_alone(kind, uploads):
    text = (Path(ROOT) / "playbooks" / kind / "vars" / "kind.yml").read_text()
    manifest = yaml.safe_load(text)
    # the manifest's value, or the role's default (true) when it sets none
    value = manifest.get("storage_uploads_bucket_enabled", STORAGE_DEFAULTS["storage_uploads_bucket_enabled"])
    assert value is uploads, kind
    # no manifest turns the log bucket off, nor the access logs
    assert "storage_log_bucket_enabled" not in manifest, kind
    assert "loadbalancer_access_logs_bucket" not in manifest, kind


def test_the_storage_role_logs_by_default():
    assert STORAGE_DEFAULTS["storage_log_bucket_enabled"] is True
    assert STORAGE_DEFAULTS["storage_uploads_bucket_enabled"] is True
    assert STORAGE_DEFAULTS["storage_log_expiration_days"] == 90
