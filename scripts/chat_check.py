#!/usr/bin/env python3
"""End-to-end check of a deployed chat stack, through its load balancer (apps/chat/README.md).

    chat_check.py pinned --url wss://127.0.0.1:8443/ws [common options] [--cookie-name AWSALB] [--attempts 10]
    chat_check.py stream --url wss://127.0.0.1:8443/ws [common options] [--clients 50] [--rate 10]
                         [--until-file PATH] [--max-seconds 300] [--settle-seconds 15] [--resend-grace 10]

common options: --insecure (no TLS verification), --cafile PEM, --server-name NAME (TLS SNI,
certificate name and Host header; the TCP connection still goes to the URL's host and port),
--origin ORIGIN (Origin header), --timeout SECONDS (bound for each step, default 15).

pinned: two servers behind a cookie-sticky lb share messages. Client A connects and the lb's
cookie (value: the server's id) is read from the handshake response; B connects (without a cookie)
until its cookie differs from A's; then A' and B' connect pinned (`Cookie: NAME=VALUE`) and must
stay where they were pinned; A' sends and B' receives, B' sends and A' receives. The cookie value
must name the server (HAProxy `cookie NAME insert`): an lb whose cookie value changes on every
response (AWS ALB's own AWSALB) cannot be checked this way.

stream: every client gets every message exactly once, in order, through a rolling restart.
--clients receivers connect through the lb; when all are connected (and got a start message),
`READY <n>` is written to stderr: start the restart then. One sender sends "<run>:1", "<run>:2", ...
at --rate, each only after its own echo of the previous one came back. Every connection that
closes (1001 from a draining server, an error) reconnects through the lb with backoff (0.2 s
doubling to 2 s) to /ws?last_id=<the last id it received>. A sender whose connection dropped
before the echo resends only when the message has not come back within --resend-grace (default
10 s, the chat server's drain timeout: a message the old server accepted is stored by then or
never). Sending stops when --until-file exists (or at --max-seconds: a failure when --until-file
was given); then every client must hold 1..K exactly once, in order, with strictly
increasing stream ids (waiting at most --settle-seconds for stragglers).

Every received message is checked: exactly the keys time ("YYYY/MM/DD HH:MM:SS", its seconds those
of the id's milliseconds), name, content, id (a Redis stream id "ms-seq"); ours must carry the
content that was sent. Messages from other users are checked but not counted.

Output: one line of JSON on stdout ({"check", "ok", "reason", ...}); exit 0 when the check holds,
1 when it does not, 2 for bad arguments. Everything is bounded in time: a hung check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import secrets
import ssl
import sys
import time
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

NAME = "chat-check"
TIME_RE = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}$")
ID_RE = re.compile(r"^\d{1,20}-\d{1,20}$")
KEYS = {"time", "name", "content", "id"}
BACKOFF_MIN, BACKOFF_MAX = 0.2, 2.0  # seconds between reconnection attempts, doubling
RETRYABLE_ERRORS = {"rate_limited", "unavailable"}  # error frames meaning "not stored, send it again"


class UsageError(Exception):
    pass


def id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)


def check_message(msg: object) -> str | None:
    """What is wrong with a received chat message (None: nothing)."""
    if not isinstance(msg, dict):
        return f"not a JSON object: {msg!r:.80}"
    if set(msg) != KEYS:
        return f"keys {sorted(msg)} instead of {sorted(KEYS)}"
    if not all(isinstance(msg[k], str) for k in KEYS):
        return f"non-string values: {msg!r:.120}"
    if not ID_RE.match(msg["id"]):
        return f"id {msg['id']!r} is not a stream id"
    if not TIME_RE.match(msg["time"]):
        return f"time {msg['time']!r} is not YYYY/MM/DD HH:MM:SS"
    # time is the id's milliseconds shown in the server's zone: every zone is a whole number of
    # minutes from UTC, so the seconds agree whatever the zone
    if int(msg["time"][-2:]) != int(msg["id"].partition("-")[0]) // 1000 % 60:
        return f"time {msg['time']!r} does not match id {msg['id']!r}"
    return None


def describe(exc: BaseException) -> str:
    if isinstance(exc, InvalidStatus):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, TimeoutError):
        return "timeout"
    return type(exc).__name__


async def poll(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(step)
    return True


# ---------------------------------------------------------------- where and how to connect
class Target:
    def __init__(self, args: argparse.Namespace) -> None:
        parts = urlsplit(args.url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise UsageError(f"--url must be ws:// or wss://host[:port]/path, not {args.url!r}")
        self.secure = parts.scheme == "wss"
        self.tcp_host = parts.hostname
        self.tcp_port = parts.port or (443 if self.secure else 80)
        netloc = parts.netloc
        if args.server_name:
            netloc = args.server_name if parts.port is None else f"{args.server_name}:{parts.port}"
        self.uri = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        self.origin = args.origin
        self.timeout = args.timeout
        self.ssl: ssl.SSLContext | None = None
        if self.secure:
            self.ssl = ssl.create_default_context(cafile=args.cafile)
            if args.insecure:
                self.ssl.check_hostname = False
                self.ssl.verify_mode = ssl.CERT_NONE

    def url(self, last_id: str | None = None) -> str:
        if not last_id:
            return self.uri
        parts = urlsplit(self.uri)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "last_id"]
        return urlunsplit(parts._replace(query=urlencode([*query, ("last_id", last_id)])))

    def connect(self, last_id: str | None = None, cookie: str | None = None):
        kwargs = {}
        if self.ssl is not None:
            kwargs["ssl"] = self.ssl
        return connect(
            self.url(last_id),
            host=self.tcp_host,  # the TCP destination; the URL's (server-name) host goes in SNI and Host
            port=self.tcp_port,
            proxy=None,  # never a proxy from the environment: the check is of this lb
            origin=self.origin,
            additional_headers={"Cookie": cookie} if cookie else None,
            user_agent_header=f"kumo-{NAME}",
            open_timeout=self.timeout,
            close_timeout=min(self.timeout, 5),
            ping_interval=self.timeout,  # a connection gone silent is noticed and replaced
            ping_timeout=self.timeout,
            max_size=2**20,
            **kwargs,
        )


# ---------------------------------------------------------------- pinned
def cookie_value(ws: ClientConnection, name: str) -> tuple[str | None, list[str]]:
    headers = ws.response.headers.get_all("Set-Cookie")
    value = None
    for header in headers:
        jar = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue
        if name in jar:
            value = jar[name].value
    return value, headers


class CheckFailed(Exception):
    pass


async def expect(ws: ClientConnection, who: str, content: str, timeout: float, run_prefix: str) -> dict:
    """Read on ws until our message with `content` arrives; every message on the way is checked."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise CheckFailed(f"{who} did not receive {content!r} within {timeout:g} s")
        try:
            raw = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            continue
        except ConnectionClosed as exc:
            raise CheckFailed(f"{who}'s connection closed while waiting for {content!r}: {exc}") from None
        try:
            msg = json.loads(raw)
        except ValueError:
            raise CheckFailed(f"{who} received a frame that is not JSON: {raw!r:.80}") from None
        if isinstance(msg, dict) and "error" in msg:
            raise CheckFailed(f"{who} received an error frame: {msg}")
        problem = check_message(msg)
        if problem:
            raise CheckFailed(f"{who}: {problem}")
        if msg["name"] == NAME and msg["content"].startswith(run_prefix):
            if msg["content"] != content:
                raise CheckFailed(f"{who} received {msg['content']!r}, expected {content!r}")
            return msg


