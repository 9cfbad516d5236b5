# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The attributes every AWS module of kumo.webstack shares: where it runs and its action group.

Each module names it after ansible-core's ``action_common_attributes`` (which describes
check_mode, diff_mode and platform) and sets its own check_mode and diff_mode support. A
fragment listed earlier wins a clash, so this one's platform and action_group stand.
"""


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  platform:
    description: The kind of host the module can run on.
    support: N/A
    platforms: posix
    details:
      - It runs on the host the task runs on (usually the controller, with C(delegate_to) or a
        C(localhost) play), which needs boto3 and botocore; what it manages is in AWS, not on that host.
  action_group:
    description: The action group the module belongs to, so that C(module_defaults) can set its options for the group.
    support: full
    membership:
      - kumo.webstack.aws
    details:
      - C(module_defaults) with C(group/kumo.webstack.aws) sets O(region), O(endpoint_url) and the credentials
        for this module together with the amazon.aws and community.aws modules.
"""

    # The modules that only read (the *_info ones): kumo.webstack.aws_attributes.info
    INFO = r"""
attributes:
  check_mode:
    support: full
    details:
      - It only reads, so check mode returns what a normal run returns.
  diff_mode:
    support: none
    details:
      - It changes nothing, so there is no diff.
"""
