#!/usr/bin/env python3
"""A bounded HTTP(S) load: N workers send requests to one URL for a fixed time (or until a
request count is reached), then it stops by itself and prints what it saw as JSON.

Each worker keeps one connection alive and opens a new one after any error. A request counts as
failed when it raises (refused, reset, timed out) or answers with a status not in --ok-status.
With --rate each worker sends at most that many requests a second (paced, not bursts): a steady
probe for a rolling deploy that leaves the machine's cores to the deploy it watches.

    scripts/load.py https://127.0.0.1:8443/posts --seconds 60 --workers 4 --insecure
    scripts/load.py http://127.0.0.1:8080/ --requests 500 --ok-status 301
    scripts/load.py https://127.0.0.1:8443/posts --seconds 300 --workers 4 --rate 5 --insecure

Used by the twin tests: 0 failed requests while a release rolls, or while a web server is down.
Only 127.0.0.0/8 is allowed as a target: load goes to our own local twin, nowhere else.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import socket
import ssl
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

MAX_SECONDS = 1800


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


class Worker(threading.Thread):
    def __init__(
        self,
        target,
        deadline,
        budget,
        ok_status,
        timeout,
        stop: threading.Event | None = None,
        rate=None,
        host=None,
        expect=None,
    ):
        super().__init__(daemon=True)
        self.headers = {"User-Agent": "kumo-webstack-load", **({"Host": host} if host else {})}
        # status -> text its body must hold (e.g. the sorry page's), else the request failed
        self.expect = {int(k): v.encode() for k, v in (expect or {}).items()}
        self.interval = 1.0 / rate if rate else 0.0
        self.stop = stop or threading.Event()
        self.target = target
        self.deadline = deadline
        self.budget = budget
        self.ok_status = ok_status
        self.timeout = timeout
        self.latencies: list[float] = []
        self.failures: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.conn: http.client.HTTPConnection | None = None

    def connect(self) -> http.client.HTTPConnection:
        scheme, host, port, _path, context = self.target
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=context)
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def run(self) -> None:
        _scheme, _host, _port, path, _context = self.target
        next_start = time.monotonic()
        while time.monotonic() < self.deadline and not self.stop.is_set() and self.budget.take():
            if self.interval:
                # paced: wait for this request's slot (the stop event ends the wait early)
                if self.stop.wait(max(0.0, next_start - time.monotonic())):
                    break
                next_start = max(next_start + self.interval, time.monotonic())
            started = time.monotonic()
            try:
                if self.conn is None:
                    self.conn = self.connect()
                self.conn.request("GET", path, headers=self.headers)
                response = self.conn.getresponse()
                body = response.read()
                self.statuses[response.status] += 1
                if response.status not in self.ok_status:
                    self.failures[f"HTTP {response.status}"] += 1
                elif response.status in self.expect and self.expect[response.status] not in body:
                    self.failures[f"HTTP {response.status} without the expected body"] += 1
                else:
                    self.latencies.append(time.monotonic() - started)
                if response.will_close:
                    self.conn.close()
                    self.conn = None
            except (OSError, http.client.HTTPException) as exc:
                self.failures[type(exc).__name__] += 1
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                time.sleep(0.01)
        if self.conn is not None:
            self.conn.close()


class Budget:
    """Shared request budget (unlimited when None)."""

    def __init__(self, total: int | None):
        self.left = total
        self.lock = threading.Lock()

    def take(self) -> bool:
        if self.left is None:
            return True
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def parse_target(url: str, insecure: bool, cafile: str | None):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit(f"load: not an http(s) URL: {url}")
    try:
        address = ipaddress.ip_address(socket.gethostbyname(parts.hostname))
    except OSError as exc:
        raise SystemExit(f"load: cannot resolve {parts.hostname}: {exc}") from exc
    if not address.is_loopback:
        raise SystemExit(f"load: refusing {url}: only 127.0.0.0/8 may be loaded ({address})")
    context = None
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=cafile)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path, context


def run(
    url,
    seconds,
    workers,
    requests=None,
    ok_status=(200,),
    insecure=False,
    cafile=None,
    timeout=10.0,
    stop=None,
    rate=None,
    host=None,
    expect=None,
) -> dict:
    """The load as a function: `stop` (a threading.Event) ends it early, e.g. when the deploy
    it runs beside has finished; `seconds` still bounds it; `rate` paces each worker
    (requests a second, None for as fast as answers come); `host` is sent as the Host header
    (the URL's host is still the address connected to); `expect` maps a status to a text its
    answers' bodies must hold (a 503 that is not the sorry page fails)."""
    seconds = min(float(seconds), MAX_SECONDS)
    target = parse_target(url, insecure, cafile)
    started = time.monotonic()
    deadline = started + seconds
    budget = Budget(requests)
    stop = stop or threading.Event()
    pool = [Worker(target, deadline, budget, set(ok_status), timeout, stop, rate, host, expect) for _ in range(workers)]
    for worker in pool:
        worker.start()
    for worker in pool:
        worker.join(seconds + timeout + 5)
    elapsed = time.monotonic() - started
    latencies = sorted(x for w in pool for x in w.latencies)
    failures = sum((w.failures for w in pool), Counter())
    statuses = sum((w.statuses for w in pool), Counter())
    total = len(latencies) + sum(failures.values())
    return {
        "url": url,
        "seconds": round(elapsed, 2),
        "workers": workers,
        "rate_per_worker": rate,
        "requests": total,
        "ok": len(latencies),
        "failed": sum(failures.values()),
        "failures": dict(failures),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "rps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 2),
            "p90": round(percentile(latencies, 0.90) * 1000, 2),
            "p99": round(percentile(latencies, 0.99) * 1000, 2),
            "max": round((latencies[-1] if latencies else 0.0) * 1000, 2),
        },
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=30, help=f"how long (at most {MAX_SECONDS})")
    parser.add_argument("--requests", type=int, default=None, help="stop after this many requests")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--ok-status", type=int, action="append", help="statuses that count as success (200)")
    parser.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    parser.add_argument("--cafile", help="CA bundle to verify the TLS certificate with")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=None, help="at most this many requests a second per worker")
    parser.add_argument("--host", help="Host header to send (the URL's host is still the address connected to)")
    parser.add_argument(
        "--expect", action="append", default=[], metavar="STATUS=TEXT", help="answers with STATUS must hold TEXT"
    )
    args = parser.parse_args(argv)
    result = run(
        args.url,
        args.seconds,
        args.workers,
        requests=args.requests,
        ok_status=tuple(args.ok_status or [200]),
        insecure=args.insecure,
        cafile=args.cafile,
        timeout=args.timeout,
        rate=args.rate,
        host=args.host,
        expect=dict(item.split("=", 1) for item in args.expect),
    )
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