async def pinned(args: argparse.Namespace, target: Target, report: dict) -> None:
    name, timeout = args.cookie_name, args.timeout
    prefix = f"{secrets.token_hex(4)}:"
    opened: list[ClientConnection] = []

    async def open_one(who: str, cookie: str | None = None) -> tuple[ClientConnection, str | None]:
        try:
            ws = await target.connect(cookie=cookie)
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise CheckFailed(f"{who} could not connect to {target.uri}: {describe(exc)}: {exc}") from None
        opened.append(ws)
        value, headers = cookie_value(ws, name)
        if cookie is None and value is None:
            raise CheckFailed(f"{who}: no {name} cookie in the handshake response (Set-Cookie: {headers})")
        return ws, value

    try:
        a, cookie_a = await open_one("A")
        cookie_b = None
        for attempt in range(1, args.attempts + 1):
            report["attempts"] = attempt
            b, cookie_b = await open_one(f"B (attempt {attempt})")
            if cookie_b != cookie_a:
                break
            await b.close()
        else:
            raise CheckFailed(
                f"all {args.attempts} connections of B landed on the server of A ({name}={cookie_a}): "
                "the lb does not balance new connections, or only one server is up"
            )
        report["servers"] = [cookie_a, cookie_b]
        pinned_ws = {}
        for who, value in (("A'", cookie_a), ("B'", cookie_b)):
            ws, again = await open_one(who, cookie=f"{name}={value}")
            if again is not None and again != value:
                raise CheckFailed(f"{who}, pinned with {name}={value}, was moved to {name}={again}")
            pinned_ws[who] = ws
        messages = []
        for src, dst in (("A'", "B'"), ("B'", "A'")):
            content = f"{prefix}from {src} to {dst}"
            try:
                await pinned_ws[src].send(json.dumps({"name": NAME, "content": content}))
            except ConnectionClosed as exc:
                raise CheckFailed(f"{src}'s connection closed before sending: {exc}") from None
            got = await expect(pinned_ws[dst], dst, content, timeout, prefix)
            echo = await expect(pinned_ws[src], f"{src} (its own echo)", content, timeout, prefix)
            if echo["id"] != got["id"]:
                raise CheckFailed(f"{src}'s echo has id {echo['id']}, {dst} got {got['id']}")
            messages.append({"from": src, "to": dst, "id": got["id"], "time": got["time"]})
        report["messages"] = messages
        report["ok"] = True
    except CheckFailed as exc:
        report["reason"] = str(exc)
    finally:
        await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)


