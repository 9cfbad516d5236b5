"""The rails stack end to end in the local twin, as `make demo` builds it.

site.yml provisions the stack into its own emulator, starts the twin, configures the hosts
through the bastion, deploys the sample app (rolling) and checks it through the load balancer
(a post with an image, read back, its object in the bucket). Then, with continuous load through
the lb, a rolling deploy of a new release and a rollback fail no request; a web server whose app
server stops is marked down by the lb while requests keep succeeding, and comes back; switching
the app servers from Puma to Unicorn (deploy.yml) fails no request, and configure.yml agrees;
switching back to Puma through site.yml fails no request either.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from .conftest import ROOT, _free_port, run_playbook, running_emulator
from .test_twin import BASE_IMAGE, lb_state, remove_twin

sys.path.insert(0, str(ROOT / "scripts"))
import load  # noqa: E402 (scripts/ is not a package)

SITE = ROOT / "site.yml"
DEPLOY = ROOT / "playbooks" / "rails" / "deploy.yml"
CONFIGURE = ROOT / "playbooks" / "rails" / "configure.yml"
ROLLBACK = ROOT / "playbooks" / "rails" / "rollback.yml"
LOCAL = ROOT / "inventories" / "local"

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(BASE_IMAGE is None, reason="needs root, Docker and the base image (make image)"),
]


def _context() -> ssl.SSLContext:
    # the twin's certificate names the stack's domain, and this is 127.0.0.1
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, context=_context(), timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class Loaded:
    """scripts/load.py in a thread, from `with` until the block ends (at most 1800 s: a bound,
    not a pace; a rolling deploy takes 3-4 min here, and the load must outlast it on a machine
    at half speed)."""

    def __init__(self, url: str, workers: int = 3):
        self.url, self.workers, self.stop = url, workers, threading.Event()
        self.result: dict = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        # 30 s per request: a failure counted here is a refusal or an error status, not a slow
        # answer on a busy machine (p99 is 50-300 ms here)
        self.result = load.run(self.url, 1800, self.workers, insecure=True, timeout=30, stop=self.stop)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(120)


def active(stack: str, host: str, *units: str) -> list[str]:
    """systemctl is-active for each unit on one of the twin's hosts."""
    command = ["docker", "exec", f"{stack}-{host}", "systemctl", "is-active", *units]
    return subprocess.run(command, capture_output=True, text=True).stdout.split()


def wait_for(predicate, seconds: float, what: str):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")


