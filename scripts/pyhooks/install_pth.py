"""Write .venv's kumo_webstack_hooks.pth (make venv): this directory on sys.path, and the botocore
hook imported at start-up (it does nothing unless WEBSTACK_BOTOCORE_SHARED_CACHE=1). Rewritten
only when its text changes (the checkout moved), so make venv stays a no-op."""

from __future__ import annotations

import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent
PTH = Path(sysconfig.get_paths()["purelib"]) / "kumo_webstack_hooks.pth"
TEXT = f"{HERE}\nimport kumo_botocore_shared_cache\n"

if not PTH.exists() or PTH.read_text() != TEXT:
    PTH.write_text(TEXT)
    print(f"venv: wrote {PTH}")
