"""Configuration from CHAT_* environment variables (one place, validated at start)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: not an integer") from None
    if value < minimum:
        raise SystemExit(f"{name}={value}: must be >= {minimum}")
    return value


def _float(env: dict[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: not a number") from None
    if value < minimum:
        raise SystemExit(f"{name}={value}: must be >= {minimum}")
    return value


@dataclass(frozen=True)
class Config:
    redis_url: str = "redis://127.0.0.1:6379/0"
    bind: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    tz: str = "Asia/Tokyo"
    # Empty: only the page's own origin (Origin host == Host header). "*" allows any.
    allowed_origins: tuple[str, ...] = ()
    stream: str = "chat:messages"
    stream_maxlen: int = 10_000
    max_frame: int = 4096
    max_name: int = 64
    max_content: int = 1000
    rate_per_sec: float = 10.0
    rate_burst: int = 20
    # Frames refused by the rate limit in a row before the connection is closed (1008).
    rate_strikes: int = 20
    # Bytes waiting in a client's send buffer before it counts as a slow reader and is dropped.
    send_buffer: int = 512 * 1024
    max_connections: int = 10_000
    drain_timeout: float = 10.0
    log_level: str = "INFO"
    uvloop: bool = False
    zone: ZoneInfo = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        origins = tuple(o.strip().rstrip("/") for o in env.get("CHAT_ALLOWED_ORIGINS", "").split(",") if o.strip())
        tz = env.get("CHAT_TZ", "") or cls.tz
        try:
            zone = ZoneInfo(tz)
        except Exception:
            raise SystemExit(f"CHAT_TZ={tz!r}: unknown time zone") from None
        redis_url = env.get("CHAT_REDIS_URL", "") or cls.redis_url
        if not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SystemExit("CHAT_REDIS_URL: must start with redis://, rediss:// or unix://")
        return cls(
            redis_url=redis_url,
            bind=env.get("CHAT_BIND", "") or cls.bind,
            port=_int(env, "CHAT_PORT", cls.port),
            workers=_int(env, "CHAT_WORKERS", cls.workers, 1),
            tz=tz,
            allowed_origins=origins,
            stream=env.get("CHAT_STREAM", "") or cls.stream,
            stream_maxlen=_int(env, "CHAT_STREAM_MAXLEN", cls.stream_maxlen, 1),
            max_frame=_int(env, "CHAT_MAX_FRAME", cls.max_frame, 64),
            max_name=_int(env, "CHAT_MAX_NAME", cls.max_name, 1),
            max_content=_int(env, "CHAT_MAX_CONTENT", cls.max_content, 1),
            rate_per_sec=_float(env, "CHAT_RATE_PER_SEC", cls.rate_per_sec, 0.001),
            rate_burst=_int(env, "CHAT_RATE_BURST", cls.rate_burst, 1),
            rate_strikes=_int(env, "CHAT_RATE_STRIKES", cls.rate_strikes, 1),
            send_buffer=_int(env, "CHAT_SEND_BUFFER", cls.send_buffer, 4096),
            max_connections=_int(env, "CHAT_MAX_CONNECTIONS", cls.max_connections, 1),
            drain_timeout=_float(env, "CHAT_DRAIN_TIMEOUT", cls.drain_timeout),
            log_level=(env.get("CHAT_LOG_LEVEL", "") or cls.log_level).upper(),
            uvloop=env.get("CHAT_UVLOOP", "0") in ("1", "true", "yes"),
            zone=zone,
        )
