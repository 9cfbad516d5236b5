"""Bad-input cases in one ansible-playbook run: one play per case, its failure recorded.

Starting ansible-playbook costs seconds of CPU; a role's twenty bad-input cases each in a
run of their own cost minutes. Here every case is a play of one generated playbook, with the
case's variables as play vars (a value of None leaves the variable unset). Each play runs
`tasks` (for example the role, or every role's validate entry point) in a block whose rescue
records what failed: the task and its message. A case that does not fail records that too,
so the test that asserts it fails. Each case gets its own state and secrets directory, so a
test can check that a case left nothing behind.

The AWS endpoint is meant to be a dead one (the dead_endpoint_env fixture): a case that got
past validation to an API call would record a connection error, never the expected message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from .conftest import FAIL_FAST_TIMEOUT, run_playbook


@dataclass
class CaseResult:
    failed: bool
    msg: str
    task: str
    case_dir: Path

    @property
    def flat(self) -> str:
        """The message with its white space folded (messages are folded YAML in places)."""
        return " ".join(self.msg.split())


def run_cases(
    cases: dict[str, dict],
    tasks: list[dict],
    *,
    env: dict,
    tmp_path: Path,
    base_vars: dict | None = None,
    vars_files: list[str] | None = None,
    inventory: Path | None = None,
) -> dict[str, CaseResult]:
    """Run every case (id -> variables) as a play of one playbook; return id -> CaseResult."""
    plays = []
    for case_id, case_vars in cases.items():
        case_dir = tmp_path / case_id
        play_vars = {
            "webstack_state_dir": str(case_dir / "state"),
            "webstack_secrets_dir": str(case_dir / "secrets"),
            **(base_vars or {}),
            **case_vars,
        }
        play_vars = {k: v for k, v in play_vars.items() if v is not None}
        play = {
            "name": f"Bad input case {case_id}",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/kumo.webstack.aws": {"region": "ap-northeast-1"}},
            "vars": play_vars,
            "tasks": [
                {
                    "name": f"Run the case {case_id}",
                    "block": [
                        *tasks,
                        {
                            "name": "Record that the case did not fail",
                            "ansible.builtin.set_fact": {
                                "__badinput_results": (
                                    "{{ __badinput_results | default({}) | combine({"
                                    + repr(case_id)
                                    + ": {'failed': false, 'msg': '', 'task': ''}}) }}"
                                ),
                            },
                        },
                    ],
                    "rescue": [
                        {
                            "name": "Record what failed",
                            "ansible.builtin.set_fact": {
                                # a loop's failure says "One or more items failed": take its items' messages
                                "__badinput_results": (
                                    "{{ __badinput_results | default({}) | combine({"
                                    + repr(case_id)
                                    + ": {'failed': true, 'msg': ((ansible_failed_result.results | default([])"
                                    " | selectattr('failed', 'defined') | selectattr('failed') | map(attribute='msg')"
                                    " | join(' ')) or ansible_failed_result.msg | default('')) | string,"
                                    " 'task': ansible_failed_task.name | default('')}}) }}"
                                ),
                            },
                        }
                    ],
                }
            ],
        }
        if vars_files:
            play["vars_files"] = vars_files
        plays.append(play)
        case_dir.mkdir(parents=True)

    # every case's result, kept as a fact of localhost from play to play, written once at the end
    # (a file per case cost a module run each: about a CPU-second a case)
    results_file = tmp_path / "bad_input_results.json"
    plays.append(
        {
            "name": "Write the cases' results",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Write the results of every case",
                    "ansible.builtin.copy": {
                        "dest": str(results_file),
                        "content": "{{ __badinput_results | default({}) | to_json }}\n",
                        "mode": "0600",
                    },
                }
            ],
        }
    )
    playbook = tmp_path / "bad_input_cases.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    args = ["-i", str(inventory)] if inventory else []
    # one run for all cases: the hang guard grows with their number
    run = run_playbook(playbook, *args, env=env, timeout=FAIL_FAST_TIMEOUT + 30 * len(cases))
    assert run.rc == 0, f"the cases' playbook itself failed:\n{run.output[-4000:]}"
    recorded = json.loads(results_file.read_text())
    results = {}
    for case_id in cases:
        assert case_id in recorded, f"case {case_id} recorded nothing:\n{run.output[-4000:]}"
        data = recorded[case_id]
        results[case_id] = CaseResult(data["failed"], data["msg"], data["task"], tmp_path / case_id)
    return results


def run_role_cases(role: str, params, *, env: dict, tmp_path: Path, base_vars: dict) -> dict[str, CaseResult]:
    """run_cases for a role alone: the cases are pytest.param(variables, ...) with ids."""
    return run_cases(
        {p.id: p.values[0] for p in params},
        [{"name": f"The {role} role", "ansible.builtin.include_role": {"name": f"kumo.webstack.{role}"}}],
        env=env,
        tmp_path=tmp_path,
        base_vars=base_vars,
    )


def assert_fails_before_aws(result: CaseResult, message: str) -> None:
    """The case failed with `message`, and not by reaching the (dead) AWS endpoint."""
    assert result.failed, f"the case did not fail (expected: {message})"
    assert message in result.flat, f"task {result.task!r} failed with: {result.msg}"
    assert "Could not connect" not in result.flat and "EndpointConnectionError" not in result.flat, result.msg
