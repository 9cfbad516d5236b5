"""The local twin (roles/twin, playbooks/twin.yml, inventories/local) end to end.

The AWS side is only what the twin reads, made with boto3 in the session emulator (a full
provision costs minutes and has its own tests): a VPC with two subnets, the admin key pair,
a bastion, two web instances and a worker (a second instance group), a target group with a
health check that is not the role's default (so the test sees that the lb is rendered from the
emulator), an IP target group holding the worker's address, an ALB with the 80 -> 443 redirect
and an HTTPS listener whose rules route by host and path: forward to the IP target group, a
fixed response, a redirect, a host-and-path rule; the sorry pages (bucket, origin access control,
two CloudFront distributions, the bucket policy granting one of them). outputs.json is written in
the shape playbooks/provision.yml writes it (the compute, database, loadbalancer and sorry_pages
keys are those roles' *_outputs facts).

Then the twin is started with its ports chosen by the role, probed from the host (SSH, packet
filters, HTTP, TLS, every rule, S3, MariaDB, the CloudFront stand-in from a web server), used
through inventories/local; a second stack (no database, no sorry pages: its twin starts neither)
is twinned beside it with ports of its own and removed, leaving the first untouched; the first
is run again (no change), checked in check mode, and removed.
Stack names and state dir are the test's own, so it can run beside other tests.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT, run_playbook

TWIN = ROOT / "playbooks" / "twin.yml"
DRAIN_READY = ROOT / "tests" / "integration" / "playbooks" / "twin_drain_ready.yml"
LOCAL = ROOT / "inventories" / "local"


def _docker_ready() -> str | None:
    """The base image reference, or None when Docker or the image is missing. When
    WEBSTACK_BASE_IMAGE_REF is set (`make test-integration` sets it) that image is used, and a
    missing one fails the tests instead of skipping them."""
    if os.environ.get("WEBSTACK_BASE_IMAGE_REF"):
        return os.environ["WEBSTACK_BASE_IMAGE_REF"]
    if not shutil.which("docker") or os.geteuid() != 0:
        return None
    image = subprocess.run(
        [str(ROOT / "scripts" / "build-base-image.sh"), "--print"], capture_output=True, text=True
    ).stdout.strip()
    if not image or subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0:
        return None
    return image


BASE_IMAGE = _docker_ready()
pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(BASE_IMAGE is None, reason="needs root, Docker and the base image (make image)"),
]


def docker(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, **kwargs)


def remove_twin(stack: str) -> None:
    """Remove whatever of the stack's twin is left (containers, networks, volume)."""
    label = f"label=kumo.webstack.stack={stack}"
    ids = docker("ps", "-aq", "--filter", label, check=False).stdout.split()
    if ids:
        docker("rm", "-f", *ids, check=False)
    nets = docker("network", "ls", "-q", "--filter", label, check=False).stdout.split()
    if nets:
        docker("network", "rm", *nets, check=False)
    docker("volume", "rm", "-f", f"{stack}-twin-db", check=False)


def lb_state(stack: str, instance_id: str) -> dict:
    """The twin lb's view of one web server (admin state, status, sessions), from its runtime API."""
    out = docker(
        "exec", f"{stack}-lb", "python3", "/usr/local/etc/haproxy/runtime.py", "show", f"{stack}-web", instance_id
    )
    return json.loads(out.stdout)


