"""Stacks against a faulty AWS: throttling, server errors and read-after-write lag.

A private emulator in fault mode (scripts/emulator_faults.py): 10 % of the calls answered with the
service's throttling error, 2 % with a 500 or 503, and every created resource hidden from reads for
5 seconds. playbooks/provision.yml must still succeed, a second provision change nothing, and
playbooks/teardown.yml leave nothing tagged with the stack.

Every kind that exists can run here, reduced where that saves time without losing a role (KINDS):
no NAT gateway and one instance per group. make test runs the rails kind (its roles are most of
every kind's); WEBSTACK_TEST_FAULT_KINDS=rails,sorry,chat,bot runs the others beside it, in the same
faulty emulator (each adds some 100-140 CPU-seconds and about 10 minutes, mostly waiting).

The seed makes the draws repeat when the calls come one at a time, but the playbooks' timing
varies, so nothing here depends on which calls are faulted: only that faults of each kind were
injected. What survives them: botocore's standard retry mode with 10 attempts (the inventories'
webstack_aws_environment) for throttling and 5xx answers; for the lag, the roles' retries around
the amazon.aws modules that give up on a resource they just created, and waits that look again
for a resource not listed yet (see the comments in network, security_groups, database, storage,
domain and loadbalancer).

It takes some minutes, mostly waiting out the lag and the backoffs (little CPU).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
from collections import Counter

import pytest

from .conftest import ROOT, record_load, run_playbook, running_emulator
from .test_stack import stack_leftovers, stack_vars

PROVISION = ROOT / "playbooks" / "provision.yml"
TEARDOWN = ROOT / "playbooks" / "teardown.yml"

pytestmark = pytest.mark.emulator

SEED = "18"

# The kinds under test, each reduced where that saves time without losing a role: no NAT gateway
# (network_nat_gateway_mode=none), one instance per group.
KINDS = {
    "rails": {"network_nat_gateway_mode": "none", "compute_web_count": 1},
    "sorry": {"network_nat_gateway_mode": "none", "webstack_sorry_count": 1},
    "chat": {"network_nat_gateway_mode": "none", "webstack_chat_count": 1},
    "bot": {"bot_access_token": "fault-test-token-0123456789", "bot_channel_secret": "fault-test-secret-0123456789"},
}
ROLES = {
    "rails": {"network", "domain", "security_groups", "database", "backup", "storage", "compute", "loadbalancer"},
    "sorry": {"network", "domain", "security_groups", "sorry_pages", "compute", "storage", "loadbalancer"},
    "chat": {"network", "domain", "security_groups", "cache", "backup", "compute", "storage", "loadbalancer"},
    "bot": {"network", "domain", "security_groups", "storage", "parameters", "ecr", "image", "loadbalancer", "ecs"},
}
# What a plain teardown keeps as data: the bot's image repository (ecr keeps_data), and the log
# bucket of the kinds with an uploads bucket (its server access logs, which the emulator delivers, are
# in it). Sorry and chat have the log bucket alone, for the ALB's access logs, which the emulator
# never writes: empty, it goes with a plain teardown.
LOGS = "{}-logs-123456789012-ap-northeast-1"
KEPT = {
    "rails": lambda stack: {"s3": [LOGS.format(stack)]},
    "bot": lambda stack: {"ecr": [f"{stack}/bot"], "s3": [LOGS.format(stack)]},
}
SELECTED = os.environ.get("WEBSTACK_TEST_FAULT_KINDS", "rails").split(",")


def lifecycle(emulator, kind: str, tmp_path) -> dict:
    """Provision a stack of the kind, provision it again (--diff: what changed shows), tear it
    down; returns the three runs and what the teardown left."""
    stack = f"faulty{kind}"
    extra = {**stack_vars(stack, tmp_path / kind), "webstack_kind": kind, **KINDS[kind]}
    first = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    if first.rc != 0:
        return {"first": first}
    second = run_playbook(PROVISION, "--diff", env=emulator.env, extra_vars=extra)
    gone = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    left = stack_leftovers(emulator, stack)
    return {"first": first, "second": second, "gone": gone, "left": left, "kept": KEPT.get(kind, lambda _: {})(stack)}


def test_reduced_stacks_of_each_kind_survive_throttling_errors_and_lag(tmp_path):
    log = tmp_path / "faults.jsonl"
    faults = {
        "WEBSTACK_EMULATOR_FAULT_THROTTLE": "0.10",
        "WEBSTACK_EMULATOR_FAULT_ERROR": "0.02",
        "WEBSTACK_EMULATOR_FAULT_LAG": "5",
        "WEBSTACK_EMULATOR_FAULT_SEED": SEED,
        "WEBSTACK_EMULATOR_FAULT_LOG": str(log),
    }
    # the kinds side by side, in one faulty emulator: the runs mostly wait (lag, backoff)
    with running_emulator(tmp_path, MOTO_ACM_VALIDATION_WAIT="1", **faults) as emulator:
        with concurrent.futures.ThreadPoolExecutor(len(SELECTED)) as pool:
            futures = {kind: pool.submit(lifecycle, emulator, kind, tmp_path) for kind in SELECTED}
            results = {kind: future.result() for kind, future in futures.items()}

    for kind, runs in results.items():
        first = runs["first"]
        assert first.rc == 0, f"{kind}: {first.output[-8000:]}"
        assert first.changed > 0
        assert ROLES[kind] <= first.roles, (kind, first.roles)
        second = runs["second"]
        assert second.rc == 0, f"{kind}: {second.output[-8000:]}"
        assert second.changed == 0, f"{kind}: {second.output[-8000:]}"
        gone = runs["gone"]
        assert gone.rc == 0, f"{kind}: {gone.output[-8000:]}"
        assert runs["left"] == runs["kept"], (kind, runs["left"])
        print(f"\n{kind}: changed (provision, again, teardown): {first.changed, second.changed, gone.changed}")

    counts = Counter(json.loads(line)["fault"] for line in log.read_text().splitlines())
    record_load(f"faults injected (seed {SEED}) into {', '.join(SELECTED)}: provision, again, teardown", dict(counts))
    for fault in ("throttle", "error", "lag"):
        assert counts[fault] > 0, counts
