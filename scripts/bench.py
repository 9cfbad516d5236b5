#!/usr/bin/env python3
"""`make bench`: requests per second and latency percentiles through the local twin's load
balancer, for the app's listing page and for a precompiled static asset, with the app served
by Puma and by Unicorn in turn. nginx must serve the static asset at least --min-ratio times
the app's rate (exit 1 otherwise).

    scripts/bench.py                       # both servers, 20 s per measurement
    scripts/bench.py --servers puma --seconds 10

The load comes from wrk (Debian's package; `make bench` installs it): a Python client tops
out at a few thousand requests per second, below what nginx serves, so it would measure
itself. It switches the web servers between Puma and Unicorn with playbooks/rails/deploy.yml
(-e rails_app_server=...), so it needs the twin of `make demo` running. It leaves
the servers on the last one listed (Puma by default, the demo's setting). Every run is bounded
(--seconds) and goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]

ASSET = re.compile(r'href="(/assets/[^"]+\.css)"')
WRK_LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
WRK_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def insecure_context() -> ssl.SSLContext:
    # The twin's certificate is self-signed for the stack's domain; this is 127.0.0.1.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def wait_until_served(app_url: str, seconds: float = 180) -> None:
    """After a switch the lb marks the servers up again only after its health checks pass."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(app_url + "/up", context=insecure_context(), timeout=10) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {app_url}/up did not answer 200 within {seconds:.0f} s")
        print(f"bench: waiting for {app_url}/up to answer 200 ...", flush=True)
        time.sleep(3)


def find_asset(app_url: str) -> str:
    with urllib.request.urlopen(app_url + "/posts", context=insecure_context(), timeout=10) as response:
        page = response.read().decode()
    match = ASSET.search(page)
    if not match:
        raise SystemExit("bench: the listing page links no precompiled stylesheet (/assets/...css)")
    return match.group(1)


def parse_wrk(text: str) -> dict:
    """What `wrk --latency` printed, as numbers: requests, req/s, failed (socket errors and
    answers other than 2xx/3xx) and the latency percentiles in ms."""
    requests = re.search(r"(\d+) requests in ", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not requests or not rps:
        raise ValueError(f"wrk printed no result:\n{text}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = WRK_SOCKET_ERRORS.search(text)
    failed = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    )
    latency = {f"p{p}": round(float(value) * TO_MS[unit], 3) for p, value, unit in WRK_LATENCY.findall(text)}
    if set(latency) != {"p50", "p75", "p90", "p99"}:
        raise ValueError(f"wrk printed no latency distribution:\n{text}")
    return {"requests": int(requests.group(1)), "rps": float(rps.group(1)), "failed": failed, "latency_ms": latency}


def wrk(url: str, seconds: float, connections: int) -> dict:
    host = urlsplit(url).hostname or ""
    if not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"bench: {url} is not on 127.0.0.0/8; load goes to the local twin only")
    cmd = ["wrk", "--threads", "2", "--connections", str(connections), "--duration", f"{seconds:.0f}s"]
    cmd += ["--timeout", "10s", "--latency", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise SystemExit(f"bench: wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return parse_wrk(proc.stdout)


def switch(server: str, stack: str) -> None:
    """Serve the app with `server`: deploy.yml moves nginx's upstream to it, starts it and stops
    the other, one web server at a time, out of the load balancer."""
    print(f"bench: serving the app with {server} (deploy.yml) ...", flush=True)
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(ROOT / "inventories" / "local")]
    cmd += [
        str(ROOT / "playbooks" / "rails" / "deploy.yml"),
        "-e",
        f"webstack_name={stack}",
        "-e",
        f"rails_app_server={server}",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-4000:])
        raise SystemExit(f"bench: switching to {server} failed (deploy.yml)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", nargs="+", default=["unicorn", "puma"], choices=["puma", "unicorn"])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=8, help="wrk's open connections")
    parser.add_argument("--min-ratio", type=float, default=20.0)
    parser.add_argument("--no-switch", action="store_true", help="measure whatever server is running now")
    parser.add_argument(
        "--outputs", default=str(ROOT / ".webstack" / os.environ.get("WEBSTACK_NAME", "demo") / "outputs.json")
    )
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("bench: needs wrk (Debian: apt-get install wrk; `make bench` installs it as root)")

    outputs = json.loads(Path(args.outputs).read_text())
    app_url = outputs.get("app_url")
    if not app_url:
        raise SystemExit(f"bench: no app_url in {args.outputs}: run `make demo` first")
    stack = outputs.get("stack") or os.environ.get("WEBSTACK_NAME", "demo")

    rows = []
    ok = True
    for server in args.servers:
        if not args.no_switch:
            switch(server, stack)
        wait_until_served(app_url)
        asset = find_asset(app_url)
        page = wrk(app_url + "/posts", args.seconds, args.connections)
        static = wrk(app_url + asset, args.seconds, args.connections)
        ratio = static["rps"] / page["rps"] if page["rps"] else float("inf")
        rows.append((server, page, static, ratio))
        if page["failed"] or static["failed"] or ratio < args.min_ratio:
            ok = False

    print(f"\nbench: {app_url}, wrk with {args.connections} connections, {args.seconds:.0f} s a row (TLS, twin lb)")
    print(f"{'server':8} {'what':22} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'failed':>7}")
    for server, page, static, ratio in rows:
        for what, r in (("listing page /posts", page), ("static asset", static)):
            lat = r["latency_ms"]
            print(
                f"{server:8} {what:22} {r['rps']:9.1f} {lat['p50']:8.1f} {lat['p90']:8.1f} {lat['p99']:8.1f} "
                f"{r['failed']:7d}"
            )
        print(f"{server:8} {'static / page':22} {ratio:9.1f}x (needs >= {args.min_ratio:.0f}x)")
    results = [{"server": s, "page": p, "static": st, "ratio": round(r, 1)} for s, p, st, r in rows]
    out = ROOT / ".webstack" / "bench.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"bench: details in {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
