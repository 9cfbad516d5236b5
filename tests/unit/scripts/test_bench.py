"""scripts/bench.py: reads wrk's report into numbers, and counts its errors as failures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location("bench", Path(__file__).parents[3] / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)

REPORT = """Running 10s test @ https://127.0.0.1:8443/posts
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    33.73ms   26.02ms 236.65ms   79.07%
    Req/Sec   129.60     33.12   212.00     69.50%
  Latency Distribution
     50%  695.00us
     75%   45.94ms
     90%   65.95ms
     99%    1.23s
  2585 requests in 10.01s, 8.85MB read
Requests/sec:    258.23
Transfer/sec:      0.88MB
"""


def test_a_clean_report_reads_as_numbers_in_ms():
    result = bench.parse_wrk(REPORT)
    assert result == {
        "requests": 2585,
        "rps": 258.23,
        "failed": 0,
        "latency_ms": {"p50": 0.695, "p75": 45.94, "p90": 65.95, "p99": 1230.0},
    }


def test_socket_errors_and_error_statuses_count_as_failed():
    report = REPORT.replace(
        "Requests/sec:",
        "  Socket errors: connect 3, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 7\nRequests/sec:",
    )
    assert bench.parse_wrk(report)["failed"] == 13


def test_a_report_without_results_is_an_error():
    with pytest.raises(ValueError, match="no result"):
        bench.parse_wrk(REPORT[: REPORT.index("  2585 requests")])


def test_a_report_without_the_latency_distribution_is_an_error():
    start, end = REPORT.index("  Latency Distribution"), REPORT.index("  2585 requests")
    with pytest.raises(ValueError, match="no latency distribution"):
        bench.parse_wrk(REPORT[:start] + REPORT[end:])


def test_load_goes_to_loopback_only():
    with pytest.raises(SystemExit, match="127.0.0.0/8"):
        bench.wrk("https://10.0.1.5/posts", 1, 1)
