"""scripts/chat_check.py, the end-to-end check of a deployed chat stack, run as a subprocess against
two chat servers behind a tiny lb of this file's own (TCP round robin, optionally TLS and cookie
stickiness like HAProxy's `cookie NAME insert`):

- stream through a rolling restart (SIGTERM, restart, one server then the other): ok, every client
  reconnected; and the same check failing when its clients reconnect without last_id;
- pinned over TLS (verified with the lb's CA and --server-name, an Origin): ok, two servers; and
  failing when the lb has one server only.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import wait_until

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "chat_check.py"
CHECK_TIMEOUT = 90  # seconds for one check subprocess: bounds a hung run, not a target


class Lb:
    """A load balancer on 127.0.0.1 in a thread of its own: each new connection goes to the next
    backend in turn (one that refuses is skipped, as a health check would); `routes` lists the
    backend each accepted connection went to. With `cookie`, a connection sending `NAME=s<i>`
    goes to backend i, any other gets `Set-Cookie: NAME=s<i>` on its handshake response."""

    def __init__(self, ports: list[int], cookie: str | None = None, tls: tuple[Path, Path] | None = None):
        self.ports, self.cookie, self.tls = ports, cookie, tls
        self.turn = 0
        self.accepted = 0  # connections accepted so far: the next one's serial number
        self.routes: list[int] = []
        # serial -> "before-forwarding" / "after-forwarding": that connection's next data from the
        # client is dropped / forwarded while the server's answers are dropped, then it is cut
        self.cuts: dict[int, str] = {}
        self.writers: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> Lb:
        self.thread.start()
        ctx = None
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
        start = asyncio.start_server(self.handle, "127.0.0.1", 0, ssl=ctx)
        self.server = asyncio.run_coroutine_threadsafe(start, self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc) -> None:
        async def stop():
            self.server.close()
            for writer in list(self.writers):
                writer.close()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        serial, self.accepted = self.accepted, self.accepted + 1
        self.writers.add(writer)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            pinned = None
            if self.cookie:
                found = re.search(rb"(?im)^cookie:.*\b" + self.cookie.encode() + rb"=s(\d+)", head)
                pinned = int(found.group(1)) if found else None
            if pinned is not None:
                order = [pinned]
            else:
                self.turn += 1
                order = [(self.turn - 1 + i) % len(self.ports) for i in range(len(self.ports))]
            for i in order:
                try:
                    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.ports[i])
                    break
                except OSError:
                    continue
            else:
                return  # no backend: the client sees the connection close
            self.routes.append(i)
            self.writers.add(up_writer)
            up_writer.write(head)
            if self.cookie:
                response = await asyncio.wait_for(up_reader.readuntil(b"\r\n\r\n"), 10)
                if pinned is None:
                    response = response[:-2] + f"Set-Cookie: {self.cookie}=s{i}; Path=/\r\n\r\n".encode()
                writer.write(response)
            muted = False

            async def upstream():
                nonlocal muted
                while data := await reader.read(65536):
                    cut = self.cuts.pop(serial, None)
                    if cut == "after-forwarding":  # the server gets it, its answers are lost
                        muted = True
                        up_writer.write(data)
                        await asyncio.sleep(0.3)
                    if cut:  # the connection dies with no close frame either way
                        return
                    up_writer.write(data)
                    await up_writer.drain()

            async def downstream():
                while data := await up_reader.read(65536):
                    if not muted:
                        writer.write(data)
                        await writer.drain()

            # when either side is done, both are closed (as an lb does)
            done, pending = await asyncio.wait(
                [asyncio.ensure_future(upstream()), asyncio.ensure_future(downstream())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            for task in pending:
                task.cancel()
            up_writer.close()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            writer.close()
            self.writers.discard(writer)


def make_cert(tmp: Path, name: str = "chat.test") -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is not installed (the TLS lb's certificate is made with it)")
    cert, key = tmp / "lb.pem", tmp / "lb.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


class Check:
    """chat_check.py as a subprocess: stderr to a file (READY shows there), the report from stdout."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.err_path = tmp / f"check-{time.monotonic_ns()}.err"
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([sys.executable, str(SCRIPT), *args], stdout=subprocess.PIPE, stderr=self.err)

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"check exited {self.proc.returncode}: {self.stderr()} {self.proc.stdout.read()}")
            return "READY" in self.stderr()

        wait_until(ready, timeout, "READY from the check")

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def report(self, timeout: float = CHECK_TIMEOUT) -> tuple[int, dict]:
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.err.close()
        lines = out.decode().splitlines()
        assert len(lines) == 1, (lines, self.stderr())
        return self.proc.returncode, json.loads(lines[0])


def restart(server) -> None:
    assert server.kill(signal.SIGTERM) == 0  # drained: clients got 1001
    server.start()


