"""Starting the bot: `python -m kumo_bot` against a moto server, start errors, secrets kept out of logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from botkit import (
    SECRET,
    SECRET_PARAMETER,
    TOKEN,
    TOKEN_PARAMETER,
    LineStandIn,
    config,
    free_port,
    post_callback,
    run,
    running_bot,
    settle,
    sign,
    text_event,
    webhook,
)
from kumo_bot.app import main, setup_logging
from kumo_bot.ssm import load_secrets
from moto import mock_aws
from moto.server import ThreadedMotoServer

APP = Path(__file__).resolve().parents[1]
START_TIMEOUT = 15  # seconds for the bot process to answer /health: a busy machine, not a target


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ---------------------------------------------------------------- start errors (main() in-process)
def test_a_missing_parameter_name_stops_the_start(monkeypatch, capsys):
    monkeypatch.delenv("BOT_ACCESS_TOKEN_PARAMETER", raising=False)
    monkeypatch.setenv("BOT_CHANNEL_SECRET_PARAMETER", SECRET_PARAMETER)
    assert main() == 2
    [line] = json_lines(capsys.readouterr().err)
    assert (line["level"], line["msg"]) == ("ERROR", "cannot start: BOT_ACCESS_TOKEN_PARAMETER: not set "
                                            "(the name of the SSM parameter to read at start)")  # fmt: skip


def test_a_missing_parameter_stops_the_start_naming_it_and_no_value(monkeypatch, capsys):
    monkeypatch.setenv("BOT_ACCESS_TOKEN_PARAMETER", TOKEN_PARAMETER)
    monkeypatch.setenv("BOT_CHANNEL_SECRET_PARAMETER", SECRET_PARAMETER)
    with mock_aws():
        boto3.client("ssm").put_parameter(Name=TOKEN_PARAMETER, Value=TOKEN, Type="SecureString")
        assert main() == 1
    err = capsys.readouterr().err
    assert json_lines(err)[-1]["msg"] == f"cannot start: SSM parameter not found in ap-northeast-1: {SECRET_PARAMETER}"
    assert TOKEN not in err


# ---------------------------------------------------------------- no secret in any log line
def test_secret_values_never_reach_the_logs_even_at_debug(capsys):
    setup_logging("DEBUG")
    with mock_aws():
        ssm = boto3.client("ssm")
        ssm.put_parameter(Name=TOKEN_PARAMETER, Value=TOKEN, Type="SecureString")
        ssm.put_parameter(Name=SECRET_PARAMETER, Value=SECRET, Type="SecureString")
        assert load_secrets(config()).access_token == TOKEN
    # A Messaging API that echoes the token in its error: the log masks it.
    line = LineStandIn(status=401, answer={"message": f"Authentication failed: Bearer {TOKEN}"})

    async def scenario():
        async with running_bot(line) as (client, _):
            body = webhook(text_event(f"my secret is {SECRET[:6]}"))
            assert (await post_callback(client, body, sign(body))).status == 200
            assert (await post_callback(client, body, sign(body, TOKEN))).status == 400
            assert (await post_callback(client, body, None)).status == 400
            await settle(client)
        async with running_bot(api_base=f"http://127.0.0.1:{free_port()}") as (client, _):
            assert (await post_callback(client, body, sign(body))).status == 200
            await settle(client)

    run(scenario())
    err = capsys.readouterr().err
    lines = json_lines(err)  # every line is JSON
    messages = [line["msg"] for line in lines]
    # The log was captured (the test is not vacuous): SSM reads, callbacks, refusals, access log.
    for expected in ("read SSM parameter", "callback", "callback refused", "reply refused", "reply failed"):
        assert expected in messages, expected
    assert any('"POST /callback HTTP/1.1" 400' in m for m in messages)
    refused = next(line for line in lines if line["msg"] == "reply refused")
    assert refused["detail"] == "Authentication failed: Bearer ***"
    assert TOKEN not in err and SECRET not in err


# ---------------------------------------------------------------- python -m kumo_bot, end to end
class _Recorder(BaseHTTPRequestHandler):
    calls: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        size = int(self.headers.get("Content-Length", "0"))
        self.calls.append(
            {"path": self.path, "auth": self.headers["Authorization"], "json": json.loads(self.rfile.read(size))}
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def moto_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def line_api():
    _Recorder.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.calls
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _post(url: str, body: bytes, signature: str) -> int:
    request = urllib.request.Request(url, data=body, headers={"X-Line-Signature": signature}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def test_the_bot_process_reads_ssm_at_start_serves_and_stops_on_sigterm(moto_server, line_api):
    api_base, calls = line_api
    ssm = boto3.client("ssm", endpoint_url=moto_server)
    ssm.put_parameter(Name=TOKEN_PARAMETER, Value=TOKEN, Type="SecureString")
    ssm.put_parameter(Name=SECRET_PARAMETER, Value=SECRET, Type="SecureString")
    port = free_port()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": moto_server,  # honoured by boto3 itself
        "AWS_REGION": "ap-northeast-1",
        "BOT_ACCESS_TOKEN_PARAMETER": TOKEN_PARAMETER,
        "BOT_CHANNEL_SECRET_PARAMETER": SECRET_PARAMETER,
        "BOT_BIND": "127.0.0.1",
        "BOT_PORT": str(port),
        "BOT_API_BASE": api_base,
        "BOT_LOG_LEVEL": "DEBUG",
    }
    proc = subprocess.Popen([sys.executable, "-m", "kumo_bot"], cwd=APP, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if _get(f"http://127.0.0.1:{port}/health") == (200, b"ok\n"):
                    break
            except OSError:
                pass
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the bot did not answer /health"
            time.sleep(0.1)
        body = webhook(text_event("やあ", reply_token="rt-proc"))
        assert _post(f"http://127.0.0.1:{port}/callback", body, sign(body)) == 200
        assert _post(f"http://127.0.0.1:{port}/callback", body, sign(body, "wrong")) == 400
        proc.send_signal(signal.SIGTERM)  # what ECS sends; the reply in flight is finished first
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read()
    proc.stderr.close()
    assert calls == [
        {
            "path": "/v2/bot/message/reply",
            "auth": f"Bearer {TOKEN}",
            "json": {"replyToken": "rt-proc", "messages": [{"type": "text", "text": "やあ"}]},
        }
    ]
    messages = [line["msg"] for line in json_lines(err)]
    assert messages[:3] == ["read SSM parameter", "read SSM parameter", "serving"] and messages[-1] == "stopped"
    # /health was polled, and passed: not in the access log; the two callbacks are.
    access = [m.split('"')[1] + m.split('"')[2][:4] for m in messages if "HTTP/1.1" in m]
    assert access == ["POST /callback HTTP/1.1 200", "POST /callback HTTP/1.1 400"]
    assert TOKEN not in err and SECRET not in err
