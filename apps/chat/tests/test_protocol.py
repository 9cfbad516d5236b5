"""The wire protocol (shared/DESIGN.md), the page, resume from a last id, /healthz and /metrics."""

from __future__ import annotations

import json

from chatkit import TIME_RE, expected_time, recv_json, run, send, ws_connect


def test_page_is_served(make_server):
    server = make_server()
    status, body = server.get("/")
    assert status == 200
    assert "<title>Chat</title>" in body and "/ws" in body and "last_id" in body
    assert server.get("/nope")[0] == 404


def test_message_reaches_every_client_with_time_name_content_and_id(make_server):
    server = make_server()

    async def scenario():
        async with ws_connect(server.ws) as a, ws_connect(server.ws) as b:
            await send(a, "alice", "こんにちは <b>")
            got_a, got_b = await recv_json(a), await recv_json(b)
            assert got_a == got_b
            assert {k: got_a[k] for k in ("name", "content")} == {"name": "alice", "content": "こんにちは <b>"}
            assert TIME_RE.match(got_a["time"])
            # the time is the stream id's, in the default zone Asia/Tokyo
            assert got_a["time"] == expected_time(got_a["id"], "Asia/Tokyo")
            assert list(got_a)[:3] == ["time", "name", "content"]

    run(scenario())
    assert server.metric("chat_messages_in_total") == 1
    assert server.metric("chat_messages_out_total") == 2
    assert server.metric("chat_connections_total") == 2


def test_time_zone_is_configurable(make_server):
    server = make_server(CHAT_TZ="America/New_York")

    async def scenario():
        async with ws_connect(server.ws) as a:
            await send(a, "bob", "hi")
            got = await recv_json(a)
            assert got["time"] == expected_time(got["id"], "America/New_York")
            assert got["time"] != expected_time(got["id"], "Asia/Tokyo")

    run(scenario())


def test_resume_from_last_id_gets_what_was_missed_in_order_then_live(make_server):
    server = make_server()

    async def scenario():
        async with ws_connect(server.ws) as a:
            for i in range(6):
                await send(a, "a", f"m{i}")
            ids = [(await recv_json(a))["id"] for _ in range(6)]
            async with ws_connect(f"{server.ws}?last_id={ids[1]}") as late:
                missed = [await recv_json(late) for _ in range(4)]
                assert [m["content"] for m in missed] == ["m2", "m3", "m4", "m5"]
                assert [m["id"] for m in missed] == ids[2:]
                await send(a, "a", "live")
                assert (await recv_json(late))["content"] == "live"
            # a bad last id: an error frame, and the connection goes on live
            async with ws_connect(f"{server.ws}?last_id=yesterday") as odd:
                assert (await recv_json(odd))["error"] == "bad_last_id"
                await send(odd, "o", "still here")
                assert (await recv_json(odd))["content"] == "still here"

    run(scenario())
    assert server.metric("chat_resumes_total") == 1
    assert server.metric("chat_resume_backlog_total") == 4


def test_healthz_and_metrics(make_server):
    server = make_server()
    assert server.get("/healthz") == (200, "ok\n")
    status, text = server.get("/metrics")
    assert status == 200
    for name in (
        "chat_connections",
        "chat_messages_in_total",
        "chat_messages_out_total",
        "chat_slow_readers_dropped_total",
        "chat_resume_backlog_total",
    ):
        assert f"# TYPE {name} " in text


def test_logs_are_json_lines(make_server):
    server = make_server()
    server.stop()
    lines = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    assert any(rec["msg"] == "listening" for rec in lines)
    assert all({"ts", "level", "msg", "pid"} <= rec.keys() for rec in lines)
