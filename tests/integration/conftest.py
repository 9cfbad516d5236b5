"""Integration fixtures: the embedded AWS emulator and a runner for our playbooks.

The emulator is started once per session on a free port of 127.0.0.1 (never the demo's
port, so `make test` and a running `make demo` do not disturb each other).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-northeast-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Emulator:
    url: str
    port: int

    @property
    def env(self) -> dict[str, str]:
        """Environment for a child process (ansible-playbook, boto3) aimed at the emulator."""
        env = dict(os.environ)
        for name in ("AWS_PROFILE", "AWS_URL", "EC2_URL"):
            env.pop(name, None)
        env.update(
            AWS_ENDPOINT_URL=self.url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_SESSION_TOKEN="testing",
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION=REGION,
            WEBSTACK_EMULATOR_PORT=str(self.port),
        )
        return env

    def client(self, service: str, region: str = REGION):
        # standard retries, 10 attempts: an emulator in fault mode throttles the tests' reads too
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"mode": "standard", "max_attempts": 10}),
        )


@contextlib.contextmanager
def running_emulator(log_dir: Path, **extra_env: str):
    """Start scripts/emulator.py on a free port of 127.0.0.1 (extra_env: test hooks, ACM wait),
    wait until it answers, yield its Emulator, stop it."""
    port = _free_port()
    log = log_dir / "moto.log"
    env = dict(os.environ, **extra_env)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "emulator.py"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    # moto's server starts in 3-8 s here; 180 s is a hang guard for a slow, busy machine
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"emulator did not start on {url}:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
    try:
        yield Emulator(url=url, port=port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


# The longest tests first, so the parallel workers (make test-integration: pytest-xdist, --dist
# loadgroup --no-loadscope-reorder, which hands each worker a test or an xdist_group in this
# order) start them at once instead of finding one of them last with the others idle. xdist deals
# the first units one to each worker (TEST_WORKERS, 3), then a second unit to each, held queued
# until the first ends: so ranks 0-2 are the longest, ranks 3-5 short ones (nothing long waits
# behind a long one; with more workers, move more long ones to the front). By call time
# measured at b9500a5 (3 workers on 2 cores, s): the rails e2e test (two stacks side by side:
# 1,836), the chat stack (1,122), the bot stack (908), the whole stack (585), the twin (496), the
# load balancer's second stack (408), the sorry stack (286), compute (278). The rest keeps its
# file order.
LONGEST_FIRST = (
    "test_rails_twin.py::",
    "test_chat_stack.py::",
    "test_bot_stack.py::",
    "test_faults.py::",
    "test_network.py::test_check_mode",
    "test_domain.py::test_ambiguous",
    "test_module_targets.py::test_target[scheduler_schedule_group]",
    "test_stack.py::test_whole_stack",
    "test_stack.py::test_teardown_takes",
    "test_twin.py::",
    "test_loadbalancer.py::test_ip_group",
    "test_sorry_twin.py::",
    "test_compute.py::test_instances",
    "test_sorry_pages.py::test_sorry_pages",
    "test_ecs.py::test_ecs",
    "test_bad_input.py::",
    "test_database.py::test_bad_input",
    "test_storage.py::test_bad_input",
    "test_domain.py::test_bad_input",
    "test_compute.py::test_bad_input",
    "test_security_groups.py::test_bad_input",
    "test_loadbalancer.py::test_load_balancer",
    "test_database.py::test_database",
    "test_security_groups.py::test_security_groups_are_wired",
    "test_storage.py::test_bucket",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        return next((i for i, part in enumerate(LONGEST_FIRST) if part in item.nodeid), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the rest keeps its order


def pytest_runtest_setup(item):
    """Under `--dist loadgroup`, xdist groups tests by an `@<group>` suffix its worker adds to each
    marked test's node id. pytest 9.2 ignores that change (pytest-xdist#1386): every test of a
    group then goes to whichever worker is free, and a group's module fixture (a bad-input batch,
    one ansible-playbook run) runs again on each worker and after each interleaved test. That went
    unseen from 6fe7af9 to this check (test_bad_input's network batch ran 2-3 times per stage).
    Fail such a test with the reason instead of silently losing the grouping."""
    if (
        os.environ.get("PYTEST_XDIST_WORKER")
        and item.config.getvalue("loadgroup")
        and item.get_closest_marker("xdist_group")
        and "@" not in item.nodeid.rsplit("]", 1)[-1]
    ):
        pytest.fail(
            f"--dist loadgroup is not grouping: {item.nodeid} has an xdist_group mark but no @<group> suffix "
            "(pytest-xdist#1386: pytest 9.2 with xdist 3.8); use requirements-dev.txt's pytest pin",
            pytrace=False,
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """With WEBSTACK_TEST_CPU_LOG=<file>: append each test's wall seconds and the CPU seconds of
    this worker and the processes it waited for (ansible-playbook and its modules; not the
    containers, not a session emulator before it stops) as a JSON line, to see where a run's CPU
    goes. Setup counts too: a session fixture is charged to the first test that uses it."""
    log = os.environ.get("WEBSTACK_TEST_CPU_LOG")
    if not log:
        yield
        return
    started, before = time.monotonic(), os.times()
    yield
    after = os.times()
    cpu = sum(getattr(after, f) - getattr(before, f) for f in ("user", "system", "children_user", "children_system"))
    line = {
        "test": item.nodeid,
        "wall": round(time.monotonic() - started, 1),
        "cpu": round(cpu, 1),
        # when it started and on which worker: the stage's timeline (who waited on whom)
        "start": round(time.time() - (time.monotonic() - started), 1),
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
    }
    with open(log, "a") as out:
        out.write(json.dumps(line) + "\n")


_RUNNING: list = []  # the test this process runs now (one at a time, under xdist too)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    _RUNNING.append(item)
    try:
        yield
    finally:
        _RUNNING.remove(item)


def record_load(label: str, result: dict) -> None:
    """Report what a load run (scripts/load.py's result) or a traffic check of the running test
    saw: printed with the test's output, and listed at the end of the whole run (under xdist too,
    through the report's user_properties), so a green run still shows how many requests each
    deploy, switch or teardown met and what they were answered."""
    print(f"\n{label}: {json.dumps(result)}")
    if _RUNNING:
        _RUNNING[-1].user_properties.append(("load", (label, result)))


def _load_line(label: str, result: dict) -> str:
    if "statuses" not in result:
        return f"{label}: {json.dumps(result)[:400]}"
    statuses = ", ".join(f"{code}: {count}" for code, count in result["statuses"].items())
    latency = result.get("latency_ms") or {}
    failures = f" {result['failures']}" if result.get("failures") else ""
    return (
        f"{label}: {result.get('requests')} requests in {result.get('seconds')} s, failed {result.get('failed')}"
        f"{failures}, statuses {{{statuses}}}, p50 {latency.get('p50')} ms, p99 {latency.get('p99')} ms"
    )


def pytest_terminal_summary(terminalreporter):
    rows = [
        (report.nodeid.split("::")[-1], *value)
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == "load"
    ]
    if rows:
        terminalreporter.section("traffic during the tests (record_load)")
        for test, label, result in rows:
            terminalreporter.write_line(f"{test} | {_load_line(label, result)}")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    with running_emulator(tmp_path_factory.mktemp("emulator"), MOTO_ACM_VALIDATION_WAIT="1") as running:
        yield running


RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


ROLE_TASK = re.compile(r"^TASK \[kumo\.webstack\.(\w+) : ", re.MULTILINE)


@dataclass
class PlaybookRun:
    rc: int
    output: str

    def recap(self, host: str = "localhost") -> dict[str, int]:
        for match in RECAP.finditer(self.output):
            if match["host"] == host:
                return {k: int(v) for k, v in match.groupdict().items() if k != "host"}
        raise AssertionError(f"no PLAY RECAP line for {host}:\n{self.output[-3000:]}")

    @property
    def changed(self) -> int:
        return self.recap()["changed"]

    @property
    def roles(self) -> set[str]:
        """The collection's roles that ran a task (a skipped one counts: its header is printed)."""
        return set(ROLE_TASK.findall(self.output))


# Hang guards for run_playbook, not speed checks. The longest single run measured here: a first
# provision of the whole stack, 77 s idle and 150 s on a machine at half speed; a bad input
# fails in 5-10 s (ansible-playbook's own start). Each bound is 10x or more.
PLAYBOOK_TIMEOUT = 1800
FAIL_FAST_TIMEOUT = 300


def run_playbook(
    playbook,
    *args,
    env=None,
    extra_vars=None,
    cwd=ROOT,
    timeout=PLAYBOOK_TIMEOUT,
    ansible_playbook=None,
    terminate_at_task=None,
) -> PlaybookRun:
    """Run ansible-playbook from the checkout (its ansible.cfg) and capture everything.
    ansible_playbook: another environment's ansible-playbook (default: this interpreter's).
    terminate_at_task: send ansible-playbook SIGTERM when it starts its Nth task (a killed run)."""
    cmd = [str(ansible_playbook or Path(sys.executable).parent / "ansible-playbook"), str(playbook), *args]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    run_env = dict(env or os.environ)
    run_env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    run_env["ANSIBLE_FORCE_COLOR"] = "0"
    run_env["ANSIBLE_NOCOLOR"] = "1"
    # WEBSTACK_TEST_MITOGEN_CPUS=0,1 (the Makefile's TEST_MITOGEN_CPUS): the CPUs the xdist workers'
    # playbook runs keep to, worker N to the Nth in turn, under the Makefile's strategy (its
    # WEBSTACK_MITOGEN_CPU)
    cpus = [c for c in os.environ.get("WEBSTACK_TEST_MITOGEN_CPUS", "").split(",") if c.isdigit()]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if cpus and worker[2:].isdigit():
        run_env.setdefault("WEBSTACK_MITOGEN_CPU", cpus[int(worker[2:]) % len(cpus)])
    started = time.monotonic()
    proc, cpu = _run_measured(cmd, cwd, run_env, timeout, terminate_at_task)
    log = os.environ.get("WEBSTACK_TEST_CPU_LOG")
    if log:  # each run too, beside its test's line (a test's threads run playbooks side by side)
        line = {
            "run": Path(playbook).name,
            "args": [a for a in args if a.startswith("--")],
            "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
            "wall": round(time.monotonic() - started, 1),
            "cpu": round(cpu, 1),
        }
        with open(log, "a") as out:
            out.write(json.dumps(line) + "\n")
    keep = os.environ.get("WEBSTACK_TEST_PLAYBOOK_LOGS")
    if keep:  # each run's whole output, for profiling (ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks)
        name = f"{time.strftime('%H%M%S')}-{os.getpid()}-{Path(playbook).stem}-{time.monotonic() - started:.0f}s.log"
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / name).write_text(" ".join(cmd) + "\n" + proc.stdout)
    return PlaybookRun(rc=proc.returncode, output=proc.stdout)


def _run_measured(cmd, cwd, env, timeout, terminate_at_task=None) -> tuple[subprocess.CompletedProcess, float]:
    """subprocess.run's capture and timeout, plus the CPU seconds of this run alone (the process
    and what it waited for, from wait4: the e2e test runs playbooks in two threads at once).
    terminate_at_task: SIGTERM when the Nth task header is printed, as a CI job's timeout would."""
    timed_out = threading.Event()
    with subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:

        def kill():
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            if terminate_at_task:
                lines, tasks = [], 0
                for line in proc.stdout:
                    lines.append(line)
                    if line.startswith("TASK ["):
                        tasks += 1
                        if tasks == terminate_at_task:
                            proc.terminate()
                output = "".join(lines)
            else:
                output = proc.stdout.read()
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    if timed_out.is_set():
        raise subprocess.TimeoutExpired(cmd, timeout, output=output)
    return subprocess.CompletedProcess(cmd, proc.returncode, output), usage.ru_utime + usage.ru_stime


@pytest.fixture
def playbook():
    return run_playbook


def provision_converges(playbook, env, extra_vars) -> PlaybookRun:
    """Run ``playbook`` three times: it changes something, then nothing, then ``--check --diff``
    predicts nothing. Returns the first run."""
    first = run_playbook(playbook, env=env, extra_vars=extra_vars)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    second = run_playbook(playbook, env=env, extra_vars=extra_vars)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-6000:]
    check = run_playbook(playbook, "--check", "--diff", env=env, extra_vars=extra_vars)
    assert check.rc == 0, check.output[-6000:]
    assert check.changed == 0, check.output[-6000:]
    return first


