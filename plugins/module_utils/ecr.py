# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Amazon ECR helpers shared by the ecr_repository modules and ecr_authorization_token_info.

API calls are small functions wrapped in ``EcrErrorHandler`` (turns botocore errors into
``AnsibleEcrError``; a missing repository becomes the handler's default) and
``AWSRetry.jittered_backoff`` (throttling and 5xx only). The rest are pure functions that
build and compare repository settings, so they can be unit-tested without AWS.
"""

from __future__ import annotations

import base64
import copy
import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.kumo.webstack.plugins.module_utils.dates import date_text


class AnsibleEcrError(AnsibleAWSError):
    pass


class EcrErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleEcrError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("RepositoryNotFoundException")


# ---------------------------------------------------------------------------------------------
# Repositories
# ---------------------------------------------------------------------------------------------


@EcrErrorHandler.list_error_handler("describe repository")
@AWSRetry.jittered_backoff()
def describe_repository(client, name):
    """The repository (DescribeRepositories entry), or None when it does not exist."""
    repositories = client.describe_repositories(repositoryNames=[name])["repositories"]
    return repositories[0] if repositories else None


@EcrErrorHandler.list_error_handler("describe repositories", [])
@AWSRetry.jittered_backoff()
def describe_all_repositories(client):
    paginator = client.get_paginator("describe_repositories")
    return paginator.paginate().build_full_result().get("repositories", [])


@EcrErrorHandler.common_error_handler("create repository")
@AWSRetry.jittered_backoff()
def create_repository(client, **params):
    return client.create_repository(**params)["repository"]


@EcrErrorHandler.deletion_error_handler("delete repository")
@AWSRetry.jittered_backoff()
def delete_repository(client, name, force):
    """True once deleted; False when it was already gone."""
    client.delete_repository(repositoryName=name, force=force)
    return True


@EcrErrorHandler.common_error_handler("set image tag mutability")
@AWSRetry.jittered_backoff()
def put_image_tag_mutability(client, name, mutability):
    client.put_image_tag_mutability(repositoryName=name, imageTagMutability=mutability)
    return True


@EcrErrorHandler.common_error_handler("set image scanning configuration")
@AWSRetry.jittered_backoff()
def put_image_scanning_configuration(client, name, scan_on_push):
    client.put_image_scanning_configuration(
        repositoryName=name, imageScanningConfiguration={"scanOnPush": scan_on_push}
    )
    return True


# ---------------------------------------------------------------------------------------------
# Lifecycle policy, images, tags
# ---------------------------------------------------------------------------------------------


@EcrErrorHandler.list_error_handler("get lifecycle policy")
@AWSRetry.jittered_backoff()
def get_lifecycle_policy(client, name):
    """The lifecycle policy as a dict, or None when the repository has none (or is gone)."""
    try:
        text = client.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    except is_boto3_error_code("LifecyclePolicyNotFoundException"):
        return None
    return json.loads(text)


@EcrErrorHandler.common_error_handler("put lifecycle policy")
@AWSRetry.jittered_backoff()
def put_lifecycle_policy(client, name, policy):
    client.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(policy, sort_keys=True))
    return True


@EcrErrorHandler.list_error_handler("count images", 0)
@AWSRetry.jittered_backoff()
def count_images(client, name):
    """How many images (distinct digests, tagged or not) the repository holds."""
    paginator = client.get_paginator("list_images")
    ids = paginator.paginate(repositoryName=name).build_full_result().get("imageIds", [])
    return len({i.get("imageDigest") for i in ids})


@EcrErrorHandler.list_error_handler("describe images", [])
@AWSRetry.jittered_backoff()
def describe_images(client, name):
    """Every image of the repository (DescribeImages entries); [] when the repository is gone."""
    paginator = client.get_paginator("describe_images")
    return paginator.paginate(repositoryName=name).build_full_result().get("imageDetails", [])


@EcrErrorHandler.list_error_handler("list tags for repository", {})
@AWSRetry.jittered_backoff()
def list_tags(client, arn):
    return boto3_tag_list_to_ansible_dict(client.list_tags_for_resource(resourceArn=arn).get("tags", []))


@EcrErrorHandler.common_error_handler("tag repository")
@AWSRetry.jittered_backoff()
def tag_resource(client, arn, tags):
    client.tag_resource(resourceArn=arn, tags=tags)
    return True


@EcrErrorHandler.common_error_handler("untag repository")
@AWSRetry.jittered_backoff()
def untag_resource(client, arn, tag_keys):
    client.untag_resource(resourceArn=arn, tagKeys=tag_keys)
    return True


# ---------------------------------------------------------------------------------------------
# Registry authorization
# ---------------------------------------------------------------------------------------------


@EcrErrorHandler.common_error_handler("get authorization token")
@AWSRetry.jittered_backoff()
def get_authorization_data(client, registry_id=None):
    """GetAuthorizationToken's first authorizationData entry (the token is a secret)."""
    params = {"registryIds": [registry_id]} if registry_id else {}
    return client.get_authorization_token(**params)["authorizationData"][0]


@EcrErrorHandler.common_error_handler("describe KMS key")
@AWSRetry.jittered_backoff()
def kms_key_arn(kms_client, key):
    """The ARN of a KMS key given by id, ARN, alias or alias ARN."""
    return kms_client.describe_key(KeyId=key)["KeyMetadata"]["Arn"]


# ---------------------------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------------------------


def canonical_policy(policy):
    """A lifecycle policy (dict or JSON text) as a dict in which equal policies compare equal:
    rules sorted by priority, missing descriptions as empty ones. None stays None.

    Raises ValueError when the text is not JSON.
    """
    if policy is None:
        return None
    if isinstance(policy, str):
        policy = json.loads(policy)
    result = copy.deepcopy(policy)
    rules = result.get("rules")
    if isinstance(rules, list):
        for rule in rules:
            if isinstance(rule, dict):
                rule.setdefault("description", "")
        result["rules"] = sorted(rules, key=lambda r: r.get("rulePriority", 0) if isinstance(r, dict) else 0)
    return result


def settings_of(repository, tags, lifecycle_policy):
    """The managed settings of an existing repository (DescribeRepositories entry), snake_case."""
    encryption = repository.get("encryptionConfiguration") or {"encryptionType": "AES256"}
    return {
        "image_tag_mutability": repository.get("imageTagMutability", "MUTABLE"),
        "scan_on_push": bool((repository.get("imageScanningConfiguration") or {}).get("scanOnPush", False)),
        "encryption": encryption.get("encryptionType", "AES256"),
        "kms_key": encryption.get("kmsKey"),
        "lifecycle_policy": canonical_policy(lifecycle_policy),
        "tags": dict(tags),
    }


def repository_for_output(repository, tags, lifecycle_policy, image_count=None):
    """What the modules return for a repository (snake_case, dates as ISO 8601 text)."""
    result = {
        "name": repository["repositoryName"],
        "arn": repository["repositoryArn"],
        "uri": repository["repositoryUri"],
        "registry_id": repository.get("registryId"),
        "created_at": date_text(repository.get("createdAt")),
    }
    result.update(settings_of(repository, tags, lifecycle_policy))
    if image_count is not None:
        result["image_count"] = image_count
    return result


def image_for_output(detail):
    """What the modules return for an image (a DescribeImages entry), snake_case, tags sorted."""
    return {
        "digest": detail["imageDigest"],
        "tags": sorted(detail.get("imageTags") or []),
        "pushed_at": date_text(detail.get("imagePushedAt")),
        "size_in_bytes": detail.get("imageSizeInBytes"),
        "manifest_media_type": detail.get("imageManifestMediaType"),
    }


def registry_credentials(authorization_data):
    """The registry host and the user name and password a Docker client logs in with, from a
    GetAuthorizationToken entry (its token is base64 of ``user:password``).

    Raises ValueError, naming no part of the token, when the token is not of that form.
    """
    try:
        text = base64.b64decode(authorization_data["authorizationToken"], validate=True).decode("utf-8")
    except (ValueError, TypeError):  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ValueError("the authorization token is not base64 text") from None
    username, sep, password = text.partition(":")
    if not sep or not username or not password:
        raise ValueError("the authorization token is not of the form user:password")
    endpoint = authorization_data["proxyEndpoint"]
    registry = endpoint.split("://", 1)[-1].rstrip("/")
    return {
        "registry": registry,
        "proxy_endpoint": endpoint,
        "username": username,
        "password": password,
        "expires_at": date_text(authorization_data.get("expiresAt")),
    }
