"""Matching carrier receipts to messages, and the per-part receipts of concatenated SMS.

Receipts name what they report on by the carrier's id, in the carrier's notation; the
lookups here try every reading of it (see ``domain/receipts.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from centauro.domain import receipts
from centauro.store import sql

_PARTS_OF = """
SELECT p.message_id, m.parts, p.state FROM message_parts p JOIN messages m ON m.id = p.message_id
WHERE p.message_id {in_ids} AND m.status IN ('queued', 'sent')
"""


_PART_RECEIPT = """
UPDATE message_parts SET state = :state, error = :error, done_at = :now
WHERE message_id = :message_id AND part = :part AND state IS NULL
"""


@dataclass(frozen=True, slots=True)
class Match:
    """The message (and, for a concatenated one, the part) a receipt is about.

    ``open`` is False when that message (part) already has its final state: the report
    is a repeat, to be acknowledged and ignored.
    """

    message_id: int
    part: int | None = None
    open: bool = True


def match_receipts(conn: Connection, connector: str, reported: Sequence[str]) -> dict[str, Match]:
    """Find the message (or part) each reported carrier id refers to.

    The readings of the id (as written, then decimal↔hex) are tried in that order and
    the first that names any message wins, so a carrier that repeats a report in its own
    notation never lands on another message. Carriers reuse ids over time: among the
    messages with the same id, the one still waiting for its receipt (the newest) wins.
    Ids that name nothing are absent from the answer.
    """
    readings = {r: receipts.candidates(r) for r in set(reported)}
    keys = sorted({k for ks in readings.values() for k in ks})
    if not keys:
        return {}
    in_keys = sql.in_list(conn)
    params = {"connector": connector, "ids": sql.list_param(conn, keys)}
    found: dict[str, Match] = {}

    def consider(key: str, match: Match) -> None:
        best = found.get(key)
        if best is None or (match.open, match.message_id) > (best.open, best.message_id):
            found[key] = match

    for key, message_id, part, state in sql.fetchall(
        conn,
        f"SELECT carrier_key, message_id, part, state FROM message_parts "  # noqa: S608
        f"WHERE connector = :connector AND carrier_key {in_keys}",
        params,
    ):
        consider(key, Match(message_id, part, state is None))
    for key, message_id, status in sql.fetchall(
        conn,
        f"SELECT carrier_key, id, status FROM messages "  # noqa: S608 - constants
        f"WHERE connector = :connector AND carrier_key {in_keys}",
        params,
    ):
        consider(key, Match(message_id, None, status == "sent"))
    matches: dict[str, Match] = {}
    for reported_id, candidates in readings.items():
        for k in candidates:
            if k in found:
                matches[reported_id] = found[k]
                break
    return matches


def record_part_receipts(
    conn: Connection, results: Sequence[tuple[Match, str, str | None]], now: datetime
) -> dict[int, list[str]]:
    """Store each part's final state; return, for messages whose every part has now
    reported, the list of part states (the caller turns it into the message's state)."""
    stamp = sql.stamp(conn, now)
    sql.executemany(
        conn,
        _PART_RECEIPT,
        (
            {
                "message_id": m.message_id,
                "part": m.part,
                "state": state,
                "error": error,
                "now": stamp,
            }
            for m, state, error in results
        ),
    )
    ids = sorted({m.message_id for m, _, _ in results})
    if not ids:
        return {}
    rows = sql.fetchall(
        conn,
        _PARTS_OF.format(in_ids=sql.in_list(conn)),
        {"ids": sql.list_param(conn, ids)},
    )
    states: dict[int, list[str | None]] = {}
    expected: dict[int, int] = {}
    for message_id, parts, state in rows:
        states.setdefault(message_id, []).append(state)
        expected[message_id] = parts
    return {
        m: [s for s in found if s is not None]
        for m, found in states.items()
        if len(found) == expected[m] and all(s is not None for s in found)
    }


@dataclass(frozen=True, slots=True)
class PendingReceipt:
    id: int
    connector: str
    carrier_id: str
    state: str
    error: str | None
    received_at: datetime


def keep_pending(
    conn: Connection, rows: Sequence[tuple[str, str, str, str | None]], now: datetime
) -> None:
    """Store unmatched receipts: ``(connector, carrier_id, state, error)`` each."""
    stamp = sql.stamp(conn, now)
    sql.executemany(
        conn,
        "INSERT INTO pending_receipts (connector, carrier_id, state, error, received_at) "
        "VALUES (:connector, :carrier_id, :state, :error, :received_at)",
        (
            {"connector": c, "carrier_id": cid, "state": st, "error": err, "received_at": stamp}
            for c, cid, st, err in rows
        ),
    )


def pending(conn: Connection, *, limit: int, since: datetime | None = None) -> list[PendingReceipt]:
    """The oldest ``limit`` kept receipts (``since``: only those received since then)."""
    recent = "WHERE received_at >= :since " if since is not None else ""
    rows = sql.fetchall(
        conn,
        "SELECT id, connector, carrier_id, state, error, received_at FROM pending_receipts "  # noqa: S608 - constants
        f"{recent}ORDER BY id LIMIT :limit",
        {"limit": limit, "since": sql.stamp(conn, since)},
    )
    return [
        PendingReceipt(r[0], r[1], r[2], r[3], r[4], sql.unstamp(r[5]))  # type: ignore[arg-type]
        for r in rows
    ]


def forget_pending(conn: Connection, ids: Sequence[int]) -> int:
    if not ids:
        return 0
    return sql.execute(
        conn,
        f"DELETE FROM pending_receipts WHERE id {sql.in_list(conn)}",  # noqa: S608 - constant
        {"ids": sql.list_param(conn, ids)},
    )


def count_pending(conn: Connection) -> int:
    row = sql.fetchone(conn, "SELECT COUNT(*) FROM pending_receipts")
    return int(row[0]) if row else 0
