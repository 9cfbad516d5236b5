#!/usr/bin/python
# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: acm_certificate_request
short_description: Request a public ACM certificate validated through DNS
version_added: 0.1.0
description:
  - Requests a public certificate from AWS Certificate Manager (ACM) for a domain name and
    its subject alternative names, with DNS validation, and returns the DNS records that
    prove control of each domain so that an M(amazon.aws.route53) task can create them.
  - Idempotent. A certificate already requested for the same set of names (the order of
    O(subject_alternative_names) does not matter, nor does which name is the primary one)
    with the same O(key_algorithm), in status V(PENDING_VALIDATION) or V(ISSUED), is reused
    instead of requesting another. Certificates in V(FAILED), V(EXPIRED), V(REVOKED),
    V(VALIDATION_TIMED_OUT) or V(INACTIVE) are not reused. Imported certificates are never reused.
  - When several certificates cover the same names, the one carrying the O(match_tags) is
    chosen; among the rest, one carrying all O(tags), then an V(ISSUED) one, then the newest.
  - ACM certificates are regional. A certificate for CloudFront must be requested in
    V(us-east-1) (set O(region)); one for a load balancer in the load balancer's region.
  - With O(wait=true) the module polls until the certificate is V(ISSUED), for at most
    O(wait_timeout) seconds, and prints nothing meanwhile (a module cannot report progress).
    For long waits prefer O(wait=false) and a M(kumo.webstack.acm_certificate_request_info)
    task with C(until)/C(retries), which prints each attempt; see the examples.
  - Changing O(key_algorithm) or the set of names requests a new certificate; ACM cannot change
    an existing one. The old certificate is left in place; delete it with O(state=absent).
  - Importing certificates is done by M(community.aws.acm_certificate), not by this module.
options:
  state:
    description:
      - V(present) finds or requests the certificate and reconciles its tags.
      - V(absent) deletes the certificate given by O(certificate_arn), or every certificate
        (in any status) for the set of names given by O(domain_name) and
        O(subject_alternative_names) with the same O(key_algorithm) and O(match_tags).
      - A certificate still used by another resource (a load balancer listener, a CloudFront
        distribution...) is not deleted; the module fails and names those resources.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  domain_name:
    description:
      - The primary name of the certificate, for example V(example.com) or V(*.example.com).
      - Names are compared in lower case, without a trailing dot.
      - Required unless O(certificate_arn) is given.
    type: str
    version_added: 0.1.0
  subject_alternative_names:
    description:
      - Additional names the certificate covers, for example V(www.example.com).
      - V(*.example.com) and V(example.com) are validated by the same DNS record.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  certificate_arn:
    description:
      - The ARN of an existing certificate to manage instead of looking it up by name.
      - With O(state=present) the certificate must exist (only its tags are managed); if
        O(domain_name) is also given, the certificate's names must match it.
    type: str
    aliases: [arn]
    version_added: 0.1.0
  key_algorithm:
    description:
      - Algorithm of the certificate's key pair. ACM issues public certificates with these three.
      - Some clients and services do not support ECDSA keys; check before choosing V(EC_*).
    type: str
    choices: [RSA_2048, EC_prime256v1, EC_secp384r1]
    default: RSA_2048
    version_added: 0.1.0
  match_tags:
    description:
      - Keys of O(tags) that identify this certificate. A certificate for the same names is only
        reused (or deleted, with O(state=absent)) when it carries these tags with the values
        given in O(tags).
      - Use it when several stacks in one account and region request certificates for the same
        names, for example O(match_tags=[Stack]).
      - Every key must be present in O(tags).
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  wait:
    description:
      - Wait until the certificate is V(ISSUED). This only succeeds once the validation records
        exist in public DNS; the module fails with what to check when O(wait_timeout) passes.
      - Ignored in check mode.
    type: bool
    default: false
    version_added: 0.1.0
  wait_timeout:
    description:
      - How many seconds to wait for V(ISSUED) when O(wait=true).
    type: int
    default: 600
    version_added: 0.1.0
  tags:
    version_added: 0.1.0
  purge_tags:
    version_added: 0.1.0
