"""The domain role (public hosted zone + DNS-validated ACM certificate) end to end against the
embedded emulator, read back with boto3."""

from __future__ import annotations

import json

import pytest

from .badinput import assert_fails_before_aws, run_role_cases
from .conftest import ROOT, provision_converges, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
PROVISION = PLAYBOOKS / "domain.yml"
SPLIT = PLAYBOOKS / "domain_split.yml"
TEARDOWN = PLAYBOOKS / "domain_teardown.yml"

pytestmark = pytest.mark.emulator


def flat(run) -> str:
    return " ".join(run.output.split())


def public_zones(route53, name: str) -> list[dict]:
    """Every public hosted zone named ``name`` (no trailing dot)."""
    zones = route53.list_hosted_zones()["HostedZones"]
    return [z for z in zones if z["Name"] == name + "." and not z["Config"]["PrivateZone"]]


def zone_id(zone: dict) -> str:
    return zone["Id"].split("/")[-1]


def zone_tags(route53, zid: str) -> dict[str, str]:
    tags = route53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zid)["ResourceTagSet"]["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def record_sets(route53, zid: str) -> dict[tuple[str, str], dict]:
    sets = route53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    return {(r["Name"], r["Type"]): r for r in sets}


def certificate_arns(acm) -> list[str]:
    """Every certificate of the region, whatever its key type (ACM lists RSA_2048 ones only by default)."""
    summaries = acm.list_certificates(Includes={"keyTypes": ["RSA_2048", "EC_prime256v1", "EC_secp384r1"]})
    return [s["CertificateArn"] for s in summaries["CertificateSummaryList"]]


def certificates(acm, domain: str) -> list[dict]:
    """Every certificate covering ``domain``, described."""
    found = []
    for arn in certificate_arns(acm):
        cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        if domain in [cert["DomainName"], *cert.get("SubjectAlternativeNames", [])]:
            found.append(cert)
    return found


def cert_tags(acm, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]}


def stack_certificates(acm, stack: str) -> list[str]:
    """Every certificate tagged Stack=<stack>."""
    return [arn for arn in certificate_arns(acm) if cert_tags(acm, arn).get("Stack") == stack]


def stack_zones(route53, stack: str) -> list[str]:
    """Every hosted zone tagged Stack=<stack>."""
    ids = [zone_id(z) for z in route53.list_hosted_zones()["HostedZones"]]
    return [zid for zid in ids if zone_tags(route53, zid).get("Stack") == stack]


def assert_validation_records_in_zone(route53, zid: str, cert: dict) -> set[str]:
    """Every record ACM asks for exists in the zone, with ACM's value and a TTL of 300."""
    records = record_sets(route53, zid)
    names = set()
    for option in cert["DomainValidationOptions"]:
        assert option["ValidationMethod"] == "DNS"
        wanted = option["ResourceRecord"]
        found = records.get((wanted["Name"], wanted["Type"]))
        assert found is not None, f"no {wanted['Type']} {wanted['Name']} in the zone"
        assert found["ResourceRecords"] == [{"Value": wanted["Value"]}]
        assert found["TTL"] == 300
        names.add(wanted["Name"])
    return names


CONTACT = {
    "FirstName": "Kumo",
    "LastName": "Webstack",
    "ContactType": "PERSON",
    "Email": "hostmaster@example.com",
    "PhoneNumber": "+81.312345678",
    "AddressLine1": "1-1 Chiyoda",
    "City": "Tokyo",
    "CountryCode": "JP",
    "ZipCode": "100-0001",
}


@pytest.fixture
def registered_domain(emulator):
    """Test set-up: register(domain) makes the registration the role does not make (buying a
    domain), as the route53_domain target does; it is deleted after the test. Registering creates
    a public zone of that name (in AWS and the emulator): that zone is deleted at once, so the
    role creates the stack's own zone."""
    domains = emulator.client("route53domains", region="us-east-1")
    route53 = emulator.client("route53")
    registered = []

    def register(domain: str) -> None:
        domains.register_domain(
            DomainName=domain, DurationInYears=2, AdminContact=CONTACT, RegistrantContact=CONTACT, TechContact=CONTACT
        )
        registered.append(domain)
        for zone in public_zones(route53, domain):
            route53.delete_hosted_zone(Id=zone["Id"])

    yield register
    for domain in registered:
        domains.delete_domain(DomainName=domain)


