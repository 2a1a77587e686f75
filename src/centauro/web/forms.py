"""Reading form fields: trimmed, bounded, and every refusal a Spanish sentence."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData, QueryParams

MAX_FIELD = 2000
#: The dates a form may name (a search's or a report's period).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)


class FormError(ValueError):
    """A field the page must ask again for; the message is shown as is (Spanish)."""


def text(data: FormData | QueryParams, name: str, *, limit: int = 200) -> str:
    value = data.get(name)
    value = value.replace("\x00", "") if isinstance(value, str) else ""
    return value.strip()[: min(limit, MAX_FIELD)]


def integer(data: FormData | QueryParams, name: str, label: str, *, low: int, high: int) -> int:
    """A whole number in [low, high]; ``1.000`` and ``1000`` both read as a thousand."""
    raw = text(data, name, limit=30).replace(".", "").replace(" ", "")
    try:
        value = int(raw)
    except ValueError:
        raise FormError(f"{label}: escriba un número entero.") from None
    if not low <= value <= high:
        raise FormError(f"{label}: debe estar entre {low:,} y {high:,}.".replace(",", "."))
    return value


def optional_number(
    data: FormData | QueryParams, name: str, label: str, *, low: float, high: float
) -> float | None:
    """Empty: None (the server's default); else a number in [low, high] (comma decimals)."""
    raw = text(data, name, limit=30).replace(" ", "")
    if not raw:
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise FormError(f"{label}: escriba un número o déjelo vacío.") from None
    if not low <= value <= high:
        raise FormError(f"{label}: debe estar entre {low:g} y {high:g}.")
    return value


def day_range(data: QueryParams, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """``desde``/``hasta`` (YYYY-MM-DD, local days, both included) as a UTC range."""
    start = _day(data, "desde", "Desde")
    end = _day(data, "hasta", "Hasta")
    if start and end and end < start:
        raise FormError("La fecha «hasta» es anterior a «desde».")
    since = datetime.combine(start, time(0), tzinfo=zone) if start else None
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone) if end else None
    return since, until


def _day(data: QueryParams, name: str, label: str) -> date | None:
    raw = text(data, name, limit=10)
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    # Years far out are refused too: the day after 9999-12-31 (a range's end) overflows.
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise FormError(f"{label}: use una fecha válida (AAAA-MM-DD).")
    return day
