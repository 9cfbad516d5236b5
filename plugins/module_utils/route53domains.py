# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Route 53 Domains calls and helpers for the route53_domain modules.

Route 53 Domains has one endpoint, in us-east-1: the modules build their client for
``DEFAULT_REGION`` whatever region the play sets. Each API call is a small function with an
error handler (botocore errors become ``AnsibleRoute53DomainsError``) and throttling retries;
name-server comparison and result shaping are pure functions.
"""

from __future__ import annotations

import datetime

try:
    import botocore
    from botocore.waiter import WaiterModel, create_waiter_with_client
except ImportError:
    pass  # AnsibleAWSModule reports missing botocore/boto3.

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

DEFAULT_REGION = "us-east-1"
# Seconds between GetOperationDetail polls while waiting (module-level so tests can shorten it).
OPERATION_POLL_DELAY = 10
FAILED_OPERATION_STATUSES = ("ERROR", "FAILED")
# Contact details are personal data: never returned by these modules.
CONTACT_KEYS = ("AdminContact", "RegistrantContact", "TechContact", "BillingContact")

_THROTTLING_CODES = ("ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded")


class AnsibleRoute53DomainsError(AnsibleAWSError):
    pass


class Route53DomainsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleRoute53DomainsError
    # Route 53 Domains has no "not found" code: an unknown domain is InvalidInput, like a
    # malformed one, so the modules decide what InvalidInput means (see domain_not_registered).


# ---------------------------------------------------------------------------------------
# API calls


@Route53DomainsErrorHandler.common_error_handler("get domain detail")
@AWSRetry.jittered_backoff()
def get_domain_detail(client, domain_name):
    detail = client.get_domain_detail(DomainName=domain_name)
    detail.pop("ResponseMetadata", None)
    return detail


@Route53DomainsErrorHandler.list_error_handler("list domains", [])
@AWSRetry.jittered_backoff()
def list_domains(client):
    paginator = client.get_paginator("list_domains")
    return paginator.paginate().build_full_result().get("Domains", [])


@Route53DomainsErrorHandler.common_error_handler("update domain name servers")
@AWSRetry.jittered_backoff()
def update_domain_nameservers(client, domain_name, nameservers):
    return client.update_domain_nameservers(DomainName=domain_name, Nameservers=nameservers)["OperationId"]


@Route53DomainsErrorHandler.common_error_handler("get operation detail")
@AWSRetry.jittered_backoff()
def get_operation_detail(client, operation_id):
    detail = client.get_operation_detail(OperationId=operation_id)
    detail.pop("ResponseMetadata", None)
    return detail


# ---------------------------------------------------------------------------------------
# Waiter: a botocore waiter model written as data; throttling is a retry, never a success.

WAITER_MODEL = {
    "version": 2,
    "waiters": {
        "OperationSuccessful": {
            "operation": "GetOperationDetail",
            "delay": OPERATION_POLL_DELAY,
            "maxAttempts": 60,
            "acceptors": [
                {"matcher": "path", "argument": "Status", "expected": "SUCCESSFUL", "state": "success"},
                {"matcher": "path", "argument": "Status", "expected": "SUBMITTED", "state": "retry"},
                {"matcher": "path", "argument": "Status", "expected": "IN_PROGRESS", "state": "retry"},
            ]
            + [
                {"matcher": "path", "argument": "Status", "expected": status, "state": "failure"}
                for status in FAILED_OPERATION_STATUSES
            ]
            + [{"matcher": "error", "expected": code, "state": "retry"} for code in _THROTTLING_CODES],
        },
    },
}


def wait_for_operation(client, operation_id, domain_name, timeout):
    """Poll GetOperationDetail until the operation is SUCCESSFUL, for at most ``timeout`` seconds."""
    waiter = create_waiter_with_client("OperationSuccessful", WaiterModel(WAITER_MODEL), client)
    delay = OPERATION_POLL_DELAY
    attempts = max(1, int(timeout // delay) + 1)
    try:
        waiter.wait(OperationId=operation_id, WaiterConfig={"Delay": delay, "MaxAttempts": attempts})
        return
    except botocore.exceptions.WaiterError as e:
        last = e.last_response or {}
        error = e
    except botocore.exceptions.BotoCoreError as e:
        raise AnsibleRoute53DomainsError(
            message=f"Failed to get operation {operation_id} while waiting", exception=e
        ) from e
    if "Error" in last:
        code, text = last["Error"].get("Code"), last["Error"].get("Message", "")
        raise AnsibleRoute53DomainsError(
            message=f"Failed to get operation {operation_id} while waiting: {code}: {text}", exception=error
        )
    status = last.get("Status")
    if status in FAILED_OPERATION_STATUSES:
        detail = f": {last['Message']}" if last.get("Message") else ""
        raise AnsibleRoute53DomainsError(
            message=f"Operation {operation_id} ({last.get('Type')}) on domain {domain_name} ended in {status}{detail}"
        )
    raise AnsibleRoute53DomainsError(
        message=(
            f"Timed out after {timeout} seconds waiting for operation {operation_id} on domain {domain_name} "
            f"to be SUCCESSFUL (status: {status}). The change is still being processed; raise wait_timeout, "
            "or poll route53_domain_info with operation_id and until/retries"
        )
    )


# ---------------------------------------------------------------------------------------
# Pure helpers


def normalize_name(name):
    return str(name).strip().rstrip(".").lower()


def nameserver_map(nameservers):
    """``{name: sorted glue IPs}`` from GetDomainDetail's Nameservers (order-insensitive)."""
    return {normalize_name(ns["Name"]): sorted(ns.get("GlueIps") or []) for ns in nameservers or []}


