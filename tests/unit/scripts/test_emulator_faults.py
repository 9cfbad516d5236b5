"""scripts/emulator_faults.py: the emulator's fault mode (throttling, 5xx, read-after-write lag).

The middleware is tested around moto's own server application, in this process: served on a free
port of 127.0.0.1 for boto3 clients (so each protocol's error is parsed by botocore itself), or
called directly as a WSGI app (werkzeug's test client) where bytes or counts are checked. The lag
runs on a clock the test moves, so nothing sleeps.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from werkzeug.serving import make_server
from werkzeug.test import Client

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = ROOT / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

faults = importlib.import_module("emulator_faults")
FaultConfig, FaultMiddleware = faults.FaultConfig, faults.FaultMiddleware

REGION = "ap-northeast-1"
NO_RETRIES = Config(retries={"total_max_attempts": 1})


@pytest.fixture(autouse=True)
def fast_moto(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_URL", "EC2_URL", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


def moto_app():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def serve():
    """serve(app) -> its URL on a free port of 127.0.0.1 (moto's own request handler)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    servers = []

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


def client(url, service, region=REGION, config=NO_RETRIES):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def error_of(call, *args, **kwargs) -> tuple[str, int] | None:
    try:
        call(*args, **kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


def signed(service, region=REGION) -> dict[str, str]:
    """The headers of a SigV4-signed request, as far as the middleware reads them."""
    return {
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0"
    }


# ---------------------------------------------------------------- off by default


def test_off_unless_its_variables_are_set(monkeypatch):
    import moto.server

    assert FaultConfig.from_env({}) is None
    assert FaultConfig.from_env({"WEBSTACK_EMULATOR_FAULT_THROTTLE": "0", "WEBSTACK_EMULATOR_FAULT_SEED": "4"}) is None
    before = moto.server.DomainDispatcherApplication
    assert faults.install({}) is None
    assert moto.server.DomainDispatcherApplication is before
    with pytest.raises(ValueError, match="a share is 0..1"):
        FaultConfig.from_env({"WEBSTACK_EMULATOR_FAULT_THROTTLE": "10"})

    monkeypatch.setattr(moto.server, "DomainDispatcherApplication", before)
    config = faults.install({"WEBSTACK_EMULATOR_FAULT_LAG": "5", "WEBSTACK_EMULATOR_FAULT_SERVICES": "ec2, S3"})
    assert config == FaultConfig(lag=5.0, seed=config.seed, services=frozenset({"ec2", "s3"}))
    assert isinstance(moto.server.DomainDispatcherApplication(lambda service: None), FaultMiddleware)


def raw_answers(app) -> list:
    """Status, headers (less Date) and body of a few calls of several protocols, made directly
    (moto's random request ids seeded alike)."""
    from moto.moto_api._internal import mock_random

    mock_random.seed(18)
    web = Client(app)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answers = []
    for response in (
        web.post("/", data="Action=DescribeVpcs&Version=2016-11-15", headers={**signed("ec2"), **form}),
        web.post("/", data="Action=DescribeSecurityGroups&Version=2016-11-15", headers={**signed("ec2"), **form}),
        web.get("/", headers=signed("s3", "us-east-1")),
        web.post(
            "/",
            data="Action=DescribeLoadBalancers&Version=2015-12-01",
            headers={**signed("elasticloadbalancing"), **form},
        ),
        web.get("/moto-api/"),
    ):
        headers = sorted((k, v) for k, v in response.headers.items() if k.lower() not in ("date", "x-amzn-requestid"))
        answers.append((response.status, headers, response.get_data()))
    return answers


def test_calls_it_does_not_fault_are_answered_byte_identical():
    # lag on, no shares: nothing created, so every answer is moto's own, byte for byte; and with
    # shares of 1 but only for another service, likewise
    raw_answers(moto_app())  # moto makes its backends (and draws their random ids) once
    plain = raw_answers(moto_app())
    assert raw_answers(FaultMiddleware(moto_app(), FaultConfig(lag=5, seed=1))) == plain
    assert raw_answers(FaultMiddleware(moto_app(), FaultConfig(throttle=1, seed=1, services={"rds"}))) == plain
    # and moto's own API is never faulted
    web = Client(FaultMiddleware(moto_app(), FaultConfig(throttle=1, seed=1)))
    assert web.get("/moto-api/").status_code == 200


# ---------------------------------------------------------------- shares


def ok_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def draw(config, calls=4000) -> Counter:
    web = Client(FaultMiddleware(ok_app, config))
    form = {"Content-Type": "application/x-www-form-urlencoded", **signed("ec2")}
    return Counter(web.post("/", data="Action=DescribeVpcs", headers=form).status_code for _ in range(calls))


def test_the_injected_share_is_near_the_configured_one_and_the_seed_repeats_it(tmp_path):
    log = tmp_path / "faults.jsonl"
    config = FaultConfig(throttle=0.10, error=0.02, seed=7, log=str(log))
    counts = draw(config)
    # ec2: throttling is RequestLimitExceeded (503), a server error 500 or 503
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    kinds = Counter(e["fault"] for e in entries)
    assert 0.085 < kinds["throttle"] / 4000 < 0.115, kinds
    assert 0.012 < kinds["error"] / 4000 < 0.028, kinds
    assert counts[200] == 4000 - len(entries)
    assert {(e["service"], e["action"]) for e in entries} == {("ec2", "DescribeVpcs")}
    assert {(e["code"], e["status"]) for e in entries if e["fault"] == "throttle"} == {("RequestLimitExceeded", 503)}
    assert {(e["code"], e["status"]) for e in entries if e["fault"] == "error"} == {
        ("InternalError", 500),
        ("Unavailable", 503),
    }
    assert draw(FaultConfig(throttle=0.10, error=0.02, seed=7)) == counts
    assert draw(FaultConfig(throttle=0.10, error=0.02, seed=8)) != counts


# ---------------------------------------------------------------- each protocol's errors

CALLS = [
    # service, call, arguments, region, the throttling error (code, status)
    ("ec2", "describe_vpcs", {}, REGION, ("RequestLimitExceeded", 503)),
    ("elbv2", "describe_load_balancers", {}, REGION, ("Throttling", 400)),
    ("rds", "describe_db_instances", {}, REGION, ("Throttling", 400)),
    ("iam", "list_roles", {}, REGION, ("Throttling", 400)),
    ("sts", "get_caller_identity", {}, REGION, ("Throttling", 400)),
    ("ecs", "list_clusters", {}, REGION, ("ThrottlingException", 400)),
    ("acm", "list_certificates", {}, REGION, ("ThrottlingException", 400)),
    ("route53domains", "list_domains", {}, "us-east-1", ("ThrottlingException", 400)),
    ("scheduler", "list_schedules", {}, REGION, ("ThrottlingException", 429)),
    ("lambda", "list_functions", {}, REGION, ("TooManyRequestsException", 429)),
    ("s3", "list_buckets", {}, "us-east-1", ("SlowDown", 503)),
    ("s3", "head_bucket", {"Bucket": "any"}, "us-east-1", ("503", 503)),  # HEAD: no body
    ("route53", "list_hosted_zones", {}, "us-east-1", ("Throttling", 400)),
    ("cloudfront", "list_distributions", {}, "us-east-1", ("Throttling", 400)),
]
SERVER_ERRORS = {
    "ec2": {("InternalError", 500), ("Unavailable", 503)},
    "s3": {("InternalError", 500), ("ServiceUnavailable", 503), ("500", 500), ("503", 503)},
}


@pytest.fixture(scope="module")
def throttled(serve):
    return serve(FaultMiddleware(moto_app(), FaultConfig(throttle=1, seed=1)))


@pytest.fixture(scope="module")
def failing(serve):
    return serve(FaultMiddleware(moto_app(), FaultConfig(error=1, seed=1)))


@pytest.mark.parametrize(("service", "call", "args", "region", "throttling"), CALLS, ids=[c[1] for c in CALLS])
def test_each_protocol_answers_the_services_own_errors(throttled, failing, service, call, args, region, throttling):
    assert error_of(getattr(client(throttled, service, region), call), **args) == throttling
    errors = {error_of(getattr(client(failing, service, region), call), **args) for _ in range(6)}
    assert errors <= SERVER_ERRORS.get(service, {("InternalFailure", 500), ("ServiceUnavailable", 503)}), errors
    assert {status for _, status in errors} == {500, 503}  # 6 draws at 1/2 each: seed 1 gives both


def test_every_injected_error_is_one_botocore_retries():
    from botocore.retries.standard import ThrottledRetryableChecker, TransientRetryableChecker

    throttled = ThrottledRetryableChecker()._throttled_error_codes
    transient = TransientRetryableChecker()._transient_status_codes
    services = {name: faults.service_model(name) for name in {c[0] for c in CALLS}}
    for service in services.values():
        code, status = faults.fault_error(service, "throttle")
        assert code in throttled or status == 429, (service.name, code)
        for wanted in (500, 503):
            assert faults.fault_error(service, "error", wanted)[1] in transient


def test_a_client_with_its_default_retries_gets_through(serve, tmp_path, monkeypatch):
    from botocore.retries.standard import ExponentialBackoff

    # the same retries, a tenth of botocore's waits between them
    delay = ExponentialBackoff.delay_amount
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: delay(self, context) / 10)
    log = tmp_path / "faults.jsonl"
    url = serve(FaultMiddleware(moto_app(), FaultConfig(throttle=0.25, error=0.10, seed=3, log=str(log))))
    retrying = Config()  # botocore's defaults: standard mode, 3 attempts
    for service, call, args, region, _ in CALLS:
        if service == "s3" and call == "head_bucket":
            client(url, "s3", region, config=retrying).create_bucket(Bucket="any")
        getattr(client(url, service, region, config=retrying), call)(**args)
    met = Counter(json.loads(line)["fault"] for line in log.read_text().splitlines())
    assert met["throttle"] >= 2 and met["error"] >= 1, met  # met, and retried


# ---------------------------------------------------------------- read-after-write lag


@pytest.fixture
def lagging(serve, tmp_path):
    """(URL of a moto with a 5 s lag, its clock, its fault log)."""
    clock, log = Clock(), tmp_path / "faults.jsonl"
    return serve(FaultMiddleware(moto_app(), FaultConfig(lag=5, seed=1, log=str(log)), clock=clock)), clock, log


def tag_filter(value):
    return [{"Name": "tag:Lag", "Values": [value]}]


def tags(resource, value):
    return [{"ResourceType": resource, "Tags": [{"Key": "Lag", "Value": value}]}]


def test_lag_hides_a_new_vpc_and_security_group_from_reads_for_its_seconds(lagging):
    url, clock, log = lagging
    ec2 = client(url, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16", TagSpecifications=tags("vpc", "one"))["Vpc"]["VpcId"]
    group = ec2.create_security_group(
        GroupName="lag-one", Description="lag", VpcId=vpc, TagSpecifications=tags("security-group", "one")
    )["GroupId"]

    # by id: the service's NotFound, naming the real id
    with pytest.raises(ClientError) as missing:
        ec2.describe_vpcs(VpcIds=[vpc])
    assert missing.value.response["Error"]["Code"] == "InvalidVpcID.NotFound"
    assert vpc in missing.value.response["Error"]["Message"]
    assert error_of(ec2.describe_security_groups, GroupIds=[group]) == ("InvalidGroup.NotFound", 400)
    assert error_of(ec2.describe_vpc_attribute, VpcId=vpc, Attribute="enableDnsSupport")[0] == "InvalidVpcID.NotFound"
    # a filtered list: left out
    assert ec2.describe_vpcs(Filters=tag_filter("one"))["Vpcs"] == []
    assert ec2.describe_security_groups(Filters=tag_filter("one"))["SecurityGroups"] == []
    # other kinds are not hidden: the VPC's default security group, its subnets' reads
    defaults = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    assert [g["GroupName"] for g in defaults] == ["default"]

    clock.now += 5.1
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"] == vpc
    assert [v["VpcId"] for v in ec2.describe_vpcs(Filters=tag_filter("one"))["Vpcs"]] == [vpc]
    assert [g["GroupId"] for g in ec2.describe_security_groups(Filters=tag_filter("one"))["SecurityGroups"]] == [group]

    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["action"], e["ids"]) for e in entries if e["fault"] == "lag_start"] == [
        ("CreateVpc", [vpc]),
        ("CreateSecurityGroup", [group]),
    ]
    assert Counter(e["action"] for e in entries if e["fault"] == "lag") == {
        "DescribeVpcs": 2,
        "DescribeSecurityGroups": 3,  # the by-vpc list too
        "DescribeVpcAttribute": 1,
    }


