#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info`. Quiet and fast when it already does.
#
# On a Debian machine, as root, with no engine running, it installs docker.io if the
# client or daemon is missing and starts dockerd in the background (these machines have
# no systemd: dockerd is started with nohup, logging to $WEBSTACK_DOCKERD_LOG). Anywhere
# else it says what to do and exits 1.
#
#   scripts/ensure-docker.sh
#
# Environment:
#   WEBSTACK_DOCKERD_LOG       dockerd's log file (default /var/log/webstack-dockerd.log)
#   WEBSTACK_DOCKERD_TIMEOUT   seconds to wait for the engine to answer (default 60)
set -euo pipefail

log=${WEBSTACK_DOCKERD_LOG:-/var/log/webstack-dockerd.log}
timeout=${WEBSTACK_DOCKERD_TIMEOUT:-180}  # dockerd answers in 2-5 s here; a hang guard
pidfile=/var/run/docker.pid

say() { echo "ensure-docker: $*" >&2; }

engine_answers() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

if engine_answers; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! [ -r /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
  say "no Docker engine answers 'docker info'."
  if command -v docker >/dev/null 2>&1; then
    say "the docker client is installed: start the daemon (e.g. 'sudo systemctl start docker'," \
        "or 'sudo dockerd &') and make sure your user may use it (member of the 'docker' group)."
  else
    say "install Docker Engine (Debian/Ubuntu as root: 'apt-get install docker.io';" \
        "elsewhere see https://docs.docker.com/engine/install/), start it, then run this again."
  fi
  exit 1
fi

if ! command -v docker >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1; then
  "$(dirname "$0")/apt-install.sh" docker.io
fi

# Start dockerd unless one is already running (e.g. still starting up).
if ! pgrep -x dockerd >/dev/null 2>&1; then
  # A pid file left by a dockerd that died would make the new one refuse to start.
  if [ -f "$pidfile" ]; then
    stale_pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -z "$stale_pid" ] || ! kill -0 "$stale_pid" 2>/dev/null; then
      say "removing stale $pidfile"
      rm -f "$pidfile"
    fi
  fi
  say "starting dockerd (log: $log)"
  mkdir -p "$(dirname "$log")"
  # setsid: its own session and process group, so a Ctrl-C of make (or the end of the job that
  # started it) does not stop the engine with everything else in the group
  setsid nohup dockerd >>"$log" 2>&1 </dev/null &
  disown || true
fi

waited=0
while ! docker info >/dev/null 2>&1; do
  if [ "$waited" -ge "$timeout" ]; then
    say "the engine did not answer within ${timeout}s; last lines of $log:"
    tail -n 20 "$log" >&2 || true
    exit 1
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    say "dockerd exited; last lines of $log:"
    tail -n 20 "$log" >&2 || true
    exit 1
  fi
  if [ $((waited % 5)) -eq 0 ]; then
    say "waiting for dockerd (${waited}s/${timeout}s)"
  fi
  sleep 1
  waited=$((waited + 1))
done
say "Docker engine is up"
