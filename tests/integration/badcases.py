"""Bad-input cases of a role, batched: one ansible-playbook run for all of them.

tests/integration/playbooks/bad_input.yml loops over the cases; each runs the role in a
block/rescue against a dead AWS endpoint and records how it ended. The test then checks every
case on its own: it failed, its messages hold the expected text, no AWS call was attempted and
the role published no outputs. One playbook start instead of one per case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .conftest import FAIL_FAST_TIMEOUT, ROOT, run_playbook

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "bad_input.yml"
CASE_FILE = ROOT / "tests" / "integration" / "playbooks" / "tasks" / "bad_case.yml"
# A bare inventory: the local one sets webstack_admin_cidrs, so "unset" could not be tested.
INVENTORY = ROOT / "tests" / "integration" / "inventory.yml"
CONNECTION_ERRORS = ("Could not connect", "EndpointConnectionError", "Connect timeout")


@dataclass
class Case:
    id: str
    vars: dict
    # every text must appear in the failure's messages (whitespace-normalised)
    expect: list[str] = field(default_factory=list)


def case_variables() -> set[str]:
    """The variables bad_case.yml lets a case set."""
    (block,) = yaml.safe_load(CASE_FILE.read_text())
    return set(block["block"][0]["vars"])


def run_bad_cases(role: str, cases: list[Case], base: dict, env: dict, tmp_path: Path) -> dict:
    """Run every case of ``role`` (``base`` under each case's vars) in one playbook; return the
    results by case id."""
    settable = case_variables()
    for case in cases:
        unknown = set(base) | set(case.vars)
        unknown -= settable
        assert not unknown, f"{case.id}: add {sorted(unknown)} to {CASE_FILE.name} (a case may set only what it lists)"
    results = tmp_path / f"{role}_bad_results.json"
    extra = {
        "bad_role": role,
        "bad_cases": [{"id": c.id, "vars": {**base, **c.vars}} for c in cases],
        "bad_results_file": str(results),
        "webstack_state_dir": str(tmp_path / "state"),
        "webstack_secrets_dir": str(tmp_path / "secrets"),
    }
    run = run_playbook(PLAYBOOK, "-i", str(INVENTORY), env=env, extra_vars=extra, timeout=FAIL_FAST_TIMEOUT)
    assert run.rc == 0, run.output[-6000:]
    return json.loads(results.read_text())


def check_bad_cases(cases: list[Case], results: dict) -> None:
    """Check each case on its own; fail once, listing every case that did not behave."""
    problems = []
    for case in cases:
        result = results.get(case.id)
        if result is None:
            problems.append(f"{case.id}: no result recorded")
            continue
        if not result["failed"]:
            problems.append(f"{case.id}: passed, but bad input must fail")
            continue
        flat = " ".join(" ".join(result["messages"]).split())
        for text in case.expect:
            if text not in flat:
                problems.append(f"{case.id}: expected {text!r} in the failure of {result['task']!r}: {flat[:1500]}")
        if any(marker in flat for marker in CONNECTION_ERRORS):
            problems.append(f"{case.id}: reached the AWS API before failing ({result['task']!r}): {flat[:500]}")
        if result["outputs"]:
            problems.append(f"{case.id}: the role published outputs")
    assert not problems, "\n".join(problems)
