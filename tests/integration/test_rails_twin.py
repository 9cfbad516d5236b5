"""The rails stack end to end in the local twin, as `make demo` builds it: two stacks of the
rails kind, shop and blog, in one emulator and twinned at once, driven side by side.

In each, site.yml provisions the stack, starts the twin, configures the hosts through the
bastion, deploys the sample app (rolling) and checks it through the load balancer (a post with
an image, read back, its object in the bucket). Then, with continuous (paced) load through the
stack's own lb:
- shop: configure and deploy with --check --diff predict no change after convergence; a
  rolling deploy of a new release, a rollback and a config change (environment and workers: the
  app servers restart, one web server at a time out of the lb) fail no request; a web server
  whose app server stops is marked down by the lb while requests keep succeeding, and comes back;
- blog (built with Unicorn, and sorry servers): switching the app servers to Puma through
  deploy.yml fails no request, and configure.yml agrees; switching back to Unicorn through
  site.yml fails none; maintenance on and off (playbooks/maintenance.yml) under load on both its
  domains: every answer the app's or the sorry page, the sorry page on any path while on.
Last, blog is torn down while shop is loaded: nothing of blog is left, shop fails no request.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from . import secret_scan
from .conftest import ROOT, _free_port, record_load, run_playbook, running_emulator
from .test_stack import stack_leftovers
from .test_twin import BASE_IMAGE, lb_state, remove_twin

sys.path.insert(0, str(ROOT / "scripts"))
import load  # noqa: E402 (scripts/ is not a package)

SITE = ROOT / "site.yml"
DEPLOY = ROOT / "playbooks" / "rails" / "deploy.yml"
CONFIGURE = ROOT / "playbooks" / "rails" / "configure.yml"
ROLLBACK = ROOT / "playbooks" / "rails" / "rollback.yml"
TEARDOWN = ROOT / "playbooks" / "teardown.yml"
MAINTENANCE = ROOT / "playbooks" / "maintenance.yml"
SORRY_TEXT = "ただいまメンテナンス中です"  # on the sorry page (roles/sorry_pages/files/pages/index.html)
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
    """scripts/load.py in a thread, from `with` until the block ends (bounded at 1800 s).

    Paced, not flat out: WORKERS keep-alive connections, each sending RATE requests a second (8 a
    second in all, one every ~125 ms), so a window in which the lb sends to a server that is gone,
    or drops a connection, shows up as failed requests, while the machine's cores go to the deploy
    being watched. Each request costs about 12 ms of CPU in all (this client, the lb's TLS, nginx,
    Rails, the database; measured on an idle demo stack): at 16 a second, over the 40-odd loaded
    minutes of this test under make test, that was some 500 CPU-seconds of the suite's budget."""

    WORKERS, RATE = 4, 2

    def __init__(self, url: str, stack: str | None = None, **options):
        # options: load.run's host, ok_status and expect (e.g. maintenance: 200 or the sorry page's 503);
        # stack: whose lb and web servers to read the logs of when a request failed
        self.url, self.stack, self.stop, self.options = url, stack, threading.Event(), options
        self.since = ""
        self.result: dict = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        # 30 s per request: a failure counted here is a refusal or an error status, not a slow
        # answer on a busy machine (p99 is 50-300 ms here)
        self.result = load.run(
            self.url, 1800, self.WORKERS, insecure=True, timeout=30, stop=self.stop, rate=self.RATE, **self.options
        )

    def __enter__(self):
        self.since = str(int(time.time()))
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(120)

    def assert_no_failure(self):
        assert self.result["failed"] == 0, f"{self.result}\n{self.evidence()}"
        # paced at 8 a second, a deploy of a minute or more sends hundreds; 20 proves it ran
        assert self.result["ok"] > 20, self.result

    def evidence(self) -> str:
        """Where failed requests came from: the lb's log since the load started (HAProxy's status
        and termination state name the side that failed), the end of each web server's nginx
        error log and what its app server logged about its workers."""
        if not self.stack:
            return ""
        logs = subprocess.run(
            ["docker", "logs", "--since", self.since, f"{self.stack}-lb"], capture_output=True, text=True
        )
        # HAProxy logs only abnormal requests (option dontlog-normal), and its servers' changes of state
        wanted = re.compile(r" [45]\d\d \d+ |Server ")
        lines = [line for line in (logs.stdout + logs.stderr).splitlines() if wanted.search(line)]
        parts = [f"lb log, failed requests and server states ({len(lines)} lines):", *lines[-60:]]
        # and the app server's own word on its workers (a worker killed for a timeout, a restart)
        script = (
            "tail -n 20 /var/log/nginx/error.log; echo '-- app server:'; "
            f"journalctl --no-pager -o short-iso --since @{self.since} -u sample-puma -u sample-unicorn"
            " | grep -iE 'timed out|terminat|kill|error|fail|booted|phased|restart' | tail -n 30"
        )
        for host in ("web-1", "web-2"):
            tail = subprocess.run(
                ["docker", "exec", f"{self.stack}-{host}", "sh", "-c", script], capture_output=True, text=True
            )
            parts += [f"{host} nginx error log:", tail.stdout + tail.stderr]
        return "\n".join(parts)


