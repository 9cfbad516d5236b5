"""Limits and safety: Origin allow-list, bad frames, field and frame sizes, rate limit, slow readers,
and /healthz when Redis goes away."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path

import pytest
from chatkit import recv_json, run, send, ws_connect
from conftest import RedisServer, wait_until
from websockets.exceptions import ConnectionClosed, InvalidStatus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from wsload import WsClient  # noqa: E402


def test_origin_defaults_to_the_pages_own(make_server):
    server = make_server()

    async def scenario():
        async with ws_connect(server.ws, origin=f"http://127.0.0.1:{server.port}") as ws:
            await send(ws, "me", "same origin")
            assert (await recv_json(ws))["content"] == "same origin"
        with pytest.raises(InvalidStatus) as refused:
            async with ws_connect(server.ws, origin="https://evil.example"):
                pass
        assert refused.value.response.status_code == 403

    run(scenario())
    assert server.metric("chat_origin_rejected_total") == 1


def test_origin_allow_list(make_server):
    server = make_server(CHAT_ALLOWED_ORIGINS="https://chat.example.com, https://other.example.com/")

    async def scenario():
        for origin in ("https://chat.example.com", "https://other.example.com"):
            async with ws_connect(server.ws, origin=origin):
                pass
        with pytest.raises(InvalidStatus):
            async with ws_connect(server.ws, origin="https://chat.example.com.evil.example"):
                pass

    run(scenario())


def test_bad_frames_get_an_error_frame_and_the_connection_stays(make_server):
    server = make_server(CHAT_MAX_NAME="8", CHAT_MAX_CONTENT="20")
    bad = [
        ("not json", "bad_json"),
        (b"\x00binary", "bad_frame"),
        ("[1, 2]", "bad_frame"),
        (json.dumps({"name": "x"}), "bad_frame"),
        (json.dumps({"name": 1, "content": "x"}), "bad_frame"),
        (json.dumps({"name": "123456789", "content": "x"}), "too_long"),
        (json.dumps({"name": "x", "content": "y" * 21}), "too_long"),
        (json.dumps({"name": "x", "content": "  "}), "empty"),
    ]

    async def scenario():
        async with ws_connect(server.ws) as ws:
            for frame, code in bad:
                await ws.send(frame)
                assert (await recv_json(ws))["error"] == code, frame
            await send(ws, "12345678", "y" * 20)  # at the limits: accepted
            assert (await recv_json(ws))["content"] == "y" * 20

    run(scenario())
    assert server.metric("chat_frames_rejected_total") == len(bad)


def test_frame_over_the_maximum_closes_1009(make_server):
    server = make_server(CHAT_MAX_FRAME="1024")

    async def scenario():
        async with ws_connect(server.ws) as ws:
            await send(ws, "x", "y" * 2000)
            with pytest.raises(ConnectionClosed) as closed:
                await recv_json(ws)
            assert closed.value.rcvd.code == 1009

    run(scenario())


def test_rate_limit_error_frames_then_close_1008(make_server):
    # A refill of 0.001/s: nothing comes back during the test, however slow the machine.
    server = make_server(CHAT_RATE_PER_SEC="0.001", CHAT_RATE_BURST="2", CHAT_RATE_STRIKES="3")

    async def scenario():
        async with ws_connect(server.ws) as ws:
            for i in range(2):
                await send(ws, "x", f"ok {i}")
                assert (await recv_json(ws))["content"] == f"ok {i}"
            for _ in range(2):
                await send(ws, "x", "too many")
                assert (await recv_json(ws))["error"] == "rate_limited"
            await send(ws, "x", "one more")
            with pytest.raises(ConnectionClosed) as closed:
                await recv_json(ws)
            assert closed.value.rcvd.code == 1008

    run(scenario())
    assert server.metric("chat_abuse_closed_total") == 1


def test_slow_reader_is_dropped_and_others_get_everything(make_server):
    server = make_server(CHAT_SEND_BUFFER="65536", CHAT_RATE_PER_SEC="100000", CHAT_RATE_BURST="100000")
    content = "z" * 1000
    limit = 20_000  # messages at most (~20 MB through the server); the drop comes far sooner

    async def scenario():
        loop = asyncio.get_running_loop()
        # The slow reader: a small receive buffer, and it never reads.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.setblocking(False)
        _, slow = await loop.create_connection(lambda: WsClient(server.ws, lambda _: None), sock=sock)
        await slow.opened
        slow.transport.pause_reading()

        got = 0
        async with ws_connect(server.ws) as sender, ws_connect(server.ws) as reader:

            async def read_all():
                nonlocal got
                async for _ in reader:
                    got += 1

            async def drain_sender():
                async for _ in sender:
                    pass

            tasks = [asyncio.create_task(read_all()), asyncio.create_task(drain_sender())]
            sent = 0
            while sent < limit and server.metric("chat_slow_readers_dropped_total") < 1:
                for _ in range(200):
                    await send(sender, "flood", content)
                sent += 200
            assert server.metric("chat_slow_readers_dropped_total") == 1, f"not dropped after {sent} messages"
            # the healthy reader still gets every message
            for _ in range(300):
                if got >= sent:
                    break
                await asyncio.sleep(0.1)
            assert got == sent
            for t in tasks:
                t.cancel()
        # the server closed the slow reader's connection (it reads again to see it)
        slow.transport.resume_reading()
        await asyncio.wait_for(slow.closed, 30)

    run(scenario(), timeout=120)


def test_healthz_fails_while_redis_is_unreachable(make_server, tmp_path):
    own = RedisServer(tmp_path)
    own.start()
    try:
        server = make_server(redis_url=own.url)
        assert server.get("/healthz")[0] == 200
        own.stop()
        wait_until(lambda: server.get("/healthz")[0] == 503, 30, "/healthz to fail")

        async def refused():
            async with ws_connect(server.ws) as ws:
                await send(ws, "x", "nowhere to go")
                assert (await recv_json(ws))["error"] == "unavailable"

        run(refused())
        own.start()  # the same port: the server comes back by itself
        wait_until(lambda: server.get("/healthz")[0] == 200, 30, "/healthz to recover")
    finally:
        own.stop()