def test_rails_app_in_the_twin_deploys_and_rolls_back_without_a_failed_request(tmp_path):
    stack = f"rt{_free_port() % 10000}"
    ports = {
        "twin_bastion_ssh_port": _free_port(),
        "twin_lb_http_port": _free_port(),
        "twin_lb_https_port": _free_port(),
    }
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path / "state"),
        "webstack_secrets_dir": str(tmp_path / "secrets"),
        **ports,
    }
    try:
        with running_emulator(tmp_path, MOTO_ACM_VALIDATION_WAIT="1") as emulator:
            env = dict(emulator.env, WEBSTACK_BASE_IMAGE_REF=BASE_IMAGE)
            site = run_playbook(
                SITE, "-i", str(LOCAL), env=env, extra_vars=extra, timeout=3600
            )  # site.yml: ~6 min here; a hang guard
            assert site.rc == 0, site.output[-8000:]
            assert "A post with an image was created through the load balancer and read back" in site.output

            outputs = json.loads((tmp_path / "state" / stack / "outputs.json").read_text())
            url = outputs["app_url"]
            assert url == f"https://127.0.0.1:{ports['twin_lb_https_port']}"
            web_ids = outputs["summary"]["web_instance_ids"]

            # ---- the app answers through the lb; HTTP redirects to HTTPS; the image is in S3
            status, body = get(url + "/up")
            assert status == 200 and body.startswith("ok "), body
            first_revision = body.split()[1]
            http = f"http://127.0.0.1:{ports['twin_lb_http_port']}/posts"
            request = urllib.request.Request(http, method="GET")
            opener = urllib.request.build_opener(NoRedirect)
            with pytest.raises(urllib.error.HTTPError) as redirect:
                opener.open(request, timeout=10)
            assert redirect.value.code == 301
            assert redirect.value.headers["Location"] == f"{url}/posts"
            keys = [
                o["Key"]
                for o in emulator.client("s3").list_objects_v2(Bucket=outputs["summary"]["bucket"]).get("Contents", [])
            ]
            assert keys, "no uploaded image in the bucket"

            # ---- a web server answers HTTP only to the lb and SSH only to the bastion
            web_ip = subprocess.run(
                [
                    "docker",
                    "inspect",
                    "-f",
                    "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                    f"{stack}-web-1",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()[0]
            for port in (22, 80):
                with pytest.raises(OSError):
                    socket.create_connection((web_ip, port), timeout=3).close()

            # ---- no host is left with a failed unit (such as a service a package started)
            for host in ("bastion", "web-1", "web-2"):
                failed = subprocess.run(
                    [
                        "docker",
                        "exec",
                        f"{stack}-{host}",
                        "systemctl",
                        "list-units",
                        "--failed",
                        "--plain",
                        "--no-legend",
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                assert failed.strip() == "", f"failed units on {host}: {failed}"

            # ---- a second deploy of the same release changes nothing
            again = run_playbook(DEPLOY, "-i", str(LOCAL), env=env, extra_vars=extra)
            assert again.rc == 0, again.output[-6000:]
            assert all(again.recap(h)["changed"] == 0 for h in (f"{stack}-web-1", f"{stack}-web-2")), again.output[
                -4000:
            ]

            # ---- a rolling deploy of a new release under load: no failed request
            app2 = tmp_path / "app2"
            shutil.copytree(ROOT / "apps" / "rails_sample", app2, ignore=shutil.ignore_patterns("tmp", "log"))
            readme = app2 / "public" / "robots.txt"
            readme.write_text(readme.read_text() + "# release 2\n")
            with Loaded(url + "/posts") as during_deploy:
                deploy = run_playbook(
                    DEPLOY, "-i", str(LOCAL), env=env, extra_vars={**extra, "rails_app_source_path": str(app2)}
                )
            assert deploy.rc == 0, deploy.output[-8000:]
            print(f"\nrolling deploy under load: {json.dumps(during_deploy.result)}")
            assert during_deploy.result["failed"] == 0, during_deploy.result
            assert during_deploy.result["ok"] > 20, during_deploy.result
            second_revision = get(url + "/up")[1].split()[1]
            assert second_revision != first_revision

            # ---- a rollback under load: no failed request, the first release answers again
            with Loaded(url + "/posts") as during_rollback:
                back = run_playbook(
                    ROLLBACK, "-i", str(LOCAL), env=env, extra_vars={**extra, "rails_app_rollback_to": first_revision}
                )
            assert back.rc == 0, back.output[-8000:]
            print(f"rollback under load: {json.dumps(during_rollback.result)}")
            assert during_rollback.result["failed"] == 0, during_rollback.result
            assert get(url + "/up")[1].split()[1] == first_revision
            again = run_playbook(
                ROLLBACK, "-i", str(LOCAL), env=env, extra_vars={**extra, "rails_app_rollback_to": first_revision}
            )
            assert again.rc == 0 and all(again.recap(h)["changed"] == 0 for h in (f"{stack}-web-1", f"{stack}-web-2"))

            # ---- the app server stops on one web host: the lb marks it down, requests succeed
            subprocess.run(["docker", "exec", f"{stack}-web-1", "systemctl", "stop", "sample-puma"], check=True)
            # HAProxy marks a server down after `fall` failed checks (seconds); the bounds are hang guards
            wait_for(lambda: lb_state(stack, web_ids[0])["status"].startswith("DOWN"), 300, "the lb to mark web-1 down")
            while_down = load.run(url + "/posts", 10, 3, insecure=True, timeout=30)
            assert while_down["failed"] == 0 and while_down["ok"] > 0, while_down
            subprocess.run(["docker", "exec", f"{stack}-web-1", "systemctl", "start", "sample-puma"], check=True)
            wait_for(lambda: lb_state(stack, web_ids[0])["status"] == "UP", 300, "web-1 to come back up")

            # ---- switching the app servers to Unicorn under load: no failed request
            unicorn = {**extra, "rails_app_server": "unicorn"}
            with Loaded(url + "/posts") as during_switch:
                switch = run_playbook(DEPLOY, "-i", str(LOCAL), env=env, extra_vars=unicorn)
            assert switch.rc == 0, switch.output[-8000:]
            print(f"switch to unicorn under load: {json.dumps(during_switch.result)}")
            assert during_switch.result["failed"] == 0, during_switch.result
            assert during_switch.result["ok"] > 20, during_switch.result
            for host in ("web-1", "web-2"):
                states = active(stack, host, "sample-unicorn", "sample-puma")
                assert states == ["active", "inactive"], f"{host}: unicorn, puma {states}"
            configure = run_playbook(CONFIGURE, "-i", str(LOCAL), env=env, extra_vars=unicorn)
            assert configure.rc == 0 and all(
                configure.recap(h)["changed"] == 0 for h in (f"{stack}-web-1", f"{stack}-web-2")
            ), configure.output[-6000:]

            # ---- switching back to Puma through site.yml under load: provision, twin and configure
            # leave the running server alone (configure keeps nginx on it), deploy moves one web
            # server at a time out of the lb (it was an outage before 9dc8915)
            puma = {**extra, "rails_app_server": "puma"}
            with Loaded(url + "/posts") as during_site_switch:
                site_switch = run_playbook(SITE, "-i", str(LOCAL), env=env, extra_vars=puma, timeout=3600)
            assert site_switch.rc == 0, site_switch.output[-8000:]
            print(f"switch to puma through site.yml under load: {json.dumps(during_site_switch.result)}")
            assert during_site_switch.result["failed"] == 0, during_site_switch.result
            assert during_site_switch.result["ok"] > 20, during_site_switch.result
            for host in ("web-1", "web-2"):
                states = active(stack, host, "sample-puma", "sample-unicorn")
                assert states == ["active", "inactive"], f"{host}: puma, unicorn {states}"
    finally:
        remove_twin(stack)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