def test_lag_leaves_older_resources_whole(lagging):
    """A rule of an older group naming a lagging group is still there; an older instance is too."""
    url, clock, _ = lagging
    ec2 = client(url, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    older = ec2.create_security_group(GroupName="lag-older", Description="lag", VpcId=vpc)["GroupId"]
    clock.now += 6
    newer = ec2.create_security_group(GroupName="lag-newer", Description="lag", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=older,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": newer}]}
        ],
    )
    (group,) = ec2.describe_security_groups(GroupIds=[older])["SecurityGroups"]
    assert [p["GroupId"] for p in group["IpPermissions"][0]["UserIdGroupPairs"]] == [newer]
    listed = {
        g["GroupId"]
        for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    }
    assert older in listed and newer not in listed

    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.41.1.0/24")["Subnet"]["SubnetId"]
    clock.now += 6
    first = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=subnet)["Instances"][0]
    clock.now += 6
    second = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, SubnetId=subnet)["Instances"][0]
    in_subnet = [{"Name": "subnet-id", "Values": [subnet]}]
    reservations = ec2.describe_instances(Filters=in_subnet)["Reservations"]
    assert [i["InstanceId"] for r in reservations for i in r["Instances"]] == [first["InstanceId"]]
    assert len(reservations) == 1  # the second's reservation is left out, not listed empty
    assert error_of(ec2.describe_instances, InstanceIds=[second["InstanceId"]])[0] == "InvalidInstanceID.NotFound"
    clock.now += 6
    assert len(ec2.describe_instances(Filters=in_subnet)["Reservations"]) == 2


