"""The whole rails stack through playbooks/provision.yml and teardown.yml, read back with boto3.

The roles' own test files check each part in detail; this file checks that the playbooks
compose them: every part is there and wired to the others, --check --diff after convergence
predicts no change, the slow resources are started before anything waits, and
teardown leaves nothing tagged with the stack except the data it was told to keep.
"""

from __future__ import annotations

import html
import json
import time

import pytest

from .conftest import ROOT, Emulator, run_playbook, running_emulator

PROVISION = ROOT / "playbooks" / "provision.yml"
TEARDOWN = ROOT / "playbooks" / "teardown.yml"
DIAGRAM = ROOT / "playbooks" / "diagram.yml"

pytestmark = pytest.mark.emulator


def stack_vars(stack: str, tmp_path) -> dict:
    return {
        "webstack_name": stack,
        "webstack_domain": f"{stack}.kumo-webstack.example",
        "webstack_admin_cidrs": ["198.51.100.0/24"],
        "webstack_state_dir": str(tmp_path / "state"),
        "webstack_secrets_dir": str(tmp_path / "secrets"),
    }


def _tag_dict(tags) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def alb_access_logs_checked(emulator: Emulator, stack: str, outputs: dict) -> str:
    """The stack's ALB logs to its log bucket (storage_outputs.log_bucket, prefix alb), read back
    with boto3: the attributes on, the bucket tagged with the stack, SSE-S3, its policy letting
    the region's ELB account write under alb/AWSLogs/<account>/. Returns the log bucket's name."""
    logs = outputs["storage"]["log_bucket"]
    assert logs == f"{stack}-logs-123456789012-ap-northeast-1", outputs["storage"]
    elbv2 = emulator.client("elbv2")
    (alb,) = elbv2.describe_load_balancers(Names=[f"{stack}-alb"])["LoadBalancers"]
    attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=alb["LoadBalancerArn"])["Attributes"]
    }
    access_logs = {k: v for k, v in attributes.items() if k.startswith("access_logs.s3.")}
    assert access_logs == {
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": logs,
        "access_logs.s3.prefix": "alb",
    }, access_logs
    s3 = emulator.client("s3")
    assert _tag_dict(s3.get_bucket_tagging(Bucket=logs)["TagSet"]) == {"Stack": stack, "ManagedBy": "kumo.webstack"}
    (sse,) = s3.get_bucket_encryption(Bucket=logs)["ServerSideEncryptionConfiguration"]["Rules"]
    assert sse["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    statements = {s["Sid"]: s for s in json.loads(s3.get_bucket_policy(Bucket=logs)["Policy"])["Statement"]}
    assert statements["AllowLoadBalancerAccessLogs"]["Resource"] == (
        f"arn:aws:s3:::{logs}/alb/AWSLogs/123456789012/*"
    ), statements
    return logs


def stack_leftovers(emulator: Emulator, stack: str) -> dict[str, list[str]]:
    """Everything still alive and tagged Stack=<stack>, service by service."""
    tag = [{"Name": "tag:Stack", "Values": [stack]}]
    ec2 = emulator.client("ec2")
    elbv2 = emulator.client("elbv2")
    rds = emulator.client("rds")
    acm = emulator.client("acm")
    route53 = emulator.client("route53")
    iam = emulator.client("iam")
    s3 = emulator.client("s3")
    found: dict[str, list[str]] = {}

    found["ec2:instances"] = [
        i["InstanceId"]
        for r in ec2.describe_instances(Filters=tag)["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] not in ("terminated", "shutting-down")
    ]
    found["ec2:vpcs"] = [v["VpcId"] for v in ec2.describe_vpcs(Filters=tag)["Vpcs"]]
    found["ec2:subnets"] = [s["SubnetId"] for s in ec2.describe_subnets(Filters=tag)["Subnets"]]
    found["ec2:security_groups"] = [g["GroupId"] for g in ec2.describe_security_groups(Filters=tag)["SecurityGroups"]]
    found["ec2:addresses"] = [a["AllocationId"] for a in ec2.describe_addresses(Filters=tag)["Addresses"]]
    found["ec2:nat_gateways"] = [
        n["NatGatewayId"]
        for n in ec2.describe_nat_gateways(Filters=tag)["NatGateways"]
        if n["State"] not in ("deleted", "deleting")
    ]
    found["ec2:key_pairs"] = [
        k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"] if k["KeyName"].startswith(f"{stack}-")
    ]
    found["ec2:volumes"] = [v["VolumeId"] for v in ec2.describe_volumes(Filters=tag)["Volumes"]]
    found["ec2:flow_logs"] = [f["FlowLogId"] for f in ec2.describe_flow_logs(Filters=tag)["FlowLogs"]]
    # images a bake playbook made (kept by default at teardown), and their EBS snapshots: those
    # tagged with the stack and those the stack's images refer to (whatever their tags)
    images = ec2.describe_images(Owners=["self"], Filters=tag)["Images"]
    found["ec2:images"] = [i["ImageId"] for i in images]
    snapshots = {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"], Filters=tag)["Snapshots"]}
    snapshots |= {
        m["Ebs"]["SnapshotId"]
        for i in images
        for m in i.get("BlockDeviceMappings", [])
        if m.get("Ebs", {}).get("SnapshotId")
    }
    found["ec2:snapshots"] = sorted(snapshots)

    arns = [lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]]
    arns += [tg["TargetGroupArn"] for tg in elbv2.describe_target_groups()["TargetGroups"]]
    found["elbv2"] = []
    if arns:
        for desc in elbv2.describe_tags(ResourceArns=arns)["TagDescriptions"]:
            if _tag_dict(desc["Tags"]).get("Stack") == stack:
                found["elbv2"].append(desc["ResourceArn"])

    found["rds"] = []
    for db in rds.describe_db_instances()["DBInstances"]:
        if _tag_dict(rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"])["TagList"]).get("Stack") == stack:
            found["rds"].append(db["DBInstanceIdentifier"])
    for group in rds.describe_db_subnet_groups()["DBSubnetGroups"]:
        if group["DBSubnetGroupName"].startswith(f"{stack}-"):
            found["rds"].append(group["DBSubnetGroupName"])
    for group in rds.describe_db_parameter_groups()["DBParameterGroups"]:
        if group["DBParameterGroupName"].startswith(f"{stack}-"):
            found["rds"].append(group["DBParameterGroupName"])

    # the stack's region, and us-east-1 (CloudFront's certificates: the sorry pages')
    found["acm"] = [
        c["CertificateArn"]
        for client in (acm, emulator.client("acm", region="us-east-1"))
        for c in client.list_certificates()["CertificateSummaryList"]
        if _tag_dict(client.list_tags_for_certificate(CertificateArn=c["CertificateArn"]).get("Tags")).get("Stack")
        == stack
    ]
    cloudfront = emulator.client("cloudfront")
    found["cloudfront"] = [
        d["Id"]
        for d in cloudfront.list_distributions()["DistributionList"].get("Items", [])
        if _tag_dict(cloudfront.list_tags_for_resource(Resource=d["ARN"])["Tags"].get("Items")).get("Stack") == stack
    ]
    found["cloudfront"] += [
        o["Id"]
        for o in cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Items", [])
        if o["Name"].startswith(f"{stack}-")
    ]
    found["route53"] = []
    for zone in route53.list_hosted_zones()["HostedZones"]:
        zone_id = zone["Id"].split("/")[-1]
        tags = route53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)["ResourceTagSet"]["Tags"]
        if _tag_dict(tags).get("Stack") == stack:
            found["route53"].append(zone["Name"])
    found["iam"] = [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"{stack}-")]
    found["iam"] += [
        p["InstanceProfileName"]
        for p in iam.list_instance_profiles()["InstanceProfiles"]
        if p["InstanceProfileName"].startswith(f"{stack}-")
    ]
    found["s3"] = []
    for bucket in s3.list_buckets()["Buckets"]:
        try:
            tags = s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"]
        except s3.exceptions.ClientError:
            continue
        if _tag_dict(tags).get("Stack") == stack:
            found["s3"].append(bucket["Name"])
    found["s3"].sort()
    # the bot kind's services (seed 002)
    ecs = emulator.client("ecs")
    found["ecs"] = (
        [
            c["clusterName"]
            for c in ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"], include=["TAGS"])["clusters"]
            if c["status"] == "ACTIVE" and _tag_dict_lower(c.get("tags")).get("Stack") == stack
        ]
        if ecs.list_clusters()["clusterArns"]
        else []
    )
    found["ecs:task_definitions"] = ecs.list_task_definitions(familyPrefix=f"{stack}-", status="ACTIVE")[
        "taskDefinitionArns"
    ]
    found["ecr"] = [
        r["repositoryName"]
        for r in emulator.client("ecr").describe_repositories()["repositories"]
        if r["repositoryName"].startswith(f"{stack}/")
    ]
    found["ssm"] = [
        p["Name"]
        for page in emulator.client("ssm")
        .get_paginator("get_parameters_by_path")
        .paginate(Path=f"/{stack}/", Recursive=True)
        for p in page["Parameters"]
    ]
    found["scheduler"] = [
        g["Name"] for g in emulator.client("scheduler").list_schedule_groups()["ScheduleGroups"] if g["Name"] == stack
    ]
    # the bot's tasks' logs and the VPC flow logs (the network role's)
    found["logs"] = [
        g["logGroupName"]
        for prefix in (f"/ecs/{stack}/", f"/webstack/{stack}/")
        for g in emulator.client("logs").describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
    ]
    # the backup role's vault and plan, by their Stack tag (its IAM role is in found["iam"])
    backup = emulator.client("backup")
    found["backup"] = [
        v["BackupVaultName"]
        for v in backup.list_backup_vaults()["BackupVaultList"]
        if backup.list_tags(ResourceArn=v["BackupVaultArn"])["Tags"].get("Stack") == stack
    ]
    found["backup"] += [
        p["BackupPlanName"]
        for p in backup.list_backup_plans()["BackupPlansList"]
        if backup.list_tags(ResourceArn=p["BackupPlanArn"])["Tags"].get("Stack") == stack
    ]
    # the chat kind's cache (seed 004): replication groups by their Stack tag, subnet groups by name
    elasticache = emulator.client("elasticache")
    found["elasticache"] = [
        g["ReplicationGroupId"]
        for g in elasticache.describe_replication_groups()["ReplicationGroups"]
        if _tag_dict(elasticache.list_tags_for_resource(ResourceName=g["ARN"])["TagList"]).get("Stack") == stack
    ]
    found["elasticache"] += [
        g["CacheSubnetGroupName"]
        for g in elasticache.describe_cache_subnet_groups()["CacheSubnetGroups"]
        if g["CacheSubnetGroupName"].startswith(f"{stack}-")
    ]
    return {kind: ids for kind, ids in found.items() if ids}


def _tag_dict_lower(tags) -> dict[str, str]:
    """ECS tags: lowercase keys (key, value)."""
    return {t["key"]: t["value"] for t in tags or []}


def test_whole_stack_is_idempotent_truthful_and_torn_down_keeping_data(slow_emulator, tmp_path):
    """The whole stack, on a private emulator whose slow resources take SLOW_SECONDS to turn
    ready (see slow_emulator): one first provision proves both that it converges and that its
    slow resources were all started before the first wait (assert_parallel_start)."""
    emulator, call_log = slow_emulator
    stack = "rails1"
    extra = stack_vars(stack, tmp_path)
    outputs_file = tmp_path / "state" / stack / "outputs.json"

    # (--check on an empty account, which creates nothing: test_collection_build.py, from the
    # built collection)
    started = time.monotonic()
    first = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
    first_seconds = time.monotonic() - started
    assert first.rc == 0, first.output[-8000:]
    assert first.changed > 0
    assert_parallel_start(call_log, first)
    print(f"\nfirst provision against {SLOW_SECONDS} s slow resources: {first_seconds:.1f} s")

    # A second run changing nothing: each role's own test runs its role twice, and the e2e test
    # (test_rails_twin.py) runs site.yml on a built stack (blog's switch back to Unicorn) and
    # asserts the controller's side changed nothing: provision and twin. `make bench-provision`
    # times a no-op provision on a fresh emulator. Here, --check --diff after convergence:
    check = run_playbook(PROVISION, "--check", "--diff", env=emulator.env, extra_vars=extra)
    assert check.rc == 0, check.output[-8000:]
    assert check.changed == 0, check.output[-8000:]

    # ---- outputs.json and the printed summary
    out = json.loads(outputs_file.read_text())
    summary = out["summary"]
    assert out["stack"] == stack and out["domain"] == f"{stack}.kumo-webstack.example"
    # no sorry pages given: nothing of the shape recorded for the teardown (see the test below)
    assert out["shape"] == {}, out["shape"]
    assert out["url"] == f"https://{stack}.kumo-webstack.example"
    for key in ("alb_dns_name", "bastion_public_ip", "rds_endpoint", "rds_port", "bucket", "certificate_arn"):
        assert summary[key], key
    assert len(summary["web_instance_ids"]) == 2
    assert f"URL          https://{stack}.kumo-webstack.example" in first.output
    password = (tmp_path / "secrets" / "db-master-password").read_text().strip()
    assert len(password) >= 16
    for run in (first, check):
        assert password not in run.output
    assert password not in outputs_file.read_text()

    # ---- the diagram, read back from the API (playbooks/diagram.yml; make diagram), and a second
    # run that draws nothing
    started = time.monotonic()
    drawn = run_playbook(DIAGRAM, env=emulator.env, extra_vars=extra)
    assert drawn.rc == 0, drawn.output[-8000:]
    assert drawn.changed > 0
    png, svg = outputs_file.with_name("diagram.png"), outputs_file.with_name("diagram.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000
    drawing = html.unescape(svg.read_text())
    assert svg.stat().st_size > 50_000 and "data:image/png;base64," in drawing
    names = [
        out["network"]["vpc_cidr"],
        *(f"{tier} subnet {stack}-{tier}-{az}" for tier in ("public", "private") for az in out["network"]["azs"]),
        *(out["network"]["subnet_cidrs"][tier][az] for tier in ("public", "private") for az in out["network"]["azs"]),
        *(i["name"] for i in out["compute"]["groups"]["bastion"]["instances"] + out["compute"]["web"]),
        *summary["web_instance_ids"],
        f"ALB {stack}-alb",
        "HTTP:80 → redirect HTTPS:443 (HTTP_301)",
        f"HTTPS:443 → forward {out['loadbalancer']['target_group_name']}",
        f"RDS {out['database']['instance_id']}",
        f"S3 {summary['bucket']}",
        out["network"]["s3_endpoint_id"],
        *out["network"]["nat_gateways"].values(),
    ]
    assert len(out["network"]["azs"]) == 2
    assert [name for name in names if name not in drawing] == []
    again = run_playbook(DIAGRAM, env=emulator.env, extra_vars=extra)
    assert again.rc == 0, again.output[-8000:]
    assert again.changed == 0, again.output[-8000:]
    print(f"\ndiagram, drawn and then unchanged: {time.monotonic() - started:.1f} s")

    # ---- read AWS back: each part exists and is wired to the others
    ec2 = emulator.client("ec2")
    elbv2 = emulator.client("elbv2")
    rds = emulator.client("rds")
    route53 = emulator.client("route53")
    s3 = emulator.client("s3")
    net = out["network"]
    sgs = out["security_groups"]

    instances = {
        i["InstanceId"]: i
        for r in ec2.describe_instances(Filters=[{"Name": "tag:Stack", "Values": [stack]}])["Reservations"]
        for i in r["Instances"]
    }
    assert set(instances) == {summary["bastion_instance_id"], *summary["web_instance_ids"]}
    for instance in instances.values():
        assert instance["MetadataOptions"]["HttpTokens"] == "required"
    web_subnets = {instances[i]["SubnetId"] for i in summary["web_instance_ids"]}
    assert web_subnets == set(net["subnets"]["private"].values())
    assert {g["GroupId"] for i in summary["web_instance_ids"] for g in instances[i]["SecurityGroups"]} == {sgs["web"]}

    for table_id in set(net["route_tables"]["private"].values()):
        (table,) = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"]
        assert any(r.get("NatGatewayId") and r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in table["Routes"])

    (db,) = rds.describe_db_instances(DBInstanceIdentifier=out["database"]["instance_id"])["DBInstances"]
    assert db["StorageEncrypted"] and not db["PubliclyAccessible"] and db["DeletionProtection"]
    assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == [sgs["db"]]
    assert db["Endpoint"]["Address"] == summary["rds_endpoint"]

    policy = json.loads(s3.get_bucket_policy(Bucket=summary["bucket"])["Policy"])
    assert any(
        s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in policy["Statement"]
    )
    # the log bucket (storage ran before the load balancer): the uploads bucket's server access
    # logs and the ALB's access logs go to it, and the ALB is protected from deletion
    logs = out["storage"]["log_bucket"]
    assert logs == f"{stack}-logs-123456789012-ap-northeast-1"
    assert s3.get_bucket_logging(Bucket=summary["bucket"])["LoggingEnabled"]["TargetBucket"] == logs

    (alb,) = elbv2.describe_load_balancers(Names=[f"{stack}-alb"])["LoadBalancers"]
    assert alb["DNSName"] == summary["alb_dns_name"]
    assert alb["SecurityGroups"] == [sgs["alb"]]
    attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=alb["LoadBalancerArn"])["Attributes"]
    }
    assert attributes["deletion_protection.enabled"] == "true"
    assert (attributes["access_logs.s3.enabled"], attributes["access_logs.s3.bucket"]) == ("true", logs)
    assert attributes["access_logs.s3.prefix"] == "alb"
    listeners = {
        lst["Port"]: lst for lst in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    }
    assert set(listeners) == {80, 443}
    (redirect,) = listeners[80]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS" and redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"
    assert listeners[443]["Certificates"][0]["CertificateArn"] == summary["certificate_arn"]
    assert listeners[443]["SslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    (tg,) = elbv2.describe_target_groups(LoadBalancerArn=alb["LoadBalancerArn"])["TargetGroups"]
    assert tg["HealthCheckPath"] == "/up"
    targets = elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
    assert {t["Target"]["Id"] for t in targets} == set(summary["web_instance_ids"])

    zone_id = out["domain_zone"]["zone_id"]
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    aliases = {(r["Name"].rstrip("."), r["Type"]) for r in records if "AliasTarget" in r}
    domain = f"{stack}.kumo-webstack.example"
    assert aliases == {(domain, "A"), (domain, "AAAA"), (f"www.{domain}", "A"), (f"www.{domain}", "AAAA")}

    # ---- tags: a role's name selects its tasks in provision.yml and teardown.yml. The engines
    # include the roles at run time, so only a run shows it (--list-tags shows `always`). The
    # roles that do not run: their outputs are read from outputs.json, which is written again.
    one = run_playbook(PROVISION, "--tags", "database", env=emulator.env, extra_vars=extra)
    assert one.rc == 0, one.output[-8000:]
    assert one.roles == {"database"}, one.output[-8000:]
    assert one.changed == 0, one.output[-8000:]
    assert json.loads(outputs_file.read_text()) == out
    assert f"URL          https://{stack}.kumo-webstack.example" in one.output

    # ---- a plain teardown keeps the data: the final snapshot and the non-empty bucket
    # An upload as the app would make it. The policy (rightly) refuses object writes that do not
    # come through the VPC endpoint, which the emulator cannot route, and moto does not evaluate
    # aws:PrincipalArn; so the test lifts the policy, as an administrator could, to write one.
    s3.delete_bucket_policy(Bucket=summary["bucket"])
    s3.put_object(Bucket=summary["bucket"], Key="uploads/keep.png", Body=b"\x89PNG data")
    # ---- a teardown killed halfway (issue 18, part 4): SIGTERM at the Nth task, three times, each
    # further in; the next run finishes the job, and the data kept is still kept (below)
    left = []
    for task in KILLED_AT_TASKS:
        killed = run_playbook(
            TEARDOWN, "--skip-tags", "storage", env=emulator.env, extra_vars=extra, terminate_at_task=task
        )
        assert killed.rc != 0, killed.output[-4000:]
        assert password not in killed.output
        left.append(sum(len(ids) for ids in stack_leftovers(emulator, stack).values()))
    print(f"\nteardown killed at tasks {KILLED_AT_TASKS}: resources left after each {left}")
    assert left[-1] < left[0], left

    # in two runs, by tags: all but the buckets (the protected ALB goes: its protection is lifted),
    # then the buckets: the non-empty uploads bucket is kept, and the (empty, in the emulator: no
    # log is delivered here) log bucket with it, since it holds that bucket's access record
    down = run_playbook(TEARDOWN, "--skip-tags", "storage", env=emulator.env, extra_vars=extra)
    assert down.rc == 0, down.output[-8000:]
    assert down.roles == set(out["parts"]) - {"storage"}, down.output[-8000:]
    assert stack_leftovers(emulator, stack) == {"s3": sorted([summary["bucket"], logs])}
    kept = run_playbook(TEARDOWN, "--tags", "storage", env=emulator.env, extra_vars=extra)
    assert kept.rc == 0, kept.output[-8000:]
    assert kept.roles == {"storage"}, kept.output[-8000:]
    assert f"KEPT: Bucket {summary['bucket']} is not empty" in " ".join(kept.output.split())
    assert f"Bucket {logs} (the log bucket of the stack) is kept with it" in " ".join(kept.output.split())
    for run in (one, down, kept):
        assert password not in run.output
    assert stack_leftovers(emulator, stack) == {"s3": sorted([summary["bucket"], logs])}
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=out["database"]["instance_id"])["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"] for s in snapshots if s["DBSnapshotIdentifier"].startswith(f"{stack}-final-")]
    assert s3.get_object(Bucket=summary["bucket"], Key="uploads/keep.png")["Body"].read() == b"\x89PNG data"

    # (a second teardown changing nothing is checked per role, in each role's test file; a forced
    # teardown of a whole stack with its data, leaving nothing, in test_rails_twin.py: blog)


