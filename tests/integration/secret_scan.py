"""Where a stack's generated secrets must never appear (issue 18, part 5).

The secrets are the files the roles generate under webstack_secrets_dir (the database master
password, the Redis auth token, the SSH key pair's private half...). They are looked for in a
playbook run's whole output (run with -vvv), in the stack's state directory (outputs.json, the
twin's inventory and files) and in the twin's containers: their configured environment (docker
inspect) and every process's command line, which any user of the host can read. (A process's own
environment, /proc/<pid>/environ, is readable by root and its owner only; the app servers get
their database password there through systemd's EnvironmentFile, as intended.)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import record_load


def generated_secrets(secrets_dir: Path) -> dict[str, str]:
    """Each generated secret by file name: a private key by the longest line of its body (any
    line of it printed is a leak), anything else by its whole content. Public keys are left out."""
    found = {}
    for path in sorted(p for p in secrets_dir.rglob("*") if p.is_file() and not p.name.endswith(".pub")):
        text = path.read_text(errors="replace").strip()
        if "PRIVATE KEY-----" in text:
            text = max((line for line in text.splitlines() if "-----" not in line), key=len, default="")
        if len(text) >= 12:
            found[path.name] = text
    return found


def state_texts(state_dir: Path) -> dict[str, str]:
    return {str(p): p.read_text(errors="replace") for p in state_dir.rglob("*") if p.is_file()}


def container_texts(stack: str) -> dict[str, str]:
    """Each of the stack's twin containers: its configured environment, and the command line of
    every process running in it."""
    names = subprocess.run(
        ["docker", "ps", "--filter", f"label=kumo.webstack.stack={stack}", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    texts = {}
    for name in names:
        env = subprocess.run(["docker", "inspect", "-f", "{{json .Config.Env}}", name], capture_output=True, text=True)
        args = subprocess.run(
            ["docker", "exec", name, "sh", "-c", "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done"],
            capture_output=True,
            text=True,
        )
        texts[f"{name} environment"] = env.stdout
        texts[f"{name} processes"] = args.stdout
    return texts


def leaks(secrets: dict[str, str], texts: dict[str, str]) -> list[str]:
    """'<secret file> in <where>' for every secret found; [] when none is."""
    return [f"{name} in {where}" for name, secret in secrets.items() for where, text in texts.items() if secret in text]


def assert_none_leaked(stack: str, secrets: dict[str, str], outputs: dict[str, str], state_dir: Path) -> int:
    """No secret in the playbook outputs given (label: text), the state directory or the stack's
    twin containers; what was looked at is reported with the test (record_load). Returns how many
    places were searched."""
    texts = {**outputs, **state_texts(state_dir), **container_texts(stack)}
    assert leaks(secrets, texts) == []
    output_bytes = sum(len(text) for text in outputs.values())
    record_load(
        f"{stack}: secrets looked for",
        {"secrets": sorted(secrets), "places": len(texts), "output_bytes": output_bytes, "hits": 0},
    )
    return len(texts)
