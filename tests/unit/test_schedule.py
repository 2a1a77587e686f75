"""Quiet hours: when a marketing message due at some instant may go out, per zone.

Caracas (UTC-4) and Bogotá (UTC-5) have no DST, so their windows are plain arithmetic;
New York shows the two DST edges: a window that ends in the spring-forward gap (its end
never appears on the clock) and one that ends in the repeated fall-back hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centauro.domain.schedule import QuietHours, parse_quiet_hours, release_time, zone

NIGHT = parse_quiet_hours("21:00-08:00")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("21:00-08:00", QuietHours(time(21), time(8))),
        (" 13:30 - 15:00 ", QuietHours(time(13, 30), time(15))),
        ("00:00-06:00", QuietHours(time(0), time(6))),
        ("8:00-9:30", QuietHours(time(8), time(9, 30))),
        ("22:00-00:00", QuietHours(time(22), time(0))),
        ("none", None),
        ("NONE", None),
        ("", None),
    ],
)
def test_quiet_hours_are_read_from_text(text: str, window: QuietHours | None) -> None:
    assert parse_quiet_hours(text) == window
    if window is not None:
        assert parse_quiet_hours(str(window)) == window  # str() round-trips


@pytest.mark.parametrize(
    "text",
    [
        "21:00",
        "21-08",
        "25:00-08:00",
        "21:00-08:60",
        "21:00-08:00-09:00",
        "8-9",
        "21:00:30-08:00",
        "x",
    ],
)
def test_malformed_quiet_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        parse_quiet_hours(text)


def test_an_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="same time"):
        parse_quiet_hours("08:00-08:00")


@pytest.mark.parametrize(
    ("moment", "covered"),
    [
        (time(20, 59, 59), False),
        (time(21, 0), True),  # the start is inside
        (time(23, 59, 59), True),
        (time(0, 0), True),  # across midnight
        (time(7, 59, 59), True),
        (time(8, 0), False),  # the end is outside
        (time(12, 0), False),
    ],
)
def test_a_window_across_midnight_covers_the_night(moment: time, covered: bool) -> None:
    assert NIGHT is not None
    assert NIGHT.covers(moment) is covered


def test_a_daytime_window_covers_only_its_hours() -> None:
    lunch = QuietHours(time(13), time(15))
    assert [lunch.covers(time(h)) for h in (12, 13, 14, 15)] == [False, True, True, False]


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        zone("America/Maracaibo")


CARACAS_CASES = [
    # 21:30 local (UTC-4) on the 25th → 08:00 local on the 26th = 12:00 UTC.
    pytest.param(utc(2026, 11, 26, 1, 30), utc(2026, 11, 26, 12, 0), id="evening: next morning"),
    pytest.param(utc(2026, 11, 26, 10, 0), utc(2026, 11, 26, 12, 0), id="06:00: same morning"),
    pytest.param(utc(2026, 11, 26, 1, 0), utc(2026, 11, 26, 12, 0), id="21:00 sharp waits"),
    pytest.param(utc(2026, 11, 26, 0, 59, 59), utc(2026, 11, 26, 0, 59, 59), id="20:59:59 goes"),
    pytest.param(utc(2026, 11, 26, 12, 0), utc(2026, 11, 26, 12, 0), id="08:00 sharp goes"),
    pytest.param(utc(2026, 11, 26, 18, 0), utc(2026, 11, 26, 18, 0), id="14:00 goes"),
    # New Year's Eve at 23:00 local: the window ends in another month and year.
    pytest.param(utc(2027, 1, 1, 3, 0), utc(2027, 1, 1, 12, 0), id="across the year"),
]


@pytest.mark.parametrize(("due", "release"), CARACAS_CASES)
def test_caracas_utc_minus_4_all_year(due: datetime, release: datetime) -> None:
    assert release_time(due, NIGHT, "America/Caracas") == release


@pytest.mark.parametrize(
    ("due", "release"),
    [
        # 21:30 in Bogotá (UTC-5) = 02:30 UTC → 08:00 local = 13:00 UTC.
        (utc(2026, 11, 26, 2, 30), utc(2026, 11, 26, 13, 0)),
        (utc(2026, 7, 1, 2, 30), utc(2026, 7, 1, 13, 0)),  # no DST: the same in July
        (utc(2026, 11, 26, 1, 30), utc(2026, 11, 26, 1, 30)),  # 20:30 there: goes now
    ],
)
def test_bogota_utc_minus_5_all_year(due: datetime, release: datetime) -> None:
    assert release_time(due, NIGHT, "America/Bogota") == release


def test_without_quiet_hours_nothing_waits() -> None:
    due = utc(2026, 11, 26, 3, 0)
    assert release_time(due, None, "America/Caracas") == due


@pytest.mark.parametrize(
    ("window", "due", "release"),
    [
        # Spring forward (2026-03-08, 02:00 EST → 03:00 EDT): 23:00 EST on the 7th waits
        # for 08:00 EDT = 12:00 UTC (not 13:00: the offset changed overnight).
        ("21:00-08:00", utc(2026, 3, 8, 4, 0), utc(2026, 3, 8, 12, 0)),
        # A window ending at 02:30, a time that day never shows: it ends when the clock
        # jumps from 02:00 EST to 03:00 EDT, 07:00 UTC.
        ("22:00-02:30", utc(2026, 3, 8, 5, 0), utc(2026, 3, 8, 7, 0)),
        # A window starting in the gap: 03:15 EDT is inside 02:30-05:00.
        ("02:30-05:00", utc(2026, 3, 8, 7, 15), utc(2026, 3, 8, 9, 0)),
        # Fall back (2026-11-01, 02:00 EDT → 01:00 EST): 23:00 EDT waits for 08:00 EST.
        ("21:00-08:00", utc(2026, 11, 1, 3, 0), utc(2026, 11, 1, 13, 0)),
        # Ending at 01:30, which shows twice: the first time ends it (05:30 UTC, EDT) ...
        ("22:00-01:30", utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 5, 30)),
        # ... and a message due during the repeat (01:15 EST) waits for 01:30 EST.
        ("22:00-01:30", utc(2026, 11, 1, 6, 15), utc(2026, 11, 1, 6, 30)),
    ],
)
def test_new_york_around_its_dst_transitions(window: str, due: datetime, release: datetime) -> None:
    assert release_time(due, parse_quiet_hours(window), "America/New_York") == release


ZONES = ["America/Caracas", "America/Bogota", "America/New_York", "Europe/Madrid"]
WINDOWS = st.builds(
    lambda a, b: QuietHours(time(a // 60, a % 60), time(b // 60, b % 60)),
    st.integers(0, 24 * 60 - 1),
    st.integers(0, 24 * 60 - 1),
).filter(lambda q: q.start != q.end)
INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


def _covered(window: QuietHours, instant: datetime, zone_name: str) -> bool:
    return window.covers(instant.astimezone(ZoneInfo(zone_name)).time())


@given(window=WINDOWS, due=INSTANTS, zone_name=st.sampled_from(ZONES))
def test_release_is_the_first_moment_out_of_the_window(
    window: QuietHours, due: datetime, zone_name: str
) -> None:
    """Never early, never in the window, and not a second later than the window's end."""
    release = release_time(due, window, zone_name)
    assert release >= due
    assert release - due <= timedelta(hours=25)
    assert not _covered(window, release, zone_name)
    if release > due:
        assert _covered(window, due, zone_name)
        assert _covered(window, release - timedelta(seconds=1), zone_name)