# Where the teardown is killed (SIGTERM when the Nth task starts): early, in the middle, late
# (the rails teardown starts about 150 tasks).
KILLED_AT_TASKS = (20, 70, 120)


# How long each slow resource stays in its transitional state. It must outlast the start
# phase (first to last create call: printed below, 15-25 s idle here), or a describe made
# while starting a later resource would already see an earlier one ready. 120 s covers a
# machine at half speed with the other core busy; the run takes about that much longer.
SLOW_SECONDS = 120
SLOW_KINDS = {
    "CreateNatGateway": "nat_gateway",
    "RequestCertificate": "certificate",
    "CreateDBInstance": "db_instance",
    "CreateLoadBalancer": "load_balancer",
}


@pytest.fixture
def slow_emulator(tmp_path):
    """A private emulator where NAT gateways, RDS instances, load balancers and certificates
    stay in their transitional state for SLOW_SECONDS after creation, logging every call and
    the first time it reports each of those resources ready."""
    call_log = tmp_path / "calls.jsonl"
    with running_emulator(
        tmp_path,
        MOTO_ACM_VALIDATION_WAIT=str(SLOW_SECONDS),
        WEBSTACK_EMULATOR_SLOW_SECONDS=str(SLOW_SECONDS),
        WEBSTACK_EMULATOR_CALL_LOG=str(call_log),
    ) as running:
        yield running, call_log


