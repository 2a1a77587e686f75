"""What the panel's dashboard and message pages read: today's counts, the last days,
credits, and one message's parts. Every count is a range of an index
(``ix_messages_created_at_status``, ``ix_ledger_kind_created_at``), never a full scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from centauro.domain.errors import NotFound
from centauro.domain.models import Account, LedgerEntry
from centauro.service import accounts, panel_auth
from centauro.service.counts import Counts, _counts
from centauro.store import accounts as account_store
from centauro.store import panel as store


@dataclass(frozen=True, slots=True)
class Today:
    day: date
    counts: Counts
    credits_sold: int
    credits_left: int


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def today(conn: Connection, *, now: datetime, zone: ZoneInfo) -> Today:
    """Messages and top-ups since local midnight, and the credits all accounts hold."""
    day = now.astimezone(zone).date()
    start, end = _day_start(day, zone), _day_start(day + timedelta(days=1), zone)
    return Today(
        day=day,
        counts=_counts(store.status_counts(conn, start, end)),
        credits_sold=store.credits_sold(conn, start, end),
        credits_left=store.credits_left(conn),
    )


def last_days(
    conn: Connection, *, now: datetime, zone: ZoneInfo, days: int = 30
) -> list[tuple[date, Counts]]:
    """One entry per local day, oldest first, today included (empty days as zeros)."""
    last = now.astimezone(zone).date()
    first = last - timedelta(days=days - 1)
    start, end = _day_start(first, zone), _day_start(last + timedelta(days=1), zone)
    offset = now.astimezone(zone).utcoffset() or timedelta(0)
    per_day: dict[str, dict[str, int]] = {}
    for day, status, n in store.daily_counts(conn, start, end, int(offset.total_seconds() // 60)):
        per_day.setdefault(day, {})[status] = n
    return [
        (d, _counts(per_day.get(d.isoformat(), {})))
        for d in (first + timedelta(days=i) for i in range(days))
    ]


class DayCounts:
    """:func:`last_days` for a page polled often over a big store: the past days' counts
    are kept for ``ttl`` (the window's full range is read at most that often), today's are
    read on every call (a range of one day of the index).

    A message's state can still change days after it was created (a late receipt): a past
    day shown is at most ``ttl`` old. It holds one window per zone, so it stays bounded.
    """

    def __init__(self, ttl: timedelta = timedelta(minutes=5)) -> None:
        self.ttl = ttl
        #: zone → (when read, first day, last day (today then), the past days' counts)
        self._past: dict[str, tuple[datetime, date, date, dict[date, Counts]]] = {}

    def last_days(
        self,
        conn: Connection,
        *,
        now: datetime,
        zone: ZoneInfo,
        days: int = 30,
        today: Counts | None = None,
    ) -> list[tuple[date, Counts]]:
        """As :func:`last_days`; ``today``: today's counts when the caller has just read
        them (:func:`centauro.service.reports.today`), so today is not read twice."""
        last = now.astimezone(zone).date()
        first = last - timedelta(days=days - 1)
        kept = self._past.get(zone.key)
        if kept is None or kept[1:3] != (first, last) or not (kept[0] <= now < kept[0] + self.ttl):
            window = last_days(conn, now=now, zone=zone, days=days)
            self._past[zone.key] = (now, first, last, dict(window[:-1]))
            return window
        if today is not None:
            return [*sorted(kept[3].items()), (last, today)]
        start = _day_start(last, zone)
        offset = now.astimezone(zone).utcoffset() or timedelta(0)
        by_status: dict[str, int] = {}
        for _day, status, n in store.daily_counts(
            conn,
            start,
            _day_start(last + timedelta(days=1), zone),
            int(offset.total_seconds() // 60),
        ):
            by_status[status] = by_status.get(status, 0) + n
        return [*sorted(kept[3].items()), (last, _counts(by_status))]

    # -- read off the request path (the panel's dashboard) ------------------------------

    def due(self, *, now: datetime, zone: ZoneInfo, days: int = 30) -> bool:
        """Whether the past days of this window are missing or older than ``ttl``."""
        last = now.astimezone(zone).date()
        kept = self._past.get(zone.key)
        return (
            kept is None
            or kept[1:3] != (last - timedelta(days=days - 1), last)
            or not (kept[0] <= now < kept[0] + self.ttl)
        )

    def refresh(self, conn: Connection, *, now: datetime, zone: ZoneInfo, days: int = 30) -> None:
        """Read the whole window (a range of ``ix_messages_created_at_status``) and keep
        its past days; meant for a background task, not for a page view."""
        last = now.astimezone(zone).date()
        store.one_core(conn)
        window = last_days(conn, now=now, zone=zone, days=days)
        self._past[zone.key] = (now, last - timedelta(days=days - 1), last, dict(window[:-1]))

    def kept(
        self, *, now: datetime, zone: ZoneInfo, today: Counts, days: int = 30
    ) -> list[tuple[date, Counts]] | None:
        """The window from the kept past days (however old) and ``today``; None when no
        past days of this window are kept yet."""
        last = now.astimezone(zone).date()
        kept = self._past.get(zone.key)
        if kept is None or kept[1:3] != (last - timedelta(days=days - 1), last):
            return None
        return [*sorted(kept[3].items()), (last, today)]


@dataclass(frozen=True, slots=True)
class Part:
    part: int
    connector: str
    carrier_id: str
    state: str | None
    error: str | None
    done_at: datetime | None


def message_parts(conn: Connection, message_id: int) -> list[Part]:
    """The carrier's ids and receipts of a concatenated message's parts."""
    return [Part(*row) for row in store.message_parts(conn, message_id)]


@dataclass(frozen=True, slots=True)
class AccountView:
    """Everything the operator's page of one account shows."""

    account: Account
    ledger: list[LedgerEntry]
    users: list[panel_auth.PanelUser]


def account_view(conn: Connection, client_id: str, *, ledger_rows: int = 50) -> AccountView:
    account = accounts.get(conn, client_id)
    return AccountView(
        account,
        accounts.ledger(conn, client_id, limit=ledger_rows),
        panel_auth.users_of_account(conn, account.id),
    )


def account_by_id(conn: Connection, account_id: int) -> Account:
    """An account by its row id (the panel's customer users know theirs by id)."""
    account = account_store.by_id(conn, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    return account
