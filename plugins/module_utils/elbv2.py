# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Elastic Load Balancing v2 helpers for the elb_listener_rules module.

API calls are small functions wrapped in ``ELBv2ErrorHandler`` (botocore errors become
``AnsibleELBv2Error``; a missing listener or rule becomes the handler's default) and
``AWSRetry.jittered_backoff`` (throttling and 5xx only). The rest are pure functions that
bring a rule into one comparable form, whichever of its equivalent shapes AWS returns.
"""

from __future__ import annotations

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# What AWS fills in for a redirect component that is not given.
REDIRECT_DEFAULTS = {
    "Protocol": "#{protocol}",
    "Port": "#{port}",
    "Host": "#{host}",
    "Path": "/#{path}",
    "Query": "#{query}",
}
# Condition fields whose values sit in <Name>Config.Values (or in the legacy Values).
CONDITION_CONFIGS = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig"}


class AnsibleELBv2Error(AnsibleAWSError):
    pass


class ELBv2ErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleELBv2Error

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["ListenerNotFound", "RuleNotFound"])


@ELBv2ErrorHandler.list_error_handler("describe rules")
@AWSRetry.jittered_backoff()
def describe_rules(client, listener_arn):
    """Every rule of the listener (its default rule included), or None when there is no listener."""
    rules, marker = [], None
    while True:
        params = {"ListenerArn": listener_arn}
        if marker:
            params["Marker"] = marker
        page = client.describe_rules(**params)
        rules.extend(page.get("Rules", []))
        marker = page.get("NextMarker")
        if not marker:
            return rules


@ELBv2ErrorHandler.list_error_handler("describe tags", {})
@AWSRetry.jittered_backoff()
def describe_tags(client, arns):
    """ARN -> {key: value} for the resources (20 per call, as the API allows)."""
    tags = {}
    for start in range(0, len(arns), 20):
        answer = client.describe_tags(ResourceArns=arns[start : start + 20])
        for desc in answer.get("TagDescriptions", []):
            tags[desc["ResourceArn"]] = {t["Key"]: t["Value"] for t in desc.get("Tags", [])}
    return tags


@ELBv2ErrorHandler.common_error_handler("create rule")
@AWSRetry.jittered_backoff()
def create_rule(client, **params):
    return client.create_rule(**params)["Rules"][0]


@ELBv2ErrorHandler.common_error_handler("modify rule")
@AWSRetry.jittered_backoff()
def modify_rule(client, **params):
    return client.modify_rule(**params)["Rules"][0]


@ELBv2ErrorHandler.common_error_handler("set rule priorities")
@AWSRetry.jittered_backoff()
def set_rule_priorities(client, priorities):
    client.set_rule_priorities(RulePriorities=priorities)


@ELBv2ErrorHandler.deletion_error_handler("delete rule")
@AWSRetry.jittered_backoff()
def delete_rule(client, arn):
    client.delete_rule(RuleArn=arn)
    return True


@ELBv2ErrorHandler.common_error_handler("add tags")
@AWSRetry.jittered_backoff()
def add_tags(client, arn, tags):
    client.add_tags(ResourceArns=[arn], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


def normalize_conditions(conditions):
    """A rule's conditions as a sorted list of (field, sorted values), whether the values sit in
    the field's Config or in the legacy Values."""
    out = []
    for condition in conditions or []:
        field = condition.get("Field")
        config = CONDITION_CONFIGS.get(field)
        values = (condition.get(config) or {}).get("Values") if config else None
        if values is None:
            values = condition.get("Values")
        if values is None:
            key = json.dumps({k: v for k, v in condition.items() if k != "Field"}, sort_keys=True)
            out.append([field, [key]])
        else:
            out.append([field, sorted(values)])
    return sorted(out)


def normalize_action(action):
    """One action as a comparable dict: forward by target group ARN (single-group ForwardConfig
    included), fixed responses with their body ('' when none), redirects with AWS's defaults."""
    kind = action.get("Type")
    if kind == "forward":
        arn = action.get("TargetGroupArn")
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        if not arn and len(groups) == 1:
            arn = groups[0].get("TargetGroupArn")
        return {"type": kind, "target_group_arn": arn}
    if kind == "fixed-response":
        config = action.get("FixedResponseConfig") or {}
        return {
            "type": kind,
            "status_code": str(config.get("StatusCode", "")),
            "content_type": config.get("ContentType", ""),
            "body": config.get("MessageBody", ""),
        }
    if kind == "redirect":
        config = dict(REDIRECT_DEFAULTS, **(action.get("RedirectConfig") or {}))
        return {"type": kind, **{k.lower(): str(v) for k, v in sorted(config.items())}}
    return {"type": kind, "other": json.dumps({k: v for k, v in action.items() if k != "Order"}, sort_keys=True)}


def normalize_actions(actions):
    ordered = sorted(actions or [], key=lambda a: a.get("Order", 0))
    return [normalize_action(a) for a in ordered]
