#!/usr/bin/python

# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudfront_s3_distribution
version_added: 0.1.0
short_description: Manage a CloudFront distribution serving static pages from a private S3 bucket
description:
  - Create, update and delete one CloudFront distribution with one S3 origin, read through an origin
    access control (OAC, see M(kumo.webstack.cloudfront_origin_access_control)), for static pages such as
    the sorry pages of a site under maintenance. Viewers are redirected to HTTPS; objects are cached with a
    cache policy (the managed CachingOptimized one by default).
  - The distribution is found by its O(name), which it carries as its C(Name) tag (set in the create call
    itself, so a distribution never exists without it). Its C(CallerReference) is made from the name and
    the time of creation. Finding it lists every distribution of the account and reads each one's tags
    (CloudFront cannot search by tag), one call per distribution.
  - Idempotent. The settings below are compared with the distribution's and, only when one differs, the
    whole configuration is sent back with the ETag CloudFront gave for it (C(IfMatch)). What the module does
    not manage (logging, geographic restrictions, a web ACL, function associations of the default cache
    behaviour, origin shield...) is kept as it is. Other origins and cache behaviours are removed.
  - The returned RV(distribution.bucket_policy_statement) is the statement the bucket policy needs so that
    this distribution, and only it, can read the objects under O(origin_path).
  - CloudFront takes minutes to deploy a change (status V(InProgress), then V(Deployed)). With O(wait=true)
    the module polls quietly for at most O(wait_timeout) seconds (a module cannot print progress); a task
    that times out can simply run again.
  - O(state=absent) first disables the distribution (CloudFront deletes only a disabled, deployed one), waits
    until it is V(Deployed), then deletes it.
author:
  - kumo.webstack developers (!UNKNOWN)
