"""The chat stack (seed 004) end to end: playbooks/chat.yml with the local inventory (provision into
the emulator, the twin, the hosts prepared through the bastion, the chat server deployed, the page
and its health checked through the twin's lb), the wiring read back with boto3, a second run that
changes nothing, and then, through the twin's lb over TLS (wss), scripts/chat_check.py:

- pinned: a client pinned (by the lb's cookie) to one chat server and a client pinned to the other
  see each other's messages, in the seed's protocol;
- stream: 50 clients receive a steady stream while playbooks/chat/deploy.yml restarts the chat
  servers one at a time (-e chat_app_restart=true): every client gets every message exactly once,
  in order (the servers close with 1001, the clients resume from their last id on the other one).

Then the image baked ahead (playbooks/chat/bake.yml): a builder configured as a chat server without
its settings, imaged and terminated; a second bake changes nothing; a third chat server launches from
the baked image (in the twin, from the builder's committed container) and joins through chat.yml.

The ALB logs its access logs to the stack's log bucket (the storage role's log bucket alone: the
chat kind takes no uploads).

Then the twin goes and a default teardown keeps the data (Redis's final snapshot, the baked image
and the log bucket holding ELB's test object, all named in its output) and nothing else; a teardown
with webstack_teardown_delete_images (and webstack_teardown_force_delete_data: the log bucket)
removes the image too. The AUTH token appears nowhere: not in the output (-v), outputs.json, the
containers' configuration or process lists, the baked image.
One stack, shared by every step: the chat kind's share of make test's budget.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from . import secret_scan
from .conftest import ROOT, record_load, run_playbook
from .test_bot_stack import docker
from .test_rails_twin import twin_ports
from .test_stack import alb_access_logs_checked, stack_leftovers
from .test_twin import BASE_IMAGE, remove_twin

CHAT = ROOT / "playbooks" / "chat.yml"
BAKE = ROOT / "playbooks" / "chat" / "bake.yml"
DEPLOY = ROOT / "playbooks" / "chat" / "deploy.yml"
TWIN = ROOT / "playbooks" / "twin.yml"
TEARDOWN = ROOT / "playbooks" / "teardown.yml"
LOCAL = ROOT / "inventories" / "local"
CHECK = ROOT / "scripts" / "chat_check.py"

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.chat_stack,
    pytest.mark.skipif(BASE_IMAGE is None, reason="needs root, Docker and the base image (make image)"),
]


def chat_check(*args: str, timeout: float = 300) -> dict:
    proc = subprocess.run(
        [sys.executable, str(CHECK), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    # 0 ok, 1 a failed check, both with a report; anything else (no report) is a broken check
    assert proc.returncode in (0, 1) and proc.stdout.strip(), f"rc {proc.returncode}: {proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_chat_stack_end_to_end(emulator, tmp_path):
    stack = "chatkind"
    domain = f"{stack}.kumo-webstack.example"
    ports = twin_ports()
    secrets_dir = tmp_path / "secrets"
    extra = {
        "webstack_kind": "chat",
        "webstack_name": stack,
        "webstack_domain": domain,
        "webstack_state_dir": str(tmp_path / "state"),
        "webstack_secrets_dir": str(secrets_dir),
        **ports,
    }
    env = dict(emulator.env, WEBSTACK_BASE_IMAGE_REF=BASE_IMAGE)
    url = f"https://127.0.0.1:{ports['twin_lb_https_port']}"
    ws = f"wss://127.0.0.1:{ports['twin_lb_https_port']}/ws"
    common = ["--url", ws, "--insecure", "--server-name", domain]
    try:
        # ---- everything, with -vvv (issue 18, part 5): no generated secret (the Redis AUTH token,
        # the SSH key pair's private half) in the whole output, the state directory, or the twin's
        # containers (their configured environment, every process's command line)
        first = run_playbook(CHAT, "-i", str(LOCAL), "-vvv", env=env, extra_vars=extra, timeout=2400)
        assert first.rc == 0, first.output[-8000:]
        token = (secrets_dir / "redis-auth-token").read_text().strip()
        assert len(token) == 32
        found = secret_scan.generated_secrets(secrets_dir)
        assert {"redis-auth-token", f"{stack}-admin"} <= set(found), sorted(found)
        secret_scan.assert_none_leaked(stack, found, {"chat.yml -vvv output": first.output}, tmp_path / "state")
        out = json.loads((tmp_path / "state" / stack / "outputs.json").read_text())
        assert out["kind"] == "chat"
        assert f"The chat: {url}/" in first.output

        # ---- the wiring: Redis encrypted at rest and in transit with an AUTH token, a replica in the
        # other AZ with automatic failover, in the private subnets; only the chat servers reach it
        elasticache = emulator.client("elasticache")
        (group,) = elasticache.describe_replication_groups(ReplicationGroupId=f"{stack}-redis")["ReplicationGroups"]
        assert group["AtRestEncryptionEnabled"] and group["TransitEncryptionEnabled"] and group["AuthTokenEnabled"]
        assert group["AutomaticFailover"] == "enabled" and group["MultiAZ"] == "enabled"
        assert len(group["MemberClusters"]) == 2
        assert out["cache"]["endpoint"] == group["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
        (subnets,) = elasticache.describe_cache_subnet_groups(CacheSubnetGroupName=f"{stack}-redis")[
            "CacheSubnetGroups"
        ]
        assert sorted(s["SubnetIdentifier"] for s in subnets["Subnets"]) == sorted(
            out["network"]["subnets"]["private"].values()
        )
        ec2 = emulator.client("ec2")
        sg = out["security_groups"]
        (redis_sg,) = ec2.describe_security_groups(GroupIds=[sg["redis"]])["SecurityGroups"]
        assert [
            (p["FromPort"], p["ToPort"], [g["GroupId"] for g in p["UserIdGroupPairs"]], p["IpRanges"])
            for p in redis_sg["IpPermissions"]
        ] == [(6379, 6379, [sg["chat"]], [])]
        assert redis_sg["IpPermissionsEgress"] == []
        (chat_sg,) = ec2.describe_security_groups(GroupIds=[sg["chat"]])["SecurityGroups"]
        assert sorted(
            (p["FromPort"], [g["GroupId"] for g in p["UserIdGroupPairs"]], p["IpRanges"])
            for p in chat_sg["IpPermissions"]
        ) == sorted([(8080, [sg["alb"]], []), (22, [sg["bastion"]], [])])
        elbv2 = emulator.client("elbv2")
        tg_arn = out["loadbalancer"]["target_groups"]["chat"]["arn"]
        health = elbv2.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        assert sorted(h["Target"]["Id"] for h in health) == sorted(i["instance_id"] for i in out["compute"]["chat"])
        attributes = {
            a["Key"]: a["Value"] for a in elbv2.describe_target_group_attributes(TargetGroupArn=tg_arn)["Attributes"]
        }
        assert attributes["stickiness.enabled"] == "true" and attributes["stickiness.type"] == "lb_cookie"
        # the ALB's access logs go to the stack's log bucket, the storage role's only bucket here
        logs = alb_access_logs_checked(emulator, stack, out)
        assert out["storage"]["bucket"] == "" and out["storage"]["arn"] == "", out["storage"]

        # ---- the token is in no container's configuration, environment or process list
        names = [f"{stack}-redis"] + [i["name"] for i in out["compute"]["chat"]]
        for name in names:
            assert token not in docker("inspect", name), f"the token is in docker inspect {name}"
            assert token not in docker("exec", name, "ps", "-eo", "args"), f"the token is on a command line in {name}"

        # ---- a second run changes nothing
        again = run_playbook(CHAT, "-i", str(LOCAL), env=env, extra_vars=extra, timeout=2400)
        assert again.rc == 0, again.output[-8000:]
        assert again.changed == 0, again.output[-8000:]

        # ---- through the lb (wss): a client on each chat server, each sees the other's message
        pinned = chat_check("pinned", *common)
        record_load("chat pinned", pinned)
        assert pinned["ok"], pinned
        assert sorted(pinned["servers"]) == sorted(i["instance_id"] for i in out["compute"]["chat"])

        # ---- a rolling restart while 50 clients receive a steady stream: every message exactly once
        stop = tmp_path / "stop-stream"
        with subprocess.Popen(
            [
                sys.executable,
                str(CHECK),
                "stream",
                *common,
                "--clients",
                "50",
                "--rate",
                "5",
                "--until-file",
                str(stop),
                "--max-seconds",
                "900",
                "--settle-seconds",
                "30",
                "--timeout",  # each step's bound: room for a machine busy with other tests
                "30",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as stream:
            ready = ""
            deadline = time.monotonic() + 120
            while not ready.startswith("READY") and time.monotonic() < deadline and stream.poll() is None:
                ready = stream.stderr.readline()
            assert ready.startswith("READY"), f"the stream check did not get ready: {ready!r}"
            restart = run_playbook(DEPLOY, "-i", str(LOCAL), env=env, extra_vars={**extra, "chat_app_restart": True})
            time.sleep(3)  # a few messages after the last server is back
            stop.touch()
            report_out, err = stream.communicate(timeout=300)
        assert restart.rc == 0, restart.output[-8000:]
        report = json.loads(report_out.strip().splitlines()[-1])
        summary = {
            k: report.get(k) for k in ("ok", "reason", "sent", "reconnects", "clients_reconnected", "close_codes")
        }
        record_load("chat stream through the rolling restart", summary)
        # the reason and the failures first: CI shows only the start of a long message
        failures = f"{report.get('failures')} resends={report.get('resends')}"
        assert report["ok"], f"{failures} {json.dumps(report)[:4000]} {err[-1500:]}"
        assert report["sent"] > 0
        # each server was restarted in turn: every client's server closed on it at least once
        assert report["clients_reconnected"] == 50, summary
        assert report["close_codes"].get("1001", 0) >= 50, summary

        # ---- the image baked ahead, then a third chat server launched from it
        bake = run_playbook(BAKE, "-i", str(LOCAL), "-v", env=env, extra_vars=extra, timeout=1800)
        assert bake.rc == 0, bake.output[-8000:]
        assert token not in bake.output, "the AUTH token was printed"
        stack_tag = [{"Name": "tag:Stack", "Values": [stack]}]
        (image,) = ec2.describe_images(Owners=["self"], Filters=stack_tag)["Images"]
        tags = {t["Key"]: t["Value"] for t in image["Tags"]}
        assert tags["Role"] == "chat" and tags["ManagedBy"] == "kumo.webstack", tags
        assert len(tags["AppRevision"]) == 40 and tags["AppRuntime"] == "systemd", tags
        assert tags["BakedFrom"] == out["compute"]["ami_id"], tags
        builders = [
            i["State"]["Name"]
            for r in ec2.describe_instances(Filters=[*stack_tag, {"Name": "tag:Role", "Values": ["chat-builder"]}])[
                "Reservations"
            ]
            for i in r["Instances"]
        ]
        assert builders == ["terminated"], builders
        baked = f"kumo-webstack/twin-ami:{image['ImageId']}"
        # installed, without settings: the image holds the venv and the unit, no chat.env (no token)
        files = docker("run", "--rm", "--entrypoint", "ls", baked, "/etc/kumo-chat", "/opt/kumo-chat/venv/bin/python")
        assert "chat.env" not in files and "/opt/kumo-chat/venv/bin/python" in files, files
        assert docker("ps", "-aq", "--filter", f"name={stack}-chat-builder").split() == []
        again = run_playbook(BAKE, "-i", str(LOCAL), env=env, extra_vars=extra)
        assert again.rc == 0 and again.changed == 0, again.output[-6000:]
        assert "Nothing to bake" in again.output

        three = run_playbook(
            CHAT, "-i", str(LOCAL), env=env, extra_vars={**extra, "webstack_chat_count": 3}, timeout=2400
        )
        assert three.rc == 0, three.output[-8000:]
        out = json.loads((tmp_path / "state" / stack / "outputs.json").read_text())
        images = {i["name"]: i["image_id"] for i in out["compute"]["chat"]}
        assert images == {
            f"{stack}-chat-1": out["compute"]["ami_id"],
            f"{stack}-chat-2": out["compute"]["ami_id"],
            f"{stack}-chat-3": image["ImageId"],
        }, images
        assert docker("inspect", "-f", "{{.Config.Image}}", f"{stack}-chat-3").strip() == baked
        health = elbv2.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        assert len(health) == 3, health
        pinned = chat_check("pinned", *common)
        assert pinned["ok"], pinned

        # ---- the twin goes (the baked image stays), then a teardown removes all but the data: the
        # final snapshot of Redis and the baked image, both named in its output
        gone = run_playbook(TWIN, "-i", str(LOCAL), env=env, extra_vars={**extra, "twin_state": "absent"})
        assert gone.rc == 0, gone.output[-6000:]
        assert docker("images", "-q", baked).strip()
        # the test object ELB writes when access logs are turned on (on AWS the log bucket is never
        # empty once they are on; the emulator delivers no ALB log)
        s3 = emulator.client("s3")
        s3.put_object(Bucket=logs, Key="alb/AWSLogs/123456789012/ELBAccessLogTestFile", Body=b"")
        down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=extra, timeout=1800)
        assert down.rc == 0, down.output[-8000:]
        (snapshot,) = [
            s
            for s in elasticache.describe_snapshots()["Snapshots"]
            if s["SnapshotName"].startswith(f"{stack}-redis-final-")
        ]
        assert snapshot["ReplicationGroupId"] == f"{stack}-redis", snapshot
        assert snapshot["SnapshotName"] in down.output and image["ImageId"] in down.output
        flat = " ".join(down.output.split())
        assert f"Bucket {logs} (the log bucket of the stack) is not empty: it holds 1 log object(s)" in flat
        kept = stack_leftovers(emulator, stack)
        assert set(kept) <= {"ec2:images", "ec2:snapshots", "s3"} and kept["ec2:images"] == [image["ImageId"]], kept
        assert kept["s3"] == [logs], kept
        assert not (secrets_dir / "redis-auth-token").exists()

        # ---- forced: the baked image and its snapshots go too, in the emulator and in the twin, and
        # the log bucket with its objects
        forced = {**extra, "webstack_teardown_delete_images": True, "webstack_teardown_force_delete_data": True}
        down = run_playbook(TEARDOWN, env=emulator.env, extra_vars=forced, timeout=1800)
        assert down.rc == 0, down.output[-8000:]
        assert stack_leftovers(emulator, stack) == {}
        gone = run_playbook(TWIN, "-i", str(LOCAL), env=env, extra_vars={**forced, "twin_state": "absent"})
        assert gone.rc == 0, gone.output[-6000:]
        assert docker("images", "-q", baked).strip() == ""
        assert docker("ps", "-aq", "--filter", f"label=kumo.webstack.stack={stack}").split() == []
        elasticache.delete_snapshot(SnapshotName=snapshot["SnapshotName"])
    finally:
        remove_twin(stack)
