# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""VPC helpers for the ec2_vpc_endpoint_policy and ec2_vpc_flow_log modules.

API calls are small functions wrapped in an error handler (botocore errors become
``AnsibleVpcError``; a missing endpoint or flow log becomes the handler's default) and
``AWSRetry.jittered_backoff`` (throttling and 5xx only). The rest are pure functions that
bring a policy or a flow log into one comparable form, so they can be unit-tested without AWS.
"""

from __future__ import annotations

import copy
import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.kumo.webstack.plugins.module_utils.dates import date_text

# Statement keys whose value may be one string or a list of strings (the same thing to IAM).
STATEMENT_LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")


# An endpoint just created may not be listed yet (EC2 is eventually consistent): its id is asked
# for again for about half a minute before it counts as missing.
ENDPOINT_NOT_FOUND = ["InvalidVpcEndpointId.NotFound", "InvalidVpcEndpoint.NotFound"]


class AnsibleVpcError(AnsibleAWSError):
    pass


class VpcEndpointErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleVpcError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(ENDPOINT_NOT_FOUND)


class FlowLogErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleVpcError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["InvalidFlowLogId.NotFound"])


# ---------------------------------------------------------------------------------------------
# VPC endpoints
# ---------------------------------------------------------------------------------------------


@VpcEndpointErrorHandler.list_error_handler("describe vpc endpoint")
@AWSRetry.jittered_backoff(retries=5, delay=2, max_delay=10, catch_extra_error_codes=ENDPOINT_NOT_FOUND)
def describe_vpc_endpoint(client, endpoint_id):
    """The endpoint (DescribeVpcEndpoints entry), or None when it does not exist (or is deleted)."""
    endpoints = client.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    live = [e for e in endpoints if str(e.get("State", "")).lower() not in ("deleted", "deleting")]
    return live[0] if live else None


@VpcEndpointErrorHandler.common_error_handler("modify vpc endpoint policy")
@AWSRetry.jittered_backoff()
def put_vpc_endpoint_policy(client, endpoint_id, policy):
    client.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PolicyDocument=json.dumps(policy))
    return True


# ---------------------------------------------------------------------------------------------
# Flow logs
# ---------------------------------------------------------------------------------------------


@FlowLogErrorHandler.list_error_handler("describe flow logs", [])
@AWSRetry.jittered_backoff()
def describe_flow_logs(client, resource_id):
    """Every flow log of a resource (DescribeFlowLogs entries)."""
    paginator = client.get_paginator("describe_flow_logs")
    params = {"Filters": [{"Name": "resource-id", "Values": [resource_id]}]}
    return paginator.paginate(**params).build_full_result().get("FlowLogs", [])


@FlowLogErrorHandler.common_error_handler("create flow log")
@AWSRetry.jittered_backoff()
def create_flow_log(client, **params):
    """CreateFlowLogs' answer (FlowLogIds, Unsuccessful)."""
    return client.create_flow_logs(**params)


@FlowLogErrorHandler.deletion_error_handler("delete flow logs")
@AWSRetry.jittered_backoff()
def delete_flow_logs(client, flow_log_ids):
    """True once deleted; False when they were already gone."""
    client.delete_flow_logs(FlowLogIds=list(flow_log_ids))
    return True


# ---------------------------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------------------------


def _single(value):
    """A list of one value as that value (IAM reads "a" and ["a"] alike)."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def canonical_endpoint_policy(policy):
    """A policy document (dict or JSON text) in a form in which equal policies compare equal.

    The order of statements is kept (it is part of what a reader sees), but a one-element list
    of an Action, Resource (and their Not* forms), a principal or a condition value becomes the
    element itself, as IAM treats them alike. None and "" stay None.

    Raises ValueError when the text is not JSON or the document is not a JSON object.
    """
    if policy is None or policy == "":
        return None
    if isinstance(policy, str):
        policy = json.loads(policy)
    if not isinstance(policy, dict):
        raise ValueError("a policy document must be a JSON object")
    result = copy.deepcopy(policy)
    statements = result.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if isinstance(statements, list):
        result["Statement"] = [_canonical_statement(s) for s in statements]
    return result


def _canonical_statement(statement):
    if not isinstance(statement, dict):
        return statement
    out = dict(statement)
    for key in STATEMENT_LIST_KEYS:
        if key in out:
            out[key] = _single(out[key])
    for key in ("Principal", "NotPrincipal"):
        if isinstance(out.get(key), dict):
            out[key] = {k: _single(v) for k, v in out[key].items()}
    if isinstance(out.get("Condition"), dict):
        out["Condition"] = {
            op: {k: _single(v) for k, v in keys.items()} if isinstance(keys, dict) else keys
            for op, keys in out["Condition"].items()
        }
    return out


def log_group_arn(arn):
    """A CloudWatch Logs log group ARN without the ``:*`` that some answers and users append."""
    if arn and arn.endswith(":*"):
        return arn[:-2]
    return arn


def flow_log_for_output(flow_log):
    """What the module returns for a flow log (a DescribeFlowLogs entry), snake_case."""
    return {
        "flow_log_id": flow_log.get("FlowLogId"),
        "resource_id": flow_log.get("ResourceId"),
        "traffic_type": flow_log.get("TrafficType"),
        "log_destination_type": flow_log.get("LogDestinationType"),
        "log_destination": log_group_arn(flow_log.get("LogDestination")),
        "log_group_name": flow_log.get("LogGroupName"),
        "deliver_logs_permission_arn": flow_log.get("DeliverLogsPermissionArn"),
        "log_format": flow_log.get("LogFormat"),
        "max_aggregation_interval": flow_log.get("MaxAggregationInterval"),
        "flow_log_status": flow_log.get("FlowLogStatus"),
        "deliver_logs_status": flow_log.get("DeliverLogsStatus"),
        "deliver_logs_error_message": flow_log.get("DeliverLogsErrorMessage"),
        "creation_time": date_text(flow_log.get("CreationTime")),
        "tags": boto3_tag_list_to_ansible_dict(flow_log.get("Tags") or []),
    }


def flow_log_differences(current, wanted):
    """The settings (snake_case keys) in which an existing flow log (as flow_log_for_output
    returns it) differs from the wanted ones; a wanted value of None is not compared."""
    return sorted(k for k, v in wanted.items() if v is not None and current.get(k) != v)
