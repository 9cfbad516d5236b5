"""The sorry kind on its own (seed 003: a closed service), in the local twin: site.yml with
webstack_kind=sorry provisions the VPC, the bastion, one sorry server, the sorry pages on
CloudFront (private bucket behind Origin Access Control, wildcard certificate in us-east-1) and
the ALB, starts the twin (the CloudFront stand-in included), configures the sorry server through
the bastion and checks each domain's page through the lb. Then: every path of both domains gets
the page with the domain's status (200: closed), plain HTTP is redirected, and the teardown
leaves nothing tagged with the stack and no container. The ALB logs its access logs to the stack's
log bucket (the storage role's log bucket alone: the sorry kind takes no uploads); the emulator
writes no ALB log, so the bucket is empty and a plain teardown deletes it."""

from __future__ import annotations

import json
import random
import subprocess

import pytest

from .conftest import ROOT, _free_port, run_playbook, running_emulator
from .test_rails_twin import SORRY_TEXT, request, twin_ports
from .test_stack import alb_access_logs_checked, stack_leftovers
from .test_twin import BASE_IMAGE, remove_twin

SITE = ROOT / "site.yml"
TWIN = ROOT / "playbooks" / "twin.yml"
TEARDOWN = ROOT / "playbooks" / "teardown.yml"
LOCAL = ROOT / "inventories" / "local"

# make test-sorry runs the sorry kind's tests alone
pytestmark = [
    pytest.mark.emulator,
    pytest.mark.sorry_stack,
    pytest.mark.skipif(BASE_IMAGE is None, reason="needs root, Docker and the base image (make image)"),
]


def test_a_sorry_stack_answers_every_path_and_tears_down_to_nothing(tmp_path):
    stack = f"closed{_free_port() % 10000}"
    domains = [f"{stack}.kumo-webstack.example", f"www.{stack}.kumo-webstack.example"]
    ports = twin_ports()
    extra = {
        "webstack_name": stack,
        "webstack_kind": "sorry",
        "webstack_state_dir": str(tmp_path / "state"),
        "webstack_secrets_dir": str(tmp_path / "secrets"),
        "webstack_sorry_count": 1,
        **ports,
    }
    try:
        with running_emulator(tmp_path, MOTO_ACM_VALIDATION_WAIT="1") as emulator:
            env = dict(emulator.env, WEBSTACK_BASE_IMAGE_REF=BASE_IMAGE)
            site = run_playbook(SITE, "-i", str(LOCAL), env=env, extra_vars=extra, timeout=3600)
            assert site.rc == 0, site.output[-8000:]
            assert f"answers the sorry page of {', '.join(domains)}" in " ".join(site.output.split())
            outputs = json.loads((tmp_path / "state" / stack / "outputs.json").read_text())
            assert outputs["kind"] == "sorry"
            url = outputs["app_url"]
            assert url == f"https://127.0.0.1:{ports['twin_lb_https_port']}"

            # ---- every path of both domains: the page, 200 (a closed service), no Retry-After
            rng = random.Random(stack)
            for name in domains:
                for _ in range(5):
                    path = "/" + "/".join(
                        rng.choice(["shop", "item", "a.png", "old"]) for _ in range(rng.randint(1, 3))
                    )
                    status, headers, body = request(url, name, path)
                    assert status == 200 and SORRY_TEXT in body.decode(), (name, path, status, body[:200])
                    assert "Retry-After" not in headers
                http = f"http://127.0.0.1:{ports['twin_lb_http_port']}"
                status, headers, _ = request(http, name, "/old/page")
                # the lb's redirect to 443: the twin's 443 is published on twin_lb_https_port
                location = f"https://{name}:{ports['twin_lb_https_port']}/old/page"
                assert status == 301 and headers["Location"] == location, (status, headers)

            # (a second provision of the same roles and data changes nothing: the rails e2e test's
            # blog stack, with sorry servers, asserts it through site.yml; not repeated here)

            # ---- the ALB's access logs go to the stack's log bucket, the only bucket of the storage
            # role here (no uploads bucket); empty, since the emulator delivers no ALB access log
            logs = alb_access_logs_checked(emulator, stack, outputs)
            assert outputs["storage"]["bucket"] == "" and outputs["storage"]["arn"] == "", outputs["storage"]
            assert emulator.client("s3").list_objects_v2(Bucket=logs)["KeyCount"] == 0

            # ---- teardown: the twin, then the AWS side; nothing of the stack is left, the empty log
            # bucket included (a plain teardown keeps only a log bucket that holds logs)
            gone = run_playbook(TWIN, "-i", str(LOCAL), env=env, extra_vars={**extra, "twin_state": "absent"})
            assert gone.rc == 0, gone.output[-6000:]
            down = run_playbook(TEARDOWN, "-i", str(LOCAL), env=env, extra_vars=extra)
            assert down.rc == 0, down.output[-8000:]
            assert "KEPT:" not in down.output, down.output[-4000:]
            assert stack_leftovers(emulator, stack) == {}
            left = subprocess.run(
                ["docker", "ps", "-aq", "--filter", f"label=kumo.webstack.stack={stack}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            assert left == [], f"containers of {stack} left: {left}"
    finally:
        remove_twin(stack)
