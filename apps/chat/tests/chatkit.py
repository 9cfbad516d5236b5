"""Client helpers for the chat tests (asyncio, websockets' client)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from websockets.asyncio.client import connect

TIME_RE = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}$")
RECV_TIMEOUT = 15  # seconds; bounds a lost message on a busy machine, it is not a speed target


def run(coro, timeout: float = 90):
    """Run one test's asyncio part, bounded (a hung test fails instead of hanging CI)."""

    async def bounded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def ws_connect(url: str, **kw):
    return connect(url, open_timeout=RECV_TIMEOUT, close_timeout=5, max_size=None, **kw)


async def recv_json(ws, timeout: float = RECV_TIMEOUT) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def send(ws, name: str, content: str) -> None:
    await ws.send(json.dumps({"name": name, "content": content}))


def expected_time(entry_id: str, tz: str) -> str:
    ms = int(entry_id.split("-")[0])
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(tz)).strftime("%Y/%m/%d %H:%M:%S")
