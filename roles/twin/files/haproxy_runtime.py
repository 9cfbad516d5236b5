"""The twin lb's runtime API, for the drain/ready entry points (runs inside the lb container).

    python3 haproxy_runtime.py show BACKEND TARGET              state as JSON
    python3 haproxy_runtime.py set BACKEND TARGET ready|drain   set it (JSON, with "changed")

TARGET is the target id (EC2 instance id or IP address): the server named so, or TARGET-PORT
when the target is registered on several ports. BACKEND is a backend (a target group's name),
or "" for every backend that has the target.

State: "admin" is ready, drain or maint (from `show servers state`; "mixed" when the target's
servers differ), "status" HAProxy's status (UP, DOWN, DRAIN, MAINT, ...; the first that is not
UP when they differ) and "sessions" the current sessions of all of them (from `show stat`).
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


def servers(backend, target):
    """(backend, server, admin) of every server standing for the target."""
    found = []
    for line in command(f"show servers state {backend}".strip()).splitlines():
        fields = line.split()
        if len(fields) <= 6 or line.startswith("#"):
            continue
        name = fields[3]
        if (not backend or fields[1] == backend) and (name == target or name.startswith(target + "-")):
            bits = int(fields[6])
            admin = "maint" if bits & MAINT else "drain" if bits & FORCED_DRAIN else "ready"
            found.append((fields[1], name, admin))
    if not found:
        where = f"backend {backend}" if backend else "any backend"
        raise SystemExit(json.dumps({"failed": True, "msg": f"no server for {target} in {where}"}))
    return found


def state(backend, target):
    found = servers(backend, target)
    stats = {(r["pxname"], r["svname"]): r for r in csv.DictReader(command("show stat").lstrip("# ").splitlines())}
    admins = {admin for _, _, admin in found}
    statuses = [stats.get((b, s), {}).get("status", "") for b, s, _ in found]
    return {
        "backend": backend,
        "server": target,
        "servers": [f"{b}/{s}" for b, s, _ in found],
        "admin": admins.pop() if len(admins) == 1 else "mixed",
        "status": next((s for s in statuses if not s.startswith("UP")), statuses[0]),
        "sessions": sum(int(stats.get((b, s), {}).get("scur") or 0) for b, s, _ in found),
    }


def main(argv):
    action, backend, target = argv[:3]
    before = state(backend, target)
    if action == "show":
        print(json.dumps(before))
        return
    wanted = argv[3]
    if wanted not in ("ready", "drain"):
        raise SystemExit(json.dumps({"failed": True, "msg": f"unknown state {wanted}"}))
    changed = False
    for name_backend, name, admin in servers(backend, target):
        if admin != wanted:
            changed = True
            answer = command(f"set server {name_backend}/{name} state {wanted}").strip()
            if answer:
                raise SystemExit(json.dumps({"failed": True, "msg": answer}))
    print(json.dumps({**state(backend, target), "changed": changed, "before": before["admin"]}))


if __name__ == "__main__":
    main(sys.argv[1:])
