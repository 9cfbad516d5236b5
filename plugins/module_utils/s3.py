# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Amazon S3 helpers for kumo.webstack.s3_bucket_logging (server access logging of a bucket).

API calls are small functions wrapped in ``S3ErrorHandler`` (turns botocore errors into
``AnsibleS3LoggingError``) and ``AWSRetry.jittered_backoff`` (throttling and 5xx only). The rest
are pure functions that read and compare the logging settings, so they can be unit-tested without AWS.
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


class AnsibleS3LoggingError(AnsibleAWSError):
    pass


class S3ErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleS3LoggingError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NoSuchBucket")


@S3ErrorHandler.list_error_handler("get bucket logging")
@AWSRetry.jittered_backoff()
def get_bucket_logging(client, bucket):
    """The bucket's LoggingEnabled settings ({} when logging is off), or None when the bucket does not exist."""
    return client.get_bucket_logging(Bucket=bucket).get("LoggingEnabled", {})


# AWS checks the target bucket's permissions on PutBucketLogging: a policy written just before may
# not be seen yet (InvalidTargetBucketForLogging for a few seconds), so that error is retried too.
@S3ErrorHandler.common_error_handler("put bucket logging")
@AWSRetry.jittered_backoff(catch_extra_error_codes=["InvalidTargetBucketForLogging"], retries=4)
def put_bucket_logging(client, bucket, logging):
    """Set the bucket's server access logging to ``logging`` ({} turns it off)."""
    status = {"LoggingEnabled": logging} if logging else {}
    client.put_bucket_logging(Bucket=bucket, BucketLoggingStatus=status)
    return True


def logging_settings(target_bucket, target_prefix):
    """The LoggingEnabled settings the module compares and writes ({} for logging off)."""
    if not target_bucket:
        return {}
    return {"TargetBucket": target_bucket, "TargetPrefix": target_prefix or ""}


def logging_differs(current, wanted):
    """Whether the current LoggingEnabled settings differ from the wanted ones (the key format and
    grants are not compared: the module sets neither, and leaves them as they are)."""
    keys = ("TargetBucket", "TargetPrefix")
    return {k: (current or {}).get(k, "") for k in keys} != {k: (wanted or {}).get(k, "") for k in keys}


def logging_for_output(settings):
    """The settings as the module returns them (snake_case, the two keys it manages)."""
    if not settings:
        return {"enabled": False, "target_bucket": "", "target_prefix": ""}
    return {
        "enabled": True,
        "target_bucket": settings.get("TargetBucket", ""),
        "target_prefix": settings.get("TargetPrefix", ""),
    }
