"""A lean WebSocket client for load generation: websockets' Sans-I/O ClientProtocol on a plain
asyncio Protocol (no per-connection tasks or queues), so one load process drives many clients.
Used by scripts/bench_chat.py and bench/libchoice.py; it connects only where it is told (127.0.0.1,
or a twin's lb published there). ws:// by default; wss:// when given an SSLContext (asyncio's TLS
layer in between; the plain path is unchanged).
"""

from __future__ import annotations

import asyncio
import ssl
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
    host: str,
    port: int,
    path: str,
    on_text: Callable[[bytes], None],
    origin: str | None = None,
    *,
    tls: ssl.SSLContext | None = None,
    server_name: str | None = None,
) -> WsClient:
    """Connect to host:port over TCP and open a WebSocket on path.

    tls: wss:// through this context (client_tls() makes one). server_name: the name in the
    request's Host header and, with TLS, in SNI and the certificate check (default: host), for a
    server reached at an address its certificate does not name (a twin's lb on 127.0.0.1).
    """
    loop = asyncio.get_running_loop()
    name = server_name or host
    if tls is None:
        uri = f"ws://{name}:{port}{path}"
        _, client = await loop.create_connection(lambda: WsClient(uri, on_text, origin), host, port)
    else:
        uri = f"wss://{name}:{port}{path}"
        _, client = await loop.create_connection(
            lambda: WsClient(uri, on_text, origin), host, port, ssl=tls, server_hostname=name
        )
    await client.opened
    return client


def client_tls(insecure: bool = False, cafile: str | None = None) -> ssl.SSLContext:
    """A client SSLContext: the system's CAs (or cafile) verified, or no verification at all."""
    ctx = ssl.create_default_context(cafile=cafile)
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def cpu_seconds(pid: int | str = "self") -> float:
    """utime + stime of a process (and its waited-for children) from /proc, in seconds."""
    import os

    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
    ticks = sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")