# ---------------------------------------------------------------- stream
class Peer:
    """One connection of the stream check: reads every message, and when the connection goes it
    reconnects through the lb with backoff, resuming from the last id it received."""

    def __init__(self, check: StreamCheck, label: str, resume: bool = True) -> None:
        self.check, self.label, self.resume = check, label, resume
        self.seqs: list[int] = []  # our sequence numbers in the order received
        self.seen: set[int] = set()
        self.started = False  # got the run's start message
        self.last_id: str | None = None
        self.last_key: tuple[int, int] | None = None
        self.id_regressions = 0
        self.bad: list[str] = []  # protocol problems
        self.error_frames: list[str] = []
        self.connections = 0
        self.connect_failures = 0
        self.close_codes: collections.Counter[str] = collections.Counter()
        self.connect_errors: collections.Counter[str] = collections.Counter()
        self.first_error: str | None = None
        self.crash: str | None = None
        self.ws: ClientConnection | None = None
        self.generation = 0  # which connection self.ws is
        self.stopping = False
        self.changed = asyncio.Event()

    @property
    def reconnects(self) -> int:
        return max(0, self.connections - 1)

    def on_message(self, raw: str | bytes) -> None:
        self.changed.set()
        try:
            msg = json.loads(raw)
        except ValueError:
            self.bad.append(f"not JSON: {raw!r:.80}")
            return
        if isinstance(msg, dict) and "error" in msg:
            self.error_frames.append(str(msg["error"]))
            return
        problem = check_message(msg)
        if problem:
            self.bad.append(problem)
        if not isinstance(msg, dict) or not ID_RE.match(str(msg.get("id", ""))):
            return
        key = id_key(msg["id"])
        if self.last_key is not None and key <= self.last_key:
            self.id_regressions += 1
        self.last_key, self.last_id = key, msg["id"]
        content = msg.get("content")
        if msg.get("name") != NAME or not isinstance(content, str) or not content.startswith(self.check.prefix):
            return  # somebody else's message
        tail = content[len(self.check.prefix) :]
        if tail == "start":
            self.started = True
        elif tail.isdigit() and str(int(tail)) == tail:
            self.seqs.append(int(tail))
            self.seen.add(int(tail))
        else:
            self.bad.append(f"content {content!r} is not one this check sent")

    async def run(self) -> None:
        backoff = BACKOFF_MIN
        try:
            while not self.stopping:
                try:
                    async with self.check.target.connect(self.last_id if self.resume else None) as ws:
                        self.connections += 1
                        self.ws, self.generation = ws, self.generation + 1
                        self.changed.set()
                        backoff = BACKOFF_MIN
                        while True:
                            self.on_message(await ws.recv())
                except ConnectionClosed as exc:
                    if not self.stopping:
                        self.close_codes[str(exc.rcvd.code if exc.rcvd else 1006)] += 1
                except (OSError, InvalidHandshake, TimeoutError) as exc:
                    self.connect_failures += 1
                    self.connect_errors[describe(exc)] += 1
                    self.first_error = self.first_error or f"{describe(exc)}: {exc}"
                finally:
                    self.ws = None
                    self.changed.set()
                if not self.stopping:
                    await asyncio.sleep(backoff)
                    backoff = min(BACKOFF_MAX, backoff * 2)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug here must fail the check, not hang it
            self.crash = repr(exc)

    async def wait_for(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            self.changed.clear()
            if predicate():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                return predicate()

    def summary(self, sent: int) -> dict:
        counts = collections.Counter(self.seqs)
        out = {
            "client": self.label,
            "received": len(self.seqs),
            "min": min(self.seqs, default=None),
            "max": max(self.seqs, default=None),
            "missing": sum(1 for s in range(1, sent + 1) if s not in counts),
            "duplicates": sum(c - 1 for c in counts.values()),
            "out_of_order": sum(1 for a, b in zip(self.seqs, self.seqs[1:], strict=False) if b < a),
            "extra": sum(1 for s in counts if s > sent),
            "id_regressions": self.id_regressions,
            "bad": len(self.bad),
            "error_frames": len(self.error_frames),
            "reconnects": self.reconnects,
            "connect_failures": self.connect_failures,
        }
        return out

    def problems(self, sent: int, summary: dict) -> list[str]:
        out = []
        if self.seqs != list(range(1, sent + 1)):
            counts = ", ".join(f"{summary[k]} {k.replace('_', ' ')}" for k in ("missing", "duplicates", "out_of_order"))
            out.append(f"{self.label}: not 1..{sent} exactly once in order ({counts}, {summary['extra']} extra)")
        if self.id_regressions:
            out.append(f"{self.label}: {self.id_regressions} ids not above the previous one")
        if self.bad:
            out.append(f"{self.label}: {len(self.bad)} malformed messages, first: {self.bad[0]}")
        if self.crash:
            out.append(f"{self.label}: crashed: {self.crash}")
        return out


class StreamCheck:
    def __init__(self, args: argparse.Namespace, target: Target) -> None:
        self.args, self.target = args, target
        self.prefix = f"{secrets.token_hex(4)}:"
        no_resume = args.test_resume_without_last_id
        self.peers = [Peer(self, f"c{i}", resume=not no_resume) for i in range(args.clients)]
        self.sender = Peer(self, "sender")
        self.everyone = [*self.peers, self.sender]
        self.tasks: list[asyncio.Task] = []
        self.failures: list[str] = []
        self.sent = 0
        self.resends = 0
        self.stop: str | None = None
        self.phase = "connect"
        self.t0 = time.monotonic()
        self.send_seconds = 0.0

    def fail(self, reason: str) -> None:
        self.failures.append(reason)

    async def run(self) -> None:
        a = self.args
        self.tasks = [asyncio.create_task(p.run()) for p in self.peers]
        if not await poll(lambda: all(p.connections for p in self.peers), a.timeout):
            n = sum(1 for p in self.peers if p.connections)
            first = next((p.first_error for p in self.peers if p.first_error), "no error, just slow")
            return self.fail(f"{n}/{len(self.peers)} clients connected within {a.timeout:g} s (first error: {first})")
        self.tasks.append(asyncio.create_task(self.sender.run()))
        if not await poll(lambda: self.sender.connections > 0, a.timeout):
            return self.fail(f"the sender did not connect within {a.timeout:g} s ({self.sender.first_error})")
        # a start message: every connection then has an id to resume from before the first seq
        deadline = time.monotonic() + a.timeout
        while not all(p.started for p in self.everyone):
            if time.monotonic() >= deadline:
                n = sum(1 for p in self.everyone if p.started)
                return self.fail(f"{n}/{len(self.everyone)} connections got the start message within {a.timeout:g} s")
            ws = self.sender.ws
            if ws is not None:
                try:
                    await ws.send(json.dumps({"name": NAME, "content": f"{self.prefix}start"}))
                except ConnectionClosed:
                    pass
            await poll(lambda: all(p.started for p in self.everyone), 1.0)
        print(f"READY {len(self.peers)}", file=sys.stderr, flush=True)
        self.phase = "send"
        started = time.monotonic()
        await self.pump()
        self.send_seconds = time.monotonic() - started
        self.phase = "settle"
        sent = self.sent
        await poll(lambda: all(sent in p.seen for p in self.everyone) or sent == 0, a.settle_seconds)
        await asyncio.sleep(min(0.5, a.settle_seconds))  # anything late (a duplicate) would still show
        self.phase = "done"

    async def pump(self) -> None:
        a = self.args
        stop_at = time.monotonic() + a.max_seconds
        interval = 1.0 / a.rate
        last = 0.0
        k = 0
        while True:
            if a.until_file and os.path.exists(a.until_file):
                self.stop = "until-file"
                break
            if time.monotonic() >= stop_at:
                self.stop = "max-seconds"
                if a.until_file:
                    self.fail(f"--until-file {a.until_file} did not appear within --max-seconds {a.max_seconds:g}")
                break
            await asyncio.sleep(max(0.0, last + interval - time.monotonic()))
            last = time.monotonic()
            problem = await self.deliver(k + 1)
            if problem:
                return self.fail(problem)
            k = self.sent = k + 1

    async def deliver(self, k: int) -> str | None:
        """Send seq k exactly once: wait for its echo; after a lost connection, resend only when
        the resumed connection does not bring it. Returns what went wrong, or None."""
        s, a = self.sender, self.args
        frame = json.dumps({"name": NAME, "content": f"{self.prefix}{k}"})
        limit = 3 * a.timeout
        give_up = time.monotonic() + limit
        sent_on: int | None = None  # the connection (generation) k was last sent on
        errors = len(s.error_frames)
        while k not in s.seen:
            left = give_up - time.monotonic()
            if left <= 0:
                return f"seq {k} not confirmed within {limit:g} s (sender connections: {s.connections})"
            ws, gen = s.ws, s.generation
            if ws is None:
                await s.wait_for(lambda: s.ws is not None or k in s.seen, left)
                continue
            if sent_on is not None and sent_on != gen:
                # sent on a connection that is gone: the resumed backlog (or the old server's last
                # appends, while it drains) may bring it
                await s.wait_for(lambda gen=gen: k in s.seen or s.generation != gen, min(a.resend_grace, left))
                if k in s.seen or s.generation != gen:
                    continue
            if sent_on != gen:
                try:
                    await ws.send(frame)
                except ConnectionClosed:
                    await s.wait_for(lambda ws=ws: s.ws is not ws, left)
                    continue
                if sent_on is not None:
                    self.resends += 1
                sent_on = gen
            echoed = await s.wait_for(
                lambda gen=gen, errors=errors: k in s.seen or s.generation != gen or len(s.error_frames) > errors,
                min(a.timeout, left),
            )
            if len(s.error_frames) > errors:
                new, errors = s.error_frames[errors:], len(s.error_frames)
                if not set(new) <= RETRYABLE_ERRORS:
                    return f"seq {k}: the server answered with error frames {new}"
                sent_on = None  # not stored: send it again, after a pause
                await asyncio.sleep(max(0.2, 1.0 / a.rate))
                continue
            if not echoed:
                return f"seq {k}: no echo within {a.timeout:g} s on an open connection"
        return None

    async def close(self) -> None:
        for p in self.everyone:
            p.stopping = True
        closing = [p.ws.close() for p in self.everyone if p.ws is not None]
        if closing:
            try:
                await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), self.args.timeout)
            except TimeoutError:
                pass
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def report(self) -> dict:
        sent = self.sent
        failures = list(self.failures)
        per_client = []
        for p in self.peers:
            summary = p.summary(sent)
            per_client.append(summary)
            failures += p.problems(sent, summary)
            if p.error_frames:
                failures.append(f"{p.label}: error frames {sorted(set(p.error_frames))}")
        sender = self.sender.summary(sent)
        failures += self.sender.problems(sent, sender)
        sender["error_frames"] = dict(collections.Counter(self.sender.error_frames))
        if self.phase == "done" and sent == 0 and not self.failures:
            failures.append("nothing was sent")
        close_codes: collections.Counter[str] = collections.Counter()
        connect_errors: collections.Counter[str] = collections.Counter()
        for p in self.everyone:
            close_codes += p.close_codes
            connect_errors += p.connect_errors
        ok = not failures and self.phase == "done"
        if not ok and not failures:
            failures.append(f"stopped while {self.phase}")
        return {
            "check": "stream",
            "ok": ok,
            "reason": failures[0] if failures else None,
            "failures": failures[:10],
            "url": self.target.uri,
            "clients": len(self.peers),
            "sent": sent,
            "resends": self.resends,
            "stop": self.stop,
            "seconds": round(time.monotonic() - self.t0, 2),
            "send_seconds": round(self.send_seconds, 2),
            "reconnects": sum(p.reconnects for p in self.peers),
            "clients_reconnected": sum(1 for p in self.peers if p.reconnects),
            "close_codes": dict(sorted(close_codes.items())),
            "connect_errors": dict(sorted(connect_errors.items())),
            "sender": sender,
            "per_client": per_client,
        }