def make_aws_side(emulator, stack: str, state_dir: Path, key_file: Path, *, full: bool = True) -> dict:
    """What the twin reads, made with boto3; returns the outputs.json content (also written).
    ``full``: also a worker instance group, the IP target group, the listener rules and the
    database (without it: a bastion, one web instance, the ALB forwarding to it)."""
    ec2 = emulator.client("ec2")
    elb = emulator.client("elbv2")
    acm = emulator.client("acm")
    s3 = emulator.client("s3")
    domain = f"{stack}.kumo-webstack.example"

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
        for cidr, az in (("10.0.0.0/24", "ap-northeast-1a"), ("10.0.1.0/24", "ap-northeast-1c"))
    ]
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{stack}-admin", "-f", str(key_file)], check=True
    )
    ec2.import_key_pair(KeyName=f"{stack}-admin", PublicKeyMaterial=key_file.with_suffix(".pub").read_bytes())
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]

    def launch(name: str, subnet: str) -> dict:
        instance = ec2.run_instances(
            ImageId=image,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            SubnetId=subnet,
            KeyName=f"{stack}-admin",
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}, {"Key": "Stack", "Value": stack}]}
            ],
        )["Instances"][0]
        return {"name": name, "instance_id": instance["InstanceId"], "private_ip": instance["PrivateIpAddress"]}

    bastion = launch(f"{stack}-bastion", subnets[0])
    web = [launch(f"{stack}-web-{i + 1}", s) for i, s in enumerate(subnets if full else subnets[:1])]
    worker = [launch(f"{stack}-worker-1", subnets[1])] if full else []

    tg = elb.create_target_group(
        Name=f"{stack}-web",
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        TargetType="instance",
        HealthCheckProtocol="HTTP",
        HealthCheckPath="/up",
        HealthCheckIntervalSeconds=7,
        HealthCheckTimeoutSeconds=4,
        HealthyThresholdCount=3,
        UnhealthyThresholdCount=4,
        Matcher={"HttpCode": "200"},
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": w["instance_id"], "Port": 80} for w in web])
    alb = elb.create_load_balancer(Name=f"{stack}-alb", Subnets=subnets, Scheme="internet-facing", Type="application")[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    certificate = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
    elb.create_listener(
        LoadBalancerArn=alb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ],
    )
    https = elb.create_listener(
        LoadBalancerArn=alb,
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )["Listeners"][0]["ListenerArn"]
    if full:
        # an IP target group: the worker's address (its container stands in) and one no container has
        ip_tg = elb.create_target_group(
            Name=f"{stack}-api",
            Protocol="HTTP",
            Port=8000,
            VpcId=vpc,
            TargetType="ip",
            HealthCheckPath="/",
            HealthCheckIntervalSeconds=5,
            HealthyThresholdCount=2,
            Matcher={"HttpCode": "200-299"},
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=ip_tg, Targets=[{"Id": worker[0]["private_ip"]}, {"Id": "10.0.1.250"}])
        rules = [
            (
                10,
                [{"Field": "host-header", "HostHeaderConfig": {"Values": [f"api.{domain}"]}}],
                {"Type": "forward", "TargetGroupArn": ip_tg},
            ),
            (
                20,
                [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/maintenance*"]}}],
                {
                    "Type": "fixed-response",
                    "FixedResponseConfig": {
                        "StatusCode": "503",
                        "ContentType": "text/html",
                        "MessageBody": '<h1>It\'s "down" for $MAINTENANCE</h1>\n',
                    },
                },
            ),
            (
                30,
                [{"Field": "path-pattern", "Values": ["/old/*"]}],
                {"Type": "redirect", "RedirectConfig": {"Path": "/new/#{path}", "StatusCode": "HTTP_302"}},
            ),
            (
                40,
                [
                    {"Field": "host-header", "HostHeaderConfig": {"Values": [f"*.static.{domain}"]}},
                    {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/img/*.png", "/img/*.gif"]}},
                ],
                {
                    "Type": "fixed-response",
                    "FixedResponseConfig": {
                        "StatusCode": "200",
                        "ContentType": "text/plain",
                        "MessageBody": "an image",
                    },
                },
            ),
        ]
        for priority, conditions, action in rules:
            elb.create_rule(ListenerArn=https, Priority=priority, Conditions=conditions, Actions=[action])
    bucket = f"{stack}-uploads"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})

    password_file = state_dir / f"{stack}-db-master-password"
    password_file.write_text("Tw1n'pa\\ss" + secrets.token_hex(8) + "\n")
    password_file.chmod(0o600)
    outputs = {
        "stack": stack,
        "compute": {
            "key_name": f"{stack}-admin",
            "private_key_path": str(key_file),
            "ssh_user": "ec2-user",
            "bastion": {"instance_id": bastion["instance_id"], "private_ip": bastion["private_ip"]},
            "groups": ["web", "worker"] if full else ["web"],
            "web": web,
            **({"worker": worker} if full else {}),
        },
        "loadbalancer": {"arn": alb, "target_group_arn": tg, "target_group_name": f"{stack}-web"},
        "storage": {"bucket": bucket},
        # role -> key of its outputs, as playbooks/provision.yml writes it
        "parts": {"compute": "compute", "loadbalancer": "loadbalancer", "storage": "storage"},
    }
    if full:
        outputs["sorry_pages"] = make_sorry_pages(emulator, stack)
        outputs["parts"]["sorry_pages"] = "sorry_pages"
        outputs["database"] = {
            "db_name": "app",
            "master_username": "admin",
            "password_file": str(password_file),
            "port": 3306,
        }
        outputs["parts"]["database"] = "database"
    (state_dir / stack).mkdir(mode=0o700)
    (state_dir / stack / "outputs.json").write_text(json.dumps(outputs, indent=2))
    return outputs


def make_sorry_pages(emulator, stack: str) -> dict:
    """The sorry pages' AWS side, made with boto3 in the shape sorry_pages_outputs has: a private
    bucket holding two domains' pages, an origin access control, a distribution per domain with
    it on its S3 origin (default root object, 403 -> /index.html with 503; the first with an
    alias under the sorry subdomain), and a bucket policy (deny without TLS, as the role writes
    it) granting the first distribution only."""
    s3 = emulator.client("s3")
    cloudfront = emulator.client("cloudfront", region="us-east-1")
    bucket = f"{stack}-sorry-123456789012-ap-northeast-1"
    subdomain = f"sorry.{stack}.example"
    certificate = emulator.client("acm", region="us-east-1").request_certificate(
        DomainName=f"*.{subdomain}", ValidationMethod="DNS"
    )["CertificateArn"]
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
    control = cloudfront.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": f"{stack}-sorry-pages",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]
    domains = []
    for name in (f"www.{stack}.example", f"shop.{stack}.example"):
        label = name.replace(".", "-")
        page = f"<h1>sorry: {name}</h1>\n"
        s3.put_object(Bucket=bucket, Key=f"{label}/index.html", Body=page, ContentType="text/html")
        alias = f"{label}.sorry.{stack}.example" if not domains else ""  # the first under the sorry subdomain
        config = {
            "CallerReference": f"{stack}-{label}",
            "Comment": f"Sorry page of {name}",
            "Enabled": True,
            "DefaultRootObject": "index.html",
            "Aliases": {"Quantity": 1, "Items": [alias]} if alias else {"Quantity": 0},
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "s3",
                        "DomainName": f"{bucket}.s3.ap-northeast-1.amazonaws.com",
                        "OriginPath": f"/{label}",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                        "OriginAccessControlId": control,
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "s3",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
            "CustomErrorResponses": {
                "Quantity": 1,
                "Items": [{"ErrorCode": 403, "ResponsePagePath": "/index.html", "ResponseCode": "503"}],
            },
        }
        if alias:
            config["ViewerCertificate"] = {
                "ACMCertificateArn": certificate,
                "SSLSupportMethod": "sni-only",
                "MinimumProtocolVersion": "TLSv1.2_2021",
            }
        dist = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
        domains.append(
            {
                "name": name,
                "label": label,
                "prefix": label,
                "status": 503,
                "retry_after": 3600,
                "alias": alias,
                "distribution_id": dist["Id"],
                "distribution_arn": dist["ARN"],
                "distribution_domain_name": dist["DomainName"],
                "origin": alias or dist["DomainName"],
            }
        )
    arn = f"arn:aws:s3:::{bucket}"
    deny_http = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    grant = {  # the first distribution only
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": f"{arn}/{domains[0]['prefix']}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": domains[0]["distribution_arn"]}},
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny_http, grant]}))
    return {
        "bucket": bucket,
        "region": "ap-northeast-1",
        "origin_access_control_id": control,
        "subdomain": subdomain,
        "certificate_arn": certificate,
        "domains": domains,
    }


def ansible_cli(tool: str, *args: str, env: dict, extra_vars: dict) -> subprocess.CompletedProcess:
    """ansible or ansible-inventory on inventories/local, from the checkout."""
    cmd = [str(Path(sys.executable).parent / tool), "-i", str(LOCAL), *args, "-e", json.dumps(extra_vars)]
    return subprocess.run(
        cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600
    )  # a hang guard (seconds here)


def ssh_command(key: Path, known_hosts: Path, port: int, *, jump_to: str | None = None) -> list[str]:
    options = ["-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}"]
    options += ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-i", str(key)]
    if jump_to is None:
        return ["ssh", *options, "-p", str(port), "ec2-user@127.0.0.1"]
    proxy = " ".join(["ssh", "-W", "%h:%p", "-q", *options, "-p", str(port), "ec2-user@127.0.0.1"])
    return ["ssh", *options, "-o", f"ProxyCommand={proxy}", f"ec2-user@{jump_to}"]


def https_get(port: int, host: str, path: str, cafile: Path) -> tuple[int, dict, bytes]:
    """GET through the twin lb's HTTPS listener on 127.0.0.1, with this Host header (SNI too)."""
    context = ssl.create_default_context(cafile=str(cafile))
    context.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    try:
        conn.request("GET", path, headers={"Host": host})
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


# GET through the CloudFront stand-in from inside a twin host: argv the CA's PEM and a JSON list
# of [address, TLS server name, Host, path]; prints [status, content type, body] (or
# ["refused", error, message] when TLS fails) for each.
CLOUDFRONT_PROBE = r"""
import json, socket, ssl, sys
context = ssl.create_default_context(cadata=sys.argv[1])
answers = []
for address, server_name, host, path in json.loads(sys.argv[2]):
    try:
        raw = socket.create_connection((address, 443), timeout=10)
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b"".join(iter(lambda: tls.recv(65536), b""))
    except ssl.SSLError as error:
        answers.append(["refused", type(error).__name__, str(error)])
        continue
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    answers.append([int(lines[0].split()[1]), headers.get("content-type"), body.decode()])
print(json.dumps(answers))
"""


def containers(stack: str) -> dict[str, str]:
    """The stack's twin containers: name -> id and start time (a recreated or restarted one differs)."""
    out = docker("ps", "-a", "--filter", f"label=kumo.webstack.stack={stack}", "--format", "{{.Names}}").stdout.split()
    return {name: docker("inspect", "-f", "{{.Id}} {{.State.StartedAt}}", name).stdout.strip() for name in out}


def test_twin_end_to_end(emulator, tmp_path):
    stack = "tw" + secrets.token_hex(3)
    other = "tx" + secrets.token_hex(3)
    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o700)
    key = tmp_path / f"{stack}-admin"
    # no ports given: the role chooses them once per stack
    extra_vars = {"webstack_name": stack, "webstack_state_dir": str(state_dir)}
    env = dict(emulator.env, WEBSTACK_BASE_IMAGE_REF=BASE_IMAGE, WEBSTACK_NAME="not-this-stack")

    def run(*args, name=stack, **more_vars):
        return run_playbook(
            TWIN, "-i", str(LOCAL), *args, env=env, extra_vars={**extra_vars, "webstack_name": name, **more_vars}
        )

    outputs = make_aws_side(emulator, stack, state_dir, key)
    web = outputs["compute"]["web"]
    worker = outputs["compute"]["worker"]
    twin_dir = state_dir / stack / f"twin-{stack}"
    domain = f"{stack}.kumo-webstack.example"
    try:
        first = run()
        assert first.rc == 0, first.output[-6000:]
        assert first.changed > 0

        # ---- the ports: chosen, kept in the stack's state dir, distinct
        ports = json.loads((state_dir / stack / "ports.json").read_text())
        assert sorted(ports) == ["bastion_ssh", "lb_http", "lb_https"]
        assert len(set(ports.values())) == 3

        # ---- the containers and networks, named after the stack and the instances: every group
        names = docker("ps", "--filter", f"label=kumo.webstack.stack={stack}", "--format", "{{.Names}}").stdout.split()
        assert sorted(names) == sorted(
            [f"{stack}-bastion", f"{stack}-db", f"{stack}-lb", f"{stack}-s3", f"{stack}-cloudfront"]
            + [w["name"] for w in web + worker]
        )
        label = docker("inspect", "-f", '{{ index .Config.Labels "kumo.webstack.instance-id" }}', web[0]["name"])
        assert label.stdout.strip() == web[0]["instance_id"]
        inventory = (state_dir / stack / f"inventory-{stack}.yml").read_text()

        # ---- SSH: the bastion on 127.0.0.1 with the stack key; a web server only through it
        known_hosts = twin_dir / "known_hosts"
        port = ports["bastion_ssh"]
        bastion = subprocess.run([*ssh_command(key, known_hosts, port), "hostname"], capture_output=True, text=True)
        assert bastion.returncode == 0, bastion.stderr
        assert bastion.stdout.strip() == f"{stack}-bastion"
        jumped = subprocess.run(
            [*ssh_command(key, known_hosts, port, jump_to=web[0]["name"]), "hostname; echo $SSH_CONNECTION"],
            capture_output=True,
            text=True,
        )
        assert jumped.returncode == 0, jumped.stderr
        hostname, connection = jumped.stdout.strip().splitlines()
        assert hostname == web[0]["name"]
        bastion_private = docker(
            "inspect",
            "-f",
            f'{{{{ (index .NetworkSettings.Networks "{stack}-twin-private").IPAddress }}}}',
            f"{stack}-bastion",
        ).stdout.strip()
        assert connection.split()[0] == bastion_private
        web_ip = connection.split()[2]
        with pytest.raises(OSError):  # filtered: the host cannot open the web server's SSH
            socket.create_connection((web_ip, 22), timeout=3).close()

        # ---- the lb: rendered from the emulator's ALB, rules and target groups
        haproxy = (twin_dir / "lb" / "haproxy.cfg").read_text()
        for w in web:
            assert f"server {w['instance_id']} {w['name']}:80" in haproxy
        assert f"server {worker[0]['private_ip']} {worker[0]['name']}:8000" in haproxy  # the IP target
        assert "10.0.1.250" not in haproxy.split("backend ")[-1]  # no container stands in for it
        assert "option httpchk GET /up" in haproxy
        assert "inter 7s rise 3 fall 4" in haproxy
        assert "timeout check 4s" in haproxy
        assert "ssl-min-ver TLSv1.2" in haproxy

        http_conn = http.client.HTTPConnection("127.0.0.1", ports["lb_http"], timeout=10)
        http_conn.request("GET", "/posts?page=2")
        answer = http_conn.getresponse()
        assert answer.status == 301
        assert answer.getheader("Location") == f"https://127.0.0.1:{ports['lb_https']}/posts?page=2"

        context = ssl.create_default_context(cafile=str(twin_dir / "tls" / "lb.crt"))
        with socket.create_connection(("127.0.0.1", ports["lb_https"]), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=domain) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
                tls.sendall(f"GET / HTTP/1.1\r\nHost: {domain}\r\nConnection: close\r\n\r\n".encode())
                status_line = tls.recv(4096).split(b"\r\n", 1)[0]
        assert status_line.split()[1] == b"503", status_line  # no app behind it yet, but our cert

        # ---- every rule, through 127.0.0.1: a server in the worker container answers the IP target group
        cafile = twin_dir / "tls" / "lb.crt"
        docker(
            "exec",
            worker[0]["name"],
            "sh",
            "-c",
            "mkdir -p /srv/api/maintenance && echo worker-api | tee /srv/api/index.html > /srv/api/maintenance/x",
        )
        docker("exec", "-d", worker[0]["name"], "python3", "-m", "http.server", "8000", "--directory", "/srv/api")
        deadline = time.monotonic() + 120  # two health checks 5 s apart; a hang guard
        while True:
            status, headers, body = https_get(ports["lb_https"], f"api.{domain}", "/maintenance/x", cafile)
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(1)
        # host rule 10 wins over the path rule 20 it also matches
        assert (status, body) == (200, b"worker-api\n"), (status, body)
        status, headers, body = https_get(ports["lb_https"], domain, "/maintenance/today", cafile)
        assert status == 503 and headers["content-type"] == "text/html"
        assert body == b'<h1>It\'s "down" for $MAINTENANCE</h1>\n'
        status, headers, _ = https_get(ports["lb_https"], domain, "/old/posts/7?page=2", cafile)
        assert status == 302
        assert headers["location"] == f"https://{domain}:{ports['lb_https']}/new/old/posts/7?page=2"
        status, headers, body = https_get(ports["lb_https"], f"a.static.{domain}", "/img/x.png", cafile)
        assert (status, headers["content-type"], body) == (200, "text/plain", b"an image")
        status, _, _ = https_get(ports["lb_https"], f"a.static.{domain}", "/img/x.jpg", cafile)
        assert status == 503  # path not matched: the default action (web servers, no app yet)
        status, _, _ = https_get(ports["lb_https"], f"api.{domain}.evil", "/", cafile)
        assert status == 503  # host not matched

        # ---- the inventory: the bastion and one group per instance group, through inventories/local
        assert f"{stack}-bastion" in inventory
        ping = ansible_cli(
            "ansible", "bastion:web:worker", "-m", "ansible.builtin.ping", env=env, extra_vars=extra_vars
        )
        assert ping.returncode == 0, ping.stdout[-3000:] + ping.stderr[-2000:]
        for name in [f"{stack}-bastion"] + [w["name"] for w in web + worker]:
            assert f"{name} | SUCCESS" in ping.stdout

        # ---- S3 is the emulator, reached from a web server; the database has the master user
        host_vars = json.loads(
            ansible_cli("ansible-inventory", "--host", web[0]["name"], env=env, extra_vars=extra_vars).stdout
        )
        assert host_vars["twin_outputs"]["ports"] == ports
        assert host_vars["twin_outputs"]["lb_url"] == f"https://127.0.0.1:{ports['lb_https']}"
        # what only the twin needs comes from inventories/local's group_vars
        assert host_vars["webstack_s3_access_key_id"] == "testing"
        s3_endpoint = host_vars["twin_outputs"]["s3_endpoint"]
        url = f"{s3_endpoint}/{outputs['storage']['bucket']}"
        script = f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=10).read().decode())"
        listing = docker("exec", web[0]["name"], "python3", "-c", script).stdout
        assert "<ListBucketResult" in listing and outputs["storage"]["bucket"] in listing
        password = Path(outputs["database"]["password_file"]).read_text().strip()
        query = "SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'app'"
        mariadb = ["mariadb", "--protocol=TCP", "-h127.0.0.1", "-uadmin", "-N", "-e", query]
        schema = docker("exec", "-e", f"MYSQL_PWD={password}", f"{stack}-db", *mariadb)
        assert schema.stdout.strip() == "app"

        # ---- CloudFront: the sorry pages from a web server (its packet filter on), by the
        # distributions' names (docker's DNS), over TLS checked with the twin CA
        www, shop = outputs["sorry_pages"]["domains"]
        twin_outputs = host_vars["twin_outputs"]
        assert "cloudfront" in twin_outputs["services"]
        names = sorted([www["alias"], www["distribution_domain_name"], shop["distribution_domain_name"]])
        assert twin_outputs["cloudfront_names"] == names
        assert docker("port", f"{stack}-cloudfront").stdout.strip() == ""  # nothing published
        cases = [  # address, TLS server name, Host, path
            [www["alias"], www["alias"], www["alias"], "/"],
            [www["origin"], www["distribution_domain_name"], www["distribution_domain_name"], "/missing"],
            [www["alias"], www["alias"], f"unknown.{domain}", "/"],  # no distribution has that name
            [www["alias"], f"unknown.{domain}", f"unknown.{domain}", "/"],  # nor the certificate
            [shop["origin"], shop["origin"], shop["origin"], "/"],  # the policy does not let it read
        ]
        ca = twin_outputs["cloudfront_ca_pem"]
        answers = docker("exec", web[0]["name"], "python3", "-c", CLOUDFRONT_PROBE, ca, json.dumps(cases))
        page = f"<h1>sorry: {www['name']}</h1>\n"
        (ok, missing, unknown, refused, denied) = json.loads(answers.stdout)
        assert ok == [200, "text/html", page], ok
        assert missing == [503, "text/html", page], missing  # 403 from S3 -> the custom error response
        assert unknown[0] == 403 and "could not be satisfied" in unknown[2], unknown
        assert refused[0] == "refused" and "certificate" in refused[2], refused
        assert denied[0] == 403 and "could not be satisfied" in denied[2], denied

        # ---- drain and ready one server through the lb's runtime API
        def drain_ready(step, instance_id):
            extra = {**extra_vars, "twin_instance_id": instance_id, "step": step}
            return run_playbook(DRAIN_READY, "-i", str(LOCAL), env=env, extra_vars=extra)

        drain = drain_ready("drain", web[0]["instance_id"])
        assert drain.rc == 0 and drain.changed == 1, drain.output[-3000:]
        assert lb_state(stack, web[0]["instance_id"])["admin"] == "drain"
        assert lb_state(stack, web[1]["instance_id"])["admin"] == "ready"
        ready = drain_ready("ready", web[0]["instance_id"])
        assert ready.rc == 0 and ready.changed == 1, ready.output[-3000:]
        assert lb_state(stack, web[0]["instance_id"])["admin"] == "ready"

        # ---- a second stack twinned beside it: ports of its own, no database (no outputs for it)
        make_aws_side(emulator, other, state_dir, tmp_path / f"{other}-admin", full=False)
        before = containers(stack)
        second_stack = run(name=other)
        assert second_stack.rc == 0, second_stack.output[-6000:]
        other_ports = json.loads((state_dir / other / "ports.json").read_text())
        assert not set(other_ports.values()) & set(ports.values())
        assert sorted(containers(other)) == sorted([f"{other}-bastion", f"{other}-web-1", f"{other}-lb", f"{other}-s3"])
        other_cafile = state_dir / other / f"twin-{other}" / "tls" / "lb.crt"
        other_domain = f"{other}.kumo-webstack.example"
        assert https_get(other_ports["lb_https"], other_domain, "/", other_cafile)[0] == 503  # its own lb
        assert https_get(other_ports["lb_https"], domain, "/maintenance", other_cafile)[0] == 503
        assert https_get(ports["lb_https"], f"api.{domain}", "/", cafile)[:1] == (200,)  # the first still
        removed = run(name=other, twin_state="absent")
        assert removed.rc == 0, removed.output[-6000:]
        assert containers(other) == {}
        assert containers(stack) == before  # untouched: same containers, never restarted
        assert https_get(ports["lb_https"], f"api.{domain}", "/", cafile)[:1] == (200,)
        assert https_get(ports["lb_https"], domain, "/maintenance", cafile)[0] == 503

        # ---- idempotence and check mode (the ports are reused)
        second = run()
        assert second.rc == 0, second.output[-6000:]
        assert second.changed == 0, second.output[-6000:]
        check = run("--check", "--diff")
        assert check.rc == 0, check.output[-6000:]
        assert check.changed == 0, check.output[-6000:]
        assert json.loads((state_dir / stack / "ports.json").read_text()) == ports

        # ---- absent: containers, networks and inventory go; the database volume stays
        absent = run(twin_state="absent")
        assert absent.rc == 0, absent.output[-6000:]
        assert docker("ps", "-aq", "--filter", f"label=kumo.webstack.stack={stack}").stdout.split() == []
        assert docker("network", "ls", "-q", "--filter", f"label=kumo.webstack.stack={stack}").stdout.split() == []
        assert docker("volume", "inspect", f"{stack}-twin-db", check=False).returncode == 0
        assert not (state_dir / stack / f"inventory-{stack}.yml").exists()
    finally:
        remove_twin(stack)
        remove_twin(other)
