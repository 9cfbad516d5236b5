"""Route 53 Domains: when a request on a domain counts as a duplicate."""

from __future__ import annotations

from moto.route53domains.exceptions import DuplicateRequestException
from moto.route53domains.models import Route53DomainsBackend

from emulator_fixes import Patch, fix


@fix
def duplicate_request_only_while_pending(patch: Patch) -> None:
    """Any operation (RegisterDomain, UpdateDomainNameservers, DeleteDomain...): AWS refuses a
    request with DuplicateRequest only while an earlier one of the same type on the same domain
    is still SUBMITTED or IN_PROGRESS; moto refuses it when any earlier one exists, finished or
    not. So a domain's name servers could be changed only once, and a domain deleted by a
    teardown could never be registered again by the next provision."""

    def validate_duplicate_operations(self, requested_operation):
        for operation in self._Route53DomainsBackend__operations.values():
            if (
                operation.domain_name == requested_operation.domain_name
                and operation.type == requested_operation.type
                and operation.status in ("SUBMITTED", "IN_PROGRESS")
            ):
                raise DuplicateRequestException()

    patch.setattr(
        Route53DomainsBackend, "_Route53DomainsBackend__validate_duplicate_operations", validate_duplicate_operations
    )
