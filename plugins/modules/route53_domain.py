#!/usr/bin/python
# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: route53_domain
short_description: Set the name servers of a domain registered with Route 53 Domains
version_added: 0.1.0
description:
  - Sets the name servers of a domain registered with Amazon Route 53 Domains, for example to
    the four name servers of a Route 53 hosted zone, which delegates the domain to that zone.
  - Idempotent. The name servers are compared without regard to order, case or a trailing dot.
  - Route 53 Domains processes the change as an operation. The module returns its
    RV(operation_id) and, with O(wait=true), polls until the operation is V(SUCCESSFUL).
  - The domain must already be registered in the account. Registering (buying) or transferring
    a domain is not done by this module; a domain the account does not hold is an error that says so.
  - Route 53 Domains has a single endpoint, in V(us-east-1). The module calls it there whatever
    O(region) the play sets (a C(module_defaults) region does not get in the way); use
    O(domains_region) to call it elsewhere.
options:
  domain_name:
    description:
      - The registered domain, for example V(example.com).
    type: str
    required: true
    aliases: [name]
    version_added: 0.1.0
  name_servers:
    description:
      - The name servers the domain should have, for example the C(NS) set of its hosted zone.
      - Compared without regard to order, case or a trailing dot; duplicates are ignored.
    type: list
    elements: str
    required: true
    version_added: 0.1.0
  glue_ips:
    description:
      - Glue addresses per name server, for name servers inside the domain itself
        (V(ns1.example.com) for V(example.com)), which need them. Keys are names from
        O(name_servers); values are lists of at most one IPv4 and one IPv6 address.
      - Name servers of Route 53 hosted zones never need glue.
    type: dict
    version_added: 0.1.0
  wait:
    description:
      - Wait until Route 53 Domains reports the name-server change as V(SUCCESSFUL).
      - Ignored in check mode and when nothing changes.
    type: bool
    default: false
    version_added: 0.1.0
  wait_timeout:
    description:
      - How many seconds to wait when O(wait=true).
    type: int
    default: 300
    version_added: 0.1.0
  domains_region:
    description:
      - The region of the Route 53 Domains endpoint. It exists only in V(us-east-1); change this
        only for an emulator or a partition that serves it elsewhere.
      - O(region) is not used for Route 53 Domains calls.
    type: str
    default: us-east-1
    version_added: 0.1.0
notes:
  - Changing the name servers of a domain in use moves its DNS resolution to the new servers once
    the registry has published them; resolvers may keep the old ones until the parent zone's TTL passes.
  - Contact details of the domain are never returned (they are personal data).
  - Route 53 Domains refuses a change while an earlier one on the same domain is still in
    progress; the module then fails and says to wait for it.
seealso:
  - module: kumo.webstack.route53_domain_info
  - module: amazon.aws.route53_zone
author:
  - kumo.webstack developers (!UNKNOWN)
attributes:
  check_mode:
    support: full
    details:
      - The domain is read, and the task says whether its name servers would change, without changing them. No
        operation is started, so there is no RV(operation_id); O(wait) is ignored.
  diff_mode:
    support: full
    details:
      - The name servers and their glue addresses before and after.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Delegate a registered domain to its Route 53 hosted zone (what the seed did by hand).
- name: Ensure the hosted zone exists
  amazon.aws.route53_zone:
    zone: example.com
  register: zone

- name: Read the zone's name servers
  amazon.aws.route53_info:
    query: hosted_zone
    hosted_zone_method: details
    hosted_zone_id: "{{ zone.zone_id }}"
  register: zone_details

- name: Point the domain at the hosted zone
  kumo.webstack.route53_domain:
    domain_name: example.com
    name_servers: "{{ zone_details.DelegationSet.NameServers }}"
    wait: true
  register: domain

- name: Show the operation
  ansible.builtin.debug:
    msg: "{{ domain.operation_id | default('no change') }}"

