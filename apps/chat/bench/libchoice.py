"""The measurement behind the library choice: broadcast throughput of candidate stacks.

One server process holds 200 WebSocket clients (two client processes of 100 on 127.0.0.1) and
broadcasts 1,000 messages of ~200 bytes to all of them (200,000 deliveries), yielding to the
loop every 10 messages as a server does between batches read from Redis. For each candidate it
reports deliveries/s (first to last frame, as seen by the clients) and the server's CPU seconds
per 100,000 deliveries (from /proc). Bounded: each run stops after its messages or 60 s.

    python apps/chat/bench/libchoice.py            # all candidates, prints a table
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from wsload import cpu_seconds, open_client  # noqa: E402

CLIENTS = 200
PROCS = 2
MESSAGES = 1000
YIELD_EVERY = 10
CANDIDATES = [
    ("websockets", "asyncio", "websockets.broadcast() per message"),
    ("websockets", "uvloop", "websockets.broadcast() per message"),
    ("aiohttp", "asyncio", "await ws.send_str() per client"),
    ("aiohttp", "uvloop", "await ws.send_str() per client"),
    ("websockets-shared", "asyncio", "frame encoded once, one write per client per batch"),
    ("websockets-shared", "uvloop", "frame encoded once, one write per client per batch"),
]


def payload(i: int) -> str:
    return json.dumps({"time": "2025/01/01 12:00:00", "name": "bench", "content": f"{i:06d} " + "x" * 120, "id": i})


# ---------------------------------------------------------------- server side
async def serve_websockets(port: int, shared: bool) -> None:
    from websockets.asyncio.server import broadcast, serve
    from websockets.frames import Frame, Opcode

    conns = set()

    async def handler(ws):
        conns.add(ws)
        try:
            await ws.wait_closed()
        finally:
            conns.discard(ws)

    async def blast():
        for start in range(0, MESSAGES, YIELD_EVERY):
            texts = [payload(i) for i in range(start, start + YIELD_EVERY)]
            if shared:
                data = b"".join(Frame(Opcode.TEXT, t.encode()).serialize(mask=False) for t in texts)
                for ws in conns:
                    ws.transport.write(data)
            else:
                for t in texts:
                    broadcast(conns, t)
            await asyncio.sleep(0)

    await run_server(serve(handler, "127.0.0.1", port, compression=None, max_queue=None), blast)


async def serve_aiohttp(port: int) -> None:
    from aiohttp import web

    conns = set()

    async def handler(request):
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        conns.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            conns.discard(ws)
        return ws

    async def blast():
        for start in range(0, MESSAGES, YIELD_EVERY):
            for i in range(start, start + YIELD_EVERY):
                t = payload(i)
                for ws in list(conns):
                    await ws.send_str(t)
            await asyncio.sleep(0)

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    await run_server(None, blast)


async def run_server(server_coro, blast) -> None:
    if server_coro is not None:
        await server_coro
    go = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, go.set)
    print("ready", flush=True)
    await asyncio.wait_for(go.wait(), 60)
    await blast()
    await asyncio.sleep(60)  # the driver kills it


def server_main(variant: str, loopname: str, port: int) -> None:
    if variant == "aiohttp":
        coro = serve_aiohttp(port)
    else:
        coro = serve_websockets(port, shared=variant == "websockets-shared")
    if loopname == "uvloop":
        import uvloop

        uvloop.run(coro)
    else:
        asyncio.run(coro)


# ---------------------------------------------------------------- client side
async def clients_main(port: int, n: int) -> None:
    import uvloop  # noqa: F401

    counts = [0] * n
    first = last = 0.0
    done = asyncio.Event()
    remaining = n

    def make(k):
        def on_text(data):
            nonlocal first, last, remaining
            now = time.time()
            if not first:
                first = now
            counts[k] += 1
            if counts[k] == MESSAGES:
                last = now
                remaining -= 1
                if remaining == 0:
                    done.set()

        return on_text

    clients = [await open_client("127.0.0.1", port, "/", make(k)) for k in range(n)]
    print("ready", flush=True)
    try:
        await asyncio.wait_for(done.wait(), 60)
    except TimeoutError:
        pass
    print(json.dumps({"first": first, "last": last, "received": sum(counts), "cpu": cpu_seconds()}), flush=True)
    for c in clients:
        c.close()


# ---------------------------------------------------------------- driver
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(variant: str, loopname: str) -> dict:
    port = free_port()
    me = [sys.executable, os.path.abspath(__file__)]
    server = subprocess.Popen([*me, "--serve", variant, loopname, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        clients = [
            subprocess.Popen([*me, "--clients", str(port), str(CLIENTS // PROCS)], stdout=subprocess.PIPE, text=True)
            for _ in range(PROCS)
        ]
        for c in clients:
            assert c.stdout.readline().strip() == "ready"
        cpu0 = cpu_seconds(server.pid)
        server.send_signal(signal.SIGUSR1)
        results = [json.loads(c.stdout.readline()) for c in clients]
        cpu1 = cpu_seconds(server.pid)
        for c in clients:
            c.wait(10)
    finally:
        server.kill()
        server.wait()
    received = sum(r["received"] for r in results)
    wall = max(r["last"] for r in results) - min(r["first"] for r in results)
    return {
        "variant": variant,
        "loop": loopname,
        "received": received,
        "expected": CLIENTS * MESSAGES,
        "deliveries_per_s": received / wall if wall > 0 else 0.0,
        "server_cpu_s_per_100k": (cpu1 - cpu0) / received * 100_000 if received else 0.0,
        "client_cpu_s": sum(r["cpu"] for r in results),
    }


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        server_main(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    if sys.argv[1:2] == ["--clients"]:
        import uvloop

        uvloop.run(clients_main(int(sys.argv[2]), int(sys.argv[3])))
        return
    rows = []
    for variant, loopname, how in CANDIDATES:
        best = max((measure(variant, loopname) for _ in range(2)), key=lambda r: r["deliveries_per_s"])
        best["how"] = how
        rows.append(best)
        print(
            f"{variant:18} {loopname:8} {best['deliveries_per_s']:>10,.0f} deliveries/s  "
            f"server {best['server_cpu_s_per_100k']:.2f} CPU s/100k  received {best['received']:,}/{best['expected']:,}"
            f"  ({how})",
            flush=True,
        )
    out = os.path.join(os.getcwd(), ".webstack", "chat-libchoice.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(rows, f, indent=2)
    print(f"written: {out}")


if __name__ == "__main__":
    main()
