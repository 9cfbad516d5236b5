#!/usr/bin/env python3
"""Where an integration run's CPU went, from its WEBSTACK_TEST_CPU_LOG file.

    WEBSTACK_TEST_CPU_LOG=/tmp/cpu.jsonl make test-integration
    scripts/test_cpu_report.py /tmp/cpu.jsonl [--top 40]

The log has a line per test (wall seconds; CPU of the worker and the playbooks it ran) and a line
per ansible-playbook run (its own CPU, from wait4). This prints the tests by CPU, then the runs
grouped by test and playbook (with their flags), so a cut is chosen by what it saves. The CPU of
the containers (the twin's hosts, Molecule's) and of the session emulators is not in the log:
on 2 cores, the stage's wall time times 2 minus the tests' CPU is about what they took.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    rows = [json.loads(line) for line in args.log.read_text().splitlines() if line.strip()]
    tests = [r for r in rows if "run" not in r]
    runs = [r for r in rows if "run" in r]

    print(
        f"{len(tests)} tests, CPU {sum(t['cpu'] for t in tests):.0f} s; {len(runs)} playbook runs, "
        f"CPU {sum(r['cpu'] for r in runs):.0f} s\n"
    )
    print(f"{'cpu s':>7} {'wall s':>7}  test")
    for test in sorted(tests, key=lambda t: -t["cpu"])[: args.top]:
        print(f"{test['cpu']:7.0f} {test['wall']:7.0f}  {test['test']}")

    grouped: dict[tuple[str, str], list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0])
    for run in runs:
        name = run["test"].split("::")[-1]
        playbook = " ".join([run["run"], *run["args"]])
        entry = grouped[(name, playbook)]
        entry[0] += 1
        entry[1] += run["cpu"]
        entry[2] += run["wall"]
    print(f"\n{'cpu s':>7} {'wall s':>7} {'runs':>4}  test / playbook")
    for (name, playbook), (count, cpu, wall) in sorted(grouped.items(), key=lambda kv: -kv[1][1])[: args.top]:
        print(f"{cpu:7.0f} {wall:7.0f} {count:4d}  {name} / {playbook}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