@pytest.fixture(scope="session")
def dead_endpoint_env():
    """Environment whose AWS endpoint is a closed port on 127.0.0.1: a task that reached the
    API would fail with a connection error, not with the validation message a test asserts."""
    port = _free_port()
    env = dict(os.environ)
    env.update(
        WEBSTACK_EMULATOR_PORT=str(port),
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_MAX_ATTEMPTS="1",
    )
    return env


@pytest.fixture(scope="session")
def shared_base(emulator, tmp_path_factory) -> dict:
    """A network and the rails security groups in it, built once per test worker (each worker has
    its own emulator) by tests/integration/playbooks/security_groups.yml, for the role tests that
    need something to stand on but do not test it: they run their role alone on it, given these
    outputs, and tear down only their role. The network and security_groups roles have their own
    tests (creation, idempotence, --check, teardown); test_stack.py composes them all.

    Returns {"network_outputs": ..., "security_groups_outputs": ..., "stack": "shared"}. Nothing
    tears it down: the worker's emulator goes with it. A test must not change or delete it."""
    state = tmp_path_factory.mktemp("shared-base")
    extra = {
        "webstack_name": "shared",
        "webstack_state_dir": str(state),
        "webstack_admin_cidrs": ["198.51.100.0/24"],
    }
    run = run_playbook(
        ROOT / "tests" / "integration" / "playbooks" / "security_groups.yml", env=emulator.env, extra_vars=extra
    )
    assert run.rc == 0, run.output[-6000:]
    out = json.loads((state / "security_groups.json").read_text())
    return {"network_outputs": out["network"], "security_groups_outputs": out["security_groups"], "stack": "shared"}
