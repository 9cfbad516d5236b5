"""Configuration from BOT_* (and the standard AWS_*) environment variables, validated at start.

No secret is configured here: the environment only names the two SSM parameters that hold them
(secrets.py reads their values at start).
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_REGION = "ap-northeast-1"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# An SSM parameter name (optionally a path: /stack/bot/ACCESS_TOKEN) or a parameter's ARN.
_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,2048}$")
_PARAMETER_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9_.\-/]{1,2048}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


def _int(env: dict[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: not an integer") from None
    if not minimum <= value <= maximum:
        raise SystemExit(f"{name}={value}: must be between {minimum} and {maximum}")
    return value


def _float(env: dict[str, str], name: str, default: float, minimum: float, maximum: float) -> float:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: not a number") from None
    if not minimum <= value <= maximum:  # also refuses nan
        raise SystemExit(f"{name}={value}: must be between {minimum} and {maximum}")
    return value


def _bind(env: dict[str, str]) -> str:
    raw = env.get("BOT_BIND", "").strip() or Config.bind
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        if not _HOST_NAME.match(raw):
            raise SystemExit(f"BOT_BIND={raw!r}: not an IP address or host name") from None
    return raw


def _parameter(env: dict[str, str], name: str) -> str:
    raw = env.get(name, "").strip()
    if raw == "":
        raise SystemExit(f"{name}: not set (the name of the SSM parameter to read at start)")
    if not (_PARAMETER_NAME.match(raw) or _PARAMETER_ARN.match(raw)):
        raise SystemExit(f"{name}={raw!r}: not an SSM parameter name (letters, digits, _ . - /) or ARN")
    return raw


def _api_base(env: dict[str, str]) -> str:
    raw = env.get("BOT_API_BASE", "").strip() or Config.api_base
    try:
        url = urlsplit(raw)
        url.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
    except ValueError:
        raise SystemExit(f"BOT_API_BASE={raw!r}: not a URL") from None
    if url.scheme not in ("http", "https") or not url.hostname:
        raise SystemExit(f"BOT_API_BASE={raw!r}: must be an http:// or https:// URL with a host")
    if url.username or url.password or url.query or url.fragment:
        raise SystemExit("BOT_API_BASE: must not carry credentials, a query or a fragment")
    return raw.rstrip("/")


@dataclass(frozen=True)
class Config:
    access_token_parameter: str
    channel_secret_parameter: str
    bind: str = "127.0.0.1"
    port: int = 8080
    # The Messaging API; tests and the local twin point it at a stand-in.
    api_base: str = "https://api.line.me"
    region: str = DEFAULT_REGION
    # Largest webhook body accepted (bytes); larger: 413, before the body is read or verified.
    max_body: int = 1024 * 1024
    # Bound on one reply call (connect + send + answer), seconds.
    reply_timeout: float = 5.0
    # Bound on waiting for replies still in flight when the server stops, seconds.
    drain_timeout: float = 10.0
    log_level: str = "INFO"

    @property
    def reply_url(self) -> str:
        return self.api_base + "/v2/bot/message/reply"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        token_parameter = _parameter(env, "BOT_ACCESS_TOKEN_PARAMETER")
        secret_parameter = _parameter(env, "BOT_CHANNEL_SECRET_PARAMETER")
        if token_parameter == secret_parameter:
            raise SystemExit("BOT_ACCESS_TOKEN_PARAMETER and BOT_CHANNEL_SECRET_PARAMETER: must name two parameters")
        log_level = (env.get("BOT_LOG_LEVEL", "").strip() or cls.log_level).upper()
        if log_level not in LOG_LEVELS:
            raise SystemExit(f"BOT_LOG_LEVEL={log_level!r}: must be one of {', '.join(LOG_LEVELS)}")
        region = env.get("AWS_REGION", "").strip() or env.get("AWS_DEFAULT_REGION", "").strip() or DEFAULT_REGION
        return cls(
            access_token_parameter=token_parameter,
            channel_secret_parameter=secret_parameter,
            bind=_bind(env),
            port=_int(env, "BOT_PORT", cls.port, 1, 65535),
            api_base=_api_base(env),
            region=region,
            max_body=_int(env, "BOT_MAX_BODY", cls.max_body, 1024, 16 * 1024 * 1024),
            reply_timeout=_float(env, "BOT_REPLY_TIMEOUT", cls.reply_timeout, 0.1, 60.0),
            drain_timeout=_float(env, "BOT_DRAIN_TIMEOUT", cls.drain_timeout, 0.0, 120.0),
            log_level=log_level,
        )
