"""POST /callback and GET /health against a stand-in Messaging API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from botkit import TOKEN, LineStandIn, free_port, post_callback, run, running_bot, settle, sign, text_event, webhook
from kumo_bot.app import MAX_TEXT, PENDING, reply_for, signature_ok


def test_signature_matches_an_independent_vector():
    # From: printf '{"destination":"U0","events":[]}' | openssl dgst -sha256 -hmac <secret> -binary | base64
    body, key = b'{"destination":"U0","events":[]}', b"0123456789abcdef0123456789abcdef"
    assert signature_ok(key, body, "3Gc/A/Q/RaUenWOFYfa53YXiRHXEBqQuDHu1nnYGQpU=")
    assert not signature_ok(key, body + b" ", "3Gc/A/Q/RaUenWOFYfa53YXiRHXEBqQuDHu1nnYGQpU=")
    assert not signature_ok(key, body, "3Gc/A/Q/RaUenWOFYfa53YXiRHXEBqQuDHu1nnYGQpU")  # bad padding
    assert not signature_ok(key, body, "not base64 at all!")
    assert not signature_ok(key, body, "日本語")


def test_a_signed_text_message_is_echoed_with_the_bearer_token_and_its_reply_token():
    async def scenario():
        async with running_bot() as (client, line):
            body = webhook(text_event("こんにちは", reply_token="rt-abc"))
            resp = await post_callback(client, body, sign(body))
            assert (resp.status, await resp.text()) == (200, "ok\n")
            await settle(client)
            assert line.calls == [
                {
                    "authorization": f"Bearer {TOKEN}",
                    "content_type": "application/json",
                    "json": {"replyToken": "rt-abc", "messages": [{"type": "text", "text": "こんにちは"}]},
                }
            ]

    run(scenario())


def _tampered() -> tuple[bytes, str]:
    body = webhook(text_event("hello"))
    return body.replace(b"hello", b"HELLO"), sign(body)


@pytest.mark.parametrize(
    "case",
    [
        ("missing", lambda body: (body, None)),
        ("empty", lambda body: (body, "")),
        ("other secret", lambda body: (body, sign(body, "someone-elses-secret"))),
        ("not base64", lambda body: (body, "%%%")),
        ("tampered body", lambda body: _tampered()),
    ],
    ids=lambda case: case[0],
)
def test_missing_or_bad_signature_is_400_and_nothing_is_sent(case):
    async def scenario():
        async with running_bot() as (client, line):
            body, signature = case[1](webhook(text_event("hello")))
            resp = await post_callback(client, body, signature)
            assert resp.status == 400
            assert not client.app[PENDING]
            await asyncio.sleep(0.05)  # a reply started anyway would have reached the stand-in by now
            assert line.calls == []

    run(scenario())


def test_a_signed_body_that_is_no_webhook_is_400():
    async def scenario():
        async with running_bot() as (client, line):
            for body in (b"not json", b"[1, 2]", b'{"events": {}}', b"\xff\xfe"):
                resp = await post_callback(client, body, sign(body))
                assert resp.status == 400, body
            assert line.calls == []

    run(scenario())


def test_only_text_messages_with_a_reply_token_are_answered():
    events = [
        {"type": "follow", "replyToken": "rt-follow", "source": {"type": "user", "userId": "U1"}},
        {"type": "unfollow", "source": {"type": "user", "userId": "U1"}},
        {"type": "message", "replyToken": "rt-img", "message": {"id": "2", "type": "image"}},
        {"type": "message", "replyToken": "rt-sticker", "message": {"type": "sticker", "packageId": "1"}},
        {"type": "message", "message": {"type": "text", "text": "standby mode: no reply token"}},
        {"type": "message", "replyToken": "", "message": {"type": "text", "text": "empty token"}},
        {"type": "message", "replyToken": "rt-empty", "message": {"type": "text", "text": ""}},
        {"type": "message", "replyToken": "rt-num", "message": {"type": "text", "text": 42}},
        "not an object",
        text_event("one", reply_token="rt-1"),
        text_event("two", reply_token="rt-2"),
    ]
    assert [reply_for(event) for event in events][-2:] == [("rt-1", "one"), ("rt-2", "two")]

    async def scenario():
        async with running_bot() as (client, line):
            body = webhook(*events)
            assert (await post_callback(client, body, sign(body))).status == 200
            await settle(client)
            got = sorted((c["json"]["replyToken"], c["json"]["messages"][0]["text"]) for c in line.calls)
            assert got == [("rt-1", "one"), ("rt-2", "two")]

    run(scenario())


def test_the_consoles_verify_call_with_no_events_is_200():
    async def scenario():
        async with running_bot() as (client, line):
            body = webhook()
            assert (await post_callback(client, body, sign(body))).status == 200
            assert line.calls == []

    run(scenario())


def test_a_long_text_is_cut_to_the_apis_limit():
    async def scenario():
        async with running_bot() as (client, line):
            body = webhook(text_event("あ" * (MAX_TEXT + 10)))
            assert (await post_callback(client, body, sign(body))).status == 200
            await settle(client)
            assert line.calls[0]["json"]["messages"][0]["text"] == "あ" * MAX_TEXT

    run(scenario())


def test_an_oversize_body_is_413_and_nothing_is_sent():
    async def scenario():
        async with running_bot(max_body=4096) as (client, line):
            big = webhook(text_event("x" * 5000))
            # Content-Length over the limit: refused before the body is read.
            resp = await post_callback(client, big, sign(big))
            assert (resp.status, await resp.text()) == (413, "body too large\n")

            # Chunked, no Content-Length: refused while it is read.
            async def chunks():
                for i in range(0, len(big), 1000):
                    yield big[i : i + 1000]

            resp = await post_callback(client, chunks(), sign(big))
            assert resp.status == 413
            # At the limit exactly: accepted.
            fits = webhook(text_event("y" * (4096 - len(webhook(text_event(""))))))
            assert len(fits) == 4096
            assert (await post_callback(client, fits, sign(fits))).status == 200
            await settle(client)
            assert [c["json"]["messages"][0]["text"][:1] for c in line.calls] == ["y"]

    run(scenario())


def test_the_default_limit_is_one_mebibyte():
    async def scenario():
        async with running_bot() as (client, line):
            big = webhook(text_event("z" * (1024 * 1024)))
            assert (await post_callback(client, big, sign(big))).status == 413
            assert line.calls == []

    run(scenario())


def test_health_and_methods():
    async def scenario():
        async with running_bot() as (client, _):
            resp = await client.get("/health")
            assert (resp.status, await resp.text()) == (200, "ok\n")
            assert (await client.get("/callback")).status == 405
            assert (await client.get("/")).status == 404

    run(scenario())


def test_a_refused_reply_is_logged_and_the_callback_still_200(caplog):
    caplog.set_level(logging.INFO, logger="kumo_bot")
    line = LineStandIn(status=400, answer={"message": "Invalid reply token"})

    async def scenario():
        async with running_bot(line) as (client, _):
            body = webhook(text_event("hi"))
            assert (await post_callback(client, body, sign(body))).status == 200
            await settle(client)
            assert len(line.calls) == 1

    run(scenario())
    refused = [r for r in caplog.records if r.getMessage() == "reply refused"]
    assert [r.fields for r in refused] == [{"status": 400, "detail": "Invalid reply token"}]


def test_a_slow_api_does_not_hold_the_callback_and_the_reply_times_out(caplog):
    caplog.set_level(logging.INFO, logger="kumo_bot")
    line = LineStandIn(delay=1.0)

    async def scenario():
        async with running_bot(line, reply_timeout=0.3, drain_timeout=2.0) as (client, _):
            body = webhook(text_event("hi"))
            started = time.monotonic()
            assert (await post_callback(client, body, sign(body))).status == 200
            assert time.monotonic() - started < 0.3  # answered before the reply call could end
            await settle(client)
            assert time.monotonic() - started < 2.0  # bounded by BOT_REPLY_TIMEOUT, not the API

    run(scenario())
    assert [r.fields for r in caplog.records if r.getMessage() == "reply timed out"] == [{"timeout": 0.3}]


def test_an_unreachable_api_is_logged_and_the_callback_still_200(caplog):
    caplog.set_level(logging.INFO, logger="kumo_bot")

    async def scenario():
        async with running_bot(api_base=f"http://127.0.0.1:{free_port()}") as (client, _):
            body = webhook(text_event("hi"))
            assert (await post_callback(client, body, sign(body))).status == 200
            await settle(client)

    run(scenario())
    failed = [r for r in caplog.records if r.getMessage() == "reply failed"]
    assert len(failed) == 1 and failed[0].fields["error"].startswith("ClientConnector")


def test_replies_in_flight_finish_before_the_bot_stops():
    line = LineStandIn(delay=0.3)

    async def scenario():
        async with running_bot(line) as (client, _):
            body = webhook(text_event("last words"))
            assert (await post_callback(client, body, sign(body))).status == 200
            assert line.calls == []
        # running_bot closed the bot (its on_shutdown waits for the reply) before the stand-in.
        assert [c["json"]["messages"][0]["text"] for c in line.calls] == ["last words"]

    run(scenario())


def test_replies_still_running_after_the_drain_timeout_are_abandoned(caplog):
    caplog.set_level(logging.INFO, logger="kumo_bot")
    line = LineStandIn(delay=1.0)

    async def scenario():
        async with running_bot(line, drain_timeout=0.1) as (client, _):
            body = webhook(text_event("too late"))
            assert (await post_callback(client, body, sign(body))).status == 200
            pending = set(client.app[PENDING])
        assert pending and all(task.cancelled() for task in pending)

    run(scenario())
    assert [r.fields for r in caplog.records if r.getMessage() == "replies abandoned at shutdown"] == [{"replies": 1}]
