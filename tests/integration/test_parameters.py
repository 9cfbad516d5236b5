"""The parameters role (the stack's SecureStrings in SSM Parameter Store) end to end against the
embedded emulator, read back with boto3. No value may ever appear in a playbook's output."""

from __future__ import annotations

import json

import pytest

from .badinput import assert_fails_before_aws, run_role_cases
from .conftest import ROOT, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
PROVISION = PLAYBOOKS / "parameters_alone.yml"
TEARDOWN = PLAYBOOKS / "parameters_alone_teardown.yml"
ACCOUNT = "123456789012"
REGION = "ap-northeast-1"

pytestmark = pytest.mark.emulator

TOKEN = "tok-Q7x2Lm9vRk3e"
SECRET = "sec-Hd8Wz4Pn1Ys6"
NEW_TOKEN = "tok-Vb5Jc0Tg2Uf8"
OTHER = "oth-Mr3Ka7Ne9Sq1"


def names_under(ssm, path: str) -> list[str]:
    """The names of every parameter under path (recursive)."""
    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=True)
    return sorted(p["Name"] for page in pages for p in page["Parameters"])


def tags_of(ssm, name: str) -> dict[str, str]:
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    return {t["Key"]: t["Value"] for t in tags}


def assert_no_value(run, *values: str) -> None:
    for value in values:
        assert value not in run.output, f"a parameter value was printed:\n{run.output[-3000:]}"


