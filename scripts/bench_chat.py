#!/usr/bin/env python3
"""make bench-chat: the chat servers under 200 WebSocket clients, two ways.

Loopback (make bench-chat-local): two chat servers and one Redis started here, all on 127.0.0.1,
plain ws://. Through a twin (make bench-chat-twin, --url): every client connects to the local
twin's load balancer (HAProxy in a container, TLS with the stack's own certificate, published on
127.0.0.1), which chooses the server; the chat servers are systemd containers with Redis (TLS) in
another, deployed with their per-connection rate limits lifted (the flat-out phase is a flood).

200 clients (loopback: 100 on each server; through a twin: as its lb spreads them), 10 of them
also senders, 100 messages each (1,000 messages, 200,000 deliveries per phase):
  paced     50 messages/s in all (10,000 deliveries/s): p50/p99 send-to-receive latency, lost;
  flat out  each sender writes its 100 messages as fast as it can: deliveries/s, p99, lost.
The load runs in LOAD_PROCS processes of its own, each reporting its CPU use, next to the servers'
and Redis's (through a twin: the processes of the stack's containers, read from the host's /proc
after `docker top`; "not measured" when that fails), so a saturated load client shows. Every
phase is bounded (count and time) and stops by itself. Loopback, with py-spy installed, one more
flat-out run is sampled to show where a server spends its time. Prints two tables and writes
.webstack/bench-chat.json (loopback) or .webstack/bench-chat-twin.json (twin).

    python scripts/bench_chat.py [--no-profile]
    python scripts/bench_chat.py --url wss://127.0.0.1:PORT/ws --server-name DOMAIN --insecure [--stack NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
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
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "apps" / "chat"
sys.path.insert(0, str(APP / "bench"))

from wsload import client_tls, cpu_seconds, open_client  # noqa: E402

CLIENTS = 200
SENDERS = 10
PER_SENDER = 100
PACED_RATE = 50.0  # messages/s, all senders together
LOAD_PROCS = 2
PHASE_TIMEOUT = {"paced": PER_SENDER * SENDERS / PACED_RATE + 30, "flat": 60}
CONNECT_TIMEOUT = 60  # s for one load process to open all its clients
TARGETS = {"paced_p99_ms": 14, "flat_deliveries_per_s": 45_000, "flat_p99_ms": 1000}


# ---------------------------------------------------------------- one load process
def message(sender_id: int, seq: int) -> str:
    # content: sender:seq:send time (CLOCK_MONOTONIC is one clock for every process on the host)
    return json.dumps({"name": f"bench{sender_id}", "content": f"{sender_id}:{seq}:{time.monotonic_ns()}"})


async def load_main(spec: dict) -> None:
    """spec: targets (where to connect: host, port, path; tls, server_name, insecure, cafile),
    receivers (a target index per client), senders (list of sender ids), mode."""
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

    clients = []

    async def connect_all() -> None:
        tls = {}
        for k, index in enumerate(spec["receivers"]):
            t = spec["targets"][index]
            if t["tls"] and index not in tls:
                tls[index] = client_tls(t["insecure"], t["cafile"])
            clients.append(
                await open_client(
                    t["host"], t["port"], t["path"], make(k), tls=tls.get(index), server_name=t["server_name"]
                )
            )

    try:
        await asyncio.wait_for(connect_all(), CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        print(f"failed: {len(clients)} of {len(spec['receivers'])} clients open: {exc!r}", flush=True)
        for c in clients:
            c.close()
        return
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

    path = "loopback"
    title = "loopback, ws://127.0.0.1"

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.redis_port = free_port()
        self.ports = [free_port(), free_port()]
        self.procs: list[subprocess.Popen] = []
        self.targets = [
            {"host": "127.0.0.1", "port": p, "path": "/ws", "tls": False, "server_name": None, "insecure": False,
             "cafile": None}
            for p in self.ports
        ]  # fmt: skip
        self.cpu_note = ""

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

    def describe(self) -> str:
        return f"redis :{self.redis_port}, servers :{self.ports[0]} :{self.ports[1]}"


# The processes of a twin's containers, by the container's kumo.webstack.twin label (and, for the
# instances, what runs the chat server); the lb's HAProxy is counted too, it does the TLS.
TWIN_PROCESSES = {"ec2": "kumo_chat", "elasticache": "redis-server", "alb": "haproxy"}


class Twin:
    """A deployed chat stack's twin, reached through its lb's URL: nothing to start or stop here.

    CPU of its chat servers, Redis and lb: the containers' processes as the host sees them
    (`docker top` gives host pids; /proc/<pid>/stat their time), a best effort.
    """

    path = "twin"

    def __init__(self, url: str, server_name: str | None, insecure: bool, cafile: str | None, stack: str | None):
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname or not parts.port:
            raise SystemExit(f"bench-chat: --url must be ws[s]://host:port/path, not {url!r}")
        self.url = url
        self.server_name = server_name
        tls = parts.scheme == "wss"
        self.title = f"twin lb {'over TLS' if tls else 'plain'}, {url}" + (f" as {server_name}" if server_name else "")
        self.targets = [
            {"host": parts.hostname, "port": parts.port, "path": parts.path or "/", "tls": tls,
             "server_name": server_name, "insecure": insecure, "cafile": cafile}
        ]  # fmt: skip
        self.stack = stack
        self.pids: dict[str, list[int]] = {}
        self.cpu_note = ""

    def __enter__(self) -> Twin:
        try:
            self.pids = self.find_pids()
            self.cpu()
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            self.pids = {}
            self.cpu_note = f"servers not measured ({exc})"
        if not self.pids and not self.cpu_note:
            self.cpu_note = f"servers not measured (no containers of stack {self.stack!r})"
        return self

    def __exit__(self, *exc) -> None:
        pass

    def find_pids(self) -> dict[str, list[int]]:
        if not self.stack:
            raise ValueError("no --stack")
        docker = shutil.which("docker")
        if docker is None:
            raise ValueError("no docker command")
        listing = subprocess.run(
            [docker, "ps", "--filter", f"label=kumo.webstack.stack={self.stack}", "--format",
             '{{.Names}}\t{{.Label "kumo.webstack.twin"}}'],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
        pids = {}
        for line in sorted(listing.splitlines()):
            name, _, kind = line.partition("\t")
            wanted = TWIN_PROCESSES.get(kind)
            if wanted is None:
                continue
            top = subprocess.run(
                [docker, "top", name, "-eo", "pid,args"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.splitlines()[1:]
            found = [int(row.split(None, 1)[0]) for row in top if wanted in row.split(None, 1)[1]]
            if found:
                # the stack's prefix off: chat-1, chat-2, redis, lb
                pids[name.removeprefix(f"{self.stack}-")] = found
        return pids

    def cpu(self) -> dict[str, float]:
        try:
            return {label: sum(cpu_seconds(pid) for pid in pids) for label, pids in self.pids.items()}
        except OSError as exc:  # a process went away (a restart): its time is lost, say so
            self.cpu_note = f"servers not measured ({exc})"
            return {}

    def describe(self) -> str:
        seen = ", ".join(f"{k} ({len(v)} process{'es' if len(v) > 1 else ''})" for k, v in self.pids.items())
        return f"through {self.url}" + (f"; CPU of {seen}" if seen else f"; {self.cpu_note}")


def stop_all(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


def run_phase(stack: Stack | Twin, mode: str, profile_to: Path | None = None) -> dict:
    specs = []
    n_targets = len(stack.targets)
    for n in range(LOAD_PROCS):
        receivers = [k % n_targets for k in range(n * CLIENTS // LOAD_PROCS, (n + 1) * CLIENTS // LOAD_PROCS)]
        senders = list(range(n * SENDERS // LOAD_PROCS, (n + 1) * SENDERS // LOAD_PROCS))
        specs.append({"targets": stack.targets, "receivers": receivers, "senders": senders, "mode": mode})
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
        line = p.stdout.readline().strip()
        if line != "ready":
            stop_all(procs)
            raise SystemExit(f"bench-chat: {mode}: a load process failed to connect: {line or 'it exited'}")
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
    lines = [p.stdout.readline() for p in procs]  # each process stops by itself (PHASE_TIMEOUT)
    if not all(lines):
        stop_all(procs)
        raise SystemExit(f"bench-chat: {mode}: a load process exited without its results")
    results = [json.loads(line) for line in lines]
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
        "path": stack.path,
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
            **{k: round(cpu1[k] - cpu0[k], 2) for k in cpu0 if k in cpu1},
            **{f"load{i + 1}": round(r["cpu_s"], 2) for i, r in enumerate(results)},
        },
        "cpu_note": stack.cpu_note,
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
    text = ", ".join(f"{k} {v:.2f}s ({100 * v / wall:.0f}%)" for k, v in phase["cpu_s"].items())
    return text + (f"; {phase['cpu_note']}" if phase["cpu_note"] else "")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--no-profile", action="store_true", help="no py-spy run (loopback; never through a twin)")
    parser.add_argument("--url", help="through a twin: its lb's WebSocket URL, e.g. wss://127.0.0.1:8443/ws")
    parser.add_argument("--server-name", help="TLS SNI and Host header (the stack's domain)")
    parser.add_argument("--insecure", action="store_true", help="do not verify the lb's certificate")
    parser.add_argument("--cafile", help="verify the lb's certificate against this PEM")
    parser.add_argument(
        "--stack", help="the twin's stack name, for its containers' CPU (default: --server-name's first label)"
    )
    args = parser.parse_args(argv)
    if args.url is None and (args.server_name or args.insecure or args.cafile or args.stack):
        parser.error("--server-name, --insecure, --cafile and --stack go with --url")
    if args.stack is None and args.server_name:
        args.stack = args.server_name.split(".", 1)[0]
    return args


def main() -> int:
    if sys.argv[1:2] == ["--load"]:
        asyncio.run(load_main(json.loads(sys.argv[2])))
        return 0
    args = parse_args(sys.argv[1:])
    twin = args.url is not None
    profile = not twin and not args.no_profile and shutil.which("py-spy") is not None
    with contextlib.ExitStack() as ctx:
        if twin:
            stack = ctx.enter_context(Twin(args.url, args.server_name, args.insecure, args.cafile, args.stack))
        else:
            tmp = ctx.enter_context(tempfile.TemporaryDirectory(prefix="bench-chat-"))
            stack = ctx.enter_context(Stack(Path(tmp)))
        load_avg = os.getloadavg()
        print(
            f"bench-chat: load average before {load_avg[0]:.2f} (other work on this machine skews latency)\n"
            f"bench-chat: {stack.path}: {stack.describe()}\n"
            f"bench-chat: {CLIENTS} clients in {LOAD_PROCS} load processes, {SENDERS} senders x {PER_SENDER} messages",
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
        f"Paced ({stack.title}): {PACED_RATE:.0f} messages/s x {CLIENTS} clients = "
        f"{PACED_RATE * CLIENTS:,.0f} deliveries/s",
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
        f"Flat out ({stack.title}): every sender as fast as it can",
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
    for phase in (paced, flat):
        if phase["error_frames"]:
            print(f"\n{phase['mode']}: error frames from the server, e.g. {phase['error_frames'][0]}")
    out = ROOT / ".webstack" / ("bench-chat-twin.json" if twin else "bench-chat.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "path": stack.path,
                "url": args.url,
                "server_name": args.server_name,
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