def test_stream_exactly_once_through_a_rolling_restart(make_server, tmp_path):
    a, b = make_server(), make_server()
    until = tmp_path / "stop-sending"
    with Lb([a.port, b.port], tls=make_cert(tmp_path)) as lb:
        check = Check(
            tmp_path, "stream", "--url", f"wss://127.0.0.1:{lb.port}/ws", "--insecure", "--clients", "50",
            "--rate", "10", "--until-file", str(until), "--max-seconds", "60", "--settle-seconds", "15",
        )  # fmt: skip
        try:
            check.wait_ready()
            assert sorted(lb.routes[:50]) == [0] * 25 + [1] * 25  # the clients, half on each server
            time.sleep(1)
            restart(a)  # a's clients move to b
            time.sleep(1)
            restart(b)  # and everyone to a
            time.sleep(1)
            until.touch()
        finally:
            code, report = check.report()
    assert code == 0 and report["ok"], report
    assert report["reason"] is None and report["stop"] == "until-file"
    assert report["sent"] >= 20  # ~10/s over 3 s of sleeps and two restarts
    for client in [*report["per_client"], report["sender"]]:
        assert client["received"] == report["sent"] and client["min"] == 1 and client["max"] == report["sent"]
        assert client["missing"] == client["duplicates"] == client["out_of_order"] == 0
    # every client's server stopped at least once under it: each one reconnected and resumed
    assert report["clients_reconnected"] == 50
    assert all(client["reconnects"] >= 1 for client in report["per_client"])
    assert report["close_codes"].get("1001", 0) >= 50
    assert report["sender"]["reconnects"] >= 1
    assert a.metric("chat_resumes_total") + b.metric("chat_resumes_total") >= 25  # after the restarts


def test_stream_fails_when_clients_reconnect_without_last_id(make_server, tmp_path):
    # the sender (the connection after the clients) stays put on one server while the other
    # restarts: what it sends while that server's clients reconnect, they never get
    fast = {"CHAT_RATE_PER_SEC": "1000", "CHAT_RATE_BURST": "1000"}
    a, b = make_server(**fast), make_server(**fast)
    until = tmp_path / "stop-sending"
    with Lb([a.port, b.port]) as lb:
        check = Check(
            tmp_path, "stream", "--url", f"ws://127.0.0.1:{lb.port}/ws", "--clients", "10", "--rate", "20",
            "--until-file", str(until), "--max-seconds", "60", "--settle-seconds", "3",
            "--test-resume-without-last-id",
        )  # fmt: skip
        try:
            check.wait_ready()
            other = b if lb.routes[10] == 0 else a
            time.sleep(0.5)
            restart(other)
            time.sleep(1)
            until.touch()
        finally:
            code, report = check.report()
    assert code == 1 and report["ok"] is False, report
    assert "not 1.." in report["reason"] and "missing" in report["reason"], report["reason"]
    moved = [c for c in report["per_client"] if c["reconnects"]]
    assert len(moved) == 5 and any(c["missing"] > 0 for c in moved), report["per_client"]
    assert report["sender"]["missing"] == 0  # the sender itself resumes: exactly once still


def test_stream_sender_exactly_once_when_its_connection_dies_around_a_send(make_server, tmp_path):
    # the sender's connection dies (1) before its message reaches the server: it must resend;
    # (2) after the server stored it, before the echo: it must not (the resumed backlog has it)
    a, b = make_server(), make_server()
    until = tmp_path / "stop-sending"
    with Lb([a.port, b.port]) as lb:
        check = Check(
            tmp_path, "stream", "--url", f"ws://127.0.0.1:{lb.port}/ws", "--clients", "10",
            "--until-file", str(until), "--max-seconds", "60", "--settle-seconds", "10", "--resend-grace", "2",
        )  # fmt: skip
        try:
            check.wait_ready()
            sender = 10  # the connection after the clients'
            for cut in ("before-forwarding", "after-forwarding"):
                time.sleep(0.5)
                lb.cuts[sender] = cut
                wait_until(lambda n=sender: n not in lb.cuts and lb.accepted > n + 1, 30, f"the sender cut {cut}")
                sender = lb.accepted - 1  # its reconnection
            time.sleep(0.5)
            until.touch()
        finally:
            code, report = check.report()
    assert code == 0 and report["ok"], report
    assert report["resends"] == 1 and report["sender"]["reconnects"] == 2, report["sender"]
    assert report["close_codes"] == {"1006": 2}  # the sender's two cuts, nobody else's
    for client in [*report["per_client"], report["sender"]]:
        assert client["received"] == report["sent"] and client["missing"] == client["duplicates"] == 0


def test_pinned_over_tls_two_servers_share_messages(make_server, tmp_path):
    a, b = make_server(), make_server()
    cert, key = make_cert(tmp_path)
    with Lb([a.port, b.port], cookie="AWSALB", tls=(cert, key)) as lb:
        check = Check(
            tmp_path, "pinned", "--url", f"wss://127.0.0.1:{lb.port}/ws", "--cafile", str(cert),
            "--server-name", "chat.test", "--origin", f"https://chat.test:{lb.port}", "--timeout", "10",
        )  # fmt: skip
        code, report = check.report()
        # the name the certificate is checked against matters: without --server-name it is 127.0.0.1
        unnamed = Check(tmp_path, "pinned", "--url", f"wss://127.0.0.1:{lb.port}/ws", "--cafile", str(cert))
        unnamed_code, unnamed_report = unnamed.report()
    assert code == 0 and report["ok"], report
    assert sorted(report["servers"]) == ["s0", "s1"]
    assert [(m["from"], m["to"]) for m in report["messages"]] == [("A'", "B'"), ("B'", "A'")]
    assert a.metric("chat_messages_in_total") == b.metric("chat_messages_in_total") == 1  # one sent on each
    assert unnamed_code == 1 and "SSLCertVerificationError" in unnamed_report["reason"], unnamed_report


def test_pinned_fails_when_every_connection_lands_on_one_server(make_server, tmp_path):
    a = make_server()
    with Lb([a.port], cookie="AWSALB") as lb:
        code, report = Check(tmp_path, "pinned", "--url", f"ws://127.0.0.1:{lb.port}/ws", "--attempts", "4").report()
    assert code == 1 and report["ok"] is False
    assert report["reason"].startswith("all 4 connections of B landed on the server of A (AWSALB=s0)"), report
