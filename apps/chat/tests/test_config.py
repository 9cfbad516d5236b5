"""Configuration from the environment: defaults, rediss:// with a password (ElastiCache), bad values."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kumo_chat.config import Config  # noqa: E402
from kumo_chat.server import redact  # noqa: E402


def test_defaults():
    cfg = Config.from_env({})
    assert (cfg.bind, cfg.port, cfg.workers, cfg.tz, cfg.allowed_origins) == ("127.0.0.1", 8080, 1, "Asia/Tokyo", ())


def test_tls_redis_url_with_auth_token_is_accepted_and_never_logged():
    url = "rediss://:s3cr%2Ft@master.demo.abc123.apne1.cache.amazonaws.com:6379/0"
    cfg = Config.from_env({"CHAT_REDIS_URL": url, "CHAT_ALLOWED_ORIGINS": "https://a.example/, https://b.example"})
    assert cfg.redis_url == url
    assert cfg.allowed_origins == ("https://a.example", "https://b.example")
    assert "s3cr" not in redact(url) and redact(url).startswith("rediss://:***@master.demo")


@pytest.mark.parametrize(
    "env",
    [{"CHAT_PORT": "eighty"}, {"CHAT_TZ": "Mars/Olympus"}, {"CHAT_REDIS_URL": "http://x"}, {"CHAT_WORKERS": "0"}],
)
def test_bad_values_stop_the_server_with_the_variable_named(env):
    with pytest.raises(SystemExit) as exc:
        Config.from_env(env)
    assert list(env)[0] in str(exc.value)