notes:
  - Tags are given to ACM in the request itself, so a new certificate is never untagged.
  - In check mode a certificate that does not exist yet is reported as C(changed) with no
    ARN and no validation records (ACM creates those only when the certificate is requested).
  - Route 53 records are not created by this module; pass RV(validation_records) to
    M(amazon.aws.route53) as shown in the examples.
  - M(amazon.aws.route53) has its own O(amazon.aws.route53#module:region) option (for latency
    routing); when a C(module_defaults) group sets C(region), set C(region) to null on that task.
seealso:
  - module: kumo.webstack.acm_certificate_request_info
  - module: community.aws.acm_certificate
  - module: amazon.aws.route53
author:
  - kumo.webstack developers (!UNKNOWN)
attributes:
  check_mode:
    support: full
    details:
      - The certificate is looked up, and the task says what it would request, tag or delete without doing it.
      - A certificate that is not requested yet is returned without an ARN and without validation records,
        which ACM makes only when it is requested. O(wait) is ignored.
  diff_mode:
    support: full
    details:
      - The certificate's names, key algorithm, status and tags before and after; with O(state=absent), every
        certificate that is deleted.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Request a certificate for a site and its www name, create the validation records in the
# site's hosted zone, then wait for ACM to issue it.
- name: Request the certificate for example.com
  kumo.webstack.acm_certificate_request:
    domain_name: example.com
    subject_alternative_names:
      - www.example.com
    tags:
      Stack: rails
      ManagedBy: kumo.webstack
    match_tags: [Stack]
  register: cert

- name: Create the DNS validation records
  amazon.aws.route53:
    state: present
    zone: example.com
    record: "{{ item.name }}"
    type: "{{ item.type }}"
    value: "{{ item.value }}"
    ttl: 300
    overwrite: true
  loop: "{{ cert.validation_records }}"
  loop_control:
    label: "{{ item.name }}"

# Waiting from a loop prints each attempt, so a long validation does not look stuck.
- name: Wait until ACM has issued the certificate
  kumo.webstack.acm_certificate_request_info:
    certificate_arn: "{{ cert.certificate_arn }}"
  register: cert_info
  until: cert_info.certificates[0].status == "ISSUED"
  retries: 60
  delay: 30

# A wildcard certificate for CloudFront: it must live in us-east-1. The wildcard and the
# base name share one validation record. Here the module waits by itself (quietly).
- name: Request the CloudFront certificate for the sorry pages
  kumo.webstack.acm_certificate_request:
    region: us-east-1
    domain_name: "*.sorry.example.com"
    subject_alternative_names:
      - sorry.example.com
    key_algorithm: EC_prime256v1
    wait: true
    wait_timeout: 900

- name: Delete the certificate (fails, naming the users, while a listener still uses it)
  kumo.webstack.acm_certificate_request:
    state: absent
    certificate_arn: "{{ cert.certificate_arn }}"
"""

RETURN = r"""
certificate_arn:
  description:
    - ARN of the certificate. With O(state=absent), of the first certificate deleted.
    - Empty in check mode when the certificate would be requested.
  returned: always
  type: str
  sample: arn:aws:acm:ap-northeast-1:123456789012:certificate/0d7a4ac6-4e21-4e7e-9b1c-0e3bb6e8e2a1
certificate_arns:
  description: ARNs of every certificate deleted (or that would be, in check mode).
  returned: when O(state=absent)
  type: list
  elements: str
status:
  description: Status of the certificate, for example V(PENDING_VALIDATION) or V(ISSUED).
  returned: when O(state=present) and the certificate exists
  type: str
  sample: PENDING_VALIDATION
domain_validation_options:
  description: ACM's validation details, one entry per name of the certificate.
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    domain_name:
      description: The name this entry validates.
      type: str
      sample: www.example.com
    validation_domain:
      description: The domain ACM validates for it.
      type: str
    validation_method:
      description: Always V(DNS) for certificates requested by this module.
      type: str
    validation_status:
      description: V(PENDING_VALIDATION), V(SUCCESS) or V(FAILED).
      type: str
    resource_record:
      description: The DNS record that proves control of the name.
      type: dict
      contains:
        name:
          description: Record name.
          type: str
        type:
          description: Record type (V(CNAME)).
          type: str
        value:
          description: Record value.
          type: str
