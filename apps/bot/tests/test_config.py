"""Configuration from the environment: defaults, accepted values, each bad value named at start."""

from __future__ import annotations

import pytest
from kumo_bot.config import Config

NAMES = {"BOT_ACCESS_TOKEN_PARAMETER": "/bot/ACCESS_TOKEN", "BOT_CHANNEL_SECRET_PARAMETER": "/bot/CHANNEL_SECRET"}


def test_defaults():
    cfg = Config.from_env(NAMES)
    assert (cfg.access_token_parameter, cfg.channel_secret_parameter) == ("/bot/ACCESS_TOKEN", "/bot/CHANNEL_SECRET")
    assert (cfg.bind, cfg.port, cfg.region, cfg.log_level) == ("127.0.0.1", 8080, "ap-northeast-1", "INFO")
    assert cfg.reply_url == "https://api.line.me/v2/bot/message/reply"
    assert (cfg.max_body, cfg.reply_timeout, cfg.drain_timeout) == (1024 * 1024, 5.0, 10.0)


def test_values_are_read():
    cfg = Config.from_env(
        {
            "BOT_ACCESS_TOKEN_PARAMETER": "ACCESS_TOKEN",
            "BOT_CHANNEL_SECRET_PARAMETER": "arn:aws:ssm:ap-northeast-1:123456789012:parameter/CHANNEL_SECRET",
            "BOT_BIND": "0.0.0.0",
            "BOT_PORT": "9000",
            "BOT_API_BASE": "http://127.0.0.1:8081/",
            "BOT_MAX_BODY": "2048",
            "BOT_REPLY_TIMEOUT": "1.5",
            "BOT_DRAIN_TIMEOUT": "0",
            "BOT_LOG_LEVEL": "debug",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    assert (cfg.bind, cfg.port, cfg.max_body, cfg.reply_timeout, cfg.drain_timeout) == ("0.0.0.0", 9000, 2048, 1.5, 0)
    assert cfg.reply_url == "http://127.0.0.1:8081/v2/bot/message/reply"
    assert (cfg.region, cfg.log_level) == ("us-east-1", "DEBUG")


def test_aws_region_wins_over_aws_default_region():
    env = {**NAMES, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"}
    assert Config.from_env(env).region == "eu-west-1"


@pytest.mark.parametrize("bind", ["::", "::1", "localhost", "bot.internal.example"])
def test_bind_takes_addresses_and_host_names(bind):
    assert Config.from_env({**NAMES, "BOT_BIND": bind}).bind == bind


@pytest.mark.parametrize(
    "env",
    [
        {"BOT_ACCESS_TOKEN_PARAMETER": ""},
        {"BOT_CHANNEL_SECRET_PARAMETER": ""},
        {"BOT_ACCESS_TOKEN_PARAMETER": "has space"},
        {"BOT_CHANNEL_SECRET_PARAMETER": "name:3"},
        {"BOT_PORT": "eighty"},
        {"BOT_PORT": "0"},
        {"BOT_PORT": "65536"},
        {"BOT_BIND": "bad host!"},
        {"BOT_API_BASE": "ftp://api.line.me"},
        {"BOT_API_BASE": "api.line.me"},
        {"BOT_API_BASE": "https://"},
        {"BOT_API_BASE": "https://api.line.me:99999"},
        {"BOT_API_BASE": "https://user:pw@api.line.me"},
        {"BOT_API_BASE": "https://api.line.me/?x=1"},
        {"BOT_MAX_BODY": "10"},
        {"BOT_REPLY_TIMEOUT": "0"},
        {"BOT_REPLY_TIMEOUT": "nan"},
        {"BOT_DRAIN_TIMEOUT": "-1"},
        {"BOT_LOG_LEVEL": "LOUD"},
    ],
    ids=lambda env: "-".join(f"{k}={v}" for k, v in env.items()),
)
def test_bad_values_stop_the_bot_with_the_variable_named(env):
    with pytest.raises(SystemExit) as exc:
        Config.from_env({**NAMES, **env})
    assert list(env)[0] in str(exc.value)


def test_missing_parameter_names_are_named():
    with pytest.raises(SystemExit, match="BOT_ACCESS_TOKEN_PARAMETER: not set"):
        Config.from_env({})
    with pytest.raises(SystemExit, match="BOT_CHANNEL_SECRET_PARAMETER: not set"):
        Config.from_env({"BOT_ACCESS_TOKEN_PARAMETER": "/bot/ACCESS_TOKEN"})


def test_the_two_parameters_must_differ():
    with pytest.raises(SystemExit, match="two parameters"):
        Config.from_env({"BOT_ACCESS_TOKEN_PARAMETER": "/bot/X", "BOT_CHANNEL_SECRET_PARAMETER": "/bot/X"})
