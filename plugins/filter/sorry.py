# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sorry pages' domains, with their defaults filled in.

A domain is given as ``{name, label, status, retry_after, source_dir}`` with only ``name``
required (see the sorry_pages role). The provisioning role, the sorry server's site and the
twin all need the same derived values (the label, the alias under the sorry subdomain, the
bucket prefix), so they are computed once, here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

DEFAULT_STATUS = 503
DEFAULT_RETRY_AFTER = 3600


def sorry_domains(domains, subdomain="", source_dir=""):
    """Each domain as a dict with every key set: name, label (default: the name with dots as
    hyphens), status (int, default 503), retry_after (int, default 3600), source_dir (default
    ``source_dir``), prefix (the label: the domain's folder in the bucket) and alias
    (``<label>.<subdomain>``, or empty without a subdomain)."""
    if not isinstance(domains, Sequence) or isinstance(domains, str):
        raise AnsibleFilterError(f"sorry_domains: expected a list of domains, got {type(domains).__name__}")
    result = []
    for index, domain in enumerate(domains):
        if not isinstance(domain, Mapping) or not isinstance(domain.get("name"), str):
            raise AnsibleFilterError(f"sorry_domains: item {index} must be a dict with a 'name'; got {domain!r}")
        label = domain.get("label") or domain["name"].replace(".", "-")
        result.append(
            {
                "name": domain["name"],
                "label": label,
                "status": int(domain.get("status", DEFAULT_STATUS)),
                "retry_after": int(domain.get("retry_after", DEFAULT_RETRY_AFTER)),
                "source_dir": domain.get("source_dir") or source_dir,
                "prefix": label,
                "alias": f"{label}.{subdomain}" if subdomain else "",
            }
        )
    return result


def sorry_site_domains(domains):
    """The domains as the sorry server's nginx site (kumo.webstack.nginx, sorry.conf.j2) takes
    them: name, origin (the name the domain's distribution answers under), status, retry_after."""
    if not isinstance(domains, Sequence) or isinstance(domains, str):
        raise AnsibleFilterError(f"sorry_site_domains: expected a list of domains, got {type(domains).__name__}")
    keys = ("name", "origin", "status", "retry_after")
    result = []
    for index, domain in enumerate(domains):
        if not isinstance(domain, Mapping) or any(key not in domain for key in keys):
            raise AnsibleFilterError(
                f"sorry_site_domains: item {index} must be a domain of sorry_pages_outputs "
                f"(with {', '.join(keys)}); got {domain!r}"
            )
        result.append({key: domain[key] for key in keys})
    return result


def sorry_zone_id(zones, subdomain):
    """The id (without /hostedzone/) of the public hosted zone that holds `subdomain`: of the
    zones (route53 ListHostedZones' HostedZones), the one whose name is the longest suffix of
    it; empty when none is."""
    if not isinstance(zones, Sequence) or isinstance(zones, str):
        raise AnsibleFilterError(f"sorry_zone_id: expected the list of hosted zones, got {type(zones).__name__}")
    name = str(subdomain).lower().rstrip(".") + "."
    best = ("", "")
    for zone in zones:
        if not isinstance(zone, Mapping) or (zone.get("Config") or {}).get("PrivateZone"):
            continue
        zone_name = str(zone.get("Name", "")).lower()
        if zone_name and (name == zone_name or name.endswith("." + zone_name)) and len(zone_name) > len(best[0]):
            best = (zone_name, str(zone.get("Id", "")).rsplit("/", maxsplit=1)[-1])
    return best[1]


class FilterModule:
    """Sorry pages filters."""

    def filters(self):
        return {
            "sorry_domains": sorry_domains,
            "sorry_site_domains": sorry_site_domains,
            "sorry_zone_id": sorry_zone_id,
        }
