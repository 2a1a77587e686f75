"""Statements of the reports: messages counted per UTC hour (``report_hours``), the same
counts read live from the messages index for hours not rolled yet, and the roll-up's
progress row with its lease (``report_rollup``: one runner across processes).

Every read of ``messages`` here is a range of ``created_at`` (``ix_messages_created_at_
status``, or ``ix_messages_account_id_created_at`` for one account), never a scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    type_coerce,
    update,
)

from centauro.store.tables import (
    UtcDateTime,
    accounts,
    messages,
    report_days,
    report_hours,
    report_rollup,
    report_totals,
)

#: What counts are grouped by (besides the status). "day": the local day ("YYYY-MM-DD")
#: in which the UTC hour begins, at a fixed offset from UTC.
Key = Literal["hour", "day", "account", "connector"]
#: Where counts are read: "hours" (report_hours), "days" (report_days, whole UTC days),
#: "totals" (report_totals, every account), "messages" (the index: hours not rolled yet).
Source = Literal["hours", "days", "totals", "messages"]
ROLLUP = "hours"


def _hour_of_created(conn: Connection) -> ColumnElement[Any]:
    """``messages.created_at`` cut to its UTC hour, in the shape the store keeps times."""
    created = messages.c.created_at
    if conn.dialect.name == "sqlite":  # stored as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC)
        hour = func.strftime("%Y-%m-%d %H:00:00.000000", created)
    else:
        hour = func.timezone("UTC", func.date_trunc("hour", func.timezone("UTC", created)))
    return type_coerce(hour, UtcDateTime)


def _day_of(conn: Connection, hour: ColumnElement[Any], offset_minutes: int) -> Any:
    """The date (text) of ``hour`` moved by a fixed offset."""
    if conn.dialect.name == "sqlite":
        return func.date(hour, f"{offset_minutes:+d} minutes")
    shifted = hour + literal_column(f"interval '{int(offset_minutes)} minutes'")
    return func.to_char(func.timezone("UTC", shifted), "YYYY-MM-DD")


def _sums(table: Any) -> dict[str, ColumnElement[Any]]:
    # as bigint: PostgreSQL sums a bigint as numeric (a Decimal in Python)
    return {
        "status": table.c.status,
        "messages": cast(func.sum(table.c.messages), BigInteger),
        "segments": cast(func.sum(table.c.segments), BigInteger),
    }


def _columns(conn: Connection, source: Source, offset: int) -> dict[str, ColumnElement[Any]]:
    if source == "messages":
        return {
            "hour": _hour_of_created(conn),
            "day": _day_of(conn, _hour_of_created(conn), offset),
            "account": messages.c.account_id,
            "connector": func.coalesce(messages.c.connector, ""),
            "status": messages.c.status,
            "messages": func.count(),
            "segments": func.coalesce(func.sum(messages.c.segments), 0),
            "time": messages.c.created_at,
            "account_id": messages.c.account_id,
        }
    if source == "totals":  # every account: no account or connector to group by
        t = report_totals
        return {
            "hour": t.c.hour,
            "day": _day_of(conn, t.c.hour, offset),
            "time": t.c.hour,
            **_sums(t),
        }
    if source == "days":  # whole UTC days: no hours to group by
        d = report_days
        return {
            "account": d.c.account_id,
            "connector": d.c.connector,
            "time": d.c.day,
            "account_id": d.c.account_id,
            **_sums(d),
        }
    h = report_hours
    return {
        "hour": h.c.hour,
        "day": _day_of(conn, h.c.hour, offset),
        "account": h.c.account_id,
        "connector": h.c.connector,
        "time": h.c.hour,
        "account_id": h.c.account_id,
        **_sums(h),
    }


def counts(
    conn: Connection,
    by: Sequence[Key],
    since: datetime,
    until: datetime,
    *,
    account_id: int | None = None,
    source: Source = "hours",
    offset_minutes: int = 0,
) -> list[tuple[Any, ...]]:
    """``(*keys, status, messages, segments)`` of the messages created in [since, until),
    grouped by ``by``, read from ``source``: a summary, or the messages index itself;
    ``offset_minutes``: the local days' offset from UTC (for "day")."""
    c = _columns(conn, source, offset_minutes)
    keys = [c[k].label(k) for k in by]
    q = select(*keys, c["status"], c["messages"], c["segments"]).where(
        c["time"] >= since, c["time"] < until
    )
    if account_id is not None:
        q = q.where(c["account_id"] == account_id)
    return [tuple(r) for r in conn.execute(q.group_by(*keys, c["status"])).all()]


