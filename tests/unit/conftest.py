"""Unit-test helpers: run a module's main() in-process and read its result."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import boto3
import botocore.client
import botocore.waiter
import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from botocore.stub import Stubber


class ModuleResult(dict):
    """The JSON a module printed, plus whether it failed."""

    @property
    def failed(self) -> bool:
        return bool(self.get("failed"))


def _run(module, args, check_mode=False, diff=False):
    args = dict(args)
    args["_ansible_check_mode"] = check_mode
    args["_ansible_diff"] = diff
    out = io.StringIO()
    with patch_module_args(args), redirect_stdout(out), pytest.raises(SystemExit):
        module.main()
    return ModuleResult(json.loads(out.getvalue()))


@pytest.fixture
def run_module():
    """``run_module(module, args, check_mode=False, diff=False)`` -> the module's result dict."""
    return _run


@pytest.fixture
def aws_env(monkeypatch):
    """Credentials and region for moto's in-process mock; no endpoint override."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_URL", "EC2_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-1")
    monkeypatch.setenv("AWS_REGION", "ap-northeast-1")


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Modules run in-process: keep one test's warnings out of the next result."""
    monkeypatch.setattr(ansible_warnings, "_global_warnings", {})
    monkeypatch.setattr(ansible_warnings, "_global_deprecations", {})


@pytest.fixture
def no_api(monkeypatch):
    """Fail the test if any AWS API call is made."""

    def refuse(self, operation_name, api_params):
        raise AssertionError(f"unexpected API call {operation_name}")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)


@pytest.fixture
def module_stubber(aws_env, monkeypatch):
    """``module_stubber(service)`` -> a botocore Stubber on the client every module gets.

    Waiter sleeps are skipped; a call with no queued response, or a response left unused
    at the end of the test, fails it."""
    stubs = []

    def make(service, region="ap-northeast-1"):
        monkeypatch.setattr(botocore.waiter.time, "sleep", lambda _seconds: None)
        client = boto3.client(service, region_name=region)
        monkeypatch.setattr(AnsibleAWSModule, "client", lambda self, _service, **kwargs: client)
        stub = Stubber(client)
        stub.activate()
        stubs.append(stub)
        return stub

    yield make
    for stub in stubs:
        stub.assert_no_pending_responses()
        stub.deactivate()