def assert_parallel_start(call_log, run):
    """Proof of the parallel start, from the emulator's log of calls. Each slow resource turns
    ready SLOW_SECONDS after its create call, and the log records the first time the emulator
    reports it ready, which only a poll (a wait) sees. Had the playbook waited for one before
    creating another, that ready report would come before the other's create call. Instead
    every create call comes before the first ready report: all four were under way together."""
    events = [json.loads(line) for line in call_log.read_text().splitlines()]
    creates: dict[str, float] = {}
    ready: dict[str, float] = {}
    for event in events:
        if event.get("action") in SLOW_KINDS:
            kind = SLOW_KINDS[event["action"]]
            assert kind not in creates, f"{event['action']} issued twice"
            creates[kind] = event["t"]
        elif "ready" in event:
            ready.setdefault(event["ready"], event["t"])
    assert set(creates) == set(SLOW_KINDS.values())
    assert set(ready) == set(SLOW_KINDS.values()), f"not awaited: {set(SLOW_KINDS.values()) - set(ready)}"
    origin = min(creates.values())
    print(
        "\ncreate calls, s after the first:",
        {k: round(t - origin, 1) for k, t in sorted(creates.items(), key=lambda x: x[1])},
    )
    print(
        "first ready report, s after the first create:",
        {k: round(t - origin, 1) for k, t in sorted(ready.items(), key=lambda x: x[1])},
    )
    last_create, first_ready = max(creates.values()), min(ready.values())
    assert last_create < first_ready, "a slow resource was awaited before every slow create call was issued"
    # the waits said what they were waiting for while they waited
    assert any("RETRYING" in line and "Wait for" in line for line in run.output.splitlines()), run.output[-4000:]


