"""The embedded AWS emulator: moto's server, with fixes where moto answers unlike AWS.

Started by scripts/emulator.sh (which also waits for health and stops it). Each fix is a
place where moto's answer differs from AWS's in a way that would make a correct playbook
look wrong against the emulator; none of them changes what a real account would do.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
from pathlib import Path

from moto.ec2 import utils as ec2_utils
from moto.ec2.models import nat_gateways
from moto.server import main


def apply_fixes() -> None:
    # DescribeTags: AWS names these resource types "natgateway" and "elastic-ip"; moto says
    # "nat-gateway" and "vpc-elastic-ip", so a resource-type filter (which amazon.aws uses
    # to reconcile tags) finds no tags, and every run re-adds them (changed=true forever).
    ec2_utils.EC2_PREFIX_TO_RESOURCE.update({"nat": "natgateway", "eipalloc": "elastic-ip"})

    # DeleteNatGateway: AWS disassociates the gateway's Elastic IP and removes its network
    # interface; moto keeps both, so the address can never be released after a teardown.
    original_delete = nat_gateways.NatGatewayBackend.delete_nat_gateway

    def delete_nat_gateway(self, nat_gateway_id):
        gateway = self.nat_gateways.get(nat_gateway_id)
        if gateway is not None and gateway.state != "deleted":
            for address in gateway.address_set:
                if address.get("associationId"):
                    self.disassociate_address(association_id=address["associationId"])
            self.enis.pop(gateway._eni.id, None)
        return original_delete(self, nat_gateway_id)

    nat_gateways.NatGatewayBackend.delete_nat_gateway = delete_nat_gateway

    # Route 53 Domains: AWS refuses a request (DuplicateRequest) only while an earlier one of
    # the same type on the same domain is still SUBMITTED or IN_PROGRESS; moto refuses it when
    # any earlier one exists, finished or not, so a domain's name servers can be changed only
    # once and a deleted domain can never be registered again.
    from moto.route53domains.exceptions import DuplicateRequestException
    from moto.route53domains.models import Route53DomainsBackend

    def validate_duplicate_operations(self, requested_operation):
        for operation in self._Route53DomainsBackend__operations.values():
            if (
                operation.domain_name == requested_operation.domain_name
                and operation.type == requested_operation.type
                and operation.status in ("SUBMITTED", "IN_PROGRESS")
            ):
                raise DuplicateRequestException()

    Route53DomainsBackend._Route53DomainsBackend__validate_duplicate_operations = validate_duplicate_operations

    # UpdateSecurityGroupRuleDescriptionsIngress/Egress: AWS answers {"Return": true}; moto
    # answers an empty result, so amazon.aws.ec2_security_group (which reads ["Return"])
    # fails with KeyError 'Return' whenever it changes the description of an existing rule.
    from moto.core.responses import ActionResult
    from moto.ec2.responses.security_groups import SecurityGroups

    def update_descriptions(direction):
        def handler(self):
            backend_call = getattr(self.ec2_backend, f"update_security_group_rule_descriptions_{direction}")
            for args in self._process_rules_from_querystring():
                del args["sgrule_tags"]
                backend_call(**args)
            return ActionResult({"Return": True})

        return handler

    SecurityGroups.update_security_group_rule_descriptions_ingress = update_descriptions("ingress")
    SecurityGroups.update_security_group_rule_descriptions_egress = update_descriptions("egress")


def install_test_hooks() -> None:
    """Instrumentation for tests, off unless its environment variable is set.

    WEBSTACK_EMULATOR_CALL_LOG=<path>: append one JSON line per API call (time, service, action)
    so a test can check the order in which a playbook issued its calls.

    WEBSTACK_EMULATOR_SLOW_SECONDS=<n>: make the resources AWS is slow to create stay in their
    transitional state for n seconds after creation, as AWS does for minutes: NAT gateways
    "pending", RDS instances "creating", load balancers "provisioning", requested ACM
    certificates PENDING_VALIDATION (set MOTO_ACM_VALIDATION_WAIT to n as well). The first
    time the emulator reports each one ready is logged as {"ready": kind}: only a client that
    polls (waits) sees it, so the log shows what was created before anything was awaited.
    """
    call_log = os.environ.get("WEBSTACK_EMULATOR_CALL_LOG")
    lock = threading.Lock()

    def log(entry):
        if call_log:
            with lock, open(call_log, "a", encoding="utf-8") as out:
                out.write(json.dumps({"t": time.time(), **entry}) + "\n")

    if call_log:
        from moto.core.responses import BaseResponse

        original_call_action = BaseResponse.call_action

        def call_action(self):
            try:
                action = self._get_action()
            except Exception:  # noqa: BLE001 - logging must never break a call
                action = "?"
            log({"service": self.service_name, "action": action})
            return original_call_action(self)

        BaseResponse.call_action = call_action

    slow = float(os.environ.get("WEBSTACK_EMULATOR_SLOW_SECONDS") or 0)
    if slow > 0:
        from moto.acm.models import CertBundle
        from moto.ec2.models.nat_gateways import NatGateway
        from moto.elbv2.models import FakeLoadBalancer
        from moto.rds.models import DBInstance

        def transitional(kind, attribute, ready, pending, created_ready=True):
            """A property that reads `pending` for `slow` seconds after the object is created,
            then `ready`; the first time it reads `ready` is logged as {"ready": kind}."""
            stored = f"_webstack_{attribute}"

            def getter(self):
                value = self.__dict__.get(stored)
                if value == ready:
                    if time.time() < self.__dict__.get("_webstack_ready_at", 0):
                        return pending
                    if not self.__dict__.get("_webstack_ready_logged"):
                        self.__dict__["_webstack_ready_logged"] = True
                        log({"ready": kind})
                return value

            def setter(self, value):
                if "_webstack_ready_at" not in self.__dict__:
                    delayed = created_ready or value == pending
                    self.__dict__["_webstack_ready_at"] = time.time() + slow if delayed else 0
                self.__dict__[stored] = value

            return property(getter, setter)

        NatGateway.state = transitional("nat_gateway", "state", "available", "pending")
        DBInstance.status = transitional("db_instance", "status", "available", "creating")
        FakeLoadBalancer.state = transitional("load_balancer", "state", "active", "provisioning")
        # ACM: moto itself issues a requested certificate after MOTO_ACM_VALIDATION_WAIT; only
        # requested (not imported) certificates are delayed.
        CertBundle.status = transitional("certificate", "status", "ISSUED", "PENDING_VALIDATION", created_ready=False)
        # moto activates a load balancer on its first describe; keep it provisioning until ready.
        original_activate = FakeLoadBalancer.activate

        def activate(self):
            if time.time() >= self.__dict__.get("_webstack_ready_at", 0):
                original_activate(self)

        FakeLoadBalancer.activate = activate


def apply_area_fixes() -> None:
    """Apply every scripts/emulator_fixes/<area>.py (each defines apply()), in name order."""
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    for path in sorted((here / "emulator_fixes").glob("*.py")):
        if path.name.startswith("_"):
            continue
        importlib.import_module(f"emulator_fixes.{path.stem}").apply()


if __name__ == "__main__":
    apply_fixes()
    apply_area_fixes()
    install_test_hooks()
    main(sys.argv[1:])