def active(stack: str, host: str, *units: str) -> list[str]:
    """systemctl is-active for each unit on one of the twin's hosts."""
    command = ["docker", "exec", f"{stack}-{host}", "systemctl", "is-active", *units]
    return subprocess.run(command, capture_output=True, text=True).stdout.split()


def puma_process(container: str) -> tuple[int, int, bool]:
    """On one of the twin's hosts: the Puma master's PID, its worker count, and whether it started
    after app.env was last written. (Its environment cannot be read back: Puma's process title
    overwrites /proc/<pid>/environ.)"""
    script = (
        "pid=$(systemctl show --property MainPID --value sample-puma); echo $pid; pgrep -c -P $pid; "
        "stat -c %Y /proc/$pid /srv/www/sample/shared/config/app.env"
    )
    out = subprocess.run(["docker", "exec", container, "sh", "-c", script], capture_output=True, text=True).stdout
    pid, workers, started, written = (out.split() + ["0"] * 4)[:4]
    return int(pid), int(workers), int(started) >= int(written)


def app_env_has(container: str, line: str) -> bool:
    """Whether app.env on one of the twin's hosts has this line (read there: it holds secrets)."""
    command = ["docker", "exec", container, "grep", "-qxF", line, "/srv/www/sample/shared/config/app.env"]
    return subprocess.run(command).returncode == 0


def wait_for(predicate, seconds: float, what: str):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")


def twin_ports() -> dict[str, int]:
    """Free ports on 127.0.0.1 for a twin's published ports (its bastion's SSH, its lb)."""
    return {
        "twin_bastion_ssh_port": _free_port(),
        "twin_lb_http_port": _free_port(),
        "twin_lb_https_port": _free_port(),
    }


def build(emulator, tmp_path, stack: str, *, scan_secrets: bool = False, **overrides) -> dict:
    """A rails stack built by site.yml into `emulator` and twinned, its state under tmp_path. The
    caller removes its twin. site.yml is asserted here: it ends with a post and its image read
    back through the lb. Returns the stack's name, env, extra vars, ports, outputs and url.
    scan_secrets: site.yml runs with -vvv, and no generated secret may show in its output, the
    state directory or the twin's containers (issue 18, part 5: tests/integration/secret_scan.py)."""
    ports = twin_ports()
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path / "state"),
        "webstack_secrets_dir": str(tmp_path / "secrets"),
        **ports,
    }
    env = dict(emulator.env, WEBSTACK_BASE_IMAGE_REF=BASE_IMAGE)
    # the overrides stay in every later run's extra vars (but the teardown's: see the end of the e2e test)
    extra.update(overrides)
    verbosity = ["-vvv"] if scan_secrets else []
    site = run_playbook(SITE, "-i", str(LOCAL), *verbosity, env=env, extra_vars=extra, timeout=3600)
    assert site.rc == 0, f"{stack}: {site.output[-8000:]}"  # site.yml: 5-10 min here; the bound is a hang guard
    assert "A post with an image was created through the load balancer and read back" in site.output
    if scan_secrets:
        found = secret_scan.generated_secrets(tmp_path / "secrets")
        assert {"db-master-password", f"{stack}-admin"} <= set(found), sorted(found)
        secret_scan.assert_none_leaked(stack, found, {"site.yml -vvv output": site.output}, tmp_path / "state")
    outputs = json.loads((tmp_path / "state" / stack / "outputs.json").read_text())
    assert outputs["app_url"] == f"https://127.0.0.1:{ports['twin_lb_https_port']}"
    return {
        "stack": stack,
        "emulator": emulator,
        "env": env,
        "extra": extra,
        "ports": ports,
        "outputs": outputs,
        "url": outputs["app_url"],
        "webs": (f"{stack}-web-1", f"{stack}-web-2"),
    }


