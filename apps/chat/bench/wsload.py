"""A lean WebSocket client for load generation: websockets' Sans-I/O ClientProtocol on a plain
asyncio Protocol (no per-connection tasks or queues), so one load process drives many clients.
Used by scripts/bench_chat.py and bench/libchoice.py; it connects only where it is told (127.0.0.1).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri


class WsClient(asyncio.Protocol):
    def __init__(self, uri: str, on_text: Callable[[bytes], None], origin: str | None = None) -> None:
        loop = asyncio.get_running_loop()
        self.proto = ClientProtocol(parse_uri(uri), max_size=None)
        self.on_text = on_text
        self.origin = origin
        self.opened: asyncio.Future = loop.create_future()
        self.closed: asyncio.Future = loop.create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        request = self.proto.connect()
        if self.origin:
            request.headers["Origin"] = self.origin
        self.proto.send_request(request)
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.proto.receive_data(data)
        for event in self.proto.events_received():
            if isinstance(event, Response):
                if self.proto.state is State.OPEN:
                    self.opened.set_result(None)
                else:
                    self.opened.set_exception(ConnectionError(f"handshake failed: {event.status_code}"))
            elif event.opcode is Opcode.TEXT:
                self.on_text(event.data)
        self._flush()

    def connection_lost(self, exc) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("connection lost before the handshake"))
        if not self.closed.done():
            self.closed.set_result(self.proto.close_code)

    def send_text(self, text: str) -> None:
        self.proto.send_text(text.encode())
        self._flush()

    def close(self) -> None:
        if self.proto.state is State.OPEN:
            self.proto.send_close(1000)
            self._flush()
        if self.transport is not None:
            self.transport.close()

    def _flush(self) -> None:
        if self.transport is None:
            return
        for data in self.proto.data_to_send():
            if data:
                self.transport.write(data)


async def open_client(
    host: str, port: int, path: str, on_text: Callable[[bytes], None], origin: str | None = None
) -> WsClient:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: WsClient(f"ws://{host}:{port}{path}", on_text, origin), host, port)
    await client.opened
    return client


def cpu_seconds(pid: int | str = "self") -> float:
    """utime + stime of a process (and its waited-for children) from /proc, in seconds."""
    import os

    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
    ticks = sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")