# In-bailiwick name servers need glue addresses.
- name: Use the company's own name servers
  kumo.webstack.route53_domain:
    domain_name: example.com
    name_servers:
      - ns1.example.com
      - ns2.example.com
    glue_ips:
      ns1.example.com: [192.0.2.53]
      ns2.example.com: [198.51.100.53]
"""

RETURN = r"""
domain:
  description:
    - The domain as Route 53 Domains describes it, in snake_case, without contact details.
    - After a change it shows the new name servers (read again after the request).
  returned: always
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
      sample: ["ns-1536.awsdns-00.co.uk", "ns-0.awsdns-00.com"]
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
    status_list:
      description: EPP status codes of the domain.
      type: list
      elements: str
    registrar_name:
      description: The registrar.
      type: str
name_servers:
  description: The domain's name servers after the task, as plain names.
  returned: always
  type: list
  elements: str
operation_id:
  description: ID of the Route 53 Domains operation that changes the name servers.
  returned: when the name servers were changed (not in check mode)
  type: str
  sample: 2b9d7f5e-4c1a-4f0e-9d6b-7a1c3e5f9b20
operation:
  description: The operation after waiting, in snake_case.
  returned: when O(wait=true) and the name servers were changed
  type: dict
  contains:
    operation_id:
      description: Operation ID.
      type: str
    status:
      description: V(SUCCESSFUL) after a successful wait.
      type: str
    type:
      description: V(UPDATE_NAMESERVER).
      type: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import (  # noqa: E402
    AnsibleAWSError,
    is_ansible_aws_error_code,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils import route53domains  # noqa: E402


def ensure_name_servers(module, client):
    params = module.params
    domain_name = route53domains.normalize_name(params["domain_name"])
    glue_ips = params["glue_ips"] or {}
    wanted_names = {route53domains.normalize_name(n) for n in params["name_servers"]}
    stray = sorted({route53domains.normalize_name(k) for k in glue_ips} - wanted_names)
    if stray:
        module.fail_json(msg=f"glue_ips names {', '.join(stray)}, which name_servers does not list; add it there")
    request, wanted = route53domains.desired_nameservers(params["name_servers"], glue_ips)
    if not request:
        module.fail_json(msg="name_servers is empty; give the domain at least one name server")

    detail = route53domains.describe_registered_domain(client, domain_name)
    current = route53domains.nameserver_map(detail.get("Nameservers"))
    changed = current != wanted
    result = {"changed": changed}
    if module._diff:
        result["diff"] = {
            "before": {"name_servers": sorted(current), "glue_ips": {k: v for k, v in current.items() if v}},
            "after": {"name_servers": sorted(wanted), "glue_ips": {k: v for k, v in wanted.items() if v}},
        }

    if changed and not module.check_mode:
        try:
            operation_id = route53domains.update_domain_nameservers(client, domain_name, request)
        except is_ansible_aws_error_code("DuplicateRequest"):
            module.fail_json(
                msg=(
                    f"Route 53 Domains is still processing an earlier request for domain {domain_name} "
                    "(DuplicateRequest). Wait until it is no longer IN_PROGRESS (route53_domain_info with "
                    "operation_id, or the Route 53 console's Requests page), then run this task again"
                ),
                **result,
            )
        result["operation_id"] = operation_id
        if params["wait"]:
            route53domains.wait_for_operation(client, operation_id, domain_name, params["wait_timeout"])
            result["operation"] = route53domains.operation_to_result(
                route53domains.get_operation_detail(client, operation_id)
            )
        detail = route53domains.get_domain_detail(client, domain_name)

    domain = route53domains.domain_to_result(detail)
    result["domain"] = domain
    result["name_servers"] = domain["name_servers"]
    module.exit_json(**result)


def main():
    argument_spec = dict(
        domain_name=dict(type="str", required=True, aliases=["name"]),
        name_servers=dict(type="list", elements="str", required=True),
        glue_ips=dict(type="dict"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
        domains_region=dict(type="str", default=route53domains.DEFAULT_REGION),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg="wait_timeout must be 0 or more seconds")
    client = module.client("route53domains", region=module.params["domains_region"])
    try:
        ensure_name_servers(module, client)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
