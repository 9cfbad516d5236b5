"""Shared pytest set-up: make ``ansible_collections.kumo.webstack`` importable from the checkout."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# .collections/ansible_collections/kumo/webstack is a symlink to the repository root;
# amazon.aws and friends are on sys.path already (site-packages of the `ansible` package).
if str(ROOT / ".collections") not in sys.path:
    sys.path.insert(0, str(ROOT / ".collections"))
