"""The bot's two secrets, read from SSM Parameter Store once, at start.

Errors name the parameters and what went wrong, never a value. boto3 finds the endpoint
(AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SSM) and the credentials (the task role on ECS) itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from .config import Config

log = logging.getLogger("kumo_bot.ssm")

# Bounded: a task that cannot reach SSM fails its start in well under a minute, and ECS says why.
_BOTO_CONFIG = BotoConfig(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})


class SecretsError(Exception):
    """The secrets could not be read; the message names parameters, never values."""


@dataclass(frozen=True)
class Secrets:
    # repr=False: a Secrets that ends up in a log line or a traceback shows no value.
    access_token: str = field(repr=False)
    channel_secret: str = field(repr=False)


def ssm_client(cfg: Config) -> Any:
    return boto3.client("ssm", region_name=cfg.region, config=_BOTO_CONFIG)


def _find(parameters: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    # Asked for by name, SSM answers with the name; asked for by ARN (a shared parameter), the
    # answer's Name may be the ARN or the name, and its ARN field is the ARN.
    for parameter in parameters:
        if wanted in (parameter.get("Name"), parameter.get("ARN")):
            return parameter
    return None


def load_secrets(cfg: Config, client: Any = None) -> Secrets:
    """GetParameters(WithDecryption=True) for the access token and the channel secret."""
    names = [cfg.access_token_parameter, cfg.channel_secret_parameter]
    shown = ", ".join(names)
    try:
        client = client or ssm_client(cfg)
        answer = client.get_parameters(Names=names, WithDecryption=True)
    except NoCredentialsError:
        raise SecretsError(f"reading SSM parameters {shown}: no AWS credentials (task role or AWS_*)") from None
    except NoRegionError:
        raise SecretsError(f"reading SSM parameters {shown}: no AWS region (AWS_REGION)") from None
    except ClientError as e:
        error = e.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        raise SecretsError(f"reading SSM parameters {shown} in {cfg.region}: {code}: {message}") from None
    except BotoCoreError as e:
        # Connection and timeout errors: their text names the endpoint, nothing read from it.
        raise SecretsError(f"reading SSM parameters {shown} in {cfg.region}: {type(e).__name__}: {e}") from None

    missing = [name for name in answer.get("InvalidParameters", []) if name in names]
    values: dict[str, str] = {}
    for name in names:
        parameter = None if name in missing else _find(answer.get("Parameters", []), name)
        if parameter is None:
            if name not in missing:
                missing.append(name)
            continue
        # Surrounding white space in a stored secret is always a paste mistake (a trailing
        # newline would make every signature check fail), so it is dropped.
        value = str(parameter.get("Value", "")).strip()
        if not value:
            raise SecretsError(f"SSM parameter {name} is empty")
        if parameter.get("Type") != "SecureString":
            log.warning(
                "SSM parameter is not a SecureString",
                extra={"fields": {"parameter": name, "type": parameter.get("Type")}},
            )
        log.info(
            "read SSM parameter",
            extra={"fields": {"parameter": name, "type": parameter.get("Type"), "version": parameter.get("Version")}},
        )
        values[name] = value
    if missing:
        raise SecretsError(f"SSM parameter not found in {cfg.region}: {', '.join(missing)}")
    return Secrets(access_token=values[names[0]], channel_secret=values[names[1]])
