"""kumo.webstack.ecr_authorization_token_info against moto, Stubber for the answers moto does not
give, and its action plugin, which hides the result from the output."""

from __future__ import annotations

import base64
import datetime
import json
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from ansible_collections.kumo.webstack.plugins.action import ecr_authorization_token_info as action
from ansible_collections.kumo.webstack.plugins.module_utils.ecr import registry_credentials
from ansible_collections.kumo.webstack.plugins.modules import ecr_authorization_token_info

REGION = "ap-northeast-1"
ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


@pytest.fixture
def moto(aws_env):
    with mock_aws():
        yield boto3.client("ecr", region_name=REGION)


def _printed(result) -> str:
    return json.dumps(result)


def test_returns_what_docker_login_takes(run_module, moto):
    result = run_module(ecr_authorization_token_info, {})
    assert not result.failed, result
    assert result["changed"] is False
    assert result["registry"] == REGISTRY
    assert result["proxy_endpoint"] == f"https://{REGISTRY}"
    assert result["username"] == "AWS"
    password = f"{ACCOUNT}-auth-token"  # moto's
    assert result["password"] == password
    assert result["expires_at"] == "2015-01-01T00:00:00Z"
    # the password once, in its own field; neither the raw token nor the password anywhere else
    assert _printed(result).count(password) == 1
    token = base64.b64encode(f"AWS:{password}".encode()).decode()
    assert token not in _printed(result)
    assert "authorization_token" not in result
    assert result["invocation"]["module_args"]["registry_id"] is None


def test_check_mode_reads_too(run_module, moto):
    result = run_module(ecr_authorization_token_info, {}, check_mode=True)
    assert result["changed"] is False
    assert result["registry"] == REGISTRY


def test_registry_of_another_account(run_module, moto):
    result = run_module(ecr_authorization_token_info, {"registry_id": "210987654321"})
    assert result["registry"] == f"210987654321.dkr.ecr.{REGION}.amazonaws.com"
    assert _printed(result).count("210987654321-auth-token") == 1


def test_registry_id_must_be_an_account_id(run_module, no_api):
    result = run_module(ecr_authorization_token_info, {"registry_id": "12345"})
    assert result.failed
    assert result["msg"] == "registry_id must be an AWS account id (12 digits); got '12345'."


def test_api_error_is_reported(run_module, module_stubber):
    stubber = module_stubber("ecr")
    stubber.add_client_error("get_authorization_token", "AccessDeniedException", "not authorized", 403)
    result = run_module(ecr_authorization_token_info, {})
    assert result.failed
    assert result["msg"].startswith("Failed to get authorization token")


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("not base64 at all!", "the authorization token is not base64 text"),
        (
            base64.b64encode(b"AWS-s3cr3t-with-no-colon").decode(),
            "the authorization token is not of the form user:password",
        ),
        (base64.b64encode(b"AWS:").decode(), "the authorization token is not of the form user:password"),
    ],
)
def test_unusable_token_is_refused_without_showing_it(run_module, module_stubber, token, problem):
    stubber = module_stubber("ecr")
    stubber.add_response(
        "get_authorization_token",
        {
            "authorizationData": [
                {
                    "authorizationToken": token,
                    "expiresAt": datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
                    "proxyEndpoint": f"https://{REGISTRY}",
                }
            ]
        },
    )
    result = run_module(ecr_authorization_token_info, {})
    assert result.failed
    assert result["msg"] == f"ECR answered with an authorization token that cannot be used: {problem}."
    assert token not in _printed(result)
    assert "s3cr3t" not in _printed(result)
    assert "exception" not in result


def test_registry_credentials_keeps_colons_in_the_password():
    token = base64.b64encode(b"AWS:pa:ss").decode()
    found = registry_credentials({"authorizationToken": token, "proxyEndpoint": "https://r.example/"})
    assert found == {
        "registry": "r.example",
        "proxy_endpoint": "https://r.example/",
        "username": "AWS",
        "password": "pa:ss",
        "expires_at": None,
    }


def test_action_plugin_hides_the_result():
    """The result carries _ansible_no_log whatever the task says; the registered values stay."""
    task = mock.MagicMock(async_val=0, check_mode=False, diff=False, args={}, action="x", no_log=False)
    plugin = action.ActionModule(
        task=task,
        connection=mock.MagicMock(),
        play_context=mock.MagicMock(),
        loader=mock.MagicMock(),
        templar=mock.MagicMock(),
        shared_loader_obj=mock.MagicMock(),
    )
    answer = {"changed": False, "registry": REGISTRY, "username": "AWS", "password": "p"}
    with (
        mock.patch.object(action.ActionBase, "run", return_value={}),
        mock.patch.object(plugin, "_execute_module", return_value=dict(answer)) as execute,
        mock.patch.object(plugin, "_remove_tmp_path"),
    ):
        result = plugin.run(task_vars={})
    execute.assert_called_once_with(task_vars={})
    assert result == {**answer, "_ansible_no_log": True}
