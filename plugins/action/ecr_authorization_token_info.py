# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of kumo.webstack.ecr_authorization_token_info: runs the module and hides its
whole result from the output, as ``no_log: true`` would, whatever the task says.

A module cannot do that itself: Ansible drops an ``_ansible_no_log`` key from a module's result,
and a value a module marks no_log is masked in its own result, so it could not be passed on.
An action plugin's result may carry ``_ansible_no_log``. The registered variable still holds the
password for the task that logs in (which needs ``no_log: true`` itself).
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no effect since ansible-core 2.10
        result = merge_hash(result, self._execute_module(task_vars=task_vars))
        self._remove_tmp_path(self._connection._shell.tmpdir)
        result["_ansible_no_log"] = True
        return result
