#!/usr/bin/env bash
# The embedded AWS emulator: moto in server mode on 127.0.0.1.
#
#   scripts/emulator.sh start    start it (no-op when already up), wait until healthy
#   scripts/emulator.sh stop     stop it (no-op when not running)
#   scripts/emulator.sh status   exit 0 when it answers
#   scripts/emulator.sh url      print its endpoint URL
#
# Environment: WEBSTACK_EMULATOR_PORT (default 5000), WEBSTACK_STATE_DIR (default .webstack),
# WEBSTACK_EMULATOR_TIMEOUT (seconds to wait for health, default 180), WEBSTACK_PYTHON (default
# .venv/bin/python), WEBSTACK_EMULATOR_ALLOW_MOTO=1 (start on a moto version other than the one
# the fixes were written for, with a warning; see scripts/emulator_fixes/__init__.py),
# WEBSTACK_EMULATOR_FAULT_* (throttling, 5xx and read-after-write lag: scripts/emulator_faults.py).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
port=${WEBSTACK_EMULATOR_PORT:-5000}
state=${WEBSTACK_STATE_DIR:-$root/.webstack}
pidfile="$state/emulator-$port.pid"
logfile="$state/emulator-$port.log"
url="http://127.0.0.1:$port"
python=${WEBSTACK_PYTHON:-$root/.venv/bin/python}

healthy() {
  # moto's dashboard answers once the server is up (not /moto-api/data.json: moto fails to
  # serialise its RDS models there once a DB instance exists)
  python3 - "$url" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=2).read()
PY
}

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

case "${1:-}" in
  start)
    mkdir -p "$state"
    if running_pid >/dev/null && healthy; then
      echo "emulator: already up at $url"
      exit 0
    fi
    if healthy; then
      echo "emulator: port $port already answers but was not started by us; set WEBSTACK_EMULATOR_PORT" >&2
      exit 1
    fi
    if pid=$(running_pid); then
      # never start a second one over it (that would also lose its pid file)
      echo "emulator: pid $pid runs but does not answer on $url (see $logfile); 'make down', then retry" >&2
      exit 1
    fi
    [ -x "$python" ] || { echo "emulator: $python not found; run 'make venv' first" >&2; exit 1; }
    # the fixes were written for one moto version: on another, say so now (not as a timeout)
    "$python" "$root/scripts/emulator.py" --check-moto || exit 1
    # ACM certificates are issued after this many seconds (AWS takes minutes; moto 60 s by default).
    export MOTO_ACM_VALIDATION_WAIT=${MOTO_ACM_VALIDATION_WAIT:-2}
    # EC2 instances in the emulator never run anything: the local twin's containers do.
    nohup "$python" "$root/scripts/emulator.py" -H 127.0.0.1 -p "$port" >"$logfile" 2>&1 &
    echo $! >"$pidfile"
    timeout=${WEBSTACK_EMULATOR_TIMEOUT:-180}  # starts in 3-8 s here; a hang guard
    for ((i = 1; i <= timeout; i++)); do
      if healthy; then
        echo "emulator: up at $url (pid $(cat "$pidfile"), log $logfile)"
        exit 0
      fi
      if ! running_pid >/dev/null; then
        echo "emulator: exited during start; last lines of $logfile:" >&2
        tail -n 20 "$logfile" >&2
        exit 1
      fi
      (( i % 5 == 0 )) && echo "emulator: waiting for $url to answer (${i}s of ${timeout}s)"
      sleep 1
    done
    echo "emulator: no answer from $url after ${timeout}s; see $logfile" >&2
    exit 1
    ;;
  stop)
    if pid=$(running_pid); then
      kill "$pid"
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
      echo "emulator: stopped (pid $pid)"
    else
      echo "emulator: not running on port $port"
    fi
    rm -f "$pidfile"
    ;;
  status)
    healthy && { echo "emulator: up at $url"; exit 0; }
    echo "emulator: not answering at $url"
    exit 1
    ;;
  url)
    echo "$url"
    ;;
  *)
    echo "usage: $0 start|stop|status|url" >&2
    exit 2
    ;;
esac
