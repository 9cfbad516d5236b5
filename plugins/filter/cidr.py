# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPv4 CIDR helpers used to plan and validate a stack's subnets before any API call.

Pure functions on strings (standard library ``ipaddress`` only), so the network role can
check its input without netaddr and without touching AWS.
"""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError


def _net(value):
    return ipaddress.IPv4Network(str(value), strict=True)


def cidr_error(value):
    """Return '' when ``value`` is an IPv4 network in CIDR form, else what is wrong with it."""
    text = str(value)
    if "/" not in text:
        return f"'{text}' has no prefix length (write it as a.b.c.d/n)"
    try:
        ipaddress.IPv4Network(text, strict=True)
    except ipaddress.AddressValueError:
        return f"'{text}' is not an IPv4 address range"
    except ipaddress.NetmaskValueError:
        return f"'{text}' has an invalid prefix length"
    except ValueError:
        loose = ipaddress.IPv4Network(text, strict=False)
        return f"'{text}' has host bits set (did you mean {loose}?)"
    return ""


def ipv6_cidr_error(value):
    """Return '' when ``value`` is an IPv6 network in CIDR form, else what is wrong with it
    (cidr_error's IPv6 counterpart; not a filter: the security group checks call it)."""
    text = str(value)
    if "/" not in text:
        return f"'{text}' has no prefix length"
    try:
        ipaddress.IPv6Network(text, strict=True)
    except ValueError:
        return f"'{text}' is not an IPv6 network in CIDR form"
    return ""


def cidr_within(inner, outer):
    """True when network ``inner`` lies entirely inside network ``outer``."""
    try:
        return _net(inner).subnet_of(_net(outer))
    except ValueError as exc:
        raise AnsibleFilterError(f"cidr_within: {exc}") from exc


def cidr_overlaps(cidrs):
    """List 'a overlaps b' for every pair of overlapping networks in ``cidrs``."""
    try:
        nets = [_net(c) for c in cidrs]
    except ValueError as exc:
        raise AnsibleFilterError(f"cidr_overlaps: {exc}") from exc
    found = []
    for i, left in enumerate(nets):
        for right in nets[i + 1 :]:
            if left.overlaps(right):
                found.append(f"{left} overlaps {right}")
    return found


def cidr_subnet_plan(vpc_cidr, prefix, count):
    """Default subnets for ``count`` AZs: public from the start of the VPC range, private
    from its middle, each a /``prefix``. Returns ``{"public": [...], "private": [...]}``."""
    try:
        vpc = _net(vpc_cidr)
        prefix = int(prefix)
        count = int(count)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"cidr_subnet_plan: {exc}") from exc
    if prefix <= vpc.prefixlen:
        raise AnsibleFilterError(
            f"cidr_subnet_plan: subnet prefix /{prefix} must be longer than the VPC's /{vpc.prefixlen}"
        )
    available = 2 ** (prefix - vpc.prefixlen)
    half = available // 2
    if count > half:
        raise AnsibleFilterError(
            f"cidr_subnet_plan: {vpc} holds {available} /{prefix} subnets, too few for {count} public"
            f" and {count} private"
        )
    size = 2 ** (32 - prefix)
    base = int(vpc.network_address)

    def at(index):
        return str(ipaddress.IPv4Network((base + index * size, prefix)))

    return {
        "public": [at(i) for i in range(count)],
        "private": [at(half + i) for i in range(count)],
    }


class FilterModule:
    """CIDR planning and validation filters."""

    def filters(self):
        return {
            "cidr_error": cidr_error,
            "cidr_within": cidr_within,
            "cidr_overlaps": cidr_overlaps,
            "cidr_subnet_plan": cidr_subnet_plan,
        }
