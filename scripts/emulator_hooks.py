"""Test hooks of the embedded emulator: instrumentation, not fixes of moto's answers.

Kept apart from scripts/emulator_fixes (where moto answers unlike AWS): these change nothing
unless their environment variable is set, and tests/integration/test_stack.py sets them.
"""

from __future__ import annotations

import json
import os
import threading
import time


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
