#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecr_authorization_token_info
version_added: 0.1.0
short_description: Get the credentials a Docker client logs in to a private Amazon ECR registry with
description:
  - Ask ECR for an authorization token (C(ecr:GetAuthorizationToken)) and return what
    C(docker login) takes - the registry host, the user name and the password - with the time the
    token expires (12 hours after it is issued, on AWS).
  - Read-only; it runs in check mode too.
  - B(The password is a secret.) The module's action plugin hides the task's whole result from
    the output (as C(no_log) does), whatever the task says; a task that takes the password from
    the registered result (for example M(community.docker.docker_login)) needs C(no_log) set
    itself. The module returns the password once, in RV(password), and never the raw token.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  registry_id:
    description:
      - The AWS account id of the registry (12 digits). Left out, the registry of the account whose
        credentials are used.
    type: str
    version_added: 0.1.0
notes:
  - The token is valid for every repository of the registry the credentials may push to or pull
    from; IAM decides which (C(ecr:BatchCheckLayerAvailability), C(ecr:PutImage), ...).
attributes:
  check_mode:
    support: full
    details:
      - It only reads (a token expires by itself), so check mode returns what a normal run returns.
  diff_mode:
    support: none
    details:
      - It changes nothing, so there is no diff.
  action:
    support: full
    details:
      - The action plugin of the same name runs the module and hides the task's whole result from the output.
  async:
    support: none
    details:
      - Its action plugin does not run the module asynchronously; a task with C(async) fails.
  bypass_host_loop:
    support: none
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - action_common_attributes.flow
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Get a token for the account's registry
  kumo.webstack.ecr_authorization_token_info:
  register: ecr_token
  no_log: true

- name: Log in to the registry with it
  community.docker.docker_login:
    registry_url: "{{ ecr_token.proxy_endpoint }}"
    username: "{{ ecr_token.username }}"
    password: "{{ ecr_token.password }}"
    reauthorize: true
  no_log: true
"""

RETURN = r"""
registry:
  description: The registry's host, which image names start with.
  returned: success
  type: str
  sample: 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com
proxy_endpoint:
  description: The registry's URL, for C(docker login).
  returned: success
  type: str
  sample: https://123456789012.dkr.ecr.ap-northeast-1.amazonaws.com
username:
  description: The user name to log in with (C(AWS) on ECR).
  returned: success
  type: str
  sample: AWS
password:
  description:
    - The password to log in with, a secret valid until RV(expires_at). The task's result is
      hidden from the output (C(no_log)); pass it on only in tasks with C(no_log) set.
  returned: success
  type: str
  sample: "(hidden)"
expires_at:
  description: When the password stops working, ISO 8601 in UTC.
  returned: success
  type: str
  sample: "2025-01-01T12:00:00Z"
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils.ecr import (  # noqa: E402
    get_authorization_data,
    registry_credentials,
)


def main():
    argument_spec = dict(
        registry_id=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    registry_id = module.params.get("registry_id")
    if registry_id is not None and not (len(registry_id) == 12 and registry_id.isdigit()):
        module.fail_json(msg=f"registry_id must be an AWS account id (12 digits); got {registry_id!r}.")
    client = module.client("ecr")
    try:
        data = get_authorization_data(client, registry_id)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    try:
        credentials = registry_credentials(data)
    except ValueError as e:
        problem = str(e)  # names no part of the token
    else:
        module.exit_json(changed=False, **credentials)
    # outside the except clause, so no traceback of the decoding goes with it
    module.fail_json(msg=f"ECR answered with an authorization token that cannot be used: {problem}.")


if __name__ == "__main__":
    main()
