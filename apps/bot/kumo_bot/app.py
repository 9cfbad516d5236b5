"""The webhook: POST /callback (LINE's signed events; text messages are echoed back), GET /health.

A callback is answered as soon as its signature is checked and its events are read; the replies
run beside it (the reply token stays valid long after), so LINE never waits on the Messaging API.
A reply that fails is logged and dropped: the callback was already answered 200, and LINE would
otherwise redeliver the same events again and again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.web_log import AccessLogger

from .config import Config
from .ssm import Secrets, SecretsError, load_secrets

log = logging.getLogger("kumo_bot")

SIGNATURE_HEADER = "X-Line-Signature"
# The Messaging API's limit for one text message, in characters.
MAX_TEXT = 5000
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tf'

CONFIG = web.AppKey("config", Config)
SECRETS = web.AppKey("secrets", Secrets)
HTTP = web.AppKey("http", aiohttp.ClientSession)
PENDING = web.AppKey("pending", set)  # the reply tasks still running


# ---------------------------------------------------------------- logs
class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg and the record's `fields`, if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Never below WARNING, whatever BOT_LOG_LEVEL says: botocore's DEBUG log holds the response
    # bodies, and GetParameters' body holds the decrypted secrets.
    for name in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(name).setLevel(logging.WARNING)


class QuietHealthAccessLogger(AccessLogger):
    """The access log without the passing health checks (Docker's and the target group's, every few s)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if request.path == "/health" and response.status == 200:
            return
        super().log(request, response, time)


def _fields(**values: Any) -> dict[str, Any]:
    return {"fields": values}


# ---------------------------------------------------------------- the webhook
def signature_ok(key: bytes, body: bytes, header: str) -> bool:
    """X-Line-Signature is base64(HMAC-SHA256(channel secret, raw body)); compared in constant time."""
    try:
        given = base64.b64decode(header.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return False
    expected = hmac.new(key, body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)


def reply_for(event: Any) -> tuple[str, str] | None:
    """(reply token, reply text) for a text message event with a reply token; None otherwise.

    The reply is the message's own text (an echo), cut to MAX_TEXT characters.
    """
    if not isinstance(event, dict) or event.get("type") != "message":
        return None
    message = event.get("message")
    if not isinstance(message, dict) or message.get("type") != "text":
        return None
    token, text = event.get("replyToken"), message.get("text")
    if not isinstance(token, str) or not token or not isinstance(text, str) or not text:
        return None
    return token, text[:MAX_TEXT]


def _refuse(status: int, reason: str, request: web.Request) -> web.Response:
    log.warning("callback refused", extra=_fields(status=status, reason=reason, remote=request.remote))
    return web.Response(status=status, text=reason + "\n")


async def callback(request: web.Request) -> web.Response:
    app = request.app
    cfg = app[CONFIG]
    header = request.headers.get(SIGNATURE_HEADER, "")
    if not header:
        return _refuse(400, "missing signature", request)
    if request.content_length is not None and request.content_length > cfg.max_body:
        return _refuse(413, "body too large", request)
    try:
        body = await request.read()  # bounded by the app's client_max_size (= max_body)
    except web.HTTPRequestEntityTooLarge:
        return _refuse(413, "body too large", request)
    if not signature_ok(app[SECRETS].channel_secret.encode(), body, header):
        return _refuse(400, "bad signature", request)

    # Signed by LINE from here on: only now is the body parsed.
    try:
        payload = json.loads(body)
    except ValueError:
        return _refuse(400, "body is not JSON", request)
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        return _refuse(400, "no events list", request)
    replies = 0
    for event in events:
        reply = reply_for(event)
        if reply is None:
            continue
        task = asyncio.create_task(send_reply(app, *reply))
        app[PENDING].add(task)
        task.add_done_callback(app[PENDING].discard)
        replies += 1
    log.info("callback", extra=_fields(events=len(events), replies=replies))
    return web.Response(text="ok\n")


async def _error_detail(resp: aiohttp.ClientResponse, token: str) -> str:
    """The Messaging API's error message (its JSON `message`), short, with the token masked."""
    try:
        raw = await resp.content.read(4096)
        detail = json.loads(raw).get("message", "")
    except Exception:  # an error page, not JSON: its status says enough
        return ""
    return str(detail).replace(token, "***")[:200]


async def send_reply(app: web.Application, reply_token: str, text: str) -> None:
    token = app[SECRETS].access_token
    body = {"replyToken": reply_token, "messages": [{"type": "text", "text": text}]}
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with app[HTTP].post(app[CONFIG].reply_url, json=body, headers=headers) as resp:
            if resp.status == 200:
                await resp.read()
                log.debug("replied")
                return
            detail = await _error_detail(resp, token)
            log.error("reply refused", extra=_fields(status=resp.status, detail=detail))
    except TimeoutError:
        log.error("reply timed out", extra=_fields(timeout=app[CONFIG].reply_timeout))
    except aiohttp.ClientError as e:
        # The class only: no request data (the Authorization header) can end up in the log.
        log.error("reply failed", extra=_fields(error=type(e).__name__))


async def health(request: web.Request) -> web.Response:
    # The app only exists once both secrets were read, so answering is the whole check.
    return web.Response(text="ok\n")


# ---------------------------------------------------------------- the app
async def _http_session(app: web.Application) -> AsyncIterator[None]:
    cfg = app[CONFIG]
    timeout = aiohttp.ClientTimeout(total=cfg.reply_timeout)
    connector = aiohttp.TCPConnector(limit=32)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector, headers={"User-Agent": "kumo-bot"}) as s:
        app[HTTP] = s
        yield


async def _drain(app: web.Application) -> None:
    """Let the replies still in flight finish (bounded by BOT_DRAIN_TIMEOUT) before the session closes."""
    pending = set(app[PENDING])
    if not pending:
        return
    log.info("waiting for replies in flight", extra=_fields(replies=len(pending)))
    _, left = await asyncio.wait(pending, timeout=app[CONFIG].drain_timeout)
    if left:
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        log.warning("replies abandoned at shutdown", extra=_fields(replies=len(left)))


def make_app(cfg: Config, secrets: Secrets) -> web.Application:
    app = web.Application(client_max_size=cfg.max_body)
    app[CONFIG] = cfg
    app[SECRETS] = secrets
    app[PENDING] = set()
    app.cleanup_ctx.append(_http_session)
    app.on_shutdown.append(_drain)
    app.router.add_post("/callback", callback)
    app.router.add_get("/health", health)
    return app


def main() -> int:
    setup_logging("INFO")
    try:
        cfg = Config.from_env()
    except SystemExit as e:
        log.error("cannot start: %s", e)
        return 2
    setup_logging(cfg.log_level)
    try:
        secrets = load_secrets(cfg)
    except SecretsError as e:
        log.error("cannot start: %s", e)
        return 1
    log.info(
        "serving",
        extra=_fields(bind=cfg.bind, port=cfg.port, api_base=cfg.api_base, region=cfg.region),
    )
    web.run_app(
        make_app(cfg, secrets),
        host=cfg.bind,
        port=cfg.port,
        print=None,
        access_log_class=QuietHealthAccessLogger,
        access_log_format=ACCESS_LOG_FORMAT,
        shutdown_timeout=5.0,
    )
    log.info("stopped")
    return 0