def replace_hours(
    conn: Connection, since: datetime, until: datetime, rows: Iterable[tuple[Any, ...]]
) -> None:
    """Make the summary of [since, until) exactly ``rows`` (hour, account, connector,
    status, messages, segments), as :func:`counts` read them live."""
    conn.execute(
        delete(report_hours).where(report_hours.c.hour >= since, report_hours.c.hour < until)
    )
    values = [
        {
            "hour": hour,
            "account_id": account_id,
            "connector": connector,
            "status": status,
            "messages": n,
            "segments": segments,
        }
        for hour, account_id, connector, status, n, segments in rows
    ]
    if values:
        conn.execute(insert(report_hours), values)


def _day_start(conn: Connection, hour: ColumnElement[Any]) -> ColumnElement[Any]:
    """The UTC midnight that begins ``hour``'s day, in the shape the store keeps times."""
    if conn.dialect.name == "sqlite":
        day = func.strftime("%Y-%m-%d 00:00:00.000000", hour)
    else:
        day = func.timezone("UTC", func.date_trunc("day", func.timezone("UTC", hour)))
    return type_coerce(day, UtcDateTime)


def derive(
    conn: Connection, since: datetime, until: datetime, days: tuple[datetime, datetime]
) -> None:
    """Make ``report_totals`` of [since, until) and ``report_days`` of the UTC days
    ``days`` (the whole days that hold those hours) agree with ``report_hours``."""
    h = report_hours
    in_hours = (h.c.hour >= since, h.c.hour < until)
    conn.execute(
        delete(report_totals).where(report_totals.c.hour >= since, report_totals.c.hour < until)
    )
    sums = _sums(h)
    conn.execute(
        insert(report_totals).from_select(
            ["hour", "status", "messages", "segments"],
            select(h.c.hour, sums["status"], sums["messages"], sums["segments"])
            .where(*in_hours)
            .group_by(h.c.hour, h.c.status),
        )
    )
    first, last = days
    conn.execute(delete(report_days).where(report_days.c.day >= first, report_days.c.day < last))
    day = _day_start(conn, h.c.hour)
    conn.execute(
        insert(report_days).from_select(
            ["day", "account_id", "connector", "status", "messages", "segments"],
            select(day, h.c.account_id, h.c.connector, *sums.values())
            .where(h.c.hour >= first, h.c.hour < last)
            .group_by(day, h.c.account_id, h.c.connector, h.c.status),
        )
    )


def oldest_message(conn: Connection) -> datetime | None:
    """When the oldest message was created (the first edge of the index)."""
    found: datetime | None = conn.execute(select(func.min(messages.c.created_at))).scalar()
    return found


def account_names(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``{id: (client_id, name)}`` of these accounts."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(
        select(accounts.c.id, accounts.c.client_id, accounts.c.name).where(
            accounts.c.id.in_(wanted)
        )
    )
    return {int(i): (str(client_id), str(name)) for i, client_id, name in rows}


# -- the roll-up's progress and its lease ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rollup:
    rolled_until: datetime | None
    recent_at: datetime | None
    deep_at: datetime | None
    runner: str | None
    held_until: datetime | None


def rollup(conn: Connection) -> Rollup:
    row = conn.execute(select(report_rollup).where(report_rollup.c.name == ROLLUP)).first()
    if row is None:
        return Rollup(None, None, None, None, None)
    return Rollup(row.rolled_until, row.recent_at, row.deep_at, row.runner, row.held_until)


def hold(conn: Connection, runner: str, now: datetime, until: datetime) -> bool:
    """Take or renew the roll-up's lease until ``until``; False when another runner holds
    it. The UPDATE locks the row to the end of the transaction, so the summary writes of
    two processes never interleave."""
    done = conn.execute(
        update(report_rollup)
        .where(
            report_rollup.c.name == ROLLUP,
            or_(
                report_rollup.c.runner == runner,
                report_rollup.c.runner.is_(None),
                report_rollup.c.held_until < now,
            ),
        )
        .values(runner=runner, held_until=until)
    )
    return done.rowcount == 1


def advance(conn: Connection, **values: datetime) -> None:
    """Record progress (``rolled_until``, ``recent_at``, ``deep_at``)."""
    conn.execute(update(report_rollup).where(report_rollup.c.name == ROLLUP).values(**values))
