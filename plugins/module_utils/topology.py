# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks shared by the filters that validate a stack's topology given as data (compute's
instance groups, security_groups' groups, the load balancer's target groups and rules): each
is a list of named dicts, and each says what is wrong in the same words. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def is_list(value) -> bool:
    """A list (or tuple) of things, not a string."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def unknown_keys(where: str, item: Mapping, allowed) -> list[str]:
    """``[message]`` when ``item`` has keys outside ``allowed``, else ``[]``."""
    extra = sorted(set(item) - set(allowed))
    if not extra:
        return []
    return [f"{where} has unknown keys {', '.join(map(str, extra))} (allowed: {', '.join(sorted(allowed))})"]


def check_named_item(variable, index, item, shape, name_re, name_rule, seen, errors):
    """The checks every item of a list of named dicts gets: a dict, a name matching
    ``name_re`` (``name_rule`` says the rule in words), not used before (``seen``, updated).
    Appends a message per problem to ``errors``. Returns ``(where, name)``: ``where`` names the item
    in later messages (``<variable>[<index>] (<name>)``), or None when the item is not a dict and
    has nothing more to check; ``name`` is None unless valid and new."""
    where = f"{variable}[{index}]"
    if not isinstance(item, Mapping):
        errors.append(f"{where} must be a dict ({shape}); got {item!r}")
        return None, None
    name = item.get("name")
    valid = isinstance(name, str) and name_re.match(name) is not None
    if not valid:
        errors.append(f"{where}: name must be {name_rule}; got {name!r}")
    elif name in seen:
        errors.append(f"{where}: the name '{name}' is used twice (names must be unique)")
        valid = False
    seen.add(name if isinstance(name, str) else repr(name))
    return f"{where} ({name})", name if valid else None
