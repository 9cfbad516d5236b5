"""`ansible-galaxy collection build` makes a tarball that installs, with its dependencies, into an
empty collections path of an environment holding ansible-core alone (no `ansible` package, so no
collection is on sys.path), and whose playbooks run from there (no checkout on the path): a rails
stack provisioned into the emulator and torn down to nothing. Run also: README's install line,
from inside the checkout.

Galaxy is not reached. A stand-in on 127.0.0.1 answers ansible-galaxy's v3 API with every
collection the dev venv's `ansible` package ships (one version each, packed on demand as the
tarball Galaxy would serve), so ansible-galaxy itself resolves galaxy.yml's `dependencies` and
theirs, and installs only what they name: a collection used but not declared is missing at run
time, and the check of the names the installed files use fails first.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import threading
from pathlib import Path

import pytest

from .conftest import ROOT, run_playbook
from .test_stack import stack_leftovers

BIN = Path(sys.executable).parent
CACHE = ROOT / ".cache"
# the stand-in Galaxy's catalogue: the collections of the dev venv's `ansible` package
CATALOGUE = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"
NAME = re.compile(r"[a-z0-9_]+")

pytestmark = pytest.mark.emulator


def _pins(*names: str) -> dict[str, str]:
    """requirements-dev.txt's `name==version` pins of these names."""
    text = (ROOT / "requirements-dev.txt").read_text()
    pins = dict(re.findall(r"^([\w.\-\[\]]+)==(\S+)", text, re.MULTILINE))
    return {name: pins[name] for name in names}


