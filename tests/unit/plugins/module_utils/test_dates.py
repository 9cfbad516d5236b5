"""The date text every module returns (module_utils/dates.py)."""

from __future__ import annotations

import datetime

from ansible_collections.kumo.webstack.plugins.module_utils.dates import UTC, date_text


def test_date_text_is_utc_whole_seconds_with_z():
    assert date_text(None) is None
    assert date_text(datetime.datetime(2025, 1, 4, 17, 0, 0, 500000, tzinfo=UTC)) == "2025-01-04T17:00:00Z"
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    assert date_text(datetime.datetime(2025, 1, 4, 17, 0, 0, tzinfo=tokyo)) == "2025-01-04T08:00:00Z"
    # naive means UTC; a string (an API that answered with one) is returned as it is
    assert date_text(datetime.datetime(2025, 1, 4, 8, 0, 0)) == "2025-01-04T08:00:00Z"
    assert date_text("2025-01-04T08:00:00Z") == "2025-01-04T08:00:00Z"