def registration_name_servers(emulator, domain: str) -> list[str]:
    """The registration's name servers, sorted, as Route 53 Domains (us-east-1) reads them back."""
    domains = emulator.client("route53domains", region="us-east-1")
    return sorted(ns["Name"] for ns in domains.get_domain_detail(DomainName=domain)["Nameservers"])


def test_own_zone_is_created_idempotent_and_torn_down(emulator, registered_domain, tmp_path):
    """The stack's own zone; the registration of its name (domain_registered_with_route53) is
    pointed at it, and left alone by teardown."""
    stack = "domlife"
    domain = "domlife-kumo.com"  # a TLD Route 53 Domains registers
    route53 = emulator.client("route53")
    acm = emulator.client("acm")
    registered_domain(domain)
    registrar_ns = registration_name_servers(emulator, domain)
    extra = {
        "webstack_name": stack,
        "webstack_domain": domain,
        "webstack_state_dir": str(tmp_path),
        "domain_registered_with_route53": True,
    }

    # ---- check mode on an empty account predicts the zone, the registration's name servers and
    # the certificate, changes nothing
    check = run_playbook(PROVISION, "--check", env=emulator.env, extra_vars=extra)
    assert check.rc == 0, check.output[-6000:]
    assert check.changed > 0
    assert f"Check mode: hosted zone {domain} would be created" in flat(check)
    assert f"the registration of {domain} would be pointed at its name servers" in flat(check)
    assert f"a certificate for {domain}, www.{domain} would be requested" in flat(check)
    assert public_zones(route53, domain) == []
    assert certificates(acm, domain) == []
    assert registration_name_servers(emulator, domain) == registrar_ns

    # ---- without domain_registered_with_route53: the zone is created and the NS records to set
    # at the registrar are printed; the registration is not touched
    first = run_playbook(PROVISION, env=emulator.env, extra_vars={**extra, "domain_registered_with_route53": False})
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    (zone,) = public_zones(route53, domain)  # exactly one zone, not one per run
    zid = zone_id(zone)
    name_servers = route53.get_hosted_zone(Id=zid)["DelegationSet"]["NameServers"]
    assert f"Created the public hosted zone {domain} ({zid})" in flat(first)
    assert " ".join(name_servers) in flat(first), "the name servers to delegate to are printed"
    assert zone_tags(route53, zid) == {"Stack": stack, "ManagedBy": "kumo.webstack", "Name": f"{stack}-zone"}
    assert registration_name_servers(emulator, domain) == registrar_ns
    assert sorted(name_servers) != registrar_ns

    # ---- with it: the registration is pointed at the zone (the only change), then nothing
    # changes, then --check --diff predicts nothing
    pointed = provision_converges(PROVISION, emulator.env, extra)
    assert pointed.changed == 1, pointed.output[-6000:]
    apex_ns = record_sets(route53, zid)[(f"{domain}.", "NS")]
    zone_ns = sorted(r["Value"].rstrip(".") for r in apex_ns["ResourceRecords"])
    assert zone_ns == sorted(name_servers)
    assert registration_name_servers(emulator, domain) == zone_ns
    said = flat(pointed)
    assert f"Pointed the registration of {domain} (Route 53 Domains) at the name servers of the hosted zone" in said
    assert ", finished). Resolvers may keep the previous name servers" in said, "domain_wait: the change is awaited"
    assert "NS records at your registrar" not in said
    assert [zone_id(z) for z in public_zones(route53, domain)] == [zid]

    (cert,) = certificates(acm, domain)
    arn = cert["CertificateArn"]
    assert cert["Status"] == "ISSUED"
    assert cert["Type"] == "AMAZON_ISSUED"
    assert cert["DomainName"] == domain
    assert set(cert["SubjectAlternativeNames"]) == {domain, f"www.{domain}"}
    assert cert["KeyAlgorithm"] == "RSA_2048"
    assert cert_tags(acm, arn) == {"Stack": stack, "ManagedBy": "kumo.webstack", "Name": f"{stack}-certificate"}
    validation_names = assert_validation_records_in_zone(route53, zid, cert)
    assert len(validation_names) == 2

    outputs = json.loads((tmp_path / "domain_outputs.json").read_text())
    assert outputs == {
        "name": domain,
        "alternative_names": [f"www.{domain}"],
        "zone_id": zid,
        "zone_name": domain,
        "zone_created": True,
        "name_servers": name_servers,
        "certificate_arn": arn,
        "certificate_status": "ISSUED",
    }

    # ---- a record the stack did not create keeps the zone (said why); cert and records still go
    route53.change_resource_record_sets(
        HostedZoneId=zid,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": f"app.{domain}.",
                        "Type": "A",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "192.0.2.10"}],
                    },
                }
            ]
        },
    )
    kept = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert kept.rc == 0, kept.output[-6000:]
    assert f"Keeping the hosted zone {domain} ({zid}) although the stack created it" in flat(kept)
    assert f"app.{domain} A" in flat(kept)
    assert certificates(acm, domain) == []
    assert validation_names.isdisjoint(name for name, _ in record_sets(route53, zid))
    assert [zone_id(z) for z in public_zones(route53, domain)] == [zid]
    assert registration_name_servers(emulator, domain) == sorted(name_servers)

    # ---- once the stranger is gone, teardown removes the zone
    route53.change_resource_record_sets(
        HostedZoneId=zid,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "DELETE",
                    "ResourceRecordSet": {
                        "Name": f"app.{domain}.",
                        "Type": "A",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "192.0.2.10"}],
                    },
                }
            ]
        },
    )
    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert down.rc == 0, down.output[-6000:]
    assert down.changed > 0
    assert public_zones(route53, domain) == []
    assert stack_zones(route53, stack) == []
    assert stack_certificates(acm, stack) == []
    # a registration outlives the stack: still the deleted zone's name servers, and said so
    assert registration_name_servers(emulator, domain) == sorted(name_servers)
    assert f"The registration of {domain} (domain_registered_with_route53) is left as it is" in flat(down)

    again = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert again.rc == 0, again.output[-6000:]
    assert again.changed == 0, again.output[-6000:]


