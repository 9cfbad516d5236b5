# Copyright: kumo.webstack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS maintenance and backup windows: their length and whether two of them overlap.

AWS writes a daily window as ``hh:mm-hh:mm`` (RDS PreferredBackupWindow, ElastiCache
SnapshotWindow) and a weekly one as ``ddd:hh:mm-ddd:hh:mm`` (PreferredMaintenanceWindow),
both in UTC. A window whose end is not after its start runs over midnight (daily) or over
Sunday night (weekly). Pure functions on strings, so a role can check its windows before
any API call.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

DAY = 24 * 60
WEEK = 7 * DAY
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_TIME = r"([01][0-9]|2[0-3]):([0-5][0-9])"
_DAILY = re.compile(rf"^{_TIME}-{_TIME}$")
_WEEKLY = re.compile(rf"^({'|'.join(DAYS)}):{_TIME}-({'|'.join(DAYS)}):{_TIME}$")

_FORMS = "a daily window hh:mm-hh:mm or a weekly window ddd:hh:mm-ddd:hh:mm (UTC; ddd is one of mon..sun)"


def _parse(name, value):
    """``(period, start, end)`` in minutes: period is DAY or WEEK, 0 <= start < period and
    start < end <= start + period."""
    if not isinstance(value, str):
        raise AnsibleFilterError(f"{name}: a window must be a string, {_FORMS}; got {type(value).__name__} {value!r}")
    text = value.lower()
    match = _DAILY.match(text)
    if match:
        sh, sm, eh, em = (int(g) for g in match.groups())
        period, start, end = DAY, sh * 60 + sm, eh * 60 + em
    else:
        match = _WEEKLY.match(text)
        if not match:
            raise AnsibleFilterError(f"{name}: '{value}' is not {_FORMS}")
        sd, sh, sm, ed, eh, em = match.groups()
        period = WEEK
        start = DAYS.index(sd) * DAY + int(sh) * 60 + int(sm)
        end = DAYS.index(ed) * DAY + int(eh) * 60 + int(em)
    if end <= start:
        end += period
    return period, start, end


def window_minutes(window):
    """Length of a daily or weekly window in minutes (an end equal to the start means a whole period)."""
    start, end = _parse("window_minutes", window)[1:]
    return end - start


def windows_overlap(window, other):
    """True when the two windows share a minute in some week. A daily window recurs every day."""
    spans = []
    for value in (window, other):
        period, start, end = _parse("windows_overlap", value)
        spans.append([(start + day * DAY, end + day * DAY) for day in range(WEEK // period)])
    # every span starts within the week and lasts at most a week: comparing with the other
    # window one week earlier, the same week and one week later covers every wrap
    return any(
        max(a_start, b_start + shift) < min(a_end, b_end + shift)
        for a_start, a_end in spans[0]
        for b_start, b_end in spans[1]
        for shift in (-WEEK, 0, WEEK)
    )


class FilterModule:
    """Maintenance and backup window filters."""

    def filters(self):
        return {
            "window_minutes": window_minutes,
            "windows_overlap": windows_overlap,
        }
