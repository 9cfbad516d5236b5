"""scripts/load.py: bounded, counts failures honestly, loads only loopback."""

from __future__ import annotations

import importlib.util
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location("load", Path(__file__).parents[3] / "scripts" / "load.py")
load = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(load)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's name)
        status = 500 if self.path.startswith("/broken") else 200
        body = b"ok"
        if self.path.startswith("/host"):  # answers 503 with the Host it was sent, as a sorry server would
            status, body = 503, f"sorry: {self.headers['Host']}".encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_counts_successes_and_stops_at_the_request_budget(server):
    result = load.run(server + "/", seconds=120, workers=3, requests=60)  # the budget ends it
    assert result["requests"] == 60
    assert result["ok"] == 60 and result["failed"] == 0
    assert result["statuses"] == {"200": 60}
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p99"] <= result["latency_ms"]["max"]


def test_unexpected_status_counts_as_failure(server):
    result = load.run(server + "/broken", seconds=120, workers=2, requests=10)
    assert result["ok"] == 0 and result["failed"] == 10
    assert result["failures"] == {"HTTP 500": 10}


def test_host_header_and_expected_bodies(server):
    sorry = load.run(
        server + "/host",
        120,
        2,
        requests=6,
        ok_status=(200, 503),
        host="www.example.com",
        expect={503: "sorry: www.example.com"},
    )
    assert sorry["ok"] == 6 and sorry["failed"] == 0 and sorry["statuses"] == {"503": 6}
    # a 503 that is not the expected page (another Host) fails
    other = load.run(server + "/host", 120, 1, requests=3, ok_status=(200, 503), expect={503: "sorry: www.example.com"})
    assert other["failed"] == 3 and other["failures"] == {"HTTP 503 without the expected body": 3}


def test_refused_connections_count_as_failures_and_time_bounds_the_run():
    result = load.run("http://127.0.0.1:9/", seconds=0.5, workers=1)
    assert result["ok"] == 0 and result["failed"] > 0
    # ends near 0.5 s; well below the 10 s a run without the bound would take per connection
    assert result["seconds"] < 8


def test_only_loopback_targets_are_loaded():
    with pytest.raises(SystemExit, match="only 127.0.0.0/8"):
        load.run("http://10.0.128.4/", seconds=1, workers=1)


def test_a_stop_event_ends_the_load_early(server):
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    result = load.run(server + "/", seconds=30, workers=2, stop=stop)
    timer.join()
    # the stop comes at 0.5 s; the run would last 30 s without it (half of that still proves it)
    assert result["seconds"] < 15
    assert result["ok"] > 0 and result["failed"] == 0


def test_a_rate_paces_each_worker(server):
    result = load.run(server + "/", seconds=1.5, workers=2, rate=4)
    # paced: each worker at most one request per 1/4 s, so at most 2 x (1.5 x 4 + 1) in all;
    # unpaced, this local server answers hundreds in that time
    assert 2 <= result["requests"] <= 14, result
    assert result["failed"] == 0 and result["rate_per_worker"] == 4