def _alb_using(emulator, stack: str, certificate_arn: str) -> tuple[str, str, str, list[str]]:
    """An application load balancer whose HTTPS listener uses the certificate (set-up only)."""
    ec2 = emulator.client("ec2")
    elbv2 = emulator.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.77.{i}.0/24", AvailabilityZone=f"ap-northeast-1{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("ac")
    ]
    alb = elbv2.create_load_balancer(Name=f"{stack}-alb", Subnets=subnets, Type="application")["LoadBalancers"][0]
    tg = elbv2.create_target_group(Name=f"{stack}-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    elbv2.create_listener(
        LoadBalancerArn=alb["LoadBalancerArn"],
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": certificate_arn}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )
    return alb["LoadBalancerArn"], tg["TargetGroupArn"], vpc, subnets


def test_existing_zone_is_reused_untouched_and_survives_teardown(emulator, tmp_path):
    """A zone made by someone else (a parent of the site's name) gets only the validation
    records; an ECDSA certificate is started without waiting and awaited by the await entry
    point; a certificate still used by a load balancer stops the teardown before anything is
    removed."""
    stack = "domreuse"
    parent = "domreuse.example"
    domain = f"shop.{parent}"
    route53 = emulator.client("route53")
    acm = emulator.client("acm")
    zid = zone_id(
        route53.create_hosted_zone(
            Name=parent, CallerReference="domreuse-user", HostedZoneConfig={"Comment": "the user's zone"}
        )["HostedZone"]
    )
    mx = {"Name": f"{parent}.", "Type": "MX", "TTL": 3600, "ResourceRecords": [{"Value": "10 mail.example.net."}]}
    route53.change_resource_record_sets(
        HostedZoneId=zid, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": mx}]}
    )
    extra = {
        "webstack_name": stack,
        "webstack_domain": domain,
        "webstack_state_dir": str(tmp_path),
        "domain_zone_name": parent,
        # the wildcard shares its validation record with its base name
        "domain_alternative_names": [f"www.{domain}", f"*.{domain}"],
        "domain_key_algorithm": "EC_prime256v1",
    }

    first = run_playbook(SPLIT, env=emulator.env, extra_vars=extra)
    assert first.rc == 0, first.output[-6000:]
    assert first.changed > 0
    assert "Created the public hosted zone" not in first.output
    assert (
        "Wait for ACM to issue the DNS-validated certificate (polled every 10 s) for shop.domreuse.example"
        in first.output
    )
    started = json.loads((tmp_path / "domain_outputs_started.json").read_text())
    outputs = json.loads((tmp_path / "domain_outputs.json").read_text())
    assert started["certificate_status"] in ("PENDING_VALIDATION", "ISSUED")
    assert outputs == {
        **started,
        "zone_id": zid,
        "zone_name": parent,
        "zone_created": False,
        "certificate_status": "ISSUED",
    }
    assert outputs["name_servers"] == route53.get_hosted_zone(Id=zid)["DelegationSet"]["NameServers"]

    # the user's zone: still the only one of its name, untagged, comment and records intact
    assert [zone_id(z) for z in public_zones(route53, parent)] == [zid]
    assert zone_tags(route53, zid) == {}
    assert route53.get_hosted_zone(Id=zid)["HostedZone"]["Config"]["Comment"] == "the user's zone"
    assert record_sets(route53, zid)[(f"{parent}.", "MX")]["ResourceRecords"] == mx["ResourceRecords"]

    (cert,) = certificates(acm, domain)
    arn = cert["CertificateArn"]
    assert arn == outputs["certificate_arn"]
    assert set(cert["SubjectAlternativeNames"]) == {domain, f"www.{domain}", f"*.{domain}"}
    validation_names = assert_validation_records_in_zone(route53, zid, cert)
    assert len(validation_names) == 2, "the wildcard and its base name share one record"
    assert cert["KeyAlgorithm"] == "EC_prime256v1"

    again = run_playbook(SPLIT, env=emulator.env, extra_vars=extra)
    assert again.rc == 0, again.output[-6000:]
    assert again.changed == 0, again.output[-6000:]
    assert [c["CertificateArn"] for c in certificates(acm, domain)] == [arn]

    # ---- a certificate in use by a load balancer stops the teardown; nothing is removed
    elbv2 = emulator.client("elbv2")
    ec2 = emulator.client("ec2")
    alb_arn, tg_arn, vpc, subnets = _alb_using(emulator, stack, arn)
    try:
        refused = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
        assert refused.rc != 0
        assert f"{arn} is used by {alb_arn}" in flat(refused), refused.output[-4000:]
        assert "Nothing was removed" in flat(refused)
        assert [c["CertificateArn"] for c in certificates(acm, domain)] == [arn]
        assert validation_names <= {name for name, _ in record_sets(route53, zid)}
    finally:
        elbv2.delete_load_balancer(LoadBalancerArn=alb_arn)
        elbv2.delete_target_group(TargetGroupArn=tg_arn)
        for subnet in subnets:
            ec2.delete_subnet(SubnetId=subnet)
        ec2.delete_vpc(VpcId=vpc)

    # ---- teardown: certificate and validation records go; the user's zone and its MX stay
    down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra)
    assert down.rc == 0, down.output[-6000:]
    assert down.changed > 0
    assert f"Keeping the hosted zone {parent} ({zid}): the stack did not create it" in flat(down)
    assert certificates(acm, domain) == []
    assert stack_certificates(acm, stack) == []
    remaining = record_sets(route53, zid)
    assert validation_names.isdisjoint(name for name, _ in remaining)
    assert (f"{parent}.", "MX") in remaining
    assert [zone_id(z) for z in public_zones(route53, parent)] == [zid]
    assert zone_tags(route53, zid) == {}

    route53.change_resource_record_sets(
        HostedZoneId=zid, ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": mx}]}
    )
    route53.delete_hosted_zone(Id=zid)