def desired_nameservers(names, glue_ips=None):
    """The Nameservers list to send, in the given order without duplicates, and its map."""
    glue = {normalize_name(k): [v] if isinstance(v, str) else list(v or []) for k, v in (glue_ips or {}).items()}
    seen = []
    for name in names:
        normalized = normalize_name(name)
        if normalized and normalized not in seen:
            seen.append(normalized)
    request = []
    for name in seen:
        entry = {"Name": name}
        if glue.get(name):
            entry["GlueIps"] = glue[name]
        request.append(entry)
    return request, {name: sorted(glue.get(name, [])) for name in seen}


def transfer_lock(detail):
    return any(str(s).startswith("clientTransferProhibited") for s in detail.get("StatusList") or [])


def _jsonable(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def domain_to_result(detail):
    """GetDomainDetail in snake_case, without contact details, with ``name_servers`` (plain
    names) and ``transfer_lock`` added."""
    detail = {k: v for k, v in detail.items() if k not in CONTACT_KEYS}
    result = camel_dict_to_snake_dict(_jsonable(detail))
    result["name_servers"] = [normalize_name(ns["Name"]) for ns in detail.get("Nameservers") or []]
    result["transfer_lock"] = transfer_lock(detail)
    return result


def summary_to_result(summary):
    return camel_dict_to_snake_dict(_jsonable(summary))


def operation_to_result(operation):
    return camel_dict_to_snake_dict(_jsonable(operation))


def not_registered_message(domain_name, error=None):
    said = ""
    if error is not None and getattr(error, "exception", None) is not None:
        response = getattr(error.exception, "response", {}) or {}
        text = response.get("Error", {}).get("Message")
        if text:
            said = f" (Route 53 Domains said: {' '.join(text.split())})"
    return (
        f"Domain {domain_name} is not registered in this AWS account{said}. This module manages domains "
        "already registered with Route 53 Domains; it does not register (buy) or transfer domains: "
        "register it first (Route 53 console, or aws route53domains register-domain), then run this task again"
    )


def describe_registered_domain(client, domain_name):
    """GetDomainDetail, or AnsibleRoute53DomainsError saying the domain is not registered here.

    Route 53 Domains answers InvalidInput (or UnsupportedTLD) for a domain the account does not
    hold; ListDomains confirms it before the module says so.
    """
    try:
        return get_domain_detail(client, domain_name)
    except AnsibleRoute53DomainsError as e:
        code = _error_code(e)
        if code not in ("InvalidInput", "UnsupportedTLD"):
            raise
        registered = {normalize_name(d.get("DomainName", "")) for d in list_domains(client)}
        if domain_name in registered:
            raise
        raise AnsibleRoute53DomainsError(message=not_registered_message(domain_name, e)) from e


def _error_code(error):
    exception = getattr(error, "exception", None)
    response = getattr(exception, "response", None) or {}
    return response.get("Error", {}).get("Code")