validation_records:
  description:
    - The DNS records to create, without duplicates (V(*.example.com) and V(example.com) share
      one), ready to loop over with M(amazon.aws.route53).
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    name:
      description: Record name (fully qualified, with a trailing dot).
      type: str
      sample: _3b2c1f0e9d8a7b6c5d4e3f2a1b0c9d8e.example.com.
    type:
      description: Record type.
      type: str
      sample: CNAME
    value:
      description: Record value.
      type: str
      sample: _9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d.xkrsdkjtpb.acm-validations.aws.
    domains:
      description: The certificate names this record validates.
      type: list
      elements: str
      sample: ["*.example.com", "example.com"]
certificate:
  description: The certificate as ACM describes it, in snake_case, with its tags.
  returned: when O(state=present) and the certificate exists
  type: dict
  contains:
    certificate_arn:
      description: ARN of the certificate.
      type: str
    domain_name:
      description: Primary name.
      type: str
    subject_alternative_names:
      description: Every name of the certificate, the primary one included.
      type: list
      elements: str
    status:
      description: Status of the certificate.
      type: str
    key_algorithm:
      description: Algorithm of the key pair.
      type: str
      sample: RSA_2048
    in_use_by:
      description: ARNs of the resources using the certificate.
      type: list
      elements: str
    not_after:
      description: End of validity (ISO 8601), once issued.
      type: str
    type:
      description: V(AMAZON_ISSUED) for requested certificates.
      type: str
    tags:
      description: Tags of the certificate.
      type: dict
      sample: {"Stack": "rails", "ManagedBy": "kumo.webstack"}
    validation_records:
      description: Same as the top-level RV(validation_records).
      type: list
      elements: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import (  # noqa: E402
    AnsibleAWSError,
    is_ansible_aws_error_code,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils import acm  # noqa: E402


def _fail_in_use(module, blocked):
    lines = [f"{arn} is used by {', '.join(users)}" for arn, users in blocked]
    module.fail_json(
        msg=(
            "Cannot delete a certificate that is still in use: "
            + "; ".join(lines)
            + ". Remove it from these resources first (for example delete or change the HTTPS listener, "
            "or the CloudFront distribution's viewer certificate), then run this task again"
        ),
        in_use_by=dict(blocked),
    )


def ensure_absent(module, client, domains):
    arn = module.params["certificate_arn"]
    if arn:
        certificate = acm.describe_certificate(client, arn)
        targets = [certificate] if certificate else []
    else:
        found = acm.find_certificates(
            client,
            domains,
            key_algorithm=module.params["key_algorithm"],
            statuses=None,
            match_tags=_match_tags(module),
        )
        targets = [certificate for certificate, _tags in found]

    arns = [c["CertificateArn"] for c in targets]
    result = {"changed": bool(targets), "certificate_arn": arns[0] if arns else None, "certificate_arns": arns}
    if module._diff:
        before = [acm.certificate_state(c, acm.list_certificate_tags(client, c["CertificateArn"])) for c in targets]
        result["diff"] = {"before": {"certificates": before}, "after": {"certificates": []}}
    if not targets:
        module.exit_json(**result)

    blocked = [(c["CertificateArn"], c["InUseBy"]) for c in targets if c.get("InUseBy")]
    if blocked:
        _fail_in_use(module, blocked)
    if module.check_mode:
        module.exit_json(**result)

    for certificate in targets:
        try:
            acm.delete_certificate(client, certificate["CertificateArn"])
        except is_ansible_aws_error_code("ResourceInUseException"):
            current = acm.describe_certificate(client, certificate["CertificateArn"]) or {}
            _fail_in_use(module, [(certificate["CertificateArn"], current.get("InUseBy") or ["another AWS resource"])])
    module.exit_json(**result)


def _match_tags(module):
    keys = module.params["match_tags"]
    if not keys:
        return None
    tags = module.params["tags"] or {}
    missing = [key for key in keys if key not in tags]
    if missing:
        module.fail_json(
            msg=f"match_tags names {', '.join(missing)}, which tags does not set; "
            "give each match_tags key a value in tags"
        )
    return {key: tags[key] for key in keys}


def _desired_tags(module, current_tags):
    tags = dict(current_tags or {})
    if module.params["tags"] is not None:
        to_set, to_unset = compare_aws_tags(tags, module.params["tags"], module.params["purge_tags"])
        for key in to_unset:
            tags.pop(key, None)
        tags.update({k: str(v) for k, v in to_set.items()})
    return tags


def ensure_present(module, client, domains):
    params = module.params
    arn = params["certificate_arn"]
    match_tags = _match_tags(module)
    if arn:
        certificate = acm.describe_certificate(client, arn)
        if certificate is None:
            module.fail_json(
                msg=f"Certificate {arn} does not exist in region {module.region}; "
                "check the ARN and region, or omit certificate_arn to request a certificate by domain_name"
            )
        if params["domain_name"] and acm.certificate_domains(certificate) != domains:
            module.fail_json(
                msg=(
                    f"Certificate {arn} covers {', '.join(sorted(acm.certificate_domains(certificate)))}, "
                    f"not {', '.join(sorted(domains))}; a certificate's names cannot be changed, "
                    "omit certificate_arn to request a new certificate for these names"
                )
            )
        current_tags = acm.list_certificate_tags(client, arn) or {}
    else:
        found = acm.find_certificates(
            client, domains, key_algorithm=params["key_algorithm"], match_tags=match_tags, tags=params["tags"]
        )
        certificate, current_tags = found[0] if found else (None, {})

    changed = False
    primary = acm.normalize_domain(params["domain_name"]) if params["domain_name"] else None
    diff = {"before": acm.certificate_state(certificate, current_tags)}
    if certificate is None:
        diff["after"] = {
            "domain_name": primary,
            "subject_alternative_names": sorted(domains - {primary}),
            "key_algorithm": params["key_algorithm"],
            "tags": _desired_tags(module, {}),
        }
        if module.check_mode:
            result = {
                "changed": True,
                "certificate_arn": None,
                "domain_validation_options": [],
                "validation_records": [],
            }
            if module._diff:
                result["diff"] = diff
            module.exit_json(**result)
        arn = acm.request_certificate(
            client,
            primary,
            sorted(domains - {primary}),
            params["key_algorithm"],
            tags=params["tags"],
        )
        changed = True
        acm.wait_for_validation_records(client, arn)
    else:
        arn = certificate["CertificateArn"]
        # The names and key algorithm stay what they are (an existing certificate is only
        # reused when they match, or it is managed by ARN); only the tags can change.
        after = acm.certificate_state(certificate, current_tags)
        after["tags"] = _desired_tags(module, current_tags)
        diff["after"] = after
        if params["tags"] is not None:
            to_set, to_unset = compare_aws_tags(current_tags, params["tags"], params["purge_tags"])
            if to_set or to_unset:
                changed = True
                if not module.check_mode:
                    if to_unset:
                        acm.remove_certificate_tags(client, arn, to_unset)
                    if to_set:
                        acm.add_certificate_tags(client, arn, to_set)
        if certificate.get("Status") == "PENDING_VALIDATION" and not acm.validation_records(certificate):
            if not module.check_mode:  # requested moments ago, ACM is still preparing the records
                acm.wait_for_validation_records(client, arn)

    if params["wait"] and not module.check_mode:
        acm.wait_for_issued(client, arn, params["wait_timeout"])

    certificate = acm.describe_certificate(client, arn) or {}
    tags = acm.list_certificate_tags(client, arn) or {}
    if certificate and not module.check_mode:
        diff["after"] = acm.certificate_state(certificate, tags)
    result = acm.certificate_to_result(certificate, tags)
    output = {
        "changed": changed,
        "certificate_arn": arn,
        "status": certificate.get("Status"),
        "domain_validation_options": result.get("domain_validation_options", []),
        "validation_records": result["validation_records"],
        "certificate": result,
    }
    if module._diff:
        output["diff"] = diff
    module.exit_json(**output)


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        domain_name=dict(type="str"),
        subject_alternative_names=dict(type="list", elements="str", default=[]),
        certificate_arn=dict(type="str", aliases=["arn"]),
        key_algorithm=dict(type="str", choices=list(acm.REQUESTABLE_KEY_ALGORITHMS), default="RSA_2048"),
        match_tags=dict(type="list", elements="str", default=[]),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=600),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[["domain_name", "certificate_arn"]],
    )
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg="wait_timeout must be 0 or more seconds")

    domains = set()
    if module.params["domain_name"]:
        domains = acm.requested_domains(module.params["domain_name"], module.params["subject_alternative_names"])
    elif module.params["subject_alternative_names"]:
        module.fail_json(msg="subject_alternative_names needs domain_name (the certificate's primary name)")

    client = module.client("acm")
    try:
        if module.params["state"] == "absent":
            ensure_absent(module, client, domains)
        else:
            ensure_present(module, client, domains)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