def test_ambiguous_or_missing_zone_is_refused_with_a_clear_message(emulator, tmp_path):
    stack = "domamb"
    domain = "domamb.kumo.example"
    route53 = emulator.client("route53")
    acm = emulator.client("acm")
    ids = [
        zone_id(route53.create_hosted_zone(Name=domain, CallerReference=f"domamb-{i}")["HostedZone"]) for i in range(2)
    ]
    extra = {"webstack_name": stack, "webstack_domain": domain, "webstack_state_dir": str(tmp_path)}
    try:
        run = run_playbook(PROVISION, env=emulator.env, extra_vars=extra)
        assert run.rc != 0
        assert f"2 public hosted zones are named {domain}" in flat(run), run.output[-4000:]
        assert "Set domain_zone_id" in flat(run)
        assert certificates(acm, domain) == []

        missing = run_playbook(PROVISION, env=emulator.env, extra_vars={**extra, "domain_zone_id": "ZNOSUCHZONE0001"})
        assert missing.rc != 0
        assert "domain_zone_id ZNOSUCHZONE0001: the hosted zone could not be read" in flat(missing), missing.output[
            -4000:
        ]
        assert certificates(acm, domain) == []
    finally:
        for zid in ids:
            route53.delete_hosted_zone(Id=zid)


