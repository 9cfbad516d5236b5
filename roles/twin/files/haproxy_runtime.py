"""The twin lb's runtime API, for the drain/ready entry points (runs inside the lb container).

    python3 haproxy_runtime.py show BACKEND SERVER            state as JSON
    python3 haproxy_runtime.py set BACKEND SERVER ready|drain  set it (JSON, with "changed")

State: "admin" is ready, drain or maint (from `show servers state`), "status" HAProxy's
status (UP, DOWN, DRAIN, MAINT, ...) and "sessions" the server's current sessions
(from `show stat`).
"""

import csv
import json
import socket
import sys

SOCKET = "/run/haproxy/admin.sock"
FORCED_DRAIN = 0x08  # SRV_ADMF_FDRAIN
MAINT = 0x01 | 0x02 | 0x04 | 0x20  # forced, inherited, config and resolution maintenance


def command(line):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(SOCKET)
        sock.sendall(line.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def state(backend, server):
    admin = None
    for line in command(f"show servers state {backend}").splitlines():
        fields = line.split()
        if len(fields) > 6 and not line.startswith("#") and fields[1] == backend and fields[3] == server:
            bits = int(fields[6])
            admin = "maint" if bits & MAINT else "drain" if bits & FORCED_DRAIN else "ready"
    if admin is None:
        raise SystemExit(json.dumps({"failed": True, "msg": f"no server {server} in backend {backend}"}))
    rows = csv.DictReader(command("show stat").lstrip("# ").splitlines())
    row = next((r for r in rows if r["pxname"] == backend and r["svname"] == server), {})
    return {
        "backend": backend,
        "server": server,
        "admin": admin,
        "status": row.get("status", ""),
        "sessions": int(row.get("scur") or 0),
    }


def main(argv):
    action, backend, server = argv[:3]
    before = state(backend, server)
    if action == "show":
        print(json.dumps(before))
        return
    wanted = argv[3]
    if wanted not in ("ready", "drain"):
        raise SystemExit(json.dumps({"failed": True, "msg": f"unknown state {wanted}"}))
    changed = before["admin"] != wanted
    if changed:
        answer = command(f"set server {backend}/{server} state {wanted}").strip()
        if answer:
            raise SystemExit(json.dumps({"failed": True, "msg": answer}))
    print(json.dumps({**state(backend, server), "changed": changed, "before": before["admin"]}))


if __name__ == "__main__":
    main(sys.argv[1:])
