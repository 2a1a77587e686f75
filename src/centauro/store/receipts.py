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
    """The message (and, for a concatenated one, the part) a receipt is about."""

    message_id: int
    part: int | None = None


def match_receipts(conn: Connection, connector: str, reported: Sequence[str]) -> dict[str, Match]:
    """Find what each reported carrier id refers to (hex/decimal/zero-padded readings
    tried literal-first); ids that match nothing are absent from the answer."""
    readings = {r: receipts.candidates(r) for r in set(reported)}
    keys = sorted({k for ks in readings.values() for k in ks})
    if not keys:
        return {}
    in_keys = sql.in_list(conn)
    params = {"connector": connector, "ids": sql.list_param(conn, keys)}
    found: dict[str, Match] = {}
    for row in sql.fetchall(
        conn,
        f"SELECT carrier_key, message_id, part FROM message_parts "  # noqa: S608 - constants
        f"WHERE connector = :connector AND carrier_key {in_keys}",
        params,
    ):
        found.setdefault(row[0], Match(row[1], row[2]))
    for row in sql.fetchall(
        conn,
        f"SELECT carrier_key, id FROM messages "  # noqa: S608 - constants
        f"WHERE connector = :connector AND carrier_key {in_keys}",
        params,
    ):
        found[row[0]] = Match(row[1])
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
