"""The test run's controller speed-ups give the same answers as what they replace:
scripts/ansible_strategy/kumo_mitogen_linear.py's module_utils scan, and the botocore data cache
of scripts/pyhooks/kumo_botocore_shared_cache.py (on only with WEBSTACK_BOTOCORE_SHARED_CACHE=1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
HOOKS = ROOT / "scripts" / "pyhooks"

mitogen_finder = pytest.importorskip("ansible_mitogen.module_finder")


@pytest.fixture(scope="module")
def strategy():
    sys.path.insert(0, str(ROOT / "scripts" / "ansible_strategy"))
    try:
        import kumo_mitogen_linear

        yield kumo_mitogen_linear
    finally:
        sys.path.remove(str(ROOT / "scripts" / "ansible_strategy"))


def test_the_scan_finds_what_mitogens_own_finds(strategy, tmp_path):
    import ansible.module_utils
    import ansible_collections.amazon.aws.plugins.modules as aws_modules

    builtin = str(Path(ansible.module_utils.__file__).parent)
    modules = sorted(Path(aws_modules.__path__[0]).glob("ec2_*.py"))[:15]
    modules += sorted((ROOT / "plugins" / "modules").glob("*.py"))
    modules += sorted((Path(builtin).parent / "modules").glob("[a-f]*.py"))
    # a module that changes between two scans is read again (the file's size and time are the key)
    changing = tmp_path / "changing.py"
    changing.write_text("from ansible.module_utils.basic import AnsibleModule\n")
    first = strategy._scan("__main__", str(changing), (builtin,))
    changing.write_text("import ansible.module_utils.urls\nfrom ansible.module_utils.basic import AnsibleModule\n")
    os.utime(changing, ns=(1, 1))
    assert strategy._scan("__main__", str(changing), (builtin,)) != first
    modules.append(changing)

    for module in modules:
        ours = strategy._scan("__main__", str(module), (builtin,))
        assert ours == mitogen_finder._scan_importlib_find_spec("__main__", str(module), (builtin,)), module
    assert any(name == "ansible.module_utils.basic" for name, _, _ in ours)


SHARED = """
import json, boto3, botocore.loaders
a = boto3.session.Session(region_name="ap-northeast-1")._session.get_component("data_loader")
b = boto3.session.Session(region_name="ap-northeast-1")._session.get_component("data_loader")
model = a.load_service_model("ec2", "service-2")
plain = botocore.loaders.Loader(include_default_search_paths=False)
print(json.dumps({
    "hook": type(a._cache).__name__,
    "same_object": model is b.load_service_model("ec2", "service-2"),
    "ops": len(model["operations"]),
    "paths_apart": a.search_paths != plain.search_paths and "ec2" not in plain.list_available_services("service-2"),
}))
"""


@pytest.mark.parametrize("enabled", ["1", ""], ids=["on", "off"])
def test_botocore_data_is_parsed_once_per_process_only_when_asked(enabled):
    env = {**os.environ, "WEBSTACK_BOTOCORE_SHARED_CACHE": enabled, "PYTHONPATH": str(HOOKS)}
    # the .pth that make venv writes does this import at start-up
    code = "import kumo_botocore_shared_cache\n" + SHARED
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    seen = json.loads(out.splitlines()[-1])
    assert seen["ops"] > 500  # the whole EC2 model either way
    # two sessions share one parsed model with the hook, and each parses its own without it; a
    # loader with other search paths has a cache of its own
    assert seen["same_object"] is bool(enabled)
    assert seen["hook"] == ("_SharedCache" if enabled else "dict")
    assert seen["paths_apart"]


PINNED = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.command: grep Cpus_allowed_list /proc/self/status
      register: pinned_result
      changed_when: false
    - ansible.builtin.debug:
        msg: "PINNED {{ pinned_result.stdout.split()[-1] }}"
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to tell the pinning apart")
def test_a_run_keeps_to_the_cpu_named_in_webstack_mitogen_cpu(tmp_path):
    """WEBSTACK_MITOGEN_CPU=<n>: the run's controller, workers and the processes a task starts keep
    to CPU n (the Makefile gives each integration worker and Molecule job one); unset, Mitogen's
    own policy places them."""
    playbook = tmp_path / "pinned.yml"
    playbook.write_text(PINNED)
    strategy_dirs = [
        str(ROOT / "scripts" / "ansible_strategy"),
        str(Path(mitogen_finder.__file__).parent / "plugins" / "strategy"),
    ]
    cpus = sorted(os.sched_getaffinity(0))

    def pinned(cpu: str | None) -> str:
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_STRATEGY_PLUGINS": os.pathsep.join(strategy_dirs),
            "ANSIBLE_STRATEGY": "kumo_mitogen_linear",
        }
        env.pop("WEBSTACK_MITOGEN_CPU", None)
        if cpu is not None:
            env["WEBSTACK_MITOGEN_CPU"] = cpu
        run = subprocess.run(
            [Path(sys.executable).parent / "ansible-playbook", "-i", "localhost,", "-c", "local", playbook,
             "-e", f"ansible_python_interpreter={sys.executable}"],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        return run.stdout.split("PINNED ", 1)[1].split()[0].strip("\"'")

    for cpu in (cpus[0], cpus[-1]):
        assert pinned(str(cpu)) == str(cpu)
    assert pinned(None) not in {"", None}