def unchanged(run, hosts) -> bool:
    return run.rc == 0 and all(run.recap(h)["changed"] == 0 for h in hosts)


def sample_release(path, marker: str) -> None:
    """A copy of the sample app at `path` that differs by one line (a new release to deploy)."""
    shutil.copytree(ROOT / "apps" / "rails_sample", path, ignore=shutil.ignore_patterns("tmp", "log"))
    robots = path / "public" / "robots.txt"
    robots.write_text(robots.read_text() + marker + "\n")


def deploy_and_roll_back(twin: dict, tmp_path) -> None:
    """The app through the lb (HTTP redirects to HTTPS, the image in S3), the web servers closed
    to all but the lb and the bastion, no failed unit; deploy again (no change); configure and
    deploy with --check --diff (no change predicted); a rolling deploy, a rollback and a config
    change under load (0 failed); a stopped app server marked down by the lb while requests
    succeed, and back up."""
    stack, env, extra, url, webs = twin["stack"], twin["env"], twin["extra"], twin["url"], twin["webs"]
    web_ids = twin["outputs"]["summary"]["web_instance_ids"]

    # ---- the app answers through the lb; HTTP redirects to HTTPS; the image is in S3
    status, body = get(url + "/up")
    assert status == 200 and body.startswith("ok "), body
    first_revision = body.split()[1]
    http = f"http://127.0.0.1:{twin['ports']['twin_lb_http_port']}/posts"
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(urllib.request.Request(http, method="GET"), timeout=10)
    assert redirect.value.code == 301
    assert redirect.value.headers["Location"] == f"{url}/posts"
    bucket = twin["outputs"]["summary"]["bucket"]
    keys = [o["Key"] for o in twin["emulator"].client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys, "no uploaded image in the bucket"

    # ---- a web server answers HTTP only to the lb and SSH only to the bastion
    web_ip = subprocess.run(
        ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", webs[0]],
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
            ["docker", "exec", f"{stack}-{host}", "systemctl", "list-units", "--failed", "--plain", "--no-legend"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert failed.strip() == "", f"failed units on {host}: {failed}"

    # ---- a second deploy of the same release changes nothing
    again = run_playbook(DEPLOY, "-i", str(LOCAL), env=env, extra_vars=extra)
    assert unchanged(again, webs), again.output[-6000:]

    # ---- --check --diff after convergence: configure and deploy predict no change anywhere
    for playbook, hosts in ((CONFIGURE, ("localhost", f"{stack}-bastion", *webs)), (DEPLOY, ("localhost", *webs))):
        check = run_playbook(playbook, "-i", str(LOCAL), "--check", "--diff", env=env, extra_vars=extra)
        assert unchanged(check, hosts), f"{playbook.name}: {check.output[-6000:]}"

    # ---- a rolling deploy of a new release under load: no failed request
    app2 = tmp_path / "app2"
    sample_release(app2, "# release 2")
    with Loaded(url + "/posts", stack) as during_deploy:
        deploy = run_playbook(
            DEPLOY, "-i", str(LOCAL), env=env, extra_vars={**extra, "rails_app_source_path": str(app2)}
        )
    assert deploy.rc == 0, deploy.output[-8000:]
    record_load(f"{stack}: rolling deploy under load", during_deploy.result)
    during_deploy.assert_no_failure()
    second_revision = get(url + "/up")[1].split()[1]
    assert second_revision != first_revision

    # ---- a rollback under load: no failed request, the first release answers again
    with Loaded(url + "/posts", stack) as during_rollback:
        back = run_playbook(
            ROLLBACK, "-i", str(LOCAL), env=env, extra_vars={**extra, "rails_app_rollback_to": first_revision}
        )
    assert back.rc == 0, back.output[-8000:]
    record_load(f"{stack}: rollback under load", during_rollback.result)
    during_rollback.assert_no_failure()
    assert get(url + "/up")[1].split()[1] == first_revision
    again = run_playbook(
        ROLLBACK, "-i", str(LOCAL), env=env, extra_vars={**extra, "rails_app_rollback_to": first_revision}
    )
    assert unchanged(again, webs), again.output[-6000:]

    # ---- a config change on the running app servers under load (a new environment variable and
    # a third Puma worker; the same release): each web server leaves the lb for the restart, 0 failed
    before = {web: puma_process(web) for web in webs}
    changed = {**extra, "rails_app_extra_env": {"WEBSTACK_E2E_SETTING": "2"}, "puma_workers": 3}
    with Loaded(url + "/posts", stack) as during_config:
        config = run_playbook(DEPLOY, "-i", str(LOCAL), env=env, extra_vars=changed)
    assert config.rc == 0, config.output[-8000:]
    record_load(f"{stack}: config change (environment, workers) under load", during_config.result)
    during_config.assert_no_failure()
    for web in webs:
        pid, workers, started_after_env = puma_process(web)
        assert pid != before[web][0] and started_after_env, f"{web}: Puma was not restarted with the new app.env"
        assert workers == 3, (web, workers)
        assert app_env_has(web, "WEBSTACK_E2E_SETTING='2'"), f"{web}: app.env lacks the new setting"
    assert get(url + "/up")[1].split()[1] == first_revision

    # ---- the app server stops on one web host: the lb marks it down, requests succeed
    subprocess.run(["docker", "exec", webs[0], "systemctl", "stop", "sample-puma"], check=True)
    # HAProxy marks a server down after `fall` failed checks (seconds); the bounds are hang guards
    wait_for(lambda: lb_state(stack, web_ids[0])["status"].startswith("DOWN"), 300, "the lb to mark web-1 down")
    while_down = load.run(url + "/posts", 10, 3, insecure=True, timeout=30)
    assert while_down["failed"] == 0 and while_down["ok"] > 0, while_down
    subprocess.run(["docker", "exec", webs[0], "systemctl", "start", "sample-puma"], check=True)
    wait_for(lambda: lb_state(stack, web_ids[0])["status"] == "UP", 300, "web-1 to come back up")


def current_release(container: str) -> str:
    """The release `current` points at on one of the twin's web hosts."""
    command = ["docker", "exec", container, "readlink", "/srv/www/sample/current"]
    return os.path.basename(subprocess.run(command, capture_output=True, text=True).stdout.strip())


def web_server_lost_mid_deploy(twin: dict, tmp_path) -> None:
    """Issue 18, part 2. A rolling deploy of a third release under load; web-1 (the first in the
    roll) dies abruptly (docker kill: power off, no shutdown) once the deploy has taken it out of
    the lb. The play fails for that host and stops there (serial 1, max_fail_percentage 0: web-2
    keeps the release it had and serves on), no request fails (the lb drained web-1 before it
    died, and its health check keeps it out), and after the host is back the next deploy, under
    load too, brings both web servers to the new release and web-1 back into the lb."""
    stack, env, extra, url, webs = twin["stack"], twin["env"], twin["extra"], twin["url"], twin["webs"]
    web_ids = twin["outputs"]["summary"]["web_instance_ids"]
    app3 = tmp_path / "app3"
    sample_release(app3, "# release 3")
    release_extra = {**extra, "rails_app_source_path": str(app3)}
    kept_release = current_release(webs[1])
    kept_revision = get(url + "/up")[1].split()[1]

    done, killed = threading.Event(), threading.Event()

    def kill_once_drained():
        deadline = time.monotonic() + 600
        while not done.is_set() and time.monotonic() < deadline:
            if lb_state(stack, web_ids[0])["admin"] == "drain":
                subprocess.run(["docker", "kill", webs[0]], check=True, capture_output=True)
                killed.set()
                return
            time.sleep(0.3)

    killer = threading.Thread(target=kill_once_drained, daemon=True)
    with Loaded(url + "/posts", stack) as during_loss:
        killer.start()
        lost = run_playbook(DEPLOY, "-i", str(LOCAL), env=env, extra_vars=release_extra)
        done.set()
        killer.join(30)
    record_load(f"{stack}: rolling deploy losing web-1 (killed while drained) under load", during_loss.result)
    assert killed.is_set(), f"web-1 was never drained by the deploy: {lost.output[-6000:]}"
    assert lost.rc != 0, lost.output[-6000:]
    first = lost.recap(webs[0])
    assert first["unreachable"] + first["failed"] >= 1, lost.output[-6000:]
    # web-2's batch never started: no task ran there (the recap does not list it)
    assert f"[{webs[1]}]" not in lost.output.split("PLAY [Deploy the app")[-1], lost.output[-6000:]
    during_loss.assert_no_failure()
    assert current_release(webs[1]) == kept_release
    assert lb_state(stack, web_ids[0])["status"] != "UP"

    # ---- the host comes back (its units start at boot, out of the lb), and the next deploy
    # brings it and web-2 to the new release, under load
    subprocess.run(["docker", "start", webs[0]], check=True, capture_output=True)
    wait_for(lambda: active(stack, "web-1", "sshd") == ["active"], 120, "web-1's sshd after its restart")
    with Loaded(url + "/posts", stack) as during_redeploy:
        again = run_playbook(DEPLOY, "-i", str(LOCAL), env=env, extra_vars=release_extra)
    assert again.rc == 0, again.output[-8000:]
    record_load(f"{stack}: the next deploy, web-1 back", during_redeploy.result)
    during_redeploy.assert_no_failure()
    releases = {web: current_release(web) for web in webs}
    assert len(set(releases.values())) == 1 and kept_release not in releases.values(), releases
    for web_id in web_ids:
        state = lb_state(stack, web_id)
        assert state["admin"] == "ready" and state["status"].startswith("UP"), (web_id, state)
    status, body = get(url + "/up")
    assert status == 200 and body.split()[1] != kept_revision, body


def database_restart(twin: dict) -> None:
    """Issue 18, part 3. The database stops under load (docker stop: MariaDB shuts down) and
    starts again 10 s later. While it is away /up answers 503 and the lb has no healthy web
    server; once it is back the app recovers by itself: the same app server processes (no
    restart), /up 200 through the lb, and a load run after that fails nothing. The failed
    requests and the seconds to recover are reported (record_load), not bounded."""
    stack, url, webs = twin["stack"], twin["url"], twin["webs"]
    pids = {web: puma_process(web)[0] for web in webs}
    with Loaded(url + "/posts", stack) as during_restart:
        time.sleep(3)
        stopped_at = time.monotonic()
        subprocess.run(["docker", "stop", f"{stack}-db"], check=True, capture_output=True)
        wait_for(lambda: get(url + "/up")[0] != 200, 120, "/up to fail while the database is away")
        unhealthy_after = time.monotonic() - stopped_at
        time.sleep(10)
        started_at = time.monotonic()
        subprocess.run(["docker", "start", f"{stack}-db"], check=True, capture_output=True)
        wait_for(lambda: get(url + "/up")[0] == 200, 300, "the app to answer /up again through the lb")
        recovered_after = time.monotonic() - started_at
        time.sleep(3)
    record_load(f"{stack}: database stopped for 10 s under load", during_restart.result)
    record_load(
        f"{stack}: database restart timing",
        {"unhealthy_after_stop_s": round(unhealthy_after, 1), "recovered_after_start_s": round(recovered_after, 1)},
    )
    assert during_restart.result["failed"] > 0, "no request failed while the database was away"
    after = load.run(url + "/posts", 10, 2, insecure=True, timeout=30)
    record_load(f"{stack}: after the database came back", after)
    assert after["failed"] == 0 and after["ok"] > 0, after
    assert {web: puma_process(web)[0] for web in webs} == pids, "an app server restarted"


def switch_app_servers(twin: dict) -> None:
    """Built with Unicorn: switching to Puma through deploy.yml under load fails no request and
    configure.yml agrees (no change); switching back to Unicorn through site.yml under load
    fails none either (provision, twin and configure leave the running server alone, deploy
    moves one web server at a time out of the lb: it was an outage before 9dc8915)."""
    stack, env, extra, url, webs = twin["stack"], twin["env"], twin["extra"], twin["url"], twin["webs"]
    for host in ("web-1", "web-2"):
        states = active(stack, host, "sample-unicorn", "sample-puma")
        assert states == ["active", "inactive"], f"{host}: unicorn, puma {states}"

    # ---- switching the app servers to Puma through deploy.yml under load: no failed request
    puma = {**extra, "rails_app_server": "puma"}
    with Loaded(url + "/posts", stack) as during_switch:
        switch = run_playbook(DEPLOY, "-i", str(LOCAL), env=env, extra_vars=puma)
    assert switch.rc == 0, switch.output[-8000:]
    record_load(f"{stack}: switch to puma (deploy.yml) under load", during_switch.result)
    during_switch.assert_no_failure()
    for host in ("web-1", "web-2"):
        states = active(stack, host, "sample-puma", "sample-unicorn")
        assert states == ["active", "inactive"], f"{host}: puma, unicorn {states}"
    configure = run_playbook(CONFIGURE, "-i", str(LOCAL), env=env, extra_vars=puma)
    assert unchanged(configure, webs), configure.output[-6000:]

    # ---- switching back to Unicorn through site.yml under load
    unicorn = {**extra, "rails_app_server": "unicorn"}
    with Loaded(url + "/posts", stack) as during_site_switch:
        site_switch = run_playbook(SITE, "-i", str(LOCAL), env=env, extra_vars=unicorn, timeout=3600)
    assert site_switch.rc == 0, site_switch.output[-8000:]
    record_load(f"{stack}: switch to unicorn (site.yml) under load", during_site_switch.result)
    during_site_switch.assert_no_failure()
    # the AWS side and the twin were already there: site.yml changed nothing on the controller
    assert site_switch.recap("localhost")["changed"] == 0, site_switch.output[-6000:]
    for host in ("web-1", "web-2"):
        states = active(stack, host, "sample-unicorn", "sample-puma")
        assert states == ["active", "inactive"], f"{host}: unicorn, puma {states}"


def request(url: str, host: str, path: str, headers: dict | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """GET url's address with this Host and path (the twin's lb on 127.0.0.1, or a container's
    address): the status, the headers (names in any case) and the body."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=30, context=_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": host, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def maintenance_on_and_off(twin: dict) -> None:
    """Built with sorry servers (sorry_pages_domains: the stack's domain and its www name):
    maintenance on, then off, each under load on both domains, every answer the app's own or the
    sorry page with 503 (0 errors, 0 other statuses); a second on and off change nothing; while
    on, 20 random paths on each domain get the sorry page with Retry-After, a health check on any
    path gets the sorry server's 200 GIF, plain HTTP is redirected to HTTPS."""
    stack, env, extra, url = twin["stack"], twin["env"], twin["extra"], twin["url"]
    domains = [twin["outputs"]["domain"], "www." + twin["outputs"]["domain"]]
    http_url = f"http://127.0.0.1:{twin['ports']['twin_lb_http_port']}"
    either = {"ok_status": (200, 503), "expect": {503: SORRY_TEXT}}

    def switch(state: str):
        with (
            Loaded(url + "/posts", stack, host=domains[0], **either) as one,
            Loaded(url + "/", stack, host=domains[1], **either) as two,
        ):
            run = run_playbook(MAINTENANCE, "-i", str(LOCAL), env=env, extra_vars={**extra, "maintenance": state})
        assert run.rc == 0, run.output[-8000:]
        for name, loaded in ((domains[0], one), (domains[1], two)):
            record_load(f"{stack}: maintenance={state} under load on {name}", loaded.result)
            loaded.assert_no_failure()
        again = run_playbook(MAINTENANCE, "-i", str(LOCAL), env=env, extra_vars={**extra, "maintenance": state})
        assert again.rc == 0 and again.recap("localhost")["changed"] == 0, again.output[-6000:]

    switch("on")
    rng = random.Random(stack)
    for name in domains:
        for _ in range(20):
            path = "/" + "/".join(
                rng.choice(["posts", "a", "%E3%81%82", "x.css", "deep"]) for _ in range(rng.randint(1, 4))
            )
            status, headers, body = request(url, name, path + ("?q=1" if rng.random() < 0.3 else ""))
            assert status == 503 and SORRY_TEXT in body.decode(), (name, path, status, body[:200])
            assert headers.get("Retry-After") == "3600", (name, path, headers)
        status, headers, _ = request(http_url, name, "/posts")
        # the lb's redirect to 443: the twin's 443 is published on twin_lb_https_port
        location = f"https://{name}:{twin['ports']['twin_lb_https_port']}/posts"
        assert status == 301 and headers["Location"] == location, (status, headers)
    # the sorry server's own health check answer, on any path, straight to it (as the lb's checks go)
    sorry_ip = subprocess.run(
        ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", f"{stack}-sorry-1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    checked = subprocess.run(
        [
            "docker",
            "exec",
            f"{stack}-lb",
            "python3",
            "-c",
            "import http.client,sys; c=http.client.HTTPConnection(sys.argv[1], 80, timeout=10);"
            " c.request('GET', '/any/health-check/path'); r=c.getresponse(); b=r.read();"
            " print(r.status, r.getheader('Content-Type'), b[:6])",
            sorry_ip,
        ],
        capture_output=True,
        text=True,
    )
    assert checked.stdout.split()[:2] == ["200", "image/gif"], checked.stdout + checked.stderr
    switch("off")
    status, body = get(url + "/up")
    assert status == 200 and body.startswith("ok "), body


@pytest.fixture
def long_pole():
    """This test is the suite's long pole: under make test it ends last, after its own chain of
    runs, while the other workers have CPU work left. Its thread (and so the threads, playbooks
    and load it starts) runs 5 nice levels ahead of the other workers, so the stage ends about
    when its CPU work does. Where the priority cannot be raised (not root), nothing changes."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, before - 5)
    except OSError:
        pass
    yield
    try:
        os.setpriority(os.PRIO_PROCESS, 0, before)
    except OSError:
        pass


def test_two_rails_stacks_deploy_switch_and_tear_down_without_a_failed_request(tmp_path, long_pole):
    """Two rails stacks, shop (Puma) and blog (Unicorn), built by site.yml into one emulator and
    twinned at once, each with its own load balancer. Side by side (two threads, each driving its
    own ansible-playbook runs): shop deploys, rolls back and loses an app server; blog switches
    its app servers both ways. Then blog is torn down (twin and AWS side, data included): nothing
    tagged Stack: blog is left, no container of it either, and shop still answers every request."""
    # names of their own, so a second run of the suite on this machine does not meet them
    suffix = _free_port() % 10000
    stacks = {"shop": f"shop{suffix}", "blog": f"blog{suffix}"}

    def run(name, scenario, **overrides):
        # shop's site.yml runs with -vvv, its output and the stack searched for its secrets
        twin = build(emulator, tmp_path / name, stacks[name], scan_secrets=name == "shop", **overrides)
        scenario(twin)
        return twin

    try:
        with running_emulator(tmp_path, MOTO_ACM_VALIDATION_WAIT="1") as emulator:
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                shop_run = pool.submit(
                    run,
                    "shop",
                    lambda t: (
                        deploy_and_roll_back(t, tmp_path / "shop"),
                        web_server_lost_mid_deploy(t, tmp_path / "shop"),
                        database_restart(t),
                    ),
                )
                # blog also has sorry servers and goes into maintenance and out of it under load
                sorry = {
                    "sorry_pages_domains": [
                        {"name": f"{stacks['blog']}.kumo-webstack.example"},
                        {"name": f"www.{stacks['blog']}.kumo-webstack.example"},
                    ],
                    "webstack_sorry_count": 1,
                }
                blog_run = pool.submit(
                    run,
                    "blog",
                    lambda t: (switch_app_servers(t), maintenance_on_and_off(t)),
                    rails_app_server="unicorn",
                    **sorry,
                )
                shop, blog = shop_run.result(), blog_run.result()
            assert shop["url"] != blog["url"]

            # ---- tearing down blog leaves nothing of it, and shop answering
            extra = {**blog["extra"], "twin_state": "absent"}
            shaped = ("sorry_pages_domains", "webstack_sorry_count")
            gone = run_playbook(ROOT / "playbooks" / "twin.yml", "-i", str(LOCAL), env=blog["env"], extra_vars=extra)
            assert gone.rc == 0, gone.output[-6000:]
            with Loaded(shop["url"] + "/posts", shop["stack"]) as during_teardown:
                down = run_playbook(
                    TEARDOWN,
                    env=blog["env"],
                    # not given the sorry pages it was built with: the teardown takes them
                    # from outputs.json, and still leaves nothing
                    extra_vars={
                        **{k: v for k, v in blog["extra"].items() if k not in shaped},
                        "webstack_teardown_force_delete_data": True,
                        "webstack_teardown_skip_final_snapshot": True,
                    },
                )
            assert down.rc == 0, down.output[-8000:]
            record_load("shop while blog is torn down", during_teardown.result)
            during_teardown.assert_no_failure()
            assert stack_leftovers(emulator, blog["stack"]) == {}
            left = subprocess.run(
                ["docker", "ps", "-aq", "--filter", f"label=kumo.webstack.stack={blog['stack']}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            assert left == [], f"containers of {blog['stack']} left: {left}"
            assert stack_leftovers(emulator, shop["stack"]), "shop lost its AWS side"
            status, body = get(shop["url"] + "/up")
            assert status == 200 and body.startswith("ok "), body
    finally:
        for stack in stacks.values():
            remove_twin(stack)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
