# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS Certificate Manager calls and helpers for the acm_certificate_request modules.

Each API call is a small function: an ``ACMErrorHandler`` decorator turns botocore errors
into ``AnsibleACMError`` (a missing certificate becomes ``None`` / ``False``) and
``AWSRetry.jittered_backoff`` retries throttling and 5xx answers. Matching a certificate to
a requested domain set, shaping the result and building the DNS validation records are
pure functions, so they are tested without any client.
"""

from __future__ import annotations

import datetime

try:
    import botocore
    from botocore.waiter import WaiterModel, create_waiter_with_client
except ImportError:
    pass  # AnsibleAWSModule reports missing botocore/boto3.

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)

# RequestCertificate accepts only these; the others in the KeyAlgorithm enum are for imports.
REQUESTABLE_KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")
# ListCertificates returns only RSA_2048 certificates unless every key type is asked for.
ALL_KEY_TYPES = (
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
)
ALL_STATUSES = (
    "PENDING_VALIDATION",
    "ISSUED",
    "INACTIVE",
    "EXPIRED",
    "VALIDATION_TIMED_OUT",
    "REVOKED",
    "FAILED",
)
# A certificate in one of these states is the one a request would produce again.
LIVE_STATUSES = ("PENDING_VALIDATION", "ISSUED")
FAILED_STATUSES = ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE")

# Seconds between polls while waiting for ISSUED, and for the validation records that ACM
# adds to a new request a few seconds after it answers. Module-level so tests can shorten them.
ISSUED_POLL_DELAY = 10
RECORDS_POLL_DELAY = 2
RECORDS_TIMEOUT = 120

_THROTTLING_CODES = ("ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException")


class AnsibleACMError(AnsibleAWSError):
    pass


class ACMErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleACMError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


# ---------------------------------------------------------------------------------------
# API calls


@ACMErrorHandler.list_error_handler("list certificates", [])
@AWSRetry.jittered_backoff()
def list_certificates(client, statuses=None):
    params = {"Includes": {"keyTypes": list(ALL_KEY_TYPES)}}
    if statuses:
        params["CertificateStatuses"] = list(statuses)
    paginator = client.get_paginator("list_certificates")
    return paginator.paginate(**params).build_full_result().get("CertificateSummaryList", [])


@ACMErrorHandler.list_error_handler("describe certificate", None)
@AWSRetry.jittered_backoff()
def describe_certificate(client, arn):
    return client.describe_certificate(CertificateArn=arn)["Certificate"]


@ACMErrorHandler.list_error_handler("list certificate tags", None)
@AWSRetry.jittered_backoff()
def list_certificate_tags(client, arn):
    return boto3_tag_list_to_ansible_dict(client.list_tags_for_certificate(CertificateArn=arn).get("Tags", []))


@ACMErrorHandler.common_error_handler("request certificate")
@AWSRetry.jittered_backoff()
def request_certificate(client, domain_name, subject_alternative_names, key_algorithm, tags=None):
    params = {"DomainName": domain_name, "ValidationMethod": "DNS", "KeyAlgorithm": key_algorithm}
    if subject_alternative_names:
        params["SubjectAlternativeNames"] = list(subject_alternative_names)
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return client.request_certificate(**params)["CertificateArn"]


@ACMErrorHandler.common_error_handler("tag certificate")
@AWSRetry.jittered_backoff(catch_extra_error_codes=["RequestInProgressException"])
def add_certificate_tags(client, arn, tags):
    client.add_tags_to_certificate(CertificateArn=arn, Tags=ansible_dict_to_boto3_tag_list(tags))
    return True


@ACMErrorHandler.common_error_handler("untag certificate")
@AWSRetry.jittered_backoff(catch_extra_error_codes=["RequestInProgressException"])
def remove_certificate_tags(client, arn, keys):
    client.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": key} for key in keys])
    return True


@ACMErrorHandler.deletion_error_handler("delete certificate")
@AWSRetry.jittered_backoff(catch_extra_error_codes=["RequestInProgressException"])
def delete_certificate(client, arn):
    client.delete_certificate(CertificateArn=arn)
    return True


# ---------------------------------------------------------------------------------------
# Waiters (botocore waiter models written as data; throttling is a retry, never a success)


def _status_acceptors(success=(), retry=(), failure=()):
    acceptors = []
    for state, statuses in (("success", success), ("retry", retry), ("failure", failure)):
        acceptors += [
            {"matcher": "path", "argument": "Certificate.Status", "expected": status, "state": state}
            for status in statuses
        ]
    return acceptors


_THROTTLING_ACCEPTORS = [{"matcher": "error", "expected": code, "state": "retry"} for code in _THROTTLING_CODES]

WAITER_MODEL = {
    "version": 2,
    "waiters": {
        "CertificateIssued": {
            "operation": "DescribeCertificate",
            "delay": ISSUED_POLL_DELAY,
            "maxAttempts": 60,
            "acceptors": _status_acceptors(["ISSUED"], ["PENDING_VALIDATION"], FAILED_STATUSES)
            + [{"matcher": "error", "expected": "ResourceNotFoundException", "state": "failure"}]
            + _THROTTLING_ACCEPTORS,
        },
        # ACM fills in DomainValidationOptions[].ResourceRecord shortly after RequestCertificate
        # answers; until then the records cannot be returned to the playbook.
        "ValidationRecordsReady": {
            "operation": "DescribeCertificate",
            "delay": RECORDS_POLL_DELAY,
            "maxAttempts": 60,
            "acceptors": [
                {
                    "matcher": "path",
                    "argument": "length(Certificate.DomainValidationOptions[?!ResourceRecord] || `[]`) == `0`",
                    "expected": True,
                    "state": "success",
                },
            ]
            + _status_acceptors(failure=FAILED_STATUSES)
            # Eventual consistency right after the request.
            + [{"matcher": "error", "expected": "ResourceNotFoundException", "state": "retry"}]
            + _THROTTLING_ACCEPTORS,
        },
    },
}


def _wait(client, waiter_name, arn, delay, timeout, expected_errors=()):
    model = WaiterModel(WAITER_MODEL)
    waiter = create_waiter_with_client(waiter_name, model, client)
    attempts = max(1, int(timeout // delay) + 1)
    try:
        waiter.wait(CertificateArn=arn, WaiterConfig={"Delay": delay, "MaxAttempts": attempts})
    except botocore.exceptions.WaiterError as e:
        last = e.last_response or {}
        code = last.get("Error", {}).get("Code")
        if code and code not in expected_errors:
            message = last["Error"].get("Message", "")
            raise AnsibleACMError(
                message=f"Failed to describe certificate {arn} while waiting: {code}: {message}", exception=e
            ) from e
        return last
    except botocore.exceptions.BotoCoreError as e:
        raise AnsibleACMError(message=f"Failed to describe certificate {arn} while waiting", exception=e) from e
    return None


def wait_for_validation_records(client, arn, timeout=None):
    """Wait until ACM has filled in every DNS validation record of a new certificate."""
    timeout = RECORDS_TIMEOUT if timeout is None else timeout
    last = _wait(client, "ValidationRecordsReady", arn, RECORDS_POLL_DELAY, timeout, ("ResourceNotFoundException",))
    if last is None:
        return
    status = (last.get("Certificate") or {}).get("Status")
    if status in FAILED_STATUSES:
        raise AnsibleACMError(message=_failed_message(arn, last["Certificate"]))
    raise AnsibleACMError(
        message=(
            f"ACM did not provide the DNS validation records of certificate {arn} within {timeout} seconds; "
            "re-run the task (the certificate is found again, not requested twice)"
        )
    )


def wait_for_issued(client, arn, timeout):
    """Poll DescribeCertificate until the certificate is ISSUED, for at most ``timeout`` seconds."""
    last = _wait(client, "CertificateIssued", arn, ISSUED_POLL_DELAY, timeout, ("ResourceNotFoundException",))
    if last is None:
        return
    if "Error" in last and last["Error"].get("Code") == "ResourceNotFoundException":
        raise AnsibleACMError(message=f"Certificate {arn} was deleted while waiting for it to be ISSUED")
    certificate = last.get("Certificate") or {}
    status = certificate.get("Status")
    if status in FAILED_STATUSES:
        raise AnsibleACMError(message=_failed_message(arn, certificate))
    raise AnsibleACMError(
        message=(
            f"Timed out after {timeout} seconds waiting for certificate {arn} to be ISSUED (status: {status}). "
            "Check that the validation records returned in validation_records exist in the public DNS zone "
            "of each domain, then wait longer (raise wait_timeout, or poll acm_certificate_request_info "
            "with until/retries)"
        )
    )


def _failed_message(arn, certificate):
    reason = certificate.get("FailureReason")
    detail = f" (FailureReason: {reason})" if reason else ""
    return (
        f"Certificate {arn} is {certificate.get('Status')}{detail}; ACM will not issue it. "
        "Delete it (state=absent with certificate_arn) and request it again"
    )


# ---------------------------------------------------------------------------------------
# Pure helpers


def normalize_domain(name):
    return str(name).strip().rstrip(".").lower()


def requested_domains(domain_name, subject_alternative_names):
    """The set of names a request covers: the primary domain plus its SANs."""
    names = {normalize_domain(domain_name)}
    names.update(normalize_domain(n) for n in subject_alternative_names or [])
    return names


def certificate_domains(certificate):
    names = {normalize_domain(certificate["DomainName"])} if certificate.get("DomainName") else set()
    names.update(normalize_domain(n) for n in certificate.get("SubjectAlternativeNames") or [])
    return names


def _summary_domains(summary):
    """Names listed in a ListCertificates summary, or None when the summary does not list them
    all (more than 100 names, or an emulator that leaves SubjectAlternativeNameSummaries out)."""
    sans = summary.get("SubjectAlternativeNameSummaries")
    if sans is None or summary.get("HasAdditionalSubjectAlternativeNames"):
        return None
    names = {normalize_domain(summary["DomainName"])} if summary.get("DomainName") else set()
    names.update(normalize_domain(n) for n in sans)
    return names


def carries_tags(certificate_tags, wanted):
    return all(certificate_tags.get(key) == str(value) for key, value in (wanted or {}).items())


def validation_records(certificate):
    """DNS records to create for validation, one per distinct record (a wildcard and its base
    domain share one), each with the domains it validates."""
    records = {}
    for option in certificate.get("DomainValidationOptions") or []:
        record = option.get("ResourceRecord")
        if not record:
            continue
        key = (record["Name"], record["Type"], record["Value"])
        entry = records.setdefault(
            key,
            {"name": record["Name"], "type": record["Type"], "value": record["Value"], "domains": []},
        )
        entry["domains"].append(option["DomainName"])
    for entry in records.values():
        entry["domains"].sort()
    return sorted(records.values(), key=lambda r: (r["name"], r["type"], r["value"]))


def _jsonable(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def certificate_to_result(certificate, tags):
    """Snake-case a DescribeCertificate answer and add its tags (tag keys are kept as they are)."""
    result = camel_dict_to_snake_dict(_jsonable(certificate))
    result["tags"] = dict(tags or {})
    result["validation_records"] = validation_records(certificate)
    return result


def certificate_state(certificate, tags):
    """What --diff shows for a certificate."""
    if not certificate:
        return {}
    primary = normalize_domain(certificate.get("DomainName", ""))
    return {
        "certificate_arn": certificate.get("CertificateArn"),
        "domain_name": primary,
        "subject_alternative_names": sorted(certificate_domains(certificate) - {primary}),
        "key_algorithm": certificate.get("KeyAlgorithm"),
        "status": certificate.get("Status"),
        "tags": dict(tags or {}),
    }


def _sort_key(certificate):
    created = certificate.get("CreatedAt")
    if isinstance(created, datetime.datetime):
        created = created.timestamp()
    return (certificate.get("Status") == "ISSUED", created or 0)


# ---------------------------------------------------------------------------------------
# Look-ups built from the calls above


def find_certificates(client, domains, key_algorithm=None, statuses=LIVE_STATUSES, match_tags=None, tags=None):
    """Every ACM-issued certificate whose domain set equals ``domains`` (order-insensitive),
    best candidate first, each as ``(certificate, tags)``.

    ``match_tags`` (a dict) keeps only certificates carrying those tags. Among the rest,
    certificates carrying all of ``tags`` come first, then ISSUED ones, then the newest.
    """
    found = []
    for summary in list_certificates(client, statuses):
        if summary.get("Type") not in (None, "AMAZON_ISSUED"):
            continue  # imported and private-CA certificates are not what a request produces
        if normalize_domain(summary.get("DomainName", "")) not in domains:
            continue
        listed = _summary_domains(summary)
        if listed is not None and listed != domains:
            continue
        if key_algorithm and summary.get("KeyAlgorithm") not in (None, key_algorithm):
            continue
        certificate = describe_certificate(client, summary["CertificateArn"])
        if certificate is None or certificate_domains(certificate) != domains:
            continue
        if key_algorithm and certificate.get("KeyAlgorithm") != key_algorithm:
            continue
        cert_tags = list_certificate_tags(client, certificate["CertificateArn"]) or {}
        if not carries_tags(cert_tags, match_tags):
            continue
        found.append((certificate, cert_tags))
    found.sort(key=lambda pair: (carries_tags(pair[1], tags), _sort_key(pair[0])), reverse=True)
    return found


def list_matching_certificates(client, domain_name=None, statuses=None, tags=None, arn=None):
    """Certificates for the _info module: by ARN, or every certificate covering ``domain_name``
    (as its primary name or a SAN), filtered by status and tags; each as ``(certificate, tags)``."""
    wanted = normalize_domain(domain_name) if domain_name else None
    if arn:
        certificate = describe_certificate(client, arn)
        candidates = [certificate] if certificate else []
    else:
        candidates = []
        for summary in list_certificates(client, statuses):
            listed = _summary_domains(summary)
            if wanted and listed is not None and wanted not in listed:
                continue
            certificate = describe_certificate(client, summary["CertificateArn"])
            if certificate is not None:
                candidates.append(certificate)
    result = []
    for certificate in candidates:
        if wanted and wanted not in certificate_domains(certificate):
            continue
        if statuses and certificate.get("Status") not in statuses:
            continue
        cert_tags = list_certificate_tags(client, certificate["CertificateArn"]) or {}
        if not carries_tags(cert_tags, tags):
            continue
        result.append((certificate, cert_tags))
    result.sort(key=lambda pair: (pair[0].get("DomainName", ""), _sort_key(pair[0])))
    return result
