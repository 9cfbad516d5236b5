"""The execution environment: `ansible-builder create` on execution-environment.yml writes a build
context that carries the collection's Python and system requirements and the collections it
depends on, and ansible-builder's introspection finds kumo.webstack's own requirements through
meta/execution-environment.yml when the collection is one of an image's collections. No image is
built (that needs a container engine and registries)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml
from bindep.depends import Depends
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EE = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
EE_REQUIREMENTS = ROOT / "meta" / "ee-requirements.txt"
EE_BINDEP = ROOT / "meta" / "ee-bindep.txt"


def _requirement_lines(path: Path) -> list[str]:
    """A pip requirements file's requirements, nested `-r` files followed (as pip does)."""
    out = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            out += _requirement_lines(path.parent / line[3:].strip())
        elif line:
            out.append(line)
    return out


def _dev_pins() -> dict[str, str]:
    pins = {}
    for line in _requirement_lines(ROOT / "requirements-dev.txt"):
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"requirements-dev.txt: {line} is not pinned"
        pins[req.name.lower()] = spec.version
    return pins


def _builder(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = BIN / "ansible-builder"
    assert exe.is_file(), f"{exe} is missing: `make venv` installs requirements-dev.txt"
    return subprocess.run([exe, *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> Path:
    ctx = tmp_path_factory.mktemp("ee") / "context"
    _builder(
        "create",
        "--file",
        str(ROOT / "execution-environment.yml"),
        "--context",
        str(ctx),
        "--output-filename",
        "Containerfile",
        cwd=ROOT,
    )
    return ctx


def test_context_carries_the_collection_requirements(context):
    build = context / "_build"
    # the files the definition names, copied as they are
    assert (build / "requirements.txt").read_text() == EE_REQUIREMENTS.read_text()
    assert (build / "bindep.txt").read_text() == EE_BINDEP.read_text()
    assert yaml.safe_load((build / "requirements.yml").read_text()) == yaml.safe_load(
        (ROOT / "requirements.yml").read_text()
    )


def test_containerfile_installs_them(context):
    text = (context / "Containerfile").read_text()
    base = EE["images"]["base_image"]["name"]
    assert f'ARG EE_BASE_IMAGE="{base}"' in text
    assert "FROM $EE_BASE_IMAGE AS base" in text
    # ansible-core the tests run, and ansible-runner (what an execution environment runs playbooks with)
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"$', text, re.MULTILINE).group(1).split()
    assert f"ansible-core=={_dev_pins()['ansible-core']}" in refs
    assert any(ref.startswith("ansible-runner==") for ref in refs)
    # the collections from Galaxy, then the introspection of theirs and our requirements, then
    # the system packages in the final image
    assert re.search(r"^RUN .*ansible-galaxy collection install .*-r requirements\.yml", text, re.MULTILINE)
    introspect = next(line for line in text.splitlines() if "introspect.py introspect" in line)
    assert "--user-pip=requirements.txt" in introspect
    assert "--user-bindep=bindep.txt" in introspect
    assert "COPY _build/requirements.txt requirements.txt" in text
    assert "COPY _build/bindep.txt bindep.txt" in text
    assert "RUN /output/scripts/install-from-bindep" in text.split("AS final", 1)[1]


def _collections_dir(tmp_path: Path) -> Path:
    """An ansible_collections tree holding the collections of requirements.yml as the `ansible`
    package ships them (what the image's builder stage reads, from Galaxy there) and kumo.webstack
    (this checkout), as in an image that has it."""
    shipped = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"
    tree = tmp_path / "ansible_collections"
    (tree / "kumo").mkdir(parents=True)
    (tree / "kumo" / "webstack").symlink_to(ROOT)
    for entry in yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]:
        namespace, name = entry["name"].split(".")
        (tree / namespace).mkdir(exist_ok=True)
        (tree / namespace / name).symlink_to(shipped / namespace / name)
    return tmp_path


def test_introspection_finds_our_requirements_beside_the_other_collections(context, tmp_path):
    pip_out, bindep_out = tmp_path / "pip.txt", tmp_path / "bindep.txt"
    _builder(
        "introspect",
        str(_collections_dir(tmp_path)),
        f"--user-pip={context / '_build' / 'requirements.txt'}",
        f"--user-bindep={context / '_build' / 'bindep.txt'}",
        f"--write-pip={pip_out}",
        f"--write-bindep={bindep_out}",
        cwd=tmp_path,
    )
    pip = pip_out.read_text().splitlines()
    system = bindep_out.read_text().splitlines()
    # ours, read through meta/execution-environment.yml (not the root requirements.txt)
    assert "boto3>=1.34.0  # from collection kumo.webstack" in pip
    assert "botocore>=1.34.0  # from collection kumo.webstack" in pip
    assert "openssh-clients [platform:rpm]  # from collection kumo.webstack" in system
    # the collections we depend on bring their own
    assert any(line.startswith("boto3") and line.endswith("# from collection amazon.aws") for line in pip)
    assert any(line.startswith("docker") and line.endswith("# from collection community.docker") for line in pip)
    # and the definition's own files (the same requirements) come in as the user's
    assert "boto3>=1.34.0  # from collection user" in pip
    assert "openssh-clients [platform:rpm]  # from collection user" in system


def test_collection_metadata_points_at_the_files():
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    deps = meta["dependencies"]
    assert (ROOT / deps["python"]).resolve() == EE_REQUIREMENTS.resolve()
    assert (ROOT / deps["system"]).resolve() == EE_BINDEP.resolve()
    # the top-level definition uses the same files
    assert (ROOT / EE["dependencies"]["python"]).resolve() == EE_REQUIREMENTS.resolve()
    assert (ROOT / EE["dependencies"]["system"]).resolve() == EE_BINDEP.resolve()
    assert EE["dependencies"]["galaxy"] == "requirements.yml"


def _third_party_imports() -> set[str]:
    """Top-level modules our plugins import that are neither the standard library nor Ansible."""
    names = set()
    for path in (ROOT / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"__future__", "ansible", "ansible_collections"}


def test_ee_requirements_are_what_the_plugins_import_and_no_more():
    reqs = {Requirement(line).name.lower(): Requirement(line) for line in _requirement_lines(EE_REQUIREMENTS)}
    # boto3 is imported by amazon.aws's module_utils on our modules' behalf
    assert set(reqs) == _third_party_imports() | {"boto3"} == {"boto3", "botocore"}
    # the dev pins (what the tests run) satisfy them
    pins = _dev_pins()
    for name, req in reqs.items():
        assert req.specifier.contains(pins[name]), f"requirements-dev.txt pins {name}=={pins[name]}, outside {req}"
    # the root requirements.txt is the same list
    assert _requirement_lines(ROOT / "requirements.txt") == _requirement_lines(EE_REQUIREMENTS)


def test_ee_bindep_parses_for_both_package_families():
    depends = Depends(EE_BINDEP.read_text())
    rpm = {rule[0] for rule in depends.active_rules(["platform:rpm", "platform:redhat", "platform:centos"])}
    dpkg = {rule[0] for rule in depends.active_rules(["platform:dpkg", "platform:debian"])}
    assert {"openssh-clients", "tar", "gzip", "findutils"} <= rpm
    assert {"openssh-client", "tar", "gzip", "findutils"} <= dpkg


def test_ansible_builder_is_pinned_for_development():
    # the definition's format (3) is ansible-builder 3's
    assert EE["version"] == 3
    assert _dev_pins()["ansible-builder"].startswith("3.")
