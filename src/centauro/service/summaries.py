"""Reports for a period — per local day, per account, per connector — read from hourly
summaries, and the roll-up that keeps those summaries.

**The summary.** ``report_hours`` counts the messages created in each UTC hour by
account, connector and status (segments too); ``report_days`` (per UTC day) and
``report_totals`` (per hour, every account) are derived from it in the same write, so
the account and connector tables read whole days and the operator's per-day table reads
one row per hour and status, however many accounts. The delivering process rolls it up in the
background (delivery/rollup.py): each new closed hour once, then again while its
messages may still change state — a late receipt, an expiry, a scheduled message sent:

- every round (a minute): the last :data:`RECENT` hours (most receipts come in seconds);
- every :data:`DAYS_EVERY`: the last :data:`DAYS_BACK` (carriers keep trying for up to
  the validity period, 48–72 hours by default, and report at the end);
- every :data:`DEEP_EVERY`: the last :data:`DEEP` (the page's longest period: a message
  scheduled weeks ahead, or a receipt days late).

An hour older than :data:`DEEP` keeps the counts of its last roll.

**A page view** reads the closed hours of its period from the summary and the hours not
rolled yet (the current one, normally) live from the messages index: never a scan of the
whole period. Local days are made of whole UTC hours (grouped in SQL at the zone's offset,
cut where summer time changes it): exact for Venezuela (−4) and
Colombia (−5); in a zone with a half-hour offset a day starts at the first whole UTC hour
after local midnight (00:30 at +05:30) and its first half hour counts in the day before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from centauro.domain.states import REFUNDED, MessageState
from centauro.service.counts import FAILED, Counts
from centauro.store import summaries as store

HOUR = timedelta(hours=1)
RECENT = timedelta(hours=3)
DAYS_BACK, DAYS_EVERY = timedelta(days=3), timedelta(minutes=15)
DEEP, DEEP_EVERY = timedelta(days=92), timedelta(hours=24)
#: Hours read and written in one step (one read, one short write transaction).
STEP = timedelta(hours=24)
#: The longest period a page may ask for.
MAX_DAYS = 92


def floor_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def floor_day(at: datetime) -> datetime:
    return floor_hour(at).replace(hour=0)


def ceil_day(at: datetime) -> datetime:
    floor = floor_day(at)
    return floor if floor == at else floor + timedelta(days=1)


def ceil_hour(at: datetime) -> datetime:
    floor = floor_hour(at)
    return floor if floor == at else floor + HOUR


# -- the roll-up -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """Roll [since, until) again; then record ``advance`` (progress markers)."""

    since: datetime
    until: datetime
    advance: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Plan:
    steps: list[Step]
    #: True while new hours remain after these steps (the loop goes on at once).
    behind: bool


def _chunks(since: datetime, until: datetime, advance: dict[str, datetime]) -> list[Step]:
    """[since, until) in steps of :data:`STEP`, the markers recorded with the last one."""
    steps = []
    while since < until:
        end = min(since + STEP, until)
        steps.append(Step(since, end, advance if end == until else {}))
        since = end
    return steps


def plan(conn: Connection, *, now: datetime) -> Plan:
    """What one round rolls: the next new closed hours (one step while catching up), else
    the re-rolls that are due."""
    state = store.rollup(conn)
    current = floor_hour(now)
    start = state.rolled_until
    if start is None:  # first round: from the oldest message's hour (or now: none yet)
        oldest = store.oldest_message(conn)
        start = floor_hour(oldest) if oldest is not None else current
        end = min(start + STEP, current)
        marks = {"rolled_until": end, "recent_at": now, "deep_at": now}
        return Plan([Step(start, end, marks)], behind=end < current)
    if start < current:
        end = min(start + STEP, current)
        return Plan([Step(start, end, {"rolled_until": end})], behind=end < current)
    if state.deep_at is None or now - state.deep_at >= DEEP_EVERY:
        return Plan(_chunks(current - DEEP, current, {"deep_at": now, "recent_at": now}), False)
    if state.recent_at is None or now - state.recent_at >= DAYS_EVERY:
        return Plan(_chunks(current - DAYS_BACK, current, {"recent_at": now}), False)
    return Plan([Step(current - RECENT, current)], False)


def read_step(conn: Connection, step: Step) -> list[tuple[Any, ...]]:
    """The step's hours counted from the messages index (a read snapshot)."""
    return store.counts(
        conn, ("hour", "account", "connector"), step.since, step.until, source="messages"
    )


def hold(conn: Connection, runner: str, *, now: datetime, hold_for: timedelta) -> bool:
    """Whether ``runner`` rolls (takes or renews the lease)."""
    return store.hold(conn, runner, now, now + hold_for)


def write_step(
    conn: Connection,
    step: Step,
    rows: Sequence[tuple[Any, ...]],
    runner: str,
    *,
    now: datetime,
    hold_for: timedelta,
) -> bool:
    """Store what :func:`read_step` counted, if ``runner`` still holds the lease (its row
    stays locked to the commit: two runners' writes never interleave)."""
    if not store.hold(conn, runner, now, now + hold_for):
        return False
    store.replace_hours(conn, step.since, step.until, rows)
    store.derive(conn, step.since, step.until, (floor_day(step.since), ceil_day(step.until)))
    if step.advance:
        store.advance(conn, **step.advance)
    return True