BAD = [
    pytest.param(
        {"webstack_domain": "Not_A_Domain"}, "domain_name (default: webstack_domain) must be", id="not-a-domain"
    ),
    pytest.param({"webstack_domain": "example"}, "at least two labels", id="one-label"),
    pytest.param({"webstack_domain": ""}, "set webstack_domain", id="empty"),
    pytest.param(
        {"domain_alternative_names": ["www.shop.example.com", "bad_name.example.com", "-x.example.com", "a.example."]},
        "domain_alternative_names must list at most 99 lowercase DNS names like domain_name, each optionally "
        """starting with '*.' (e.g. ["www.shop.example.com", "*.shop.example.com"]), or be [] for a single-name """
        'certificate; not valid: ["bad_name.example.com", "-x.example.com", "a.example."]',
        id="alt-invalid",
    ),
    pytest.param(
        {"domain_alternative_names": ["www.example.net"]},
        'outside it: ["www.example.net"]',
        id="alt-outside-zone",
    ),
    pytest.param({"domain_key_algorithm": "RSA_4096"}, "domain_key_algorithm", id="key-algorithm"),
    pytest.param(
        {"domain_registered_with_route53": "maybe"},
        "argument 'domain_registered_with_route53' is of type str and we were unable to convert to bool",
        id="registered-not-bool",
    ),
]


@pytest.fixture(scope="module")
def bad_cases(dead_endpoint_env, tmp_path_factory):
    """Every BAD case in one ansible-playbook run (badinput.py), the domain role alone."""
    return run_role_cases(
        "domain",
        BAD,
        env=dead_endpoint_env,
        tmp_path=tmp_path_factory.mktemp("domain-cases"),
        base_vars={"webstack_name": "baddomain", "webstack_domain": "shop.example.com"},
    )


@pytest.mark.xdist_group("domain_bad_input")
@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_fails_before_any_aws_call(extra, message, bad_cases, request):
    result = bad_cases[request.node.callspec.id]
    assert_fails_before_aws(result, message)
    assert not any(result.case_dir.rglob("*_outputs.json"))
