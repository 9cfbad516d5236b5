"""Several servers on one Redis: delivery both ways, a server killed mid-stream (its clients resume on
the other: every message exactly once, ids contiguous), SIGTERM (1001, drain) and resume across a
restart. Several workers on one port (SO_REUSEPORT)."""

from __future__ import annotations

import asyncio
import json
import signal

from chatkit import recv_json, run, send, ws_connect
from websockets.exceptions import ConnectionClosed


def test_delivery_across_servers_both_ways(make_server):
    a, b = make_server(), make_server(CHAT_TZ="UTC")

    async def scenario():
        async with ws_connect(a.ws) as on_a, ws_connect(b.ws) as on_b:
            await send(on_a, "from-a", "hello b")
            got = await recv_json(on_b)
            assert (got["name"], got["content"]) == ("from-a", "hello b")
            assert (await recv_json(on_a))["id"] == got["id"]
            await send(on_b, "from-b", "hello a")
            got = await recv_json(on_a)
            assert (got["name"], got["content"]) == ("from-b", "hello a")
            assert (await recv_json(on_b))["id"] == got["id"]

    run(scenario())


class ResumingClient:
    """Reads until it has `expected` messages; when its server goes away it resumes on the next
    URL with the id of the last message it got (as the page does)."""

    def __init__(self, urls: list[str], expected: int) -> None:
        self.urls, self.expected = urls, expected
        self.messages: list[dict] = []
        self.reconnects = 0
        self.close_codes: list[int | None] = []
        self.connected = asyncio.Event()

    async def run(self) -> None:
        i = 0
        while len(self.messages) < self.expected:
            url = self.urls[i % len(self.urls)]
            if self.messages:
                url += "?last_id=" + self.messages[-1]["id"]
            try:
                async with ws_connect(url) as ws:
                    self.connected.set()
                    while len(self.messages) < self.expected:
                        self.messages.append(await recv_json(ws))
            except (ConnectionClosed, OSError) as exc:
                self.close_codes.append(exc.rcvd.code if isinstance(exc, ConnectionClosed) and exc.rcvd else None)
                self.reconnects += 1
                i += 1
                await asyncio.sleep(0.05)


def test_server_killed_mid_stream_clients_resume_on_the_other_exactly_once(make_server, redis_server, stream):
    fast = {"CHAT_RATE_PER_SEC": "10000", "CHAT_RATE_BURST": "1000"}
    a, b = make_server(**fast), make_server(**fast)
    total = 300

    async def scenario():
        clients = [ResumingClient([a.ws, b.ws], total) for _ in range(5)]
        readers = [asyncio.create_task(c.run()) for c in clients]
        await asyncio.gather(*(c.connected.wait() for c in clients))
        async with ws_connect(b.ws) as sender:

            async def drain():
                async for _ in sender:
                    pass

            drainer = asyncio.create_task(drain())
            for i in range(total):
                await send(sender, "s", f"{i:04d}")
                if i == total // 3:
                    a.kill(signal.SIGKILL)  # mid-stream, no goodbye
                await asyncio.sleep(0.003)
            await asyncio.gather(*readers)
            drainer.cancel()
        return clients

    clients = run(scenario())
    ids = [entry[0] for entry in redis_server_range(redis_server, stream)]
    assert len(ids) == total
    for c in clients:
        assert c.reconnects == 1
        assert [m["content"] for m in c.messages] == [f"{i:04d}" for i in range(total)]  # each once, in order
        assert [m["id"] for m in c.messages] == ids  # ids contiguous: the stream's, none skipped
    assert b.metric("chat_resumes_total") == len(clients)


def redis_server_range(redis_server, stream):
    import redis

    return redis.Redis(port=redis_server.port, decode_responses=True).xrange(stream)


def test_sigterm_closes_clients_1001_and_resume_works_across_a_restart(make_server):
    a = make_server()

    async def scenario():
        async with ws_connect(a.ws) as ws:
            await send(ws, "x", "before")
            last = (await recv_json(ws))["id"]
            a.proc.send_signal(signal.SIGTERM)
            try:
                await recv_json(ws)
                raise AssertionError("expected a close")
            except ConnectionClosed as exc:
                assert exc.rcvd.code == 1001
        assert a.proc.wait(30) == 0  # drained and exited cleanly
        a.proc = None
        # messages sent while it was down (through another server), then the same server restarted
        b = make_server()
        async with ws_connect(b.ws) as other:
            for i in range(3):
                await send(other, "y", f"while down {i}")
                await recv_json(other)
        a.start()
        async with ws_connect(f"{a.ws}?last_id={last}") as ws:
            got = [(await recv_json(ws))["content"] for _ in range(3)]
            assert got == [f"while down {i}" for i in range(3)]

    run(scenario())
    assert '"msg": "draining"' in a.log()


def test_several_workers_share_one_port(make_server):
    server = make_server(CHAT_WORKERS="2")

    async def scenario():
        socks = [await ws_connect(server.ws).__aenter__() for _ in range(8)]
        try:
            await send(socks[0], "w", "to all workers")
            for ws in socks:
                assert (await recv_json(ws))["content"] == "to all workers"
        finally:
            for ws in socks:
                await ws.close()

    run(scenario())
    server.stop()
    # two workers listened on the one port (which of them takes a connection is the kernel's choice)
    listening = [json.loads(line) for line in server.log().splitlines() if '"msg": "listening"' in line]
    assert len({rec["pid"] for rec in listening}) == 2
    assert server.log().count('"msg": "stopped"') == 2