def roll(conn: Connection, *, now: datetime, runner: str = "inline") -> Plan:
    """One round in one transaction (tests and tools; the server reads and writes apart)."""
    hold_for = timedelta(minutes=5)
    done = plan(conn, now=now)
    if hold(conn, runner, now=now, hold_for=hold_for):
        for step in done.steps:
            write_step(conn, step, read_step(conn, step), runner, now=now, hold_for=hold_for)
    return done


# -- the page ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """Local days ``first``..``last`` (both included) as whole UTC hours [since, until)."""

    first: date
    last: date
    since: datetime
    until: datetime

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def period(first: date, last: date, zone: ZoneInfo) -> Period:
    def start(day: date) -> datetime:
        return ceil_hour(datetime.combine(day, time(0), tzinfo=zone))

    return Period(first, last, start(first), start(last + timedelta(days=1)))


@dataclass(frozen=True, slots=True)
class AccountLine:
    account_id: int
    client_id: str
    name: str
    counts: Counts


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    days: list[tuple[date, Counts]]
    accounts: list[AccountLine]
    connectors: list[tuple[str, Counts]]
    #: From here on the counts were read live (the hours not rolled up yet).
    live_since: datetime


def tally(by_status: dict[str, tuple[int, int]]) -> Counts:
    """Counts from ``{status: (messages, segments)}``."""
    return Counts(
        accepted=sum(n for s, (n, _) in by_status.items() if s != MessageState.CANCELLED),
        delivered=by_status.get(MessageState.DELIVERED, (0, 0))[0],
        failed=sum(by_status.get(s, (0, 0))[0] for s in FAILED),
        credits=sum(seg for s, (_, seg) in by_status.items() if s not in REFUNDED),
    )


def _fold(rows: list[tuple[Any, ...]], key: Any) -> dict[Any, Counts]:
    """Rows ``(k, status, messages, segments)`` → ``{key(k): Counts}``."""
    grouped: dict[Any, dict[str, tuple[int, int]]] = {}
    for k, status, n, seg in rows:
        by_status = grouped.setdefault(key(k), {})
        had = by_status.get(status, (0, 0))
        by_status[status] = (had[0] + n, had[1] + seg)
    return {k: tally(v) for k, v in grouped.items()}


def _offsets(p: Period, zone: ZoneInfo) -> list[tuple[datetime, datetime, int]]:
    """The period cut where the zone's UTC offset changes (summer time): ``(since,
    until, offset in minutes)`` runs of whole hours; one run in Venezuela or Colombia."""

    def minutes(at: datetime) -> int:
        return int((at.astimezone(zone).utcoffset() or timedelta(0)).total_seconds() // 60)

    runs: list[tuple[datetime, datetime, int]] = []
    at = p.since
    while at < p.until:
        offset, end = minutes(at), at + HOUR
        while end < p.until and minutes(end) == offset:
            end += HOUR
        runs.append((at, end, offset))
        at = end
    return runs


def report(
    conn: Connection,
    p: Period,
    zone: ZoneInfo,
    *,
    account_id: int | None = None,
    only_days: bool = False,
) -> Report:
    """The period's counts per day, per account and per connector (``account_id``: that
    account's only; ``only_days``: the per-day table only)."""
    rolled = store.rollup(conn).rolled_until or p.since
    split = min(max(rolled, p.since), p.until)

    def grouped(
        by: store.Key,
        since: datetime,
        until: datetime,
        offset: int = 0,
        summary: store.Source = "hours",
    ) -> list[Any]:
        """Rolled hours from ``summary``, the rest live from the index."""
        return [
            row
            for a, b, source in (
                (since, min(split, until), summary),
                (max(split, since), until, "messages"),
            )
            if a < b
            for row in store.counts(
                conn, (by,), a, b, account_id=account_id, source=source, offset_minutes=offset
            )
        ]

    def by_days(by: store.Key) -> list[Any]:
        """Whole UTC days of the rolled part from report_days, its edges from the hours."""
        first, last = ceil_day(p.since), floor_day(split)
        if last <= first:
            return grouped(by, p.since, p.until)
        return (
            grouped(by, p.since, first)
            + store.counts(conn, (by,), first, last, account_id=account_id, source="days")
            + grouped(by, last, p.until)
        )

    totals: store.Source = "hours" if account_id is not None else "totals"
    day_rows = [
        row for a, b, offset in _offsets(p, zone) for row in grouped("day", a, b, offset, totals)
    ]
    per_day = _fold(day_rows, date.fromisoformat)
    days = [(d, per_day.get(d, Counts())) for d in p.days]
    if only_days:
        return Report(p, days, [], [], split)
    per_account = _fold(by_days("account"), int)
    names = store.account_names(conn, per_account)
    lines = [AccountLine(i, *names.get(i, (str(i), "")), counts=c) for i, c in per_account.items()]
    lines.sort(key=lambda line: (-line.counts.accepted, line.name, line.client_id))
    connectors = sorted(_fold(by_days("connector"), str).items())
    return Report(p, days, lines, connectors, split)