def core_venv() -> Path:
    """A venv with ansible-core alone (requirements-dev.txt's pin) and requirements.txt (boto3 and
    botocore, held to requirements-dev.txt's pins), made under .cache/ once and reused while the
    pins, requirements.txt, meta/ee-requirements.txt and this Python are the same (pip's cache
    makes a new one quick: 9 s here)."""
    pins = _pins("ansible-core", "boto3", "botocore")
    reqs = [(ROOT / f).read_text() for f in ("requirements.txt", "meta/ee-requirements.txt")]
    key = hashlib.sha256(json.dumps([sys.version, pins, reqs]).encode()).hexdigest()[:12]
    venv = CACHE / f"core-venv-{pins['ansible-core']}-{key}"
    CACHE.mkdir(exist_ok=True)
    with open(CACHE / "core-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / "ready").is_file():
            return venv
        for old in CACHE.glob("core-venv-*"):  # other keys, or this one left half made
            shutil.rmtree(old)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True)
        constraints = venv / "constraints.txt"
        constraints.write_text("".join(f"{name}=={version}\n" for name, version in pins.items()))
        pip = subprocess.run(
            [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            + [f"ansible-core=={pins['ansible-core']}", "-r", ROOT / "requirements.txt", "-c", constraints],
            capture_output=True,
            text=True,
        )
        assert pip.returncode == 0, pip.stdout + pip.stderr
        (venv / "ready").write_text(json.dumps(pins) + "\n")
    return venv


# what the venv holds: its distributions, and whether any collection is on its sys.path
PROBE = """
import importlib.metadata, importlib.util, json
print(json.dumps({
    "dists": sorted(d.metadata["Name"].lower() for d in importlib.metadata.distributions()),
    "collections": importlib.util.find_spec("ansible_collections") is not None,
}))
"""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(source: Path, pool: Path) -> Path:
    """The tarball Galaxy would serve for an installed collection (the `ansible` package's copy):
    MANIFEST.json, FILES.json and the files FILES.json lists, at the top level. The package leaves
    out files of the release (tests, CI config) that its FILES.json still lists: the tarball's lists
    those present only, with their checksums, and its MANIFEST.json gives that FILES.json's."""
    manifest = json.loads((source / "MANIFEST.json").read_text())
    info = manifest["collection_info"]
    tarball = pool / f"{info['namespace']}-{info['name']}-{info['version']}.tar.gz"
    if tarball.is_file():
        return tarball
    files = json.loads((source / "FILES.json").read_text())
    entries, contents = [], {}
    for entry in files["files"]:
        path = source / entry["name"]
        if entry["name"] == "." or (entry["ftype"] == "dir" and path.is_dir()):
            entries.append(entry)
        elif entry["ftype"] == "file" and path.is_file():
            contents[entry["name"]] = (path.read_bytes(), path.stat().st_mode & 0o111)
            entries.append({**entry, "chksum_sha256": _sha256(contents[entry["name"]][0])})
    files_json = json.dumps({**files, "files": entries}, indent=4).encode()
    manifest["file_manifest_file"]["chksum_sha256"] = _sha256(files_json)

    def member(name, data=None, executable=0):
        member_info = tarfile.TarInfo(name)
        if data is None:
            member_info.type, member_info.mode = tarfile.DIRTYPE, 0o755
        else:
            member_info.size, member_info.mode = len(data), 0o755 if executable else 0o644
        return member_info, None if data is None else io.BytesIO(data)

    pool.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_name(f".{tarball.name}.{os.getpid()}")
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.addfile(*member("MANIFEST.json", json.dumps(manifest, indent=4).encode()))
        tar.addfile(*member("FILES.json", files_json))
        for entry in entries:
            if entry["name"] != ".":
                tar.addfile(*member(entry["name"], *contents.get(entry["name"], ())))
    os.replace(partial, tarball)
    return tarball


@contextlib.contextmanager
def galaxy_stand_in(catalogue: Path, pool: Path):
    """Serve ansible-galaxy's v3 API on 127.0.0.1 for the collections of catalogue (one version
    each: the installed one), their tarballs packed into pool on first request. Yields the server's
    URL and the list of the tarballs downloaded."""
    served: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts == ["api"]:
                return self._json({"available_versions": {"v3": "v3/"}})
            if parts[:3] == ["api", "v3", "collections"] and len(parts) in (6, 7) and parts[5] == "versions":
                namespace, name = parts[3:5]
                source = catalogue / namespace / name
                if NAME.fullmatch(namespace) and NAME.fullmatch(name) and (source / "MANIFEST.json").is_file():
                    return self._collection(source, namespace, name, parts[6:])
            if len(parts) == 2 and parts[0] == "download" and (pool / parts[1]).is_file():
                served.append(parts[1])
                return self._send((pool / parts[1]).read_bytes(), "application/gzip")
            self.send_error(404)

        def _collection(self, source, namespace, name, version):
            info = json.loads((source / "MANIFEST.json").read_text())["collection_info"]
            href = f"/api/v3/collections/{namespace}/{name}/versions/{info['version']}/"
            if not version:
                links = {"first": None, "previous": None, "next": None, "last": None}
                return self._json(
                    {"meta": {"count": 1}, "links": links, "data": [{"version": info["version"], "href": href}]}
                )
            if version != [info["version"]]:
                return self.send_error(404)
            tarball = pack(source, pool)
            return self._json(
                {
                    "namespace": {"name": namespace},
                    "collection": {"name": name},
                    "version": info["version"],
                    "href": href,
                    "download_url": f"/download/{tarball.name}",
                    "artifact": {"filename": tarball.name, "sha256": _sha256(tarball.read_bytes())},
                    "metadata": {"dependencies": info.get("dependencies") or {}},
                    "signatures": [],
                }
            )

        def _json(self, body):
            self._send(json.dumps(body).encode(), "application/json")

        def _send(self, data, content_type):
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()
        server.server_close()


FQCN = re.compile(r"(?<![\w.-])([a-z]\w*)\.([a-z]\w*)\.[a-z_]\w*")
COLLECTION_IMPORT = re.compile(r"\bansible_collections\.([a-z]\w*)\.([a-z]\w*)")
CORE_IMPORT = re.compile(r"^\s*(?:from|import)\s+ansible\.\S+", re.MULTILINE)  # ansible.utils.vars is core's


def collections_named(collection: Path) -> set[str]:
    """The collections of CATALOGUE that the roles, playbooks, plugins, inventories and meta of an
    installed collection name: FQCNs (modules, filters, lookups, module_defaults groups, doc
    fragments) and ansible_collections imports."""
    names = set()
    for part in ("roles", "playbooks", "plugins", "inventories", "meta"):
        for path in (collection / part).rglob("*"):
            if path.is_file() and path.suffix in {".yml", ".yaml", ".py", ".j2"}:
                text = CORE_IMPORT.sub("", path.read_text(errors="replace"))
                names.update(f"{a}.{b}" for a, b in FQCN.findall(text) + COLLECTION_IMPORT.findall(text))
    return {name for name in names if (CATALOGUE / name.replace(".", "/") / "MANIFEST.json").is_file()}


def test_built_collection_installs_and_runs(emulator, tmp_path):
    build = tmp_path / "build"
    subprocess.run(
        [BIN / "ansible-galaxy", "collection", "build", "--output-path", build, ROOT], check=True, capture_output=True
    )
    (tarball,) = build.glob("kumo-webstack-*.tar.gz")
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert "roles/network/tasks/main.yml" in names
    assert "playbooks/provision.yml" in names
    assert "plugins/modules/acm_certificate_request.py" in names
    leaked = [n for n in names if n.split("/")[0] in {".venv", ".webstack", ".collections", ".cache", ".git"}]
    assert not leaked, leaked

    # README's install line (`install --force -p ~/.ansible/collections <tarball>`, here into a tmp
    # path), run inside the checkout (its ansible.cfg, the dev venv). Plain `install <tarball>` does
    # nothing there: the checkout's .collections (first on its collections_path) holds kumo.webstack
    # at the same version, which counts as installed, whatever -p says. Hence --force; and -p, since
    # the default path is that .collections, where --force stops at the symlink to the checkout.
    checkout_env = {k: v for k, v in os.environ.items() if k != "ANSIBLE_CONFIG"}
    readme_path = tmp_path / "readme-install"
    galaxy = [BIN / "ansible-galaxy", "collection", "install"]
    plain = subprocess.run(
        [*galaxy, "-p", readme_path, tarball], cwd=ROOT, env=checkout_env, capture_output=True, text=True
    )
    assert plain.returncode == 0 and "Nothing to do" in plain.stdout, plain.stdout + plain.stderr
    readme = subprocess.run(
        [*galaxy, "--force", "-p", readme_path, tarball], cwd=ROOT, env=checkout_env, capture_output=True, text=True
    )
    assert readme.returncode == 0, readme.stdout + readme.stderr
    manifest = json.loads((readme_path / "ansible_collections" / "kumo" / "webstack" / "MANIFEST.json").read_text())
    assert tarball.name == f"kumo-webstack-{manifest['collection_info']['version']}.tar.gz"
    assert (ROOT / ".collections" / "ansible_collections" / "kumo" / "webstack").is_symlink()

    # ansible-core alone, boto3 and botocore: no `ansible` package, no collection on sys.path
    core = core_venv() / "bin"
    probe = json.loads(subprocess.run([core / "python", "-c", PROBE], check=True, capture_output=True).stdout)
    assert {"ansible-core", "boto3", "botocore"} <= set(probe["dists"]), probe
    assert "ansible" not in probe["dists"] and not probe["collections"], probe

    # Run from an unrelated directory whose ansible.cfg names only the new path, with the core
    # venv's tools and Ansible's own strategy (not the Makefile's Mitogen, a dev tool).
    collections = tmp_path / "collections"
    work = tmp_path / "work"
    work.mkdir()
    (work / "ansible.cfg").write_text(f"[defaults]\ncollections_path = {collections}\n")
    env = emulator.env
    for name in ("ANSIBLE_STRATEGY", "ANSIBLE_STRATEGY_PLUGINS", "WEBSTACK_BOTOCORE_SHARED_CACHE", "VIRTUAL_ENV"):
        env.pop(name, None)
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "PYTHONPATH"):
        env.pop(name, None)
    path = [p for p in env["PATH"].split(os.pathsep) if p and Path(p) != BIN]
    env.update(ANSIBLE_CONFIG=str(work / "ansible.cfg"), PWD=str(work), PATH=os.pathsep.join([str(core), *path]))

    # with its dependencies, as ansible-galaxy resolves them from galaxy.yml (through the stand-in)
    with galaxy_stand_in(CATALOGUE, CACHE / "galaxy-tarballs") as (server, served):
        install = subprocess.run(
            [core / "ansible-galaxy", "collection", "install", "--no-cache", "-s", server, "-p", collections, tarball],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        )
    assert install.returncode == 0, install.stdout + install.stderr
    installed = {
        f"{m.parent.parent.name}.{m.parent.name}": json.loads(m.read_text())["collection_info"]
        for m in (collections / "ansible_collections").glob("*/*/MANIFEST.json")
    }
    # exactly kumo.webstack, what its galaxy.yml declares and what those declare, each fetched once
    wanted, todo = set(), ["kumo.webstack"]
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo += list(installed.get(name, {}).get("dependencies") or {})
    assert set(installed) == wanted, install.stdout
    fetched = sorted(f"{c['namespace']}-{c['name']}-{c['version']}.tar.gz" for c in installed.values())
    assert sorted(served + [tarball.name]) == fetched, install.stdout
    used = collections_named(collections / "ansible_collections" / "kumo" / "webstack")
    assert used <= set(installed), f"used, not in galaxy.yml's dependencies: {sorted(used - set(installed))}"

    extra = {
        "webstack_name": "fromtar",
        "webstack_domain": "fromtar.kumo-webstack.example",
        "webstack_admin_cidrs": ["198.51.100.0/24"],
        "webstack_state_dir": str(tmp_path / "state"),
        "webstack_secrets_dir": str(tmp_path / "secrets"),
        "ansible_python_interpreter": str(core / "python"),
        # fewer resources, every role still: no NAT gateway, one web server (without Mitogen here,
        # each resource costs a few CPU-seconds more)
        "network_nat_gateway_mode": "none",
        "compute_web_count": 1,
    }
    local = ("-i", "localhost,", "-c", "local")
    run = {"env": env, "cwd": work, "ansible_playbook": core / "ansible-playbook"}

    # A rails stack provisioned for real from the installed copy, with the core venv's boto3, and
    # torn down to nothing. (test_stack checks what a provision builds, its --check and a second
    # run; here: that the installed collection and its dependencies alone do it.)
    up = run_playbook("kumo.webstack.provision", *local, extra_vars=extra, **run)
    assert up.rc == 0, up.output[-5000:]
    assert up.changed > 0
    # every role's task files were included from the installed copy, not from the checkout
    installed_roles = f"{collections}/ansible_collections/kumo/webstack/roles/"
    included = re.findall(r"^included: (/\S+) for localhost", up.output, re.MULTILINE)
    assert included, up.output[-3000:]
    assert all(path.startswith(installed_roles) for path in included), included
    roles = {path[len(installed_roles) :].split("/")[0] for path in included}
    assert roles >= {"network", "domain", "security_groups", "database", "storage", "compute", "loadbalancer"}
    assert str(ROOT / ".collections") not in up.output
    outputs = json.loads((tmp_path / "state" / "fromtar" / "outputs.json").read_text())
    assert outputs["kind"] == "rails" and outputs["compute"]["web"], sorted(outputs)
    built = stack_leftovers(emulator, "fromtar")
    assert {"ec2:instances", "ec2:vpcs", "rds", "elbv2", "s3", "route53", "acm", "iam"} <= set(built), sorted(built)

    down = run_playbook(
        "kumo.webstack.teardown",
        *local,
        extra_vars={**extra, "webstack_teardown_skip_final_snapshot": True},
        **run,
    )
    assert down.rc == 0, down.output[-5000:]
    assert installed_roles in down.output
    # a plain teardown keeps the log bucket, which holds the uploads bucket's server access logs
    assert stack_leftovers(emulator, "fromtar") == {"s3": ["fromtar-logs-123456789012-ap-northeast-1"]}