options:
  name:
    description:
      - Name of the distribution, kept in its C(Name) tag; unique among the account's distributions.
    type: str
    required: true
    version_added: 0.1.0
  state:
    description:
      - Whether the distribution should exist.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  comment:
    description:
      - Comment of the distribution (at most 128 characters), shown in the CloudFront console's list.
      - Left out, a new distribution gets its O(name) and an existing one keeps its own.
    type: str
    version_added: 0.1.0
  bucket:
    description:
      - Name of the S3 bucket holding the pages. The origin is the bucket's regional REST endpoint
        (C(BUCKET.s3.REGION.amazonaws.com)), not its website endpoint, which OAC cannot sign for.
      - Required with O(state=present).
    type: str
    version_added: 0.1.0
  bucket_region:
    description:
      - Region of the bucket. Defaults to the task's O(region).
    type: str
    version_added: 0.1.0
  origin_path:
    description:
      - Folder of the bucket the distribution serves, starting with a slash and not ending with one, for
        example V(/example.com) for one site's pages in a bucket shared by several sites. Empty for the
        bucket's root.
    type: str
    default: ''
    version_added: 0.1.0
  origin_access_control_id:
    description:
      - Id of the origin access control with which CloudFront signs its requests to the bucket.
      - Required with O(state=present).
    type: str
    version_added: 0.1.0
  aliases:
    description:
      - Alternate domain names (CNAMEs) the distribution answers for, for example V(sorry.example.com).
        Compared as a set, in lower case.
      - Needs O(certificate_arn), a certificate covering each of them.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  certificate_arn:
    description:
      - ARN of the ACM certificate for O(aliases). CloudFront only uses certificates of V(us-east-1)
        (M(kumo.webstack.acm_certificate_request) with
        O(kumo.webstack.acm_certificate_request#module:region=us-east-1)).
      - Left out, the distribution uses CloudFront's default certificate for its C(*.cloudfront.net) name.
    type: str
    version_added: 0.1.0
  minimum_protocol_version:
    description:
      - Security policy (oldest TLS version and ciphers) for viewers, with O(certificate_arn).
      - Ignored without O(certificate_arn), since with its default certificate CloudFront sets V(TLSv1) itself.
    type: str
    choices: [TLSv1, TLSv1_2016, TLSv1.1_2016, TLSv1.2_2018, TLSv1.2_2019, TLSv1.2_2021, TLSv1.2_2025, TLSv1.3_2025]
    default: TLSv1.2_2021
    version_added: 0.1.0
  default_root_object:
    description:
      - Object returned for a request to the root URL (C(/)), relative to O(origin_path). Empty for none.
    type: str
    default: index.html
    version_added: 0.1.0
  custom_error_responses:
    description:
      - What CloudFront answers instead of an error from the origin. With OAC, S3 answers C(403) for a
        missing object (CloudFront may not list the bucket), so a sorry page turns C(403) into the page.
      - Compared as a whole; responses left out are removed.
    type: list
    elements: dict
    default: []
    version_added: 0.1.0
    suboptions:
      error_code:
        description: HTTP status from the origin to replace (400, 403, 404, 405, 414, 416, 500, 501, 502, 503 or 504).
        type: int
        required: true
      response_code:
        description:
          - HTTP status to answer with instead, for example V(503) for a maintenance page.
          - Needs O(custom_error_responses[].response_page_path).
        type: int
      response_page_path:
        description:
          - Path of the page to answer with, for example V(/index.html) (under O(origin_path)).
          - Needs O(custom_error_responses[].response_code).
        type: str
      error_caching_min_ttl:
        description: Seconds CloudFront caches the error before asking the origin again.
        type: int
        default: 10
  cache_policy_id:
    description:
      - Id of the cache policy of the default cache behaviour.
      - Defaults to the AWS managed policy CachingOptimized (V(658327ea-f89d-4fab-a63d-7e88639e58f6)).
    type: str
    default: 658327ea-f89d-4fab-a63d-7e88639e58f6
    version_added: 0.1.0
  price_class:
    description:
      - Which edge locations serve the distribution. V(PriceClass_200), the default, includes Japan and the
        rest of Asia besides North America and Europe, at a lower price than V(PriceClass_All)
        (which adds South America, Australia...); V(PriceClass_100) (North America and Europe only) would
        serve Japanese viewers from far away.
    type: str
    choices: [PriceClass_100, PriceClass_200, PriceClass_All]
    default: PriceClass_200
    version_added: 0.1.0
  http_version:
    description:
      - Highest HTTP version viewers may use.
    type: str
    choices: [http1.1, http2, http3, http2and3]
    default: http2and3
    version_added: 0.1.0
  ipv6:
    description:
      - Whether the distribution answers over IPv6 as well.
    type: bool
    default: true
    version_added: 0.1.0
  enabled:
    description:
      - Whether the distribution serves requests.
    type: bool
    default: true
    version_added: 0.1.0
  wait:
    description:
      - Wait until the distribution is V(Deployed) after a change (with O(state=present)), or until the disabled
        distribution is V(Deployed) so it can be deleted (with O(state=absent)).
      - With O(state=absent) and O(wait=false), a distribution still deploying is disabled but not deleted; the
        module says so (a warning and RV(distribution.status)) and a later run deletes it.
    type: bool
    default: true
    version_added: 0.1.0
  wait_timeout:
    description:
      - How many seconds to wait.
    type: int
    default: 1200
    version_added: 0.1.0
  tags:
    description:
      - Tags of the distribution. The C(Name) tag is always O(name) and is never purged.
    version_added: 0.1.0
  purge_tags:
    version_added: 0.1.0
notes:
  - CloudFront is a global service; O(region) only picks the endpoint the client calls (and the default of
    O(bucket_region)).
  - In check mode nothing is created, changed or deleted; a distribution that would be created is returned
    with its settings and no id.
  - The bucket policy is not changed by this module; add RV(distribution.bucket_policy_statement) to it with
    M(amazon.aws.s3_bucket) (see the examples).
  - For a Route 53 alias to the distribution use RV(distribution.domain_name) and RV(distribution.hosted_zone_id).
seealso:
  - module: kumo.webstack.cloudfront_origin_access_control
  - module: kumo.webstack.acm_certificate_request
  - module: amazon.aws.s3_bucket
attributes:
  check_mode:
    support: full
    details:
      - The distribution is looked up, and the task says whether it would be created, changed or deleted
        without doing it. One that would be created is returned with its settings and no id. O(wait) is
        ignored.
      - With O(state=absent), check mode returns RV(deleted=true) for a distribution that exists. A real run
        with O(wait=false) may only disable it (CloudFront deletes a distribution once it is disabled and
        deployed).
  diff_mode:
    support: full
    details:
      - The distribution's settings and tags before and after.
extends_documentation_fragment:
  - kumo.webstack.aws_attributes
  - action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the origin access control
  kumo.webstack.cloudfront_origin_access_control:
    name: sorry-pages
  register: sorry_oac

- name: Serve the sorry page of example.com from the shared bucket
  kumo.webstack.cloudfront_s3_distribution:
    name: sorry-example-com
    comment: Sorry page of example.com
    bucket: sorry-pages-123456789012
    bucket_region: ap-northeast-1
    origin_path: /example.com
    origin_access_control_id: "{{ sorry_oac.origin_access_control.id }}"
    aliases:
      - sorry.example.com
    certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0d7a4ac6-4e21-4e7e-9b1c-0e3bb6e8e2a1
    custom_error_responses:
      # S3 answers 403 for a missing object: show the sorry page instead, with 503.
      - error_code: 403
        response_code: 503
        response_page_path: /index.html
        error_caching_min_ttl: 10
    tags:
      Stack: sorry
      ManagedBy: kumo.webstack
  register: sorry_cdn

- name: Let the distribution (and only it) read the bucket
  amazon.aws.s3_bucket:
    name: sorry-pages-123456789012
    policy:
      Version: "2012-10-17"
      Statement:
        - "{{ sorry_cdn.distribution.bucket_policy_statement }}"

- name: Point sorry.example.com at the distribution
  amazon.aws.route53:
    zone: example.com
    record: sorry.example.com
    type: A
    alias: true
    alias_hosted_zone_id: "{{ sorry_cdn.distribution.hosted_zone_id }}"
    value: "{{ sorry_cdn.distribution.domain_name }}"
    overwrite: true

- name: Delete the distribution (disable, wait until deployed, delete)
  kumo.webstack.cloudfront_s3_distribution:
    name: sorry-example-com
    state: absent
"""

RETURN = r"""
distribution:
  description:
    - The distribution; empty after O(state=absent) once it is deleted.
    - In check mode, for a distribution that does not exist yet, the settings it would be created with
      (no RV(distribution.id), RV(distribution.arn) nor RV(distribution.domain_name)).
  returned: always
  type: dict
  contains:
    id:
      description: Id of the distribution.
      type: str
      sample: E1A2B3C4D5E6F7
    arn:
      description: ARN of the distribution.
      type: str
      sample: arn:aws:cloudfront::123456789012:distribution/E1A2B3C4D5E6F7
    domain_name:
      description: The distribution's own domain name, for a CNAME or an alias record.
      type: str
      sample: d111111abcdef8.cloudfront.net
    hosted_zone_id:
      description: Hosted zone id of every CloudFront distribution, for Route 53 alias records.
      type: str
      sample: Z2FDTNDATAQYW2
    status:
      description: V(InProgress) while a change deploys, then V(Deployed).
      type: str
      sample: Deployed
    last_modified_time:
      description: When the distribution last changed (ISO 8601, UTC).
      type: str
    enabled:
      description: Whether it serves requests.
      type: bool
    comment:
      description: Comment.
      type: str
    aliases:
      description: Alternate domain names, sorted.
      type: list
      elements: str
      sample: ["sorry.example.com"]
    bucket:
      description: Bucket of the origin.
      type: str
      sample: sorry-pages-123456789012
    origin_domain_name:
      description: Domain name of the origin (the bucket's regional endpoint).
      type: str
      sample: sorry-pages-123456789012.s3.ap-northeast-1.amazonaws.com
    origin_path:
      description: Folder of the bucket served.
      type: str
      sample: /example.com
    origin_access_control_id:
      description: Id of the origin access control of the origin.
      type: str
      sample: E2QWRUHAPOMQZL
    default_root_object:
      description: Object returned for C(/).
      type: str
      sample: index.html
    price_class:
      description: Price class.
      type: str
      sample: PriceClass_200
    http_version:
      description: Highest HTTP version.
      type: str
      sample: http2and3
    ipv6:
      description: Whether IPv6 is enabled.
      type: bool
    cache_policy_id:
      description: Cache policy of the default cache behaviour.
      type: str
    viewer_protocol_policy:
      description: Always V(redirect-to-https) for distributions made by this module.
      type: str
    certificate_arn:
      description: ACM certificate, or null with CloudFront's default certificate.
      type: str
    minimum_protocol_version:
      description: Security policy for viewers.
      returned: with a certificate
      type: str
      sample: TLSv1.2_2021
    custom_error_responses:
      description: Custom error responses, by error code.
      type: list
      elements: dict
      sample:
        - {"error_code": 403, "response_code": "503", "response_page_path": "/index.html", "error_caching_min_ttl": 10}
    tags:
      description: Tags of the distribution, C(Name) included.
      type: dict
      sample: {"Name": "sorry-example-com", "Stack": "sorry"}
    bucket_policy_statement:
      description:
        - The bucket policy statement that lets this distribution read the objects under its origin path
          (principal C(cloudfront.amazonaws.com), C(s3:GetObject), condition C(AWS:SourceArn) equal to the
          distribution's ARN). Null in check mode before the distribution exists.
      type: dict
      sample:
        Sid: CloudFrontReadE1A2B3C4D5E6F7
        Effect: Allow
        Principal: {"Service": "cloudfront.amazonaws.com"}
        Action: s3:GetObject
        Resource: arn:aws:s3:::sorry-pages-123456789012/example.com/*
        Condition: {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1A2B3C4D5E6F7"}}
deleted:
  description:
    - Whether the distribution was deleted (in check mode, whether it would be).
    - False when O(wait=false) left it disabled but still deploying; C(changed) then says whether this run
      disabled it.
  returned: when O(state=absent)
  type: bool
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import (  # noqa: E402
    AnsibleAWSError,
    is_ansible_aws_error_code,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags  # noqa: E402

from ansible_collections.kumo.webstack.plugins.module_utils import cloudfront  # noqa: E402


def _desired_tags(module, current):
    """(tags to set, keys to remove, tags afterwards); the Name tag is always the name."""
    params = module.params
    if params["tags"] is None:
        wanted = dict(current or {})
        wanted[cloudfront.NAME_TAG] = params["name"]
        purge = False
    else:
        wanted = {k: str(v) for k, v in params["tags"].items()}
        wanted[cloudfront.NAME_TAG] = params["name"]
        purge = params["purge_tags"]
    to_set, to_unset = compare_aws_tags(current or {}, wanted, purge)
    after = {k: v for k, v in (current or {}).items() if k not in to_unset}
    after.update({k: str(v) for k, v in to_set.items()})
    return to_set, to_unset, after


def _refresh(client, module, distribution_id):
    distribution, etag = cloudfront.get_distribution(client, distribution_id)
    if distribution is None:
        module.fail_json(msg=f"Distribution {distribution_id} was deleted while this task ran; run it again")
    return distribution, etag


def create(module, client, desired):
    params = module.params
    _to_set, _to_unset, tags = _desired_tags(module, {})
    after = dict(desired)
    after.setdefault("comment", params["name"])
    result = {"changed": True}
    if module._diff:
        result["diff"] = {"before": {}, "after": cloudfront.diff_view(after, tags)}
    if module.check_mode:
        module.exit_json(distribution=cloudfront.distribution_result(None, tags, after), **result)
    config = cloudfront.build_config(after, caller_reference=cloudfront.caller_reference(params["name"]))
    distribution, _etag = cloudfront.create_distribution(client, config, tags)
    if params["wait"]:
        cloudfront.wait_deployed(client, distribution["Id"], params["wait_timeout"])
        distribution, _etag = _refresh(client, module, distribution["Id"])
    module.exit_json(distribution=cloudfront.distribution_result(distribution, tags), **result)


def ensure_present(module, client):
    params = module.params
    summary, tags = cloudfront.find_distribution(client, params["name"])
    desired = cloudfront.desired_settings(params, params["bucket_region"] or module.region)
    if summary is None:
        create(module, client, desired)
        return

    distribution, etag = _refresh(client, module, summary["Id"])
    current = cloudfront.current_settings(distribution["DistributionConfig"])
    changes, after = cloudfront.plan_changes(desired, current)
    to_set, to_unset, after_tags = _desired_tags(module, tags)
    result = {"changed": bool(changes or to_set or to_unset)}
    if module._diff:
        result["diff"] = {
            "before": cloudfront.diff_view(current, tags),
            "after": cloudfront.diff_view(after, after_tags),
        }
    if module.check_mode:
        module.exit_json(distribution=cloudfront.distribution_result(distribution, after_tags, after), **result)

    if changes:
        config = cloudfront.build_config(after, distribution["DistributionConfig"])
        try:
            distribution, etag = cloudfront.update_distribution(client, distribution["Id"], config, etag)
        except is_ansible_aws_error_code("PreconditionFailed") as e:
            module.fail_json_aws(
                e.exception,
                msg=f"Distribution {distribution['Id']} was changed by someone else while this task ran; run it again",
            )
    if to_unset:
        cloudfront.untag_resource(client, distribution["ARN"], to_unset)
    if to_set:
        cloudfront.tag_resource(client, distribution["ARN"], to_set)
    waited = params["wait"] and (bool(changes) or distribution.get("Status") != "Deployed")
    if waited:
        cloudfront.wait_deployed(client, distribution["Id"], params["wait_timeout"])
    if changes or waited:
        distribution, _etag = _refresh(client, module, distribution["Id"])
    module.exit_json(distribution=cloudfront.distribution_result(distribution, after_tags), **result)


def ensure_absent(module, client):
    params = module.params
    summary, tags = cloudfront.find_distribution(client, params["name"])
    result = {"changed": summary is not None, "distribution": {}, "deleted": summary is not None}
    distribution = etag = None
    if summary is not None:
        distribution, etag = cloudfront.get_distribution(client, summary["Id"])
    if module._diff:
        before = cloudfront.current_settings(distribution["DistributionConfig"]) if distribution else None
        result["diff"] = {"before": cloudfront.diff_view(before, tags), "after": {}}
    if distribution is None:
        result.update(changed=False, deleted=False)
        module.exit_json(**result)
    if module.check_mode:
        module.exit_json(**result)

    distribution_id = distribution["Id"]
    config = distribution["DistributionConfig"]
    disabled_now = bool(config.get("Enabled"))
    if disabled_now:
        # CloudFront deletes only a disabled distribution: disable it first (with the current ETag).
        config["Enabled"] = False
        distribution, etag = cloudfront.update_distribution(client, distribution_id, config, etag)
    if distribution.get("Status") != "Deployed":
        if not params["wait"]:
            module.warn(
                f"Distribution {distribution_id} is disabled but still deploying "
                f"(status {distribution.get('Status')}); "
                "CloudFront deletes a distribution only once it is disabled and Deployed, usually within minutes. "
                "It was not deleted: run this task again later (or with wait=true) to delete it."
            )
            result.update(
                changed=disabled_now, deleted=False, distribution=cloudfront.distribution_result(distribution, tags)
            )
            module.exit_json(**result)
        cloudfront.wait_deployed(client, distribution_id, params["wait_timeout"])
        distribution, etag = _refresh(client, module, distribution_id)
    try:
        cloudfront.delete_distribution(client, distribution_id, etag)
    except is_ansible_aws_error_code(["DistributionNotDisabled", "PreconditionFailed"]) as e:
        if e.exception.response["Error"]["Code"] == "PreconditionFailed":
            module.fail_json_aws(
                e.exception,
                msg=f"Distribution {distribution_id} was changed by someone else while this task ran; run it again",
            )
        module.fail_json_aws(
            e.exception,
            msg=f"CloudFront refused to delete distribution {distribution_id}: it is not yet disabled and Deployed "
            "(someone may have enabled it again meanwhile); run this task again",
        )
    module.exit_json(**result)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        comment=dict(type="str"),
        bucket=dict(type="str"),
        bucket_region=dict(type="str"),
        origin_path=dict(type="str", default=""),
        origin_access_control_id=dict(type="str"),
        aliases=dict(type="list", elements="str", default=[]),
        certificate_arn=dict(type="str"),
        minimum_protocol_version=dict(
            type="str",
            choices=[
                "TLSv1",
                "TLSv1_2016",
                "TLSv1.1_2016",
                "TLSv1.2_2018",
                "TLSv1.2_2019",
                "TLSv1.2_2021",
                "TLSv1.2_2025",
                "TLSv1.3_2025",
            ],
            default="TLSv1.2_2021",
        ),
        default_root_object=dict(type="str", default="index.html"),
        custom_error_responses=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                error_code=dict(type="int", required=True),
                response_code=dict(type="int"),
                response_page_path=dict(type="str"),
                error_caching_min_ttl=dict(type="int", default=10),
            ),
        ),
        cache_policy_id=dict(type="str", default=cloudfront.CACHING_OPTIMIZED_POLICY_ID),
        price_class=dict(
            type="str", choices=["PriceClass_100", "PriceClass_200", "PriceClass_All"], default="PriceClass_200"
        ),
        http_version=dict(type="str", choices=["http1.1", "http2", "http3", "http2and3"], default="http2and3"),
        ipv6=dict(type="bool", default=True),
        enabled=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1200),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[["state", "present", ["bucket", "origin_access_control_id"]]],
    )
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg="wait_timeout must be 0 or more seconds")
    problems = cloudfront.validate_distribution_params(module.params)
    if module.params["state"] == "present" and not (module.params["bucket_region"] or module.region):
        problems.append("bucket_region is needed when no region is set (the bucket's region names its endpoint)")
    if problems:
        module.fail_json(msg="; ".join(problems))
    client = module.client("cloudfront")
    try:
        if module.params["state"] == "present":
            ensure_present(module, client)
        else:
            ensure_absent(module, client)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
