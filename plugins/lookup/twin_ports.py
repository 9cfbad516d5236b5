# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: twin_ports
author:
  - kumo.webstack developers (!UNKNOWN)
version_added: 0.1.0
short_description: The host ports a stack's local twin publishes, chosen once per stack
description:
  - Returns one dict, port name to host port, for the names given as terms.
  - A port given in O(given) (non-zero) is that port. Otherwise the port the stack's
    O(ports_file) already holds for that name. Otherwise a free port of O(host) in O(range),
    not held by any other stack's ports file (O(others)), not already chosen for another name,
    and one that can be bound on O(host) now; the search starts at an offset derived from
    O(seed) (the stack name), so a stack tends to get the same ports on every machine.
  - Reads files only; the caller writes the answer back to O(ports_file) (the kumo.webstack.twin
    role does, so later runs and other stacks see it).
options:
  _terms:
    description: Names of the ports (for example V(bastion_ssh), V(lb_http), V(lb_https)).
    required: true
    type: list
    elements: str
  ports_file:
    description: This stack's ports file (JSON, name to port); missing means none chosen yet.
    required: true
    type: path
  others:
    description: Glob of every stack's ports file (this stack's own is skipped).
    type: str
    default: ""
  given:
    description: Ports set by the user, name to port; 0 or empty means choose one.
    type: dict
    default: {}
  host:
    description: Address the ports are published on (the probe binds there).
    type: str
    default: 127.0.0.1
  range:
    description: First and last port to choose from (keep it below the kernel's ephemeral range).
    type: list
    elements: int
    default: [20000, 29999]
  seed:
    description: Text the first port tried is derived from (the stack name).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Choose the twin's published ports
  ansible.builtin.set_fact:
    ports: >-
      {{ query('kumo.webstack.twin_ports', 'bastion_ssh', 'lb_https',
               ports_file='.webstack/shop/ports.json', others='.webstack/*/ports.json', seed='shop') | first }}
"""

RETURN = r"""
_raw:
  description: One dict, port name to host port.
  type: list
  elements: dict
"""

import glob  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402

from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise AnsibleLookupError(f"twin_ports: cannot read {path}: {e}") from e
    if not isinstance(data, dict):
        raise AnsibleLookupError(f"twin_ports: {path} must hold a JSON object of name -> port")
    return {str(k): int(v) for k, v in data.items() if str(v).isdigit() and int(v) > 0}


def _can_bind(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_ports(names, ports_file, others="", given=None, host="127.0.0.1", port_range=(20000, 29999), seed=""):
    """Name -> port (see DOCUMENTATION); ``_can_bind`` decides what is free."""
    given = {k: int(v) for k, v in (given or {}).items() if v not in (None, "") and int(v) > 0}
    own = _read(ports_file)
    taken = set()
    mine = os.path.realpath(ports_file)
    for path in sorted(glob.glob(others)) if others else []:
        if os.path.realpath(path) != mine:
            taken.update(_read(path).values())
    low, high = int(port_range[0]), int(port_range[1])
    if not 0 < low <= high <= 65535:
        raise AnsibleLookupError(f"twin_ports: range must be two ports, low to high; got {list(port_range)}")
    span = high - low + 1
    start = int(hashlib.sha256(seed.encode("utf-8")).hexdigest(), 16) % span
    out = {}
    for name in names:
        if name in given:
            out[name] = given[name]
        elif name in own:
            out[name] = own[name]
    for name in names:
        if name in out:
            continue
        for step in range(span):
            port = low + (start + step) % span
            if port in taken or port in out.values() or port in given.values() or port in own.values():
                continue
            if _can_bind(host, port):
                out[name] = port
                start = (start + step + 1) % span
                break
        else:
            raise AnsibleLookupError(f"twin_ports: no free port left in {low}-{high} on {host} for {name}")
    return out


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        names = [str(t) for t in terms]
        return [
            choose_ports(
                names,
                self.get_option("ports_file"),
                others=self.get_option("others"),
                given=self.get_option("given"),
                host=self.get_option("host"),
                port_range=self.get_option("range"),
                seed=self.get_option("seed"),
            )
        ]