async def stream(args: argparse.Namespace, target: Target) -> dict:
    check = StreamCheck(args, target)
    # the hard bound: connecting (clients, sender), the start message, sending (and the last
    # message's own bound), settling, closing
    hard = 7 * args.timeout + args.max_seconds + args.settle_seconds + 10
    try:
        await asyncio.wait_for(check.run(), hard)
    except TimeoutError:
        check.fail(f"hard time limit of {hard:g} s reached while {check.phase}")
    finally:
        await check.close()
    return check.report()


# ---------------------------------------------------------------- command line
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", required=True, help="the lb's WebSocket URL, e.g. wss://127.0.0.1:8443/ws")
    common.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    common.add_argument("--cafile", help="CA certificate(s) to verify the lb's certificate with (PEM)")
    common.add_argument("--server-name", help="TLS SNI, certificate name and Host header (the stack's domain)")
    common.add_argument("--origin", help="Origin header to send")
    common.add_argument("--timeout", type=float, default=15.0, help="bound for each step, seconds (default 15)")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="chat_check.py")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pinned", parents=[common], help="two servers behind a cookie-sticky lb share messages")
    p.add_argument("--cookie-name", default="AWSALB", help="the lb's stickiness cookie (default AWSALB)")
    p.add_argument("--attempts", type=int, default=10, help="connections tried to reach a second server")
    s = sub.add_parser("stream", parents=[common], help="every client gets every message exactly once")
    s.add_argument("--clients", type=int, default=50)
    s.add_argument("--rate", type=float, default=10.0, help="messages/s (the server allows 10 per connection)")
    s.add_argument("--until-file", help="stop sending once this file exists")
    s.add_argument("--max-seconds", type=float, default=300.0, help="stop sending after this long at the latest")
    s.add_argument("--settle-seconds", type=float, default=15.0, help="wait for stragglers at most this long")
    # A draining server closes its connections first and appends what it already accepted after
    # (CHAT_DRAIN_TIMEOUT, 10 s): a resend sooner than that can store a message twice.
    s.add_argument(
        "--resend-grace",
        type=float,
        default=10.0,
        help="seconds a reconnected sender waits for an unconfirmed message before resending it (default 10)",
    )
    # test only: clients reconnect without last_id (a client that does not resume), so that a test
    # can show the check failing
    s.add_argument("--test-resume-without-last-id", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.timeout <= 0 or getattr(args, "rate", 1) <= 0 or getattr(args, "clients", 1) < 1:
        parser.error("--timeout and --rate must be > 0, --clients >= 1")
    if getattr(args, "resend_grace", 0) < 0:
        parser.error("--resend-grace must be >= 0")
    return args


async def main_async(args: argparse.Namespace) -> dict:
    target = Target(args)
    if args.command == "pinned":
        report: dict = {"check": "pinned", "ok": False, "reason": None, "url": target.uri, "servers": None}
        t0 = time.monotonic()
        hard = 6 * args.timeout + 2 * args.attempts * args.timeout
        try:
            await asyncio.wait_for(pinned(args, target, report), hard)
        except TimeoutError:
            report["reason"] = f"hard time limit of {hard:g} s reached"
        report["seconds"] = round(time.monotonic() - t0, 2)
        return report
    return await stream(args, target)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = asyncio.run(main_async(args))
    except UsageError as exc:
        print(json.dumps({"check": args.command, "ok": False, "reason": str(exc)}))
        return 2
    except Exception as exc:  # the report is the interface: say what broke, and fail
        report = {"check": args.command, "ok": False, "reason": f"internal error: {exc!r}"}
    print(json.dumps(report), flush=True)
    return 0 if report.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
