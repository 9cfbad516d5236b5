"""The sorry_pages role alone against the embedded emulator, read back with boto3: the private
bucket and its pages, the origin access control, a distribution per domain, the bucket policy
that lets only those distributions read their own prefix, the wildcard certificate in us-east-1
and the alias records; a second run and --check --diff change nothing; changed pages are synced;
teardown leaves nothing. The bad-input cases run in one ansible-playbook run."""

from __future__ import annotations

import json
import shutil

import pytest

from .badinput import assert_fails_before_aws, run_role_cases
from .conftest import ROOT, provision_converges, run_playbook

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "sorry_pages_alone.yml"
PAGES = ROOT / "roles" / "sorry_pages" / "files" / "pages"
ACCOUNT = "123456789012"
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"

# make test-sorry runs the sorry kind's tests alone
pytestmark = [pytest.mark.emulator, pytest.mark.sorry_stack]


def _tags(client, arn) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in client.list_tags_for_resource(Resource=arn)["Tags"].get("Items", [])}


def stack_distributions(cloudfront, stack: str) -> list[dict]:
    items = cloudfront.list_distributions()["DistributionList"].get("Items", [])
    return [d for d in items if _tags(cloudfront, d["ARN"]).get("Stack") == stack]


def test_sorry_pages_are_private_idempotent_synced_and_torn_down(emulator, tmp_path):
    stack = "sorrypg"
    zone_name = "sorrypg.kumo-webstack.example"
    route53 = emulator.client("route53")
    zone_id = route53.create_hosted_zone(Name=zone_name, CallerReference=stack)["HostedZone"]["Id"].split("/")[-1]
    pages = tmp_path / "pages"
    shutil.copytree(PAGES, pages)
    extra = {
        "webstack_name": stack,
        "webstack_state_dir": str(tmp_path),
        "sorry_pages_subdomain": f"sorry.{zone_name}",
        "sorry_pages_zone_id": zone_id,
        "sorry_pages_source_dir": str(pages),
        "sorry_pages_domains": [
            {"name": "www.shop.example"},
            {"name": "old.shop.example", "label": "old", "status": 200},
        ],
    }
    s3 = emulator.client("s3")
    cloudfront = emulator.client("cloudfront")
    acm = emulator.client("acm", region="us-east-1")
    bucket = f"{stack}-sorry-{ACCOUNT}-ap-northeast-1"

    provision_converges(PLAYBOOK, emulator.env, extra)

    # ---- the bucket: private, encrypted, the pages under each domain's prefix
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()), block
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["old/index.html", "www-shop-example/index.html"]
    page = s3.get_object(Bucket=bucket, Key="old/index.html")
    assert page["ContentType"].startswith("text/html")
    assert "メンテナンス" in page["Body"].read().decode()

    # ---- one origin access control, a distribution per domain reading its own prefix through it
    outputs = json.loads((tmp_path / "sorry_pages_outputs.json").read_text())
    oac_id = outputs["origin_access_control_id"]
    oac = cloudfront.get_origin_access_control(Id=oac_id)["OriginAccessControl"]["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["SigningProtocol"], oac["OriginAccessControlOriginType"]) == (
        "always",
        "sigv4",
        "s3",
    )
    certificate = acm.describe_certificate(CertificateArn=outputs["certificate_arn"])["Certificate"]
    assert certificate["DomainName"] == f"*.sorry.{zone_name}" and certificate["Status"] == "ISSUED"
    assert ":us-east-1:" in outputs["certificate_arn"]
    distributions = stack_distributions(cloudfront, stack)
    assert len(distributions) == 2
    by_domain = {d["name"]: d for d in outputs["domains"]}
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    reads = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert {s["Principal"]["Service"] for s in reads} == {"cloudfront.amazonaws.com"}
    assert any(
        s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false" for s in policy["Statement"]
    )
    for name, label, status in (("www.shop.example", "www-shop-example", "503"), ("old.shop.example", "old", "200")):
        out = by_domain[name]
        alias = f"{label}.sorry.{zone_name}"
        assert out["alias"] == alias and out["origin"] == alias
        config = cloudfront.get_distribution_config(Id=out["distribution_id"])["DistributionConfig"]
        (origin,) = config["Origins"]["Items"]
        assert origin["OriginAccessControlId"] == oac_id
        assert origin["OriginPath"] == f"/{label}"
        assert origin["DomainName"].startswith(f"{bucket}.s3.")
        assert config["Aliases"]["Items"] == [alias]
        assert config["ViewerCertificate"]["ACMCertificateArn"] == outputs["certificate_arn"]
        assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
        assert config["DefaultRootObject"] == "index.html"
        assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
        errors = {e["ErrorCode"]: e for e in config["CustomErrorResponses"]["Items"]}
        assert set(errors) == {403, 404}
        assert all(e["ResponseCode"] == status and e["ResponsePagePath"] == "/index.html" for e in errors.values())
        (read,) = [s for s in reads if s["Condition"]["StringEquals"]["AWS:SourceArn"] == out["distribution_arn"]]
        assert read["Action"] == "s3:GetObject"
        assert read["Resource"] == f"arn:aws:s3:::{bucket}/{label}/*"
        for record_type in ("A", "AAAA"):
            (record,) = route53.list_resource_record_sets(
                HostedZoneId=zone_id, StartRecordName=alias, StartRecordType=record_type, MaxItems="1"
            )["ResourceRecordSets"]
            assert record["Name"].rstrip(".") == alias and record["Type"] == record_type
            assert record["AliasTarget"]["HostedZoneId"] == CLOUDFRONT_ZONE
            assert record["AliasTarget"]["DNSName"].rstrip(".") == out["distribution_domain_name"]

    # ---- changed pages: the changed and new files are uploaded, the removed one deleted
    (pages / "index.html").write_text("<!DOCTYPE html><title>closed</title><p>closed</p>\n", encoding="utf-8")
    (pages / "sorry-assets").mkdir()
    (pages / "sorry-assets" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>\n")
    synced = run_playbook(PLAYBOOK, env=emulator.env, extra_vars=extra)
    assert synced.rc == 0, synced.output[-6000:]
    # one task changed: the upload, of two changed pages and two new files
    assert synced.changed == 1 and synced.output.count("changed: [localhost] => (item=") == 4, synced.output[-6000:]
    assert s3.get_object(Bucket=bucket, Key="old/index.html")["Body"].read().startswith(b"<!DOCTYPE html><title>closed")
    (pages / "sorry-assets" / "logo.svg").unlink()
    pruned = run_playbook(PLAYBOOK, env=emulator.env, extra_vars=extra)
    assert pruned.rc == 0 and pruned.changed == 1, pruned.output[-6000:]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["old/index.html", "www-shop-example/index.html"]

    # ---- teardown: nothing of it is left
    down = run_playbook(PLAYBOOK, env=emulator.env, extra_vars={**extra, "webstack_state": "absent"})
    assert down.rc == 0, down.output[-6000:]
    assert stack_distributions(cloudfront, stack) == []
    oacs = cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Items", [])
    assert [o for o in oacs if o["Name"].startswith(stack)] == []
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    left = [
        c["CertificateArn"]
        for c in acm.list_certificates()["CertificateSummaryList"]
        if c["DomainName"] == f"*.sorry.{zone_name}"
    ]
    assert left == []
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert [r["Type"] for r in records if r["Type"] not in ("NS", "SOA")] == []
    again = run_playbook(PLAYBOOK, env=emulator.env, extra_vars={**extra, "webstack_state": "absent"})
    assert again.rc == 0 and again.changed == 0, again.output[-6000:]


BAD = [
    pytest.param(
        {"sorry_pages_domains": "www.example.com"},
        "option 'sorry_pages_domains' is of type str and we were unable to convert to dict",
        id="not-a-list",
    ),
    pytest.param(
        {"sorry_pages_domains": [{"label": "x"}]}, "sorry_pages_domains[0] must be a dict with 'name'", id="no-name"
    ),
    pytest.param(
        {"sorry_pages_domains": [{"name": "www.example.com", "status": 404}]},
        "'status' (503 for maintenance, 200 for a closed service)",
        id="status",
    ),
    pytest.param(
        {"sorry_pages_domains": [{"name": "www.example.com", "lable": "www"}]}, "and no other keys", id="unknown-key"
    ),
    pytest.param(
        {"sorry_pages_domains": [{"name": "www.example.com", "label": "Www_1"}]},
        "'label' (the distribution",
        id="label",
    ),
    pytest.param(
        {"sorry_pages_domains": [{"name": "www.example.com", "source_dir": "/nonexistent"}]},
        "(pages from /nonexistent)",
        id="source-dir",
    ),
    pytest.param(
        {"sorry_pages_domains": [{"name": "a.example.com"}, {"name": "b.example.com", "label": "a-example-com"}]},
        'labels ["a-example-com", "a-example-com"]',
        id="duplicate-label",
    ),
    pytest.param(
        {"sorry_pages_domains": [{"name": "a.example.com"}], "sorry_pages_zone_id": "zone-1"},
        "and sorry_pages_zone_id the id (Z...) of the public hosted zone",
        id="zone-id",
    ),
    pytest.param({"sorry_pages_bucket_name": "my.pages"}, "(no dots", id="bucket-dots"),
    pytest.param({"sorry_pages_error_caching_min_ttl": -1}, "sorry_pages_error_caching_min_ttl must be", id="ttl"),
    pytest.param({"sorry_pages_price_class": "PriceClass_50"}, "sorry_pages_price_class", id="price-class"),
]


@pytest.fixture(scope="module")
def bad_cases(dead_endpoint_env, tmp_path_factory):
    """Every BAD case in one ansible-playbook run (badinput.py), the sorry_pages role alone."""
    return run_role_cases(
        "sorry_pages",
        BAD,
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("sorry-pages-cases"),
        base_vars={"webstack_name": "badsorry", "sorry_pages_subdomain": ""},
    )


@pytest.mark.xdist_group("sorry_pages_bad_input")
@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_fails_before_any_aws_call(extra, message, bad_cases, request):
    assert_fails_before_aws(bad_cases[request.node.callspec.id], message)