def test_parameters_lifecycle(emulator, tmp_path):
    stack = "prlife"
    path = f"/{stack}/"
    names = [f"{path}ACCESS_TOKEN", f"{path}CHANNEL_SECRET"]
    ssm = emulator.client("ssm")
    secure = [
        {"name": "ACCESS_TOKEN", "value": TOKEN, "description": "LINE channel access token"},
        {"name": "CHANNEL_SECRET", "value": SECRET},
    ]
    extra = {"webstack_name": stack, "webstack_state_dir": str(tmp_path), "parameters_secure": secure}
    secrets = (TOKEN, SECRET, NEW_TOKEN, OTHER)

    # ---- check mode on an empty account creates nothing
    check_empty = run_playbook(PROVISION, "--check", env=emulator.env, extra_vars=extra)
    assert check_empty.rc == 0, check_empty.output[-6000:]
    assert check_empty.changed > 0
    assert_no_value(check_empty, *secrets)
    assert names_under(ssm, path) == []

    # another stack's parameter under its own path, and one under ours with another stack's tag
    ssm.put_parameter(
        Name="/other/ACCESS_TOKEN", Value=OTHER, Type="SecureString", Tags=[{"Key": "Stack", "Value": "other"}]
    )
    ssm.put_parameter(Name=f"{path}FOREIGN", Value=OTHER, Type="String", Tags=[{"Key": "Stack", "Value": "other"}])

    # ---- first run creates them (with -v: still no value in the output)
    first = run_playbook(PROVISION, "-v", env=emulator.env, extra_vars=extra)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    assert_no_value(first, *secrets)
    assert names_under(ssm, path) == sorted([*names, f"{path}FOREIGN"])
    for name, value in zip(names, (TOKEN, SECRET), strict=True):
        param = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        assert param["Type"] == "SecureString"
        assert param["Value"] == value
        assert tags_of(ssm, name) == {"Stack": stack, "ManagedBy": "kumo.webstack"}
    described = {
        p["Name"]: p for p in ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": names}])["Parameters"]
    }
    assert described[names[0]]["KeyId"] == "alias/aws/ssm"
    assert described[names[0]]["Description"] == "LINE channel access token"

    outputs = json.loads((tmp_path / "parameters_outputs.json").read_text())
    assert outputs == {
        "path": path,
        "names": names,
        "arns": [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{stack}/{n}" for n in ("ACCESS_TOKEN", "CHANNEL_SECRET")],
    }
    assert not any(value in json.dumps(outputs) for value in secrets)

    # ---- a second run and --check --diff change nothing
    second = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    assert second.rc == 0, second.output[-6000:]
    assert second.changed == 0, second.output[-6000:]
    assert_no_value(second, *secrets)
    check = run_playbook(PROVISION, "--check", "--diff", env=emulator.env, extra_vars=extra)
    assert check.rc == 0, check.output[-6000:]
    assert check.changed == 0, check.output[-6000:]
    assert_no_value(check, *secrets)

    # ---- a changed value is written, then nothing changes again
    extra2 = {**extra, "parameters_secure": [{**secure[0], "value": NEW_TOKEN}, secure[1]]}
    updated = run_playbook(PROVISION, "-v", env=emulator.env, extra_vars=extra2)
    assert updated.rc == 0, updated.output[-6000:]
    assert updated.changed > 0
    assert_no_value(updated, *secrets)
    assert ssm.get_parameter(Name=names[0], WithDecryption=True)["Parameter"]["Value"] == NEW_TOKEN
    assert ssm.get_parameter(Name=names[1], WithDecryption=True)["Parameter"]["Value"] == SECRET
    again = run_playbook(PROVISION, env=emulator.env, extra_vars=extra2)
    assert again.rc == 0, again.output[-6000:]
    assert again.changed == 0, again.output[-6000:]
    assert_no_value(again, *secrets)

    # ---- teardown (no values given) removes the stack's parameters and only those
    teardown_extra = {"webstack_name": stack, "webstack_state_dir": str(tmp_path)}
    down = run_playbook(TEARDOWN, "-v", env=emulator.env, extra_vars=teardown_extra)
    assert down.rc == 0, down.output[-6000:]
    assert down.changed > 0
    assert_no_value(down, *secrets)
    assert names_under(ssm, path) == [f"{path}FOREIGN"]
    down2 = run_playbook(TEARDOWN, env=emulator.env, extra_vars=teardown_extra)
    assert down2.rc == 0, down2.output[-6000:]
    assert down2.changed == 0, down2.output[-6000:]
    assert_no_value(down2, *secrets)
    assert ssm.get_parameter(Name="/other/ACCESS_TOKEN", WithDecryption=True)["Parameter"]["Value"] == OTHER
    assert names_under(ssm, path) == [f"{path}FOREIGN"]


BAD = [
    pytest.param(
        {"parameters_secure": [{"name": "ACCESS TOKEN", "value": "bad-Name-Value-1"}]},
        "parameters_secure[0].name must be letters, digits, '_', '.' and '-' only",
        id="name-bad",
    ),
    pytest.param(
        {
            "parameters_secure": [
                {"name": "ACCESS_TOKEN", "value": "dup-Value-One-2"},
                {"name": "CHANNEL_SECRET", "value": "dup-Value-Two-3"},
                {"name": "ACCESS_TOKEN", "value": "dup-Value-Three-4"},
            ]
        },
        "parameters_secure names must be unique; given more than once: ACCESS_TOKEN.",
        id="name-duplicate",
    ),
    pytest.param(
        {
            "parameters_secure": [
                {"name": "ACCESS_TOKEN", "value": "empty-Case-Value-5"},
                {"name": "CHANNEL_SECRET", "value": ""},
            ]
        },
        'parameters_secure: the value of ["CHANNEL_SECRET"] is empty or not a string (values are never shown)',
        id="value-empty",
    ),
    pytest.param(
        {"parameters_state": "gone", "parameters_secure": [{"name": "ACCESS_TOKEN", "value": "state-Case-Value-6"}]},
        "value of parameters_state must be one of: present, absent, got: gone",
        id="state-invalid",
    ),
]


@pytest.fixture(scope="module")
def bad_cases(dead_endpoint_env, tmp_path_factory):
    """Every BAD case in one ansible-playbook run (badinput.py), the parameters role alone."""
    return run_role_cases(
        "parameters",
        BAD,
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("parameters-cases"),
        base_vars={"webstack_name": "badparams"},
    )


@pytest.mark.xdist_group("parameters_bad_input")
@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_fails_before_any_aws_call(extra, message, bad_cases, request):
    result = bad_cases[request.node.callspec.id]
    assert_fails_before_aws(result, message)
    for item in extra.get("parameters_secure", []):
        if item["value"]:
            assert item["value"] not in result.msg, result.msg
    assert not any(result.case_dir.rglob("*_outputs.json"))
