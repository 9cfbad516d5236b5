#!/usr/bin/env python3
"""make bench-provision: how long the whole rails provision takes, first run and no-op run.

Starts a fresh embedded emulator on a free port of 127.0.0.1 (never the demo's), runs
playbooks/provision.yml twice for a throwaway stack, and reports both wall times, their ratio
and the task counts, as a table and in .webstack/bench-provision.json. It reports; it never
fails on a number: machines of the same kind differ by 2x, so a speed goal here is a figure
to compare, not a test (the tests assert changed=0 and the rest, whatever the speed).

    scripts/bench_provision.py [--stack NAME] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.conftest import run_playbook, running_emulator  # noqa: E402

PROVISION = ROOT / "playbooks" / "provision.yml"


def timed_provision(env: dict, extra: dict) -> dict:
    started = time.monotonic()
    cpu_before = os.times()
    run = run_playbook(PROVISION, env=env, extra_vars=extra, timeout=3600)
    seconds = time.monotonic() - started
    cpu_after = os.times()
    if run.rc != 0:
        sys.exit(f"bench-provision: provision failed (rc {run.rc}):\n{run.output[-4000:]}")
    recap = run.recap()
    return {
        "seconds": round(seconds, 1),
        # ansible-playbook and its workers are children of this process
        "cpu_seconds": round(
            (cpu_after.children_user - cpu_before.children_user)
            + (cpu_after.children_system - cpu_before.children_system),
            1,
        ),
        "tasks_ok": recap["ok"],
        "changed": recap["changed"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="benchprov")
    parser.add_argument("--out", default=str(ROOT / ".webstack" / "bench-provision.json"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-provision.") as tmp:
        tmp_path = Path(tmp)
        extra = {
            "webstack_name": args.stack,
            "webstack_domain": f"{args.stack}.kumo-webstack.example",
            "webstack_admin_cidrs": ["198.51.100.0/24"],
            "webstack_state_dir": str(tmp_path / "state"),
            "webstack_secrets_dir": str(tmp_path / "secrets"),
        }
        print(f"bench-provision: fresh emulator, stack {args.stack}: first provision, then a no-op one", flush=True)
        with running_emulator(tmp_path, MOTO_ACM_VALIDATION_WAIT="1") as emulator:
            first = timed_provision(emulator.env, extra)
            print(f"  first run: {first['seconds']} s", flush=True)
            noop = timed_provision(emulator.env, extra)
            print(f"  no-op run: {noop['seconds']} s", flush=True)

    result = {
        "stack_kind": "rails",
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
        },
        "first": first,
        "noop": noop,
        "noop_over_first": round(noop["seconds"] / first["seconds"], 2),
        "noop_changed_zero": noop["changed"] == 0,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")

    rows = [("first provision", first), ("no-op provision", noop)]
    print()
    print(f"| {'run':<16} | {'wall s':>7} | {'cpu s':>7} | {'tasks ok':>8} | {'changed':>7} |")
    print(f"|{'-' * 18}|{'-' * 9}|{'-' * 9}|{'-' * 10}|{'-' * 9}|")
    for name, row in rows:
        print(
            f"| {name:<16} | {row['seconds']:>7.1f} | {row['cpu_seconds']:>7.1f} "
            f"| {row['tasks_ok']:>8} | {row['changed']:>7} |"
        )
    print(
        f"\nno-op / first: {result['noop_over_first']}"
        f"  (load average at the end: {result['machine']['load_avg_1m_at_end']})"
    )
    print(f"written to {out}")
    if noop["changed"] != 0:
        print("bench-provision: note: the no-op run changed something (the tests assert it does not)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
