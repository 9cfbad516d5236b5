from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kumo.webstack.plugins.filter import windows

# (backup window, maintenance window, its minutes, its minutes, overlap) as the Jinja program
# that database/tasks/validate.yml held before these filters computed them (ansible-core 2.19).
# The program missed a daily window running from Sunday night into Monday morning; those two
# rows are in test_daily_window_over_sunday_night_into_monday below.
FORMER_JINJA = [
    ("03:00-03:30", "mon:04:00-mon:04:30", 30, 30, False),
    ("03:00-03:30", "mon:03:15-mon:03:45", 30, 30, True),
    ("23:30-00:30", "sun:23:00-mon:00:10", 60, 70, True),
    ("23:30-00:30", "sun:20:00-sun:23:00", 60, 180, False),
    ("01:00-01:00", "wed:05:00-wed:06:00", 1440, 60, True),
    ("00:00-00:30", "sun:23:45-mon:00:15", 30, 30, True),
    ("12:00-12:30", "Mon:12:29-Mon:13:00", 30, 31, True),
    ("12:00-12:30", "tue:12:30-tue:13:00", 30, 30, False),
    ("12:00-12:30", "tue:11:30-tue:12:00", 30, 30, False),
    ("03:00-03:30", "wed:04:00-wed:04:00", 30, 10080, True),
    ("15:45-03:30", "wed:06:15-mon:22:59", 705, 8204, True),
    ("05:15-14:00", "sun:06:30-wed:13:30", 525, 4740, True),
    ("16:15-06:30", "sat:14:59-sat:23:15", 855, 496, True),
    ("19:00-17:59", "sat:00:30-sat:23:59", 1379, 1409, True),
    ("22:00-13:45", "sun:19:45-thu:16:45", 945, 5580, True),
    ("22:59-02:15", "mon:09:00-thu:06:30", 196, 4170, True),
    ("04:15-08:00", "sun:12:45-sun:13:59", 225, 74, False),
    ("06:00-05:00", "sat:19:15-sat:08:59", 1380, 9464, True),
    ("06:59-23:15", "tue:19:30-tue:00:00", 976, 8910, True),
    ("11:30-18:30", "fri:19:30-sat:05:59", 420, 629, False),
    ("02:59-04:45", "sun:11:00-sun:16:45", 106, 345, False),
    ("06:45-12:00", "mon:13:59-mon:02:15", 315, 9376, True),
    ("05:45-21:00", "thu:19:59-fri:09:45", 915, 826, True),
    ("18:45-19:30", "mon:04:30-sat:21:15", 45, 8205, True),
    ("05:45-05:45", "mon:12:30-sat:19:15", 1440, 7605, True),
    ("17:00-17:30", "sun:18:00-sun:18:30", 30, 30, False),  # the role's defaults
    ("17:00-17:30", "sun:17:10-sun:17:40", 30, 30, True),  # test_database.py's bad input
]


@pytest.mark.parametrize(("backup", "maintenance", "backup_minutes", "maintenance_minutes", "overlap"), FORMER_JINJA)
def test_same_results_as_the_former_jinja(backup, maintenance, backup_minutes, maintenance_minutes, overlap):
    assert windows.window_minutes(backup) == backup_minutes
    assert windows.window_minutes(maintenance) == maintenance_minutes
    assert windows.windows_overlap(backup, maintenance) is overlap
    assert windows.windows_overlap(maintenance, backup) is overlap


@pytest.mark.parametrize(
    ("backup", "maintenance"),
    [("23:30-00:30", "mon:00:00-mon:01:00"), ("20:30-10:30", "mon:01:00-mon:20:30")],
)
def test_daily_window_over_sunday_night_into_monday(backup, maintenance):
    # Sunday's backup runs into Monday: the former Jinja compared days 0..13 only and said no
    assert windows.windows_overlap(backup, maintenance)


def test_windows_are_half_open():
    assert not windows.windows_overlap("03:00-04:00", "04:00-05:00")
    assert not windows.windows_overlap("sun:23:00-mon:00:00", "mon:00:00-mon:01:00")
    assert windows.windows_overlap("sun:23:00-mon:00:01", "mon:00:00-mon:01:00")


def test_two_daily_windows():
    assert windows.windows_overlap("23:00-01:00", "00:30-02:00")
    assert not windows.windows_overlap("23:00-01:00", "01:00-02:00")


def test_two_weekly_windows_over_sunday_night():
    assert windows.windows_overlap("sun:22:00-mon:02:00", "mon:01:00-mon:03:00")
    assert windows.windows_overlap("mon:01:00-mon:03:00", "sun:22:00-mon:02:00")
    assert not windows.windows_overlap("sun:22:00-mon:02:00", "sat:22:00-sun:22:00")


def test_weekly_window_length_over_sunday_night_and_case():
    assert windows.window_minutes("SUN:23:00-Mon:01:00") == 120
    assert windows.window_minutes("mon:00:00-sun:23:59") == 10079
    assert windows.window_minutes("00:00-23:59") == 1439


@pytest.mark.parametrize(
    "value",
    [
        "24:00-01:00",
        "03:60-04:00",
        "3:00-4:00",
        "03:00",
        "03:00-04:00 ",
        "mon:03:00-04:00",
        "monday:03:00-mon:04:00",
        "",
    ],
)
def test_malformed_windows_fail_with_both_forms(value):
    for call in (lambda: windows.window_minutes(value), lambda: windows.windows_overlap("03:00-03:30", value)):
        with pytest.raises(AnsibleFilterError, match="is not a daily window hh:mm-hh:mm or a weekly window") as err:
            call()
        assert repr(value)[1:-1] in str(err.value)


@pytest.mark.parametrize("value", [None, 330, ["03:00-03:30"]])
def test_non_string_windows_fail(value):
    with pytest.raises(AnsibleFilterError, match=r"window_minutes: a window must be a string"):
        windows.window_minutes(value)
    with pytest.raises(AnsibleFilterError, match=r"windows_overlap: a window must be a string"):
        windows.windows_overlap(value, "03:00-03:30")


def test_filters_are_registered():
    assert windows.FilterModule().filters() == {
        "window_minutes": windows.window_minutes,
        "windows_overlap": windows.windows_overlap,
    }
