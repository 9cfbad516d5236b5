"""Helpers for the bot's tests: signing, a stand-in Messaging API, the bot in-process.

Everything listens on 127.0.0.1 on ephemeral ports; nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from kumo_bot.app import PENDING, make_app
from kumo_bot.config import Config
from kumo_bot.ssm import Secrets

# Distinctive values, so a leak into a log or an error is found by a plain substring search.
TOKEN = "tok-Zq8Xv1-access-token-never-logged"
SECRET = "sec-7Hk2Pw-channel-secret-never-logged"
TOKEN_PARAMETER = "/kumo-test/bot/ACCESS_TOKEN"
SECRET_PARAMETER = "/kumo-test/bot/CHANNEL_SECRET"
TEST_TIMEOUT = 15  # seconds: bounds a hung test on a busy machine, no test measures speed


def run(coro: Any) -> Any:
    """Run one test's asyncio part, bounded."""

    async def bounded() -> Any:
        return await asyncio.wait_for(coro, TEST_TIMEOUT)

    return asyncio.run(bounded())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def text_event(text: str, reply_token: str = "rt-1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "mode": "active",
        "timestamp": 1700000000000,
        "source": {"type": "user", "userId": "U0123"},
        "replyToken": reply_token,
        "message": {"id": "1", "type": "text", "text": text},
        **extra,
    }


def webhook(*events: dict[str, Any]) -> bytes:
    return json.dumps({"destination": "U-bot", "events": list(events)}, ensure_ascii=False).encode()


@dataclass
class LineStandIn:
    """POST /v2/bot/message/reply: records each call, answers `status` with `answer` after `delay` s."""

    status: int = 200
    answer: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v2/bot/message/reply", self._reply)
        return app

    async def _reply(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.calls.append(
            {
                "authorization": request.headers.get("Authorization"),
                "content_type": request.content_type,
                "json": await request.json(),
            }
        )
        return web.json_response(self.answer, status=self.status)


def config(**overrides: Any) -> Config:
    return replace(
        Config(access_token_parameter=TOKEN_PARAMETER, channel_secret_parameter=SECRET_PARAMETER), **overrides
    )


@contextlib.asynccontextmanager
async def running_bot(
    line: LineStandIn | None = None, **overrides: Any
) -> AsyncIterator[tuple[TestClient, LineStandIn]]:
    """The bot on 127.0.0.1 with its API base at a stand-in (also on 127.0.0.1)."""
    line = line or LineStandIn()
    line_server = TestServer(line.app(), host="127.0.0.1")
    await line_server.start_server()
    overrides.setdefault("api_base", str(line_server.make_url("")).rstrip("/"))
    client = TestClient(TestServer(make_app(config(**overrides), Secrets(TOKEN, SECRET)), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client, line
    finally:
        await client.close()
        await line_server.close()


async def settle(client: TestClient) -> None:
    """Wait for the replies the bot started to finish."""
    await asyncio.gather(*client.app[PENDING])


async def post_callback(client: TestClient, body: bytes, signature: str | None = None, **kwargs: Any) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Line-Signature"] = signature
    return await client.post("/callback", data=body, headers=headers, **kwargs)
