# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local twin's stand-in for security groups: an iptables-restore rule set per container.

Groups of containers allow TCP ports from other containers, as security groups allow them
from other groups. Each rule set drops everything else, carries a digest of itself in its
last rule's comment (so the twin replaces it only when it differs), and is returned with the
container's process id (for nsenter). A pure function on the twin's container facts.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

_HEAD = [
    "*filter",
    ":INPUT DROP [0:0]",
    ":FORWARD DROP [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    "-A INPUT -i lo -j ACCEPT",
    "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
]


def _fail(message):
    raise AnsibleFilterError(f"twin_packet_filters: {message}")


def _list(where, value):
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        _fail(f"{where} must be a list; got {type(value).__name__} {value!r}")
    return list(value)


def _names(where, value):
    names = _list(where, value)
    for name in names:
        if not isinstance(name, str) or not name:
            _fail(f"{where} must list container names; got {name!r}")
    return names


def _port(where, value):
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        _fail(f"{where} must list TCP ports (1-65535); got {value!r}")
    port = int(value)
    if not 1 <= port <= 65535:
        _fail(f"{where} must list TCP ports (1-65535); got {value!r}")
    return port


def _container(info, name, where):
    facts = info.get(name)
    if not isinstance(facts, Mapping):
        _fail(f"{where} names container '{name}', which the container facts do not hold")
    address = facts.get("private_ip")
    try:
        ipaddress.IPv4Address(str(address))
    except ValueError:
        _fail(f"container '{name}' has no private IPv4 address (private_ip {address!r})")
    return facts


def twin_packet_filters(groups, info):
    """One ``{name, pid, rules, digest, text}`` per container named in ``groups``, in order of first mention.

    ``groups``: ``[{hosts: [name], allow: [{from: [name], ports: [port], comment: str}]}]``;
    ``{source}`` in a comment becomes the source container's name. ``info``: container name ->
    ``{pid, private_ip}``."""
    if not isinstance(info, Mapping):
        _fail(f"the container facts must be a dict of name -> {{pid, private_ip}}; got {type(info).__name__}")
    rules = {}
    for index, group in enumerate(_list("the input", groups)):
        where = f"group {index + 1}"
        if not isinstance(group, Mapping):
            _fail(f"{where} must be a dict with hosts and allow; got {type(group).__name__}")
        unknown = set(group) - {"hosts", "allow"}
        if unknown:
            _fail(f"{where} has unknown keys {', '.join(sorted(unknown))} (expected hosts and allow)")
        hosts = _names(f"{where}: hosts", group.get("hosts", []))
        allowed = []
        for number, allow in enumerate(_list(f"{where}: allow", group.get("allow", []))):
            at = f"{where}: allow {number + 1}"
            if not isinstance(allow, Mapping):
                _fail(f"{at} must be a dict with from, ports and comment; got {type(allow).__name__}")
            unknown = set(allow) - {"from", "ports", "comment"}
            if unknown:
                _fail(f"{at} has unknown keys {', '.join(sorted(unknown))} (expected from, ports and comment)")
            comment = allow.get("comment", "")
            if not isinstance(comment, str) or '"' in comment or "\n" in comment:
                _fail(f"{at}: comment must be one line of text without double quotes; got {comment!r}")
            ports = sorted({_port(f"{at}: ports", port) for port in _list(f"{at}: ports", allow.get("ports", []))})
            for source in _names(f"{at}: from", allow.get("from", [])):
                address = _container(info, source, f"{at}: from")["private_ip"]
                for port in ports:
                    allowed.append([comment.replace("{source}", source), str(address), port])
        for host in hosts:
            pid = _container(info, host, f"{where}: hosts").get("pid")
            if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
                _fail(f"container '{host}' has no process id (pid {pid!r}): is it running?")
            rules.setdefault(host, []).extend(allowed)

    out = []
    for name, host_rules in rules.items():
        text = list(_HEAD)
        for comment, source, port in host_rules:
            text.append(
                f'-A INPUT -s {source}/32 -p tcp -m tcp --dport {port} -m comment --comment "twin: {comment}" -j ACCEPT'
            )
        digest = hashlib.sha256("\n".join(text).encode("utf-8")).hexdigest()[:12]
        text.append(f'-A INPUT -m comment --comment "kumo.webstack twin {digest}" -j DROP')
        text.append("COMMIT")
        out.append(
            {
                "name": name,
                "rules": host_rules,
                "pid": info[name]["pid"],
                "digest": digest,
                "text": "\n".join(text) + "\n",
            }
        )
    return out


class FilterModule:
    """Local twin filters."""

    def filters(self):
        return {"twin_packet_filters": twin_packet_filters}