def test_teardown_takes_the_kind_and_shape_from_outputs(emulator, dead_endpoint_env, tmp_path):
    """A teardown not given the variables that shaped the stack (here sorry pages and sorry
    servers) takes them from the outputs.json the provision wrote, so it removes what was built;
    one run as the wrong kind stops before any AWS call, naming the kind to give."""
    stack = "shape1"
    extra = stack_vars(stack, tmp_path)
    state = tmp_path / "state" / stack
    state.mkdir(parents=True)
    outputs = state / "outputs.json"

    outputs.write_text(json.dumps({"stack": stack, "kind": "sorry", "parts": {}, "shape": {}}))
    wrong = run_playbook(TEARDOWN, env=dead_endpoint_env, extra_vars=extra)
    assert wrong.rc != 0
    flat = " ".join(wrong.output.split())
    assert "was provisioned as kind 'sorry' " in flat and "-e webstack_kind=sorry" in flat, wrong.output[-3000:]

    # --check on an account without the stack: every part's removal runs, and changes nothing
    domains = [{"name": f"{stack}.kumo-webstack.example"}, {"name": f"www.{stack}.kumo-webstack.example"}]
    recorded = {"stack": stack, "kind": "rails", "parts": {}, "shape": {"sorry_pages_domains": domains}}
    outputs.write_text(json.dumps(recorded))
    check = run_playbook(TEARDOWN, "--check", env=emulator.env, extra_vars=extra)
    assert check.rc == 0, check.output[-6000:]
    assert "Remove the part, sorry_pages" in check.output, check.output[-6000:]
    assert check.changed == 0, check.output[-6000:]
