"""S3: a bucket policy's conditions on object requests; the log target bucket's policy check."""

from __future__ import annotations

import fnmatch
import json
import os
import threading

from moto.ec2.models import ec2_backends
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response

from emulator_fixes import Patch, fix

# Requests that arrive from these loopback addresses come from the local twin's S3 forwarder
# (roles/twin/files/forward.py connects from 127.0.0.2): they stand for the web servers'
# requests on AWS, which reach S3 over HTTPS through the VPC's S3 gateway endpoint.
ENDPOINT_PEERS = set(filter(None, os.environ.get("WEBSTACK_EMULATOR_VPCE_PEERS", "127.0.0.2").split(",")))

_request = threading.local()

NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def _matches(operator: str, expected: list[str], actual: str | None) -> bool:
    """One condition operator on one context key, with IAM's rule for a missing key: a
    positive operator does not match, a negated one does."""
    if actual is None:
        return operator in NEGATED
    base = operator.replace("Not", "", 1) if operator in NEGATED else operator
    if base in ("StringEquals", "ArnEquals"):
        hit = actual in expected
    elif base in ("StringLike", "ArnLike"):
        hit = any(fnmatch.fnmatchcase(actual, pattern) for pattern in expected)
    elif base == "Bool":
        hit = actual.lower() in [e.lower() for e in expected]
    else:
        raise ValueError(f"unsupported condition operator {operator}")
    return not hit if operator in NEGATED else hit


def _statement_applies(statement: dict, context: dict[str, str]) -> bool:
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, expected in keys.items():
            expected = expected if isinstance(expected, list) else [expected]
            if not _matches(operator, [str(e) for e in expected], context.get(key)):
                return False
    return True


@fix
def bucket_policy_conditions(patch: Patch) -> None:
    """Object requests against a bucket policy: moto has no request context to evaluate a
    statement's Condition against, and applies every statement as if its condition held: every
    Deny denies, whatever it is conditioned on. So the uploads bucket's policy (deny object access
    without TLS, and outside the VPC endpoint unless the web role asks) denies every object
    request, even the web servers'. AWS applies a statement only when its condition holds. Here
    conditions are evaluated with IAM's semantics against the context the emulator can know:
    aws:SecureTransport and aws:SourceVpce. aws:SecureTransport is true: every request the
    emulator gets stands for an SDK call, which AWS only takes over HTTPS (the emulator is plain
    HTTP because it listens on 127.0.0.1 only), so a policy's deny of plain HTTP never applies,
    as on AWS. Requests from the twin's forwarder (ENDPOINT_PEERS) carry the VPC endpoint the
    policy names, as the web servers' requests do on AWS. aws:PrincipalArn is unknown here (moto has no principal for
    a request), so a statement keyed on it treats it as missing."""
    original_key_response = S3Response.key_response

    def key_response(self, request, full_url, headers):
        environ = getattr(request, "environ", {}) or {}
        _request.peer = environ.get("REMOTE_ADDR")
        try:
            return original_key_response(self, request, full_url, headers)
        finally:
            _request.peer = None

    def endpoint_ids(bucket) -> set[str]:
        ids = set()
        for backend in ec2_backends.get(bucket.account_id, {}).values():
            for endpoint in getattr(backend, "vpc_end_points", {}).values():
                if endpoint.service_name.endswith(".s3"):
                    ids.add(endpoint.id)
        return ids

    def get_permission(self, action, resource):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
        statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
        through_endpoint = getattr(_request, "peer", None) in ENDPOINT_PEERS
        permitted = False
        for statement in statements:
            context = {"aws:SecureTransport": "true"}
            if through_endpoint:
                named = [
                    value
                    for op, keys in (statement.get("Condition") or {}).items()
                    for key, values in keys.items()
                    if key == "aws:SourceVpce"
                    for value in (values if isinstance(values, list) else [values])
                ]
                real = [v for v in named if v in endpoint_ids(self)]
                if real:
                    context["aws:SourceVpce"] = real[0]
            if not _statement_applies(statement, context):
                continue
            bare = {k: v for k, v in statement.items() if k != "Condition"}
            result = IAMPolicyStatement(bare).is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                return result
            if result == PermissionResult.PERMITTED:
                permitted = True
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL

    patch.setattr(S3Response, "key_response", key_response)
    patch.setattr(FakeBucket, "get_permission", get_permission)


@fix
def logging_target_policy(patch: Patch) -> None:
    """PutBucketLogging: AWS accepts a target bucket whose policy lets logging.s3.amazonaws.com put
    objects under the prefix, whatever else the policy says. moto reads each statement's Principal
    as a dict and answers 500 (AttributeError) on the first statement whose Principal is "*" (a
    deny of plain HTTP, which every bucket of the stack has), unless a statement granting the
    delivery comes before it, so a log bucket with a correct policy looks broken against the
    emulator. moto's own check (delivery principal, s3:PutObject, a resource over the prefix)
    stays; statements whose Principal is not a dict are only skipped by it."""
    original_check = FakeBucket.__dict__["_log_permissions_enabled_policy"].__func__

    def _log_permissions_enabled_policy(target_bucket, target_prefix):
        policy = target_bucket.policy
        if not policy:
            return False
        document = json.loads(policy.decode() if isinstance(policy, bytes) else policy)
        statements = document.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        kept = [s for s in statements if isinstance(s.get("Principal"), dict)]
        if len(kept) == len(statements):
            return original_check(target_bucket, target_prefix)
        saved = target_bucket.policy
        try:
            target_bucket.policy = json.dumps(dict(document, Statement=kept)).encode()
            return original_check(target_bucket, target_prefix)
        finally:
            target_bucket.policy = saved

    patch.setattr(FakeBucket, "_log_permissions_enabled_policy", staticmethod(_log_permissions_enabled_policy))
