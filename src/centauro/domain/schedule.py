"""When a message may go out: scheduled times and quiet hours, in the account's zone.

Quiet hours hold marketing messages: a message due inside the window (local time; the
window may cross midnight, "21:00-08:00") waits until the window ends. Transactional
messages (codes, notices) never wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "America/Caracas"


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
    """``"21:00-08:00"`` → QuietHours; ``""``/``"none"`` → None; ValueError otherwise."""
    text = value.strip().lower()
    if text in ("", "none", "no"):
        return None
    try:
        start_text, end_text = text.split("-")
        start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    except ValueError:
        raise ValueError(f"quiet hours are HH:MM-HH:MM (e.g. 21:00-08:00), not {value!r}") from None
    if start == end:
        raise ValueError("quiet hours must not start and end at the same time")
    return QuietHours(start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0))


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
        end += timedelta(days=1)
    return end.astimezone(UTC)