def test_lag_hides_a_new_bucket_cluster_and_database(lagging):
    url, clock, _ = lagging
    s3 = client(url, "s3")
    s3.create_bucket(Bucket="lag-bucket-one", CreateBucketConfiguration={"LocationConstraint": REGION})
    assert error_of(s3.head_bucket, Bucket="lag-bucket-one") == ("404", 404)
    assert error_of(s3.get_bucket_tagging, Bucket="lag-bucket-one")[0] == "NoSuchBucket"
    assert "lag-bucket-one" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    ecs = client(url, "ecs")
    arn = ecs.create_cluster(clusterName="lag-cluster")["cluster"]["clusterArn"]
    assert arn not in ecs.list_clusters()["clusterArns"]
    described = ecs.describe_clusters(clusters=["lag-cluster"])
    assert described["clusters"] == [] and described["failures"][0]["reason"] == "MISSING"

    rds = client(url, "rds")
    rds.create_db_instance(
        DBInstanceIdentifier="lag-db",
        Engine="mysql",
        DBInstanceClass="db.t3.micro",
        MasterUsername="a",
        MasterUserPassword="password1",
        AllocatedStorage=20,
    )
    assert error_of(rds.describe_db_instances, DBInstanceIdentifier="lag-db") == ("DBInstanceNotFound", 404)
    assert "lag-db" not in [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]]

    clock.now += 5.1
    assert s3.head_bucket(Bucket="lag-bucket-one")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "lag-bucket-one" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert arn in ecs.list_clusters()["clusterArns"]
    assert (
        rds.describe_db_instances(DBInstanceIdentifier="lag-db")["DBInstances"][0]["DBInstanceIdentifier"] == "lag-db"
    )


# ---------------------------------------------------------------- the emulator


def test_the_emulator_installs_it_from_its_environment(tmp_path):
    """scripts/emulator.py with the variables set: the fault mode is on (sts throttled only),
    its moto API is not faulted, and what it injected is logged."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "faults.jsonl"
    env = dict(
        os.environ,
        WEBSTACK_EMULATOR_FAULT_THROTTLE="1",
        WEBSTACK_EMULATOR_FAULT_SERVICES="sts",
        WEBSTACK_EMULATOR_FAULT_LOG=str(log),
    )
    out = tmp_path / "emulator.log"
    with open(out, "wb") as output:
        proc = subprocess.Popen(
            [sys.executable, str(SCRIPTS / "emulator.py"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=2).read()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, out.read_text()[-3000:]
                time.sleep(0.2)
        assert error_of(client(url, "sts").get_caller_identity) == ("Throttling", 400)
        assert client(url, "ec2").describe_vpcs()["Vpcs"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "fault mode: throttle 1.0, 5xx 0.0, lag 0.0 s" in out.read_text()
    assert [json.loads(line)["action"] for line in log.read_text().splitlines()] == ["GetCallerIdentity"]
