"""When a message may go out: scheduled times and quiet hours, in the account's zone.

Quiet hours hold marketing messages: a message due inside the window (local time; the
window may cross midnight, "21:00-08:00") waits until the window ends. Transactional
messages (codes, notices) never wait.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "America/Caracas"
_WINDOW = re.compile(r"([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})")


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def covers(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def parse_quiet_hours(value: str) -> QuietHours | None:
    """``"21:00-08:00"`` → QuietHours; ``""``/``"none"`` → None; ValueError otherwise.

    Strictly hours and minutes: ``time.fromisoformat`` would also take ``"21"``, seconds
    and UTC offsets, none of which a window in local time can honestly mean.
    """
    text = value.strip().lower()
    if text in ("", "none", "no"):
        return None
    found = _WINDOW.fullmatch(text)
    try:
        if found is None:
            raise ValueError
        start = time(int(found[1]), int(found[2]))
        end = time(int(found[3]), int(found[4]))
    except ValueError:
        raise ValueError(f"quiet hours are HH:MM-HH:MM (e.g. 21:00-08:00), not {value!r}") from None
    if start == end:
        raise ValueError("quiet hours must not start and end at the same time")
    return QuietHours(start, end)


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ValueError when it does not exist."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (an IANA name like America/Caracas)"
        ) from None


def release_time(due: datetime, quiet: QuietHours | None, zone_name: str) -> datetime:
    """``due``, or the end of the quiet window it falls in (as an aware UTC datetime)."""
    if quiet is None:
        return due
    local = due.astimezone(zone(zone_name))
    if not quiet.covers(local.time()):
        return due
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)  # wall-clock arithmetic: the same HH:MM tomorrow
    return _instant(end)


def _instant(wall: datetime) -> datetime:
    """The first instant at which the local clock reads ``wall`` or later, in UTC.

    Usually just ``wall`` in UTC. But a wall time inside a spring-forward gap (02:30 in
    New York on the day clocks jump from 02:00 to 03:00) never appears on the clock, and
    read with either offset it lands before or after the jump (30 minutes off, there).
    The window is over when the clock jumps past it, so the jump is the answer: the
    earliest second between the two readings whose local time is ``wall`` or later.
    """
    utc = wall.astimezone(UTC)
    naive = wall.replace(tzinfo=None)
    if utc.astimezone(wall.tzinfo).replace(tzinfo=None) == naive:
        return utc
    # In a gap, fold=1 reads with the offset after the jump (an instant before it) and
    # fold=0 with the offset before (an instant after it). Zone transitions fall on whole
    # seconds, so search the seconds between.
    zone_info = wall.tzinfo
    before = wall.replace(fold=1).astimezone(UTC)
    lo, hi = 0, int((wall.replace(fold=0).astimezone(UTC) - before).total_seconds())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        reads = (before + timedelta(seconds=mid)).astimezone(zone_info).replace(tzinfo=None)
        if reads >= naive:
            hi = mid
        else:
            lo = mid
    return before + timedelta(seconds=hi)
