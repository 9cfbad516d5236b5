# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: twin
short_description: The hosts of a stack's local twin (bastion and web servers as containers)
version_added: 0.1.0
description:
  - Reads the inventory the P(kumo.webstack.twin#role) role writes for a stack,
    C(<state_dir>/<stack>/inventory-<stack>.yml) (each stack keeps its state in a directory of
    its own), and adds its groups (V(bastion), V(web)), hosts and
    variables (connection settings with ProxyJump through the bastion, C(instance_id), and
    C(twin_outputs) for every host).
  - The stack is the extra variable C(webstack_name) when one is given on the command line
    (C(-e webstack_name=...)), otherwise O(stack). The state directory is the extra variable
    C(webstack_state_dir), otherwise O(state_dir).
  - When the twin of the stack has not been started (no file), the groups V(bastion) and
    V(web) are created empty and no host is added, so plays for them are skipped quietly.
  - The configuration file's name must end in C(twin.yml) or C(twin.yaml).
options:
  plugin:
    description: The name of this plugin; it identifies the file as its configuration.
    required: true
    type: str
    choices: [kumo.webstack.twin]
  stack:
    description: The stack whose twin to read, when no C(webstack_name) extra variable is given.
    type: str
    default: demo
    env:
      - name: WEBSTACK_NAME
  state_dir:
    description:
      - Directory holding C(<stack>/inventory-<stack>.yml), when no C(webstack_state_dir) extra
        variable is given. Relative paths are relative to the configuration file's directory.
      - Default C(../../.webstack) from the configuration file (the checkout's C(.webstack) for
        C(inventories/local/twin.yml)).
    type: str
    env:
      - name: WEBSTACK_STATE_DIR
  groups:
    description: Groups created (empty) even when the twin does not exist.
    type: list
    elements: str
    default: [bastion, web]
"""

EXAMPLES = r"""
# inventories/local/twin.yml
plugin: kumo.webstack.twin

# ansible-playbook -i inventories/local playbooks/configure.yml -e webstack_name=demo
# reaches the groups bastion and web of .webstack/inventory-demo.yml
"""

import os  # noqa: E402

from ansible.errors import AnsibleParserError  # noqa: E402
from ansible.module_utils.common.text.converters import to_native  # noqa: E402
from ansible.plugins.inventory import BaseInventoryPlugin  # noqa: E402
from ansible.utils.vars import load_extra_vars  # noqa: E402


class InventoryModule(BaseInventoryPlugin):
    NAME = "kumo.webstack.twin"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("twin.yml", "twin.yaml"))

    def _extra_var(self, name):
        try:
            value = load_extra_vars(self.loader).get(name)
        except Exception:  # noqa: BLE001 - no CLI context (e.g. ansible-inventory in a test)
            return None
        if isinstance(value, str) and value and "{{" not in value:
            return value
        return None

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)

        for group in self.get_option("groups"):
            self.inventory.add_group(group)

        stack = self._extra_var("webstack_name") or self.get_option("stack")
        base = os.path.dirname(os.path.abspath(path))
        state_dir = self._extra_var("webstack_state_dir") or self.get_option("state_dir") or "../../.webstack"
        state_dir = os.path.normpath(os.path.join(base, os.path.expanduser(state_dir)))
        source = os.path.join(state_dir, stack, f"inventory-{stack}.yml")
        if not os.path.isfile(source):
            self.display.vvv(f"kumo.webstack.twin: no twin of stack {stack} ({source} does not exist)")
            return

        try:
            data = self.loader.load_from_file(source, cache="none", trusted_as_template=True)
        except TypeError:  # ansible-core before 2.19 has no trusted_as_template
            data = self.loader.load_from_file(source, cache=False)
        except Exception as e:
            raise AnsibleParserError(f"kumo.webstack.twin: cannot read {source}: {to_native(e)}") from e
        if not isinstance(data, dict) or not isinstance(data.get("all"), dict):
            raise AnsibleParserError(f"kumo.webstack.twin: {source} has no 'all' group")
        self._add_group("all", data["all"])

    def _add_group(self, name, data):
        group = self.inventory.add_group(name)
        for var, value in (data.get("vars") or {}).items():
            self.inventory.set_variable(group, var, value)
        for host, host_vars in (data.get("hosts") or {}).items():
            self.inventory.add_host(host, group=group)
            for var, value in (host_vars or {}).items():
                self.inventory.set_variable(host, var, value)
        for child, child_data in (data.get("children") or {}).items():
            self._add_group(child, child_data or {})
            if group != "all":
                self.inventory.add_child(group, child)
