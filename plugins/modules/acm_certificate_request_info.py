#!/usr/bin/python
# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: acm_certificate_request_info
short_description: List ACM certificates with their DNS validation records
version_added: 0.1.0
description:
  - Lists the certificates of AWS Certificate Manager (ACM) in one region, by ARN or by a name
    they cover, filtered by status and tags, each with its status and the DNS records that
    validate it.
  - Read-only; the companion of M(kumo.webstack.acm_certificate_request). Loop on it with
    C(until)/C(retries) to wait for a certificate to be issued while printing each attempt.
options:
  certificate_arn:
    description:
      - Return only this certificate. An ARN that does not exist gives an empty list.
    type: str
    aliases: [arn]
    version_added: 0.1.0
  domain_name:
    description:
      - Return only certificates covering this name, as their primary name or as a subject
        alternative name. Compared in lower case, without a trailing dot.
    type: str
    version_added: 0.1.0
  statuses:
    description:
      - Return only certificates in one of these states. All states when empty.
    type: list
    elements: str
    choices: [PENDING_VALIDATION, ISSUED, INACTIVE, EXPIRED, VALIDATION_TIMED_OUT, REVOKED, FAILED]
    default: []
    version_added: 0.1.0
  tags:
    description:
      - Return only certificates carrying all these tags with these values.
    type: dict
    version_added: 0.1.0
seealso:
  - module: kumo.webstack.acm_certificate_request
  - module: community.aws.acm_certificate_info
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
- name: Wait until ACM has issued the certificate (prints every attempt)
  kumo.webstack.acm_certificate_request_info:
    certificate_arn: "{{ cert.certificate_arn }}"
  register: cert_info
  until: cert_info.certificates | length > 0 and cert_info.certificates[0].status == "ISSUED"
  retries: 60
  delay: 30

- name: Find the issued certificates of a stack for a name
  kumo.webstack.acm_certificate_request_info:
    domain_name: www.example.com
    statuses: [ISSUED]
    tags:
      Stack: rails
  register: rails_certs

- name: List the certificates CloudFront can use
  kumo.webstack.acm_certificate_request_info:
    region: us-east-1
"""

RETURN = r"""
certificates:
  description: The matching certificates, sorted by primary name, in snake_case, with their tags.
  returned: always
  type: list
  elements: dict
  contains:
    certificate_arn:
      description: ARN of the certificate.
      type: str
      sample: arn:aws:acm:ap-northeast-1:123456789012:certificate/0d7a4ac6-4e21-4e7e-9b1c-0e3bb6e8e2a1
    domain_name:
      description: Primary name.
      type: str
      sample: example.com
    subject_alternative_names:
      description: Every name of the certificate, the primary one included.
      type: list
      elements: str
    status:
      description: Status of the certificate.
      type: str
      sample: ISSUED
    type:
      description: V(AMAZON_ISSUED), V(IMPORTED) or V(PRIVATE).
      type: str
    key_algorithm:
      description: Algorithm of the key pair.
      type: str
    in_use_by:
      description: ARNs of the resources using the certificate.
      type: list
      elements: str
    not_after:
      description: End of validity (ISO 8601), once issued.
      type: str
    domain_validation_options:
      description: ACM's validation details, one entry per name.
      type: list
      elements: dict
    validation_records:
      description: The distinct DNS validation records, each with the names it validates.
      type: list
      elements: dict
      contains:
        name:
          description: Record name.
          type: str
        type:
          description: Record type.
          type: str
        value:
          description: Record value.
          type: str
        domains:
          description: The names this record validates.
          type: list
          elements: str
    tags:
      description: Tags of the certificate.
      type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils import acm  # noqa: E402


def main():
    argument_spec = dict(
        certificate_arn=dict(type="str", aliases=["arn"]),
        domain_name=dict(type="str"),
        statuses=dict(type="list", elements="str", choices=list(acm.ALL_STATUSES), default=[]),
        tags=dict(type="dict"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("acm")
    try:
        found = acm.list_matching_certificates(
            client,
            domain_name=module.params["domain_name"],
            statuses=module.params["statuses"],
            tags=module.params["tags"],
            arn=module.params["certificate_arn"],
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    certificates = [acm.certificate_to_result(certificate, tags) for certificate, tags in found]
    module.exit_json(changed=False, certificates=certificates)


if __name__ == "__main__":
    main()
