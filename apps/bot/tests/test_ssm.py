"""The secrets from SSM Parameter Store at start (moto in-process; botocore's Stubber for AWS errors)."""

from __future__ import annotations

import logging

import boto3
import pytest
from botkit import SECRET, SECRET_PARAMETER, TOKEN, TOKEN_PARAMETER, config, free_port
from botocore.config import Config as BotoConfig
from botocore.stub import Stubber
from kumo_bot.ssm import Secrets, SecretsError, load_secrets, ssm_client
from moto import mock_aws


@pytest.fixture
def ssm():
    with mock_aws():
        yield boto3.client("ssm", region_name="ap-northeast-1")


def put(ssm, name: str, value: str, kind: str = "SecureString") -> None:
    ssm.put_parameter(Name=name, Value=value, Type=kind)


def test_both_secure_strings_are_read_and_decrypted(ssm, caplog):
    caplog.set_level(logging.INFO, logger="kumo_bot")
    put(ssm, TOKEN_PARAMETER, TOKEN)
    put(ssm, SECRET_PARAMETER, SECRET + "\n")  # a pasted newline is dropped
    secrets = load_secrets(config())
    assert (secrets.access_token, secrets.channel_secret) == (TOKEN, SECRET)
    assert TOKEN not in repr(secrets) and SECRET not in repr(secrets)
    read = [r.fields for r in caplog.records if r.getMessage() == "read SSM parameter"]
    assert read == [
        {"parameter": TOKEN_PARAMETER, "type": "SecureString", "version": 1},
        {"parameter": SECRET_PARAMETER, "type": "SecureString", "version": 1},
    ]


def test_the_default_client_uses_the_configured_region(ssm):
    put(ssm, TOKEN_PARAMETER, TOKEN)
    put(ssm, SECRET_PARAMETER, SECRET)
    assert ssm_client(config(region="ap-northeast-1")).meta.region_name == "ap-northeast-1"
    # Another region holds nothing: the error says which region was asked.
    with pytest.raises(SecretsError, match="not found in us-west-2"):
        load_secrets(config(region="us-west-2"))


def test_a_missing_parameter_stops_the_start_naming_it_and_no_value(ssm):
    put(ssm, TOKEN_PARAMETER, TOKEN)
    with pytest.raises(SecretsError) as exc:
        load_secrets(config())
    message = str(exc.value)
    assert message == f"SSM parameter not found in ap-northeast-1: {SECRET_PARAMETER}"
    assert TOKEN not in message and TOKEN_PARAMETER not in message


def test_both_missing_are_both_named(ssm):
    with pytest.raises(SecretsError) as exc:
        load_secrets(config())
    assert f"{TOKEN_PARAMETER}, {SECRET_PARAMETER}" in str(exc.value)


def test_a_blank_value_stops_the_start(ssm):
    put(ssm, TOKEN_PARAMETER, TOKEN)
    put(ssm, SECRET_PARAMETER, "   ")
    with pytest.raises(SecretsError, match=f"SSM parameter {SECRET_PARAMETER} is empty"):
        load_secrets(config())


def test_a_plain_string_parameter_is_read_with_a_warning(ssm, caplog):
    put(ssm, TOKEN_PARAMETER, TOKEN, "String")
    put(ssm, SECRET_PARAMETER, SECRET)
    assert load_secrets(config()).access_token == TOKEN
    warned = [r.fields for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [{"parameter": TOKEN_PARAMETER, "type": "String"}]
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/bot is not authorized"),
        ("ThrottlingException", "Rate exceeded"),
    ],
)
def test_aws_errors_name_the_parameters_and_the_code(code, message):
    client = boto3.client("ssm", region_name="ap-northeast-1")
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_parameters",
            service_error_code=code,
            service_message=message,
            expected_params={"Names": [TOKEN_PARAMETER, SECRET_PARAMETER], "WithDecryption": True},
        )
        with pytest.raises(SecretsError) as exc:
            load_secrets(config(), client)
    assert str(exc.value) == (
        f"reading SSM parameters {TOKEN_PARAMETER}, {SECRET_PARAMETER} in ap-northeast-1: {code}: {message}"
    )


def test_an_unreachable_endpoint_is_a_clear_start_error():
    endpoint = f"http://127.0.0.1:{free_port()}"
    client = boto3.client(
        "ssm", region_name="ap-northeast-1", endpoint_url=endpoint, config=BotoConfig(retries={"max_attempts": 0})
    )
    with pytest.raises(SecretsError, match=r"in ap-northeast-1: EndpointConnectionError: .*127\.0\.0\.1"):
        load_secrets(config(), client)


def test_secrets_never_show_in_repr_or_str():
    secrets = Secrets(TOKEN, SECRET)
    assert TOKEN not in f"{secrets!r} {secrets!s}" and SECRET not in f"{secrets!r} {secrets!s}"
