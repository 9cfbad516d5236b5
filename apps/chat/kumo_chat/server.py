"""The chat server: one asyncio process (a worker) serving the page, /ws, /healthz and /metrics.

Every message a client sends is appended to one Redis Stream (XADD, MAXLEN ~); each worker
follows the stream with XREAD and delivers each entry to its own clients. The stream id is the
message id: a client reconnecting with ``/ws?last_id=<id>`` first gets the entries after it
(XRANGE), then the live ones, without a gap or a duplicate, on any worker of any host.

Delivery encodes a frame once per worker and writes the same bytes to every client (server
frames are unmasked, so they are identical), so the per-client cost is one ``transport.write``
per batch read from Redis.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
import time
from datetime import datetime
from http import HTTPStatus
from importlib import resources
from urllib.parse import parse_qs, urlsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State

from . import __version__
from .config import Config

log = logging.getLogger("kumo_chat")

ID_RE = re.compile(r"^\d{1,20}-\d{1,20}$")
READ_COUNT = 256  # entries per XREAD/XRANGE: bounds one batch's bytes (x max frame size)


def id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)


# ---------------------------------------------------------------- logs and metrics
class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, pid and any `fields` passed as extra."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": os.getpid(),
        }
        out.update(getattr(record, "fields", {}))
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # websockets logs every connection at INFO; ours says what matters.
    logging.getLogger("websockets").setLevel(max(logging.WARNING, root.level))


class Metrics:
    COUNTERS = {
        "chat_connections_total": "WebSocket connections accepted",
        "chat_messages_in_total": "Messages accepted from clients and appended to the stream",
        "chat_messages_out_total": "Messages delivered to clients (one per client per message)",
        "chat_slow_readers_dropped_total": "Clients dropped because their send buffer was full",
        "chat_resumes_total": "Connections that resumed from a last id",
        "chat_resume_backlog_total": "Messages served from the stream to resuming clients",
        "chat_frames_rejected_total": "Client frames answered with an error frame",
        "chat_abuse_closed_total": "Connections closed for abuse (rate limit)",
        "chat_origin_rejected_total": "WebSocket handshakes refused for their Origin",
        "chat_redis_errors_total": "Redis commands that failed",
    }

    def __init__(self) -> None:
        self.values = dict.fromkeys(self.COUNTERS, 0)
        self.connections = 0

    def inc(self, name: str, n: int = 1) -> None:
        self.values[name] += n

    def render(self) -> str:
        lines = [
            "# HELP chat_connections Open WebSocket connections on this worker",
            "# TYPE chat_connections gauge",
            f"chat_connections {self.connections}",
        ]
        for name, text in self.COUNTERS.items():
            lines += [f"# HELP {name} {text}", f"# TYPE {name} counter", f"{name} {self.values[name]}"]
        lines += [
            "# HELP chat_build_info Version and worker pid",
            "# TYPE chat_build_info gauge",
            f'chat_build_info{{version="{__version__}",pid="{os.getpid()}"}} 1',
        ]
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- clients and the hub
class Client:
    __slots__ = ("conn", "transport", "pending", "pending_count", "floor", "tokens", "stamp", "strikes")

    def __init__(self, conn: ServerConnection, burst: int) -> None:
        self.conn = conn
        self.transport = conn.transport
        # While resuming: live batches kept back until the backlog is sent (None once live).
        self.pending: list[list[tuple[tuple[int, int], bytes]]] | None = None
        self.pending_count = 0
        # After a resume: the last id sent from the stream. This worker's follower may not have
        # read that far yet; live entries up to it were sent already and are skipped (None once
        # the follower has passed it).
        self.floor: tuple[int, int] | None = None
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.strikes = 0


class Publisher:
    """Appends the clients' messages to the stream in pipelines: one round trip to Redis for all
    that arrived meanwhile, in arrival order (each connection's order is kept). The queue is
    bounded: when full, handlers wait, so reading from their sockets (TCP) pushes back."""

    MAX_QUEUE = 10_000
    MAX_BATCH = 500

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.queue: list[tuple[Client, dict[str, str]]] = []
        self.wakeup = asyncio.Event()
        self.space = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()

    async def submit(self, client: Client, fields: dict[str, str]) -> None:
        while len(self.queue) >= self.MAX_QUEUE:
            self.space.clear()
            await self.space.wait()
        self.queue.append((client, fields))
        self.idle.clear()
        self.wakeup.set()

    async def run(self) -> None:
        cfg, chat = self.chat.cfg, self.chat
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while self.queue:
                batch, self.queue = self.queue[: self.MAX_BATCH], self.queue[self.MAX_BATCH :]
                self.space.set()
                pipe = chat.redis.pipeline(transaction=False)
                for _, fields in batch:
                    pipe.xadd(cfg.stream, fields, maxlen=cfg.stream_maxlen, approximate=True)
                try:
                    results = await pipe.execute(raise_on_error=False)
                except (RedisError, OSError) as exc:
                    results = [exc] * len(batch)
                failed = [client for (client, _), r in zip(batch, results, strict=True) if isinstance(r, Exception)]
                chat.metrics.inc("chat_messages_in_total", len(batch) - len(failed))
                if failed:
                    chat.metrics.inc("chat_redis_errors_total", len(failed))
                    log.warning("append failed", extra={"fields": {"messages": len(failed), "error": repr(results[0])}})
                    for client in failed:
                        chat.spawn(chat.error(client.conn, "unavailable", "message not stored, send it again"))
            self.idle.set()


def text_frame(payload: bytes) -> bytes:
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


class Chat:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.metrics = Metrics()
        self.clients: dict[ServerConnection, Client] = {}
        self.draining = False
        self.reader_ok = False
        self.tasks: set[asyncio.Task] = set()
        opts = {"decode_responses": True, "socket_connect_timeout": 3, "health_check_interval": 30}
        self.redis = aioredis.Redis.from_url(cfg.redis_url, socket_timeout=5, **opts)
        # XREAD BLOCK holds its connection: a client of its own, with a timeout above the block time.
        self.reader_redis = aioredis.Redis.from_url(cfg.redis_url, socket_timeout=15, **opts)
        self.publisher = Publisher(self)
        self.page = resources.files(__package__).joinpath("static/index.html").read_bytes()
        self._second = -1
        self._second_text = ""

    # -- encoding
    def format_time(self, ms: int) -> str:
        second = ms // 1000
        if second != self._second:
            self._second = second
            self._second_text = datetime.fromtimestamp(second, self.cfg.zone).strftime("%Y/%m/%d %H:%M:%S")
        return self._second_text

    def encode(self, entry_id: str, fields: dict[str, str]) -> str:
        msg = {
            "time": self.format_time(int(entry_id.partition("-")[0])),
            "name": fields.get("name", ""),
            "content": fields.get("content", ""),
            "id": entry_id,
        }
        return json.dumps(msg, ensure_ascii=False, separators=(",", ":"))

    def spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- delivery
    async def follow(self) -> None:
        """Follow the stream from its current end and deliver every entry to this worker's clients."""
        stream = self.cfg.stream
        last = None
        while True:
            try:
                if last is None:
                    newest = await self.reader_redis.xrevrange(stream, count=1)
                    last = newest[0][0] if newest else "0-0"
                    self.reader_ok = True
                    log.info("following the stream", extra={"fields": {"stream": stream, "from": last}})
                resp = await self.reader_redis.xread({stream: last}, count=READ_COUNT, block=5000)
                self.reader_ok = True
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self.reader_ok = False
                self.metrics.inc("chat_redis_errors_total")
                log.warning("stream read failed", extra={"fields": {"error": repr(exc)}})
                await asyncio.sleep(0.5)
                continue
            if resp:
                entries = resp[0][1]
                self.deliver(entries)
                last = entries[-1][0]

    def deliver(self, entries) -> None:
        batch = [(id_key(eid), text_frame(self.encode(eid, fields).encode())) for eid, fields in entries]
        data = b"".join(frame for _, frame in batch)
        n = len(batch)
        limit = self.cfg.send_buffer
        slow = []
        sent = 0
        for client in self.clients.values():
            if client.pending is not None:
                client.pending.append(batch)
                client.pending_count += n
                if client.pending_count > self.cfg.stream_maxlen:
                    slow.append(client)
            elif client.transport.get_write_buffer_size() > limit:
                slow.append(client)
            elif client.conn.protocol.state is State.OPEN:
                if client.floor is not None:
                    frames = [frame for key, frame in batch if key > client.floor]
                    if batch[-1][0] > client.floor:
                        client.floor = None
                    client.transport.write(b"".join(frames))
                    sent += len(frames)
                    continue
                client.transport.write(data)
                sent += n
        self.metrics.inc("chat_messages_out_total", sent)
        for client in slow:
            self.drop_slow(client)

    def drop_slow(self, client: Client) -> None:
        if self.clients.pop(client.conn, None) is None:
            return
        self.metrics.inc("chat_slow_readers_dropped_total")
        buffered = client.transport.get_write_buffer_size()
        log.warning(
            "slow reader dropped", extra={"fields": {"peer": str(client.conn.remote_address), "buffered": buffered}}
        )
        # 1013 (try again later); the close frame queues behind the backlog, close_timeout aborts.
        self.spawn(client.conn.close(CloseCode.TRY_AGAIN_LATER, "slow reader"))

    async def resume(self, client: Client, last_id: str) -> None:
        """Send the entries after last_id, then switch the client to live delivery (no gap, no duplicate)."""
        client.pending = []
        self.clients[client.conn] = client  # live batches from now on are kept in client.pending
        self.metrics.inc("chat_resumes_total")
        cursor, sent_key, served = last_id, id_key(last_id), 0
        while client.conn.protocol.state is State.OPEN:
            entries = await self.redis.xrange(self.cfg.stream, min="(" + cursor, max="+", count=READ_COUNT)
            for eid, fields in entries:
                await client.conn.send(self.encode(eid, fields))
            served += len(entries)
            if entries:
                cursor = entries[-1][0]
                sent_key = id_key(cursor)
            if len(entries) < READ_COUNT or served >= self.cfg.stream_maxlen:
                break
        if self.clients.get(client.conn) is not client:
            return  # dropped meanwhile
        # No await from here on: what the stream read returned and what was kept back join exactly.
        for batch in client.pending:
            frames = [frame for key, frame in batch if key > sent_key]
            if frames:
                client.transport.write(b"".join(frames))
                served += len(frames)
                sent_key = batch[-1][0]
        client.pending = None
        client.pending_count = 0
        # what the stream read returned may be ahead of this worker's follower: skip it live
        client.floor = sent_key
        self.metrics.inc("chat_resume_backlog_total", served)
        log.debug("resumed", extra={"fields": {"last_id": last_id, "served": served}})

    # -- one connection
    async def handler(self, conn: ServerConnection) -> None:
        cfg = self.cfg
        client = Client(conn, cfg.rate_burst)
        self.metrics.inc("chat_connections_total")
        self.metrics.connections += 1
        query = parse_qs(urlsplit(conn.request.path).query)
        last_id = (query.get("last_id") or [""])[0]
        try:
            if last_id and not ID_RE.match(last_id):
                await self.error(conn, "bad_last_id", "last_id must look like 1700000000000-0")
                last_id = ""
            if last_id:
                try:
                    await self.resume(client, last_id)
                except (RedisError, OSError) as exc:
                    self.metrics.inc("chat_redis_errors_total")
                    log.warning("resume failed", extra={"fields": {"error": repr(exc)}})
                    await conn.close(CloseCode.INTERNAL_ERROR, "resume failed, reconnect")
                    return
            else:
                self.clients[conn] = client
            async for message in conn:
                await self.on_frame(client, message)
        except ConnectionClosed:
            pass
        finally:
            self.clients.pop(conn, None)
            self.metrics.connections -= 1

    async def error(self, conn: ServerConnection, code: str, detail: str) -> None:
        self.metrics.inc("chat_frames_rejected_total")
        try:
            await conn.send(json.dumps({"error": code, "detail": detail}))
        except ConnectionClosed:
            pass

    async def on_frame(self, client: Client, message: str | bytes) -> None:
        cfg, conn = self.cfg, client.conn
        now = time.monotonic()
        client.tokens = min(cfg.rate_burst, client.tokens + (now - client.stamp) * cfg.rate_per_sec)
        client.stamp = now
        if client.tokens < 1:
            client.strikes += 1
            if client.strikes >= cfg.rate_strikes:
                self.metrics.inc("chat_abuse_closed_total")
                log.warning("rate limit abuse, closing", extra={"fields": {"peer": str(conn.remote_address)}})
                await conn.close(CloseCode.POLICY_VIOLATION, "rate limit exceeded")
                return
            await self.error(conn, "rate_limited", f"at most {cfg.rate_per_sec:g} messages/s")
            return
        client.tokens -= 1
        client.strikes = 0
        if isinstance(message, bytes):
            await self.error(conn, "bad_frame", "send text frames")
            return
        try:
            obj = json.loads(message)
        except ValueError:
            await self.error(conn, "bad_json", "send a JSON object")
            return
        if not isinstance(obj, dict):
            await self.error(conn, "bad_frame", 'send {"name": str, "content": str}')
            return
        name, content = obj.get("name"), obj.get("content")
        if not isinstance(name, str) or not isinstance(content, str):
            await self.error(conn, "bad_frame", 'send {"name": str, "content": str}')
            return
        if len(name) > cfg.max_name or len(content) > cfg.max_content:
            await self.error(conn, "too_long", f"name <= {cfg.max_name}, content <= {cfg.max_content} characters")
            return
        if not content.strip():
            await self.error(conn, "empty", "content is empty")
            return
        await self.publisher.submit(client, {"name": name, "content": content})

    # -- HTTP
    def origin_ok(self, origin: str, host: str | None) -> bool:
        allowed = self.cfg.allowed_origins
        origin = origin.rstrip("/")
        if "*" in allowed or origin in allowed:
            return True
        return host is not None and urlsplit(origin).netloc.lower() == host.lower()

    async def healthy(self) -> tuple[bool, str]:
        if self.draining:
            return False, "draining"
        try:
            await asyncio.wait_for(self.redis.ping(), 2)
        except (TimeoutError, RedisError, OSError) as exc:
            self.metrics.inc("chat_redis_errors_total")
            return False, f"redis unreachable: {exc!r}"
        if not self.reader_ok:
            return False, "stream reader not running"
        return True, "ok"

    async def process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path == "/ws":
            if self.draining:
                return respond(HTTPStatus.SERVICE_UNAVAILABLE, b"draining\n")
            if self.metrics.connections >= self.cfg.max_connections:
                return respond(HTTPStatus.SERVICE_UNAVAILABLE, b"too many connections\n")
            origin = request.headers.get("Origin")
            # No Origin: not a browser (browsers always send it), so no cross-site hijacking to stop.
            if origin is not None and not self.origin_ok(origin, request.headers.get("Host")):
                self.metrics.inc("chat_origin_rejected_total")
                return respond(HTTPStatus.FORBIDDEN, b"origin not allowed\n")
            return None
        if path == "/":
            return respond(HTTPStatus.OK, self.page, "text/html; charset=utf-8")
        if path == "/healthz":
            ok, why = await self.healthy()
            return respond(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, why.encode() + b"\n")
        if path == "/metrics":
            return respond(HTTPStatus.OK, self.metrics.render().encode(), "text/plain; version=0.0.4")
        return respond(HTTPStatus.NOT_FOUND, b"not found\n")

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.redis.aclose()
        await self.reader_redis.aclose()


def respond(status: HTTPStatus, body: bytes, ctype: str = "text/plain; charset=utf-8") -> Response:
    headers = Headers(
        [
            ("Content-Type", ctype),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Connection", "close"),
        ]
    )
    return Response(status.value, status.phrase, headers, body)


# ---------------------------------------------------------------- processes
async def run(cfg: Config) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    chat = Chat(cfg)
    server: Server = await serve(
        chat.handler,
        cfg.bind,
        cfg.port,
        reuse_port=True,  # several workers (processes) share the port
        process_request=chat.process_request,
        server_header=f"kumo-chat/{__version__}",
        compression=None,  # frames are encoded once and written to every client as they are
        max_size=cfg.max_frame,  # larger frames: close 1009
        max_queue=16,
        ping_interval=20,
        ping_timeout=20,
        close_timeout=3,
    )
    follower = asyncio.create_task(chat.follow())
    publisher = asyncio.create_task(chat.publisher.run())
    log.info(
        "listening",
        extra={"fields": {"bind": cfg.bind, "port": cfg.port, "tz": cfg.tz, "redis": redact(cfg.redis_url)}},
    )
    await stop.wait()
    # Drain: refuse new connections and fail /healthz, close every client with 1001 (they reconnect
    # elsewhere), let handlers finish what they were appending, then stop following the stream.
    chat.draining = True
    log.info("draining", extra={"fields": {"clients": len(chat.clients)}})
    server.close(close_connections=True, code=CloseCode.GOING_AWAY, reason="server shutting down")
    try:
        await asyncio.wait_for(server.wait_closed(), cfg.drain_timeout)
        # what the handlers queued is appended before the worker goes
        await asyncio.wait_for(chat.publisher.idle.wait(), cfg.drain_timeout)
    except TimeoutError:
        log.warning("drain timed out")
    publisher.cancel()
    follower.cancel()
    await chat.close()
    log.info("stopped")


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def run_worker(cfg: Config) -> int:
    if cfg.uvloop:
        try:
            import uvloop
        except ImportError:
            log.warning("uvloop not installed, using asyncio's loop")
        else:
            uvloop.run(run(cfg))
            return 0
    asyncio.run(run(cfg))
    return 0


def supervise(cfg: Config) -> int:
    """Fork cfg.workers workers sharing the port (SO_REUSEPORT); restart a crashed one; pass SIGTERM on."""
    children: dict[int, int] = {}
    stopping = False

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 1
            try:
                code = run_worker(cfg)
            except BaseException:
                log.exception("worker failed")
            finally:
                logging.shutdown()
                os._exit(code)
        children[pid] = index

    def on_signal(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("supervisor starting workers", extra={"fields": {"workers": cfg.workers}})
    for index in range(cfg.workers):
        spawn(index)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        index = children.pop(pid, None)
        if index is None or stopping:
            continue
        log.error("worker exited, restarting", extra={"fields": {"pid": pid, "status": status}})
        time.sleep(1)
        spawn(index)
    return 0


def main() -> int:
    cfg = Config.from_env()
    setup_logging(cfg.log_level)
    if cfg.workers == 1:
        return run_worker(cfg)
    return supervise(cfg)
