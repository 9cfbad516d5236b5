#!/usr/bin/python
# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: route53_domain_info
short_description: Read domains registered with Route 53 Domains
version_added: 0.1.0
description:
  - Returns the detail of one domain registered with Amazon Route 53 Domains (name servers,
    expiry, auto-renew, transfer lock, status), lists every domain of the account, or returns
    one Route 53 Domains operation (for example the one M(kumo.webstack.route53_domain) started).
  - Route 53 Domains has a single endpoint, in V(us-east-1). The module calls it there whatever
    O(region) the play sets; use O(domains_region) to call it elsewhere.
options:
  domain_name:
    description:
      - Return the detail of this domain in RV(domain). It must be registered in the account;
        otherwise the module fails and says so.
      - Without O(domain_name) and O(operation_id), every domain is listed in RV(domains).
    type: str
    aliases: [name]
    version_added: 0.1.0
  operation_id:
    description:
      - Return this operation in RV(operation).
    type: str
    version_added: 0.1.0
  domains_region:
    description:
      - The region of the Route 53 Domains endpoint (only V(us-east-1) exists).
      - O(region) is not used for Route 53 Domains calls.
    type: str
    default: us-east-1
    version_added: 0.1.0
notes:
  - Contact details of the domain are never returned (they are personal data).
seealso:
  - module: kumo.webstack.route53_domain
author:
  - kumo.webstack developers (!UNKNOWN)
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - kumo.webstack.aws_attributes.info
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the domain
  kumo.webstack.route53_domain_info:
    domain_name: example.com
  register: example_domain

- name: Warn when the domain is about to expire without auto-renew
  ansible.builtin.debug:
    msg: "example.com expires on {{ example_domain.domain.expiration_date }}"
  when: not example_domain.domain.auto_renew

- name: List the account's domains
  kumo.webstack.route53_domain_info:
  register: all_domains

# Wait for a name-server change, printing each attempt.
- name: Wait for the name-server change to finish
  kumo.webstack.route53_domain_info:
    operation_id: "{{ domain.operation_id }}"
  register: change
  until: change.operation.status == "SUCCESSFUL"
  retries: 30
  delay: 20
  when: domain.operation_id is defined
"""

RETURN = r"""
domain:
  description: The domain, in snake_case, without contact details.
  returned: when O(domain_name) is given
  type: dict
  contains:
    domain_name:
      description: The domain.
      type: str
      sample: example.com
    name_servers:
      description: Its name servers, as plain names.
      type: list
      elements: str
    nameservers:
      description: Its name servers as the API returns them, with glue addresses.
      type: list
      elements: dict
    auto_renew:
      description: Whether the domain renews itself.
      type: bool
    transfer_lock:
      description: Whether the domain is locked against transfer (C(clientTransferProhibited)).
      type: bool
    expiration_date:
      description: When the registration expires (ISO 8601).
      type: str
    creation_date:
      description: When the domain was registered (ISO 8601).
      type: str
    status_list:
      description: EPP status codes of the domain.
      type: list
      elements: str
    registrar_name:
      description: The registrar.
      type: str
domains:
  description: Every domain registered in the account.
  returned: when neither O(domain_name) nor O(operation_id) is given
  type: list
  elements: dict
  contains:
    domain_name:
      description: The domain.
      type: str
    auto_renew:
      description: Whether it renews itself.
      type: bool
    transfer_lock:
      description: Whether it is locked against transfer.
      type: bool
    expiry:
      description: When the registration expires (ISO 8601).
      type: str
operation:
  description: The operation, in snake_case.
  returned: when O(operation_id) is given
  type: dict
  contains:
    operation_id:
      description: Operation ID.
      type: str
    domain_name:
      description: The domain it applies to.
      type: str
    status:
      description: V(SUBMITTED), V(IN_PROGRESS), V(ERROR), V(SUCCESSFUL) or V(FAILED).
      type: str
    type:
      description: What the operation does, for example V(UPDATE_NAMESERVER).
      type: str
    message:
      description: Detail when the operation failed.
      type: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils import route53domains  # noqa: E402


def main():
    argument_spec = dict(
        domain_name=dict(type="str", aliases=["name"]),
        operation_id=dict(type="str"),
        domains_region=dict(type="str", default=route53domains.DEFAULT_REGION),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("route53domains", region=module.params["domains_region"])
    result = {"changed": False}
    try:
        if module.params["domain_name"]:
            name = route53domains.normalize_name(module.params["domain_name"])
            detail = route53domains.describe_registered_domain(client, name)
            result["domain"] = route53domains.domain_to_result(detail)
        if module.params["operation_id"]:
            operation = route53domains.get_operation_detail(client, module.params["operation_id"])
            result["operation"] = route53domains.operation_to_result(operation)
        if not module.params["domain_name"] and not module.params["operation_id"]:
            result["domains"] = [route53domains.summary_to_result(d) for d in route53domains.list_domains(client)]
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
