# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What community.aws.elb_target_group would change on an existing target group.

That module has no check mode, so the loadbalancer role predicts its changes from
elb_target_group_info's view of the group. A pure function on that dict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError


def _ids(name, value):
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise AnsibleFilterError(
            f"target_group_drift: {name} must be a list of target ids; got {type(value).__name__} {value!r}"
        )
    bad = [item for item in value if not isinstance(item, str)]
    if bad:
        raise AnsibleFilterError(f"target_group_drift: {name} must hold target ids (strings); got {bad[0]!r}")
    return list(value)


def _minus(left, right):
    """Items of ``left`` not in ``right``, each once, in ``left``'s order."""
    out = []
    for item in left:
        if item not in right and item not in out:
            out.append(item)
    return out


def target_group_drift(current, want, matcher=None, targets=None, registered=None, tags=None):
    """List one line per difference between ``current`` (an item of elb_target_group_info's
    ``target_groups``, or ``{}`` when there is none) and what is wanted; ``[]`` when they agree
    or when there is no group yet."""
    if not isinstance(current, Mapping):
        raise AnsibleFilterError(
            "target_group_drift: the input must be a target group as elb_target_group_info returns it"
            f" (a dict, or {{}} for none); got {type(current).__name__}"
        )
    if not isinstance(want, Mapping):
        raise AnsibleFilterError(
            "target_group_drift: the wanted attributes must be a dict of elb_target_group_info keys"
            f" (port, health_check_path, ...) to values; got {type(want).__name__}"
        )
    if (targets is None) != (registered is None):
        raise AnsibleFilterError(
            "target_group_drift: give both targets (the ids to register) and registered (the ids registered now),"
            " or neither"
        )
    if targets is not None:
        targets = _ids("targets", targets)
        registered = _ids("registered", registered)
    if matcher is not None and not isinstance(matcher, (str, int)):
        raise AnsibleFilterError(
            f"target_group_drift: matcher must be HTTP codes such as '200' or '200,302'; got {type(matcher).__name__}"
        )
    if tags is not None and not isinstance(tags, Mapping):
        raise AnsibleFilterError(f"target_group_drift: tags must be a dict; got {type(tags).__name__}")
    if not current:
        return []

    drift = []
    for key, value in want.items():
        have = current.get(key, "")
        if have != value:
            drift.append(f"{key} {current.get(key, '-')} -> {value}")
    if matcher is not None:
        matcher = str(matcher)
        codes = (current.get("matcher") or {}).get("http_code", "")
        if sorted(str(codes).split(",")) != sorted(matcher.split(",")):
            drift.append(f"matcher {(current.get('matcher') or {}).get('http_code', '-')} -> {matcher}")
    if targets is not None:
        register = _minus(targets, registered)
        deregister = _minus(registered, targets)
        if register:
            drift.append("register " + ", ".join(register))
        if deregister:
            drift.append("deregister " + ", ".join(deregister))
    if tags is not None:
        have_tags = current.get("tags") or {}
        bad = [key for key, value in tags.items() if have_tags.get(key) != value]
        if bad:
            drift.append("tags " + ", ".join(bad))
    return drift


class FilterModule:
    """Target group filters."""

    def filters(self):
        return {"target_group_drift": target_group_drift}
