"""roles/twin/files/api_stand_in.py, the twin's stand-in for an outside API (the bot's LINE
Messaging API): run as the twin runs it, a process on a free port, it answers and logs each
request, the Authorization header only as its SHA-256, and stops cleanly on SIGTERM.
Everything stays on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[3] / "roles" / "twin" / "files" / "api_stand_in.py"
# Distinctive, so a leak is found by a plain substring search.
TOKEN = "tok-9fQ2-stand-in-bearer-never-logged"
TIMEOUT = 5  # seconds for any one step; the whole test takes well under a second


@pytest.fixture
def stand_in(tmp_path):
    """The stand-in on a port it picked (PORT 0), logging to a temp file: (base URL, log, process)."""
    log = tmp_path / "log" / "requests.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-u", str(SCRIPT), "serve", "0", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()  # "api stand-in listening on 0.0.0.0:PORT, logging to LOG"
        assert "listening on 0.0.0.0:" in first, first + proc.stderr.read()
        port = int(first.split("0.0.0.0:")[1].split(",")[0])
        yield f"http://127.0.0.1:{port}", log, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)


def request(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
        return resp.status, resp.headers.get("Content-Type"), resp.read()


def test_records_each_request_hashes_the_authorization_and_stops_on_sigterm(stand_in):
    base, log, proc = stand_in
    assert log.read_text() == ""  # created at start, for a reader that comes first

    assert request(base + "/__health") == (200, "text/plain", b"ok")
    body = {"replyToken": "rt-1", "messages": [{"type": "text", "text": "こんにちは"}]}
    assert request(
        base + "/v2/bot/message/reply",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    ) == (200, "application/json", b"{}")
    assert request(base + "/v2/bot/info?x=1") == (200, "application/json", b"{}")
    assert request(base + "/anything", data=b"not json", method="PUT")[0] == 200

    post, get, put = [json.loads(line) for line in log.read_text().splitlines()]
    assert post["method"] == "POST" and post["path"] == "/v2/bot/message/reply"
    assert post["authorization_sha256"] == hashlib.sha256(f"Bearer {TOKEN}".encode()).hexdigest()
    assert post["content_type"] == "application/json" and post["body"] == body
    assert post["time"].endswith("+00:00")
    assert (get["method"], get["path"], get["authorization_sha256"]) == ("GET", "/v2/bot/info?x=1", None)
    assert get["body"] is None
    assert (put["method"], put["body"]) == ("PUT", "not json")

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(TIMEOUT) == 0
    out, err = proc.stdout.read(), proc.stderr.read()
    assert "POST /v2/bot/message/reply" in out and "api stand-in stopped" in out
    assert "__health" not in out and "__health" not in log.read_text()
    for text in (out, err, log.read_text()):
        assert TOKEN not in text and "Bearer" not in text


def test_a_bad_command_line_exits_2_with_the_usage(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "serve", "port", str(tmp_path / "log")],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 2 and "usage: api_stand_in.py serve PORT LOG_FILE" in done.stderr
