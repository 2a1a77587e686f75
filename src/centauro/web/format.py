"""Numbers and dates the way Venezuela and Colombia write them: ``1.234,56``, and
local times in the account's zone (``05/12/2026 14:30``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from centauro.domain import schedule


def number(value: float | int | None, decimals: int = 0) -> str:
    """``1234567.5`` → ``1.234.567,50`` (``decimals`` places)."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent(part: int, whole: int) -> str:
    return "—" if whole == 0 else number(100 * part / whole, 1) + " %"


def zone(name: str | None) -> ZoneInfo:
    try:
        return schedule.zone(name or "America/Caracas")
    except ValueError:
        return schedule.zone("America/Caracas")


def local(value: datetime | None, zone_name: str | None = None, *, seconds: bool = False) -> str:
    """A UTC datetime as the account's wall time, day first."""
    if value is None:
        return "—"
    shown = value.astimezone(zone(zone_name))
    return shown.strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")
