#!/usr/bin/env python3
"""make bench-chat: two chat servers and one Redis on this machine, all on 127.0.0.1.

200 clients (100 on each server), 10 of them also senders, 100 messages each (1,000 messages,
200,000 deliveries per phase):
  paced     50 messages/s in all (10,000 deliveries/s): p50/p99 send-to-receive latency, lost;
  flat out  each sender writes its 100 messages as fast as it can: deliveries/s, p99, lost.
The load runs in LOAD_PROCS processes of its own, each reporting its CPU use, next to the servers'
and Redis's, so a saturated load client shows. Every phase is bounded (count and time) and stops
by itself. With py-spy installed, one more flat-out run is sampled to show where a server spends
its time. Prints two tables and writes .webstack/bench-chat.json.

    python scripts/bench_chat.py [--no-profile]
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "apps" / "chat"
sys.path.insert(0, str(APP / "bench"))

from wsload import cpu_seconds, open_client  # noqa: E402

CLIENTS = 200
SENDERS = 10
PER_SENDER = 100
PACED_RATE = 50.0  # messages/s, all senders together
LOAD_PROCS = 2
PHASE_TIMEOUT = {"paced": PER_SENDER * SENDERS / PACED_RATE + 30, "flat": 60}
TARGETS = {"paced_p99_ms": 14, "flat_deliveries_per_s": 45_000, "flat_p99_ms": 1000}


# ---------------------------------------------------------------- one load process
def message(sender_id: int, seq: int) -> str:
    # content: sender:seq:send time (CLOCK_MONOTONIC is one clock for every process on the host)
    return json.dumps({"name": f"bench{sender_id}", "content": f"{sender_id}:{seq}:{time.monotonic_ns()}"})


async def load_main(spec: dict) -> None:
    """spec: ports, receivers (list of server indexes), senders (list of sender ids), mode."""
    expected = SENDERS * PER_SENDER
    latencies: list[int] = []
    seen: list[set] = []
    dups = 0
    errors: list[str] = []
    done = asyncio.Event()
    complete = 0
    first_recv = last_recv = 0

    def make(k: int):
        got = set()
        seen.append(got)

        def on_text(data: bytes) -> None:
            nonlocal dups, complete, first_recv, last_recv
            now = time.monotonic_ns()
            i = data.find(b'"content":"') + 11
            if i == 10:
                errors.append(data[:200].decode(errors="replace"))  # an error frame
                return
            sender, seq, sent = data[i : data.index(b'"', i)].split(b":")
            key = (int(sender), int(seq))
            if key in got:
                dups += 1
                return
            got.add(key)
            latencies.append((now - int(sent)) // 1000)
            first_recv = first_recv or now
            last_recv = now
            if len(got) == expected:
                complete += 1
                if complete == len(spec["receivers"]):
                    done.set()

        return on_text

    ports = spec["ports"]
    clients = []
    for k, server in enumerate(spec["receivers"]):
        clients.append(await open_client("127.0.0.1", ports[server], "/ws", make(k)))
    senders = clients[: len(spec["senders"])]  # the first clients of this process also send
    print("ready", flush=True)
    start_ns = int(sys.stdin.readline())
    cpu0 = cpu_seconds()
    while time.monotonic_ns() < start_ns:
        await asyncio.sleep((start_ns - time.monotonic_ns()) / 1e9)

    async def send_paced(client, sender_id: int, offset: float) -> None:
        interval = SENDERS / PACED_RATE  # each sender: 5 messages/s
        for seq in range(PER_SENDER):
            at = start_ns + int((offset + seq * interval) * 1e9)
            delay = (at - time.monotonic_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            client.send_text(message(sender_id, seq))

    async def send_flat(client, sender_id: int) -> None:
        for seq in range(PER_SENDER):
            client.send_text(message(sender_id, seq))
            if seq % 10 == 9:
                await asyncio.sleep(0)  # let the other senders of this process in

    if spec["mode"] == "paced":
        tasks = [
            send_paced(c, sid, sid / PACED_RATE)  # senders staggered over the 0.2 s round
            for c, sid in zip(senders, spec["senders"], strict=True)
        ]
    else:
        tasks = [send_flat(c, sid) for c, sid in zip(senders, spec["senders"], strict=True)]
    await asyncio.gather(*tasks)
    try:
        await asyncio.wait_for(done.wait(), PHASE_TIMEOUT[spec["mode"]])
    except TimeoutError:
        pass
    cpu = cpu_seconds() - cpu0
    lost = sum(expected - len(g) for g in seen)
    for c in clients:
        c.close()
    out = {
        "latencies_us": latencies,
        "lost": lost,
        "dups": dups,
        "cpu_s": cpu,
        "first_recv_ns": first_recv,
        "last_recv_ns": last_recv,
        "received": sum(len(g) for g in seen),
        "errors": errors[:5],
    }
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- the driver
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench-chat: {url} did not answer in {timeout}s")


def percentile(sorted_values: list[int], p: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


class Stack:
    """redis-server and two chat servers on loopback ports; stopped on exit."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.redis_port = free_port()
        self.ports = [free_port(), free_port()]
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> Stack:
        redis_exe = shutil.which("redis-server") or sys.exit("bench-chat: redis-server is not installed")
        self.redis = subprocess.Popen(
            [redis_exe, "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        self.procs.append(self.redis)
        self.servers = []
        for port in self.ports:
            env = {
                **os.environ,
                "PYTHONPATH": str(APP),
                "CHAT_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "CHAT_PORT": str(port),
                "CHAT_BIND": "127.0.0.1",
                "CHAT_STREAM": "bench:messages",
                # the flat-out phase is a deliberate flood: lift the per-connection rate limit
                "CHAT_RATE_PER_SEC": "100000",
                "CHAT_RATE_BURST": "100000",
                "CHAT_LOG_LEVEL": "WARNING",
            }
            log = open(self.tmp / f"chat-{port}.log", "wb")
            proc = subprocess.Popen([sys.executable, "-m", "kumo_chat"], env=env, stderr=log, cwd=APP)
            self.procs.append(proc)
            self.servers.append(proc)
        for port in self.ports:
            wait_http(f"http://127.0.0.1:{port}/healthz")
        return self

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()

    def cpu(self) -> dict[str, float]:
        out = {f"server{i + 1}": cpu_seconds(p.pid) for i, p in enumerate(self.servers)}
        out["redis"] = cpu_seconds(self.redis.pid)
        return out


def run_phase(stack: Stack, mode: str, profile_to: Path | None = None) -> dict:
    specs = []
    for n in range(LOAD_PROCS):
        receivers = [k % 2 for k in range(n * CLIENTS // LOAD_PROCS, (n + 1) * CLIENTS // LOAD_PROCS)]
        senders = list(range(n * SENDERS // LOAD_PROCS, (n + 1) * SENDERS // LOAD_PROCS))
        specs.append({"ports": stack.ports, "receivers": receivers, "senders": senders, "mode": mode})
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--load", json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for spec in specs
    ]
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            raise SystemExit("bench-chat: a load process failed to connect")
    spy = None
    if profile_to is not None:
        spy = subprocess.Popen(
            ["py-spy", "record", "--format", "raw", "--rate", "200", "-o", str(profile_to), "--pid",
             str(stack.servers[0].pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)  # py-spy attaches
    cpu0 = stack.cpu()
    start = time.monotonic_ns() + 300_000_000
    for p in procs:
        p.stdin.write(f"{start}\n")
        p.stdin.flush()
    results = [json.loads(p.stdout.readline()) for p in procs]
    for p in procs:
        p.wait(30)
    cpu1 = stack.cpu()
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
    lat = sorted(x for r in results for x in r["latencies_us"])
    last = max(r["last_recv_ns"] for r in results)
    wall = (last - start) / 1e9 if last else float("nan")
    received = sum(r["received"] for r in results)
    return {
        "mode": mode,
        "clients": CLIENTS,
        "messages": SENDERS * PER_SENDER,
        "expected_deliveries": SENDERS * PER_SENDER * CLIENTS,
        "received": received,
        "lost": sum(r["lost"] for r in results),
        "duplicates": sum(r["dups"] for r in results),
        "error_frames": [e for r in results for e in r["errors"]][:5],
        "wall_s": wall,
        "deliveries_per_s": received / wall if wall > 0 else 0.0,
        "p50_ms": percentile(lat, 50) / 1000,
        "p99_ms": percentile(lat, 99) / 1000,
        "max_ms": (lat[-1] / 1000) if lat else float("nan"),
        "cpu_s": {
            **{k: round(cpu1[k] - cpu0[k], 2) for k in cpu0},
            **{f"load{i + 1}": round(r["cpu_s"], 2) for i, r in enumerate(results)},
        },
    }


def summarize_profile(path: Path, top: int = 12) -> list[tuple[str, float]]:
    """Self time per function from py-spy's collapsed stacks (the leaf frame of each sample)."""
    leaf: collections.Counter = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frame = stack.split(";")[-1]
        leaf[frame.split(" (")[0] + " (" + frame.split(" (")[-1].split("/")[-1]] += int(count)
        total += int(count)
    return [(f, 100.0 * c / total) for f, c in leaf.most_common(top)] if total else []


def table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}")
    print("-" * (width + 30))
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")


def cpu_text(phase: dict) -> str:
    wall = phase["wall_s"]
    return ", ".join(f"{k} {v:.2f}s ({100 * v / wall:.0f}%)" for k, v in phase["cpu_s"].items())


def main() -> int:
    if sys.argv[1:2] == ["--load"]:
        asyncio.run(load_main(json.loads(sys.argv[2])))
        return 0
    profile = "--no-profile" not in sys.argv and shutil.which("py-spy") is not None
    with tempfile.TemporaryDirectory(prefix="bench-chat-") as tmp, Stack(Path(tmp)) as stack:
        load_avg = os.getloadavg()
        print(
            f"bench-chat: load average before {load_avg[0]:.2f} (other work on this machine skews latency)\n"
            f"bench-chat: redis :{stack.redis_port}, servers :{stack.ports[0]} :{stack.ports[1]}, "
            f"{CLIENTS} clients in {LOAD_PROCS} load processes, {SENDERS} senders x {PER_SENDER} messages",
            flush=True,
        )
        paced = run_phase(stack, "paced")
        flat = run_phase(stack, "flat")
        hot = []
        if profile:
            prof = Path(tmp) / "server1.txt"
            run_phase(stack, "flat", profile_to=prof)
            hot = summarize_profile(prof) if prof.exists() else []
    table(
        f"Paced: {PACED_RATE:.0f} messages/s x {CLIENTS} clients = {PACED_RATE * CLIENTS:,.0f} deliveries/s",
        [
            ("deliveries", f"{paced['received']:,} of {paced['expected_deliveries']:,}"),
            ("lost / duplicates", f"{paced['lost']} / {paced['duplicates']}"),
            ("latency p50", f"{paced['p50_ms']:.2f} ms"),
            ("latency p99", f"{paced['p99_ms']:.2f} ms   (target <= {TARGETS['paced_p99_ms']} ms)"),
            ("latency max", f"{paced['max_ms']:.2f} ms"),
            ("CPU", cpu_text(paced)),
        ],
    )
    table(
        "Flat out: every sender as fast as it can",
        [
            ("deliveries", f"{flat['received']:,} of {flat['expected_deliveries']:,} in {flat['wall_s']:.2f} s"),
            (
                "deliveries/s",
                f"{flat['deliveries_per_s']:,.0f}   (target >= {TARGETS['flat_deliveries_per_s']:,})",
            ),
            ("lost / duplicates", f"{flat['lost']} / {flat['duplicates']}"),
            ("latency p50", f"{flat['p50_ms']:.1f} ms"),
            ("latency p99", f"{flat['p99_ms']:.1f} ms   (target <= {TARGETS['flat_p99_ms']} ms)"),
            ("CPU", cpu_text(flat)),
        ],
    )
    if hot:
        table("Where server 1 spends its time, flat out (py-spy, self time)", [(f, f"{p:.1f}%") for f, p in hot])
    out = ROOT / ".webstack" / "bench-chat.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "load_average_before": load_avg,
                "paced": paced,
                "flat": flat,
                "profile_self_pct": hot,
                "targets": TARGETS,
            },
            indent=2,
        )
    )
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
