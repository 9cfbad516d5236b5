"""Fixtures: a redis-server on a free loopback port, chat servers as subprocesses on 127.0.0.1.

Every test gets a stream of its own (CHAT_STREAM), so tests share one Redis without seeing each
other's messages. Timeouts here are generous on purpose: they bound a hung test on a slow or
busy machine; no test measures speed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30  # seconds for a server or redis to answer: a loaded CI machine, not a target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is not installed (make test-chat installs it)")
        self.proc = subprocess.Popen(
            [exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self.answers, START_TIMEOUT, f"redis-server on port {self.port}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def cli(self, *args: str) -> str:
        import redis

        return redis.Redis(port=self.port, decode_responses=True).execute_command(*args)


class ChatServer:
    def __init__(self, redis_url: str, stream: str, log_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(APP),
            "CHAT_REDIS_URL": redis_url,
            "CHAT_PORT": str(self.port),
            "CHAT_BIND": "127.0.0.1",
            "CHAT_STREAM": stream,
            "CHAT_LOG_LEVEL": "DEBUG",
            **env,
        }
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, wait_healthy: bool = True) -> ChatServer:
        self.starts += 1
        log = open(self.log_dir / f"chat-{self.port}-{self.starts}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "kumo_chat"], env=self.env, stderr=log, cwd=APP)
        if wait_healthy:
            wait_until(lambda: self.get("/healthz")[0] == 200, START_TIMEOUT, f"chat server on {self.port}")
        return self

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"chat server exited with {self.proc.returncode}: {self.log()}") from None
            return 0, ""

    def metric(self, name: str) -> float:
        for line in self.get("/metrics")[1].splitlines():
            if line.split(" ")[0] == name:
                return float(line.split(" ")[1])
        raise KeyError(name)

    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob(f"chat-{self.port}-*.log")))

    def kill(self, sig: int = signal.SIGKILL) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(START_TIMEOUT)
        self.proc = None
        return code

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stream() -> str:
    return f"test:{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_server(redis_server, stream, tmp_path):
    """make_server(**CHAT_env) -> a started ChatServer on this test's stream; all stopped after the test."""
    servers: list[ChatServer] = []

    def make(redis_url: str | None = None, start: bool = True, **env: str) -> ChatServer:
        server = ChatServer(redis_url or redis_server.url, stream, tmp_path, **env)
        servers.append(server)
        return server.start() if start else server

    yield make
    for server in servers:
        server.stop()
