"""Route 53: the form of an alias target's DNS name."""

from __future__ import annotations

from moto.route53.models import RecordSet

from emulator_fixes import Patch, fix


@fix
def alias_target_dns_name(patch: Patch) -> None:
    """ListResourceRecordSets: AWS returns an alias target's DNSName fully qualified (trailing
    dot) and in lower case, whatever form it was given in; moto returns it exactly as sent, so a
    module that sends the load balancer's DNS name as ELBv2 reports it reads back something else
    and reports a change on every run against one of the two."""
    original_init = RecordSet.__init__

    def __init__(self, kwargs):
        original_init(self, kwargs)
        target = self.alias_target
        if isinstance(target, dict) and isinstance(target.get("DNSName"), str):
            name = target["DNSName"].lower()
            self.alias_target = {**target, "DNSName": name if name.endswith(".") else name + "."}

    patch.setattr(RecordSet, "__init__", __init__)
