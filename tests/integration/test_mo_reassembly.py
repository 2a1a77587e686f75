"""Reassembly of concatenated MO in the store (SQLite and PostgreSQL): copies the carrier
resends are dropped, complete groups kept by another worker are joined by the sweep, and
a message still missing a part is stored as what arrived once the wait is over. One
frozen clock (T0) per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from centauro.service import inbound
from centauro.store import inbound as store
from centauro.store import sql
from centauro.store.engine import Database

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WAIT = timedelta(seconds=300)


def _part(seq: int, body: bytes, *, total: int = 2, ref: int = 5) -> inbound.Inbound:
    return inbound.Inbound(
        "sim", "584141234567", "2222", body.decode(), T0, inbound.Part(ref, total, seq, 0, body)
    )


def _receive(db: Database, *messages: inbound.Inbound, now: datetime = T0) -> int:
    with db.begin() as conn:
        return inbound.receive(conn, messages, now, resend_window=WAIT)


def _messages(db: Database) -> list[tuple[str, int, bool]]:
    with db.read() as conn:
        return [(r.text, r.parts, r.complete) for r in store.listing(conn)]


def _part_count(db: Database) -> int:
    with db.read() as conn:
        row = sql.fetchone(conn, "SELECT COUNT(*) FROM inbound_parts")
    assert row is not None
    return int(row[0])


def test_copies_of_a_part_are_dropped_before_and_after_the_join(db: Database) -> None:
    assert _receive(db, _part(2, b" mundo"), _part(2, b" mundo")) == 0
    assert _part_count(db) == 1
    assert _receive(db, _part(1, b"Hola")) == 1
    assert _messages(db) == [("Hola mundo", 2, True)]
    # Our ack was lost: the carrier sends part 1 again a minute later.
    assert _receive(db, _part(1, b"Hola"), now=T0 + timedelta(minutes=1)) == 0
    assert _part_count(db) == 2
    with db.begin() as conn:
        assert inbound.reassemble(conn, T0 + 2 * WAIT, wait=WAIT) == 0
    assert _messages(db) == [("Hola mundo", 2, True)]


def test_the_sweep_joins_a_group_whose_last_part_another_worker_kept(db: Database) -> None:
    key = store.PartKey("sim", "584141234567", "2222", 9, 2)
    with db.begin() as conn:
        for seq, body in ((1, b"BA"), (2, b"JA")):
            assert store.add_part(
                conn, key, seq=seq, data_coding=0, body=body, received_at=T0, since=T0
            )
    with db.begin() as conn:
        assert inbound.reassemble(conn, T0, wait=WAIT) == 1
    with db.begin() as conn:
        assert inbound.reassemble(conn, T0, wait=WAIT) == 0  # joined once only
    assert _messages(db) == [("BAJA", 2, True)]


def test_a_missing_part_is_given_up_after_the_wait_and_what_came_is_stored(
    db: Database,
) -> None:
    _receive(db, _part(3, b" ya", total=3), _part(1, b"BA", total=3))
    with db.begin() as conn:
        assert inbound.reassemble(conn, T0 + WAIT - timedelta(seconds=1), wait=WAIT) == 0
    assert _messages(db) == []
    with db.begin() as conn:
        assert inbound.reassemble(conn, T0 + WAIT + timedelta(seconds=1), wait=WAIT) == 1
    assert _messages(db) == [("BA ya", 2, False)]
    # The late part, should it still come, starts a group of its own (given up in turn).
    assert _receive(db, _part(2, b"JA", total=3), now=T0 + 2 * WAIT) == 0
