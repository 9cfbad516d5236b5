# Copyright: Contributors to the kumo.webstack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Dates as the modules return them: ISO 8601 in UTC, whole seconds, with a ``Z``."""

from __future__ import annotations

import datetime

# datetime.UTC needs Python 3.11; modules also run on older target Pythons.
UTC = datetime.timezone.utc  # noqa: UP017


def date_text(value):
    """ISO 8601 in UTC ("2025-01-01T00:00:00Z") for a datetime (naive means UTC), None for None,
    and anything else as its text (an API that already answered with a string)."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)
