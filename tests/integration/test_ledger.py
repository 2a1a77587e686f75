"""Credits: every change is a ledger row, the balance is their sum, charges never overspend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from centauro.domain.errors import AuthenticationFailed, InsufficientCredits, InvalidRequest
from centauro.domain.states import MessageState
from centauro.service import accounts, outcomes, submit
from centauro.store import accounts as account_store
from centauro.store import messages as message_store
from centauro.store.engine import Database


def now() -> datetime:
    return datetime.now(UTC)


def _plan(numbers: list[str], text: str = "Hola") -> submit.Plan:
    return submit.plan(
        [submit.Recipient(n) for n in numbers],
        text,
        country="VE",
        max_segments=10,
        max_recipients=10_000,
    )


def _balance_and_ledger(db: Database, account_id: int) -> tuple[int, int]:
    with db.read() as conn:
        account = account_store.by_id(conn, account_id)
        assert account is not None
        return account.balance, account_store.ledger_sum(conn, account_id)


def test_balance_equals_the_sum_of_the_ledger_through_every_kind_of_change(db: Database) -> None:
    with db.begin() as conn:
        created = accounts.create(conn, name="Farmacia", credits=100, now=now())
    account = created.account
    with db.begin() as conn:
        accounts.topup(conn, client_id=created.client_id, amount=50, now=now())
        accounts.topup(conn, client_id=created.client_id, amount=-20, now=now())
    with db.begin() as conn:
        receipt = submit.commit(
            conn,
            account=account,
            planned=_plan(["04141234567", "04241234567", "04161234567"], "x" * 200),
            source="test",
            now=now(),
        )
    assert receipt.cost == 6
    ids = [m for m in receipt.message_ids if m is not None]
    with db.begin() as conn:
        outcomes.record_final(
            conn,
            [
                outcomes.Final(ids[0], MessageState.FAILED, "test"),
                outcomes.Final(ids[1], MessageState.DELIVERED),
            ],
            now(),
        )
        # A repeated report must not refund twice.
        outcomes.record_final(conn, [outcomes.Final(ids[0], MessageState.FAILED, "again")], now())
    balance, ledger = _balance_and_ledger(db, account.id)
    assert balance == 100 + 50 - 20 - 6 + 2
    assert ledger == balance
    with db.read() as conn:
        kinds = [e.kind for e in account_store.ledger_entries(conn, account.id)]
    assert sorted(kinds) == ["charge", "refund", "topup", "topup", "topup"]


def test_a_charge_that_the_balance_cannot_cover_changes_nothing(db: Database) -> None:
    with db.begin() as conn:
        created = accounts.create(conn, name="Panadería", credits=5, now=now())
    with pytest.raises(InsufficientCredits), db.begin() as conn:
        submit.commit(
            conn,
            account=created.account,
            planned=_plan(["04141234567", "04241234567", "04161234567"], "y" * 161),
            source="test",
            now=now(),
        )
    assert _balance_and_ledger(db, created.account.id) == (5, 5)
    with db.read() as conn:
        assert message_store.listing(conn, account_id=created.account.id) == []


def test_a_disabled_account_or_rotated_secret_cannot_be_charged(db: Database) -> None:
    with db.begin() as conn:
        created = accounts.create(conn, name="Ferretería", credits=50, now=now())
    with db.begin() as conn:
        accounts.rotate_secret(conn, client_id=created.client_id, now=now())
    with pytest.raises(AuthenticationFailed), db.begin() as conn:
        submit.commit(
            conn, account=created.account, planned=_plan(["04141234567"]), source="t", now=now()
        )
    with db.begin() as conn:
        account = accounts.set_enabled(conn, client_id=created.client_id, enabled=False, now=now())
    with pytest.raises(AuthenticationFailed), db.begin() as conn:
        submit.commit(conn, account=account, planned=_plan(["04141234567"]), source="t", now=now())
    assert _balance_and_ledger(db, created.account.id) == (50, 50)


def test_a_correction_cannot_take_the_balance_below_zero(db: Database) -> None:
    with db.begin() as conn:
        created = accounts.create(conn, name="Kiosco", credits=3, now=now())
    with pytest.raises(InvalidRequest), db.begin() as conn:
        accounts.topup(conn, client_id=created.client_id, amount=-4, now=now())
    assert _balance_and_ledger(db, created.account.id) == (3, 3)


def test_concurrent_charges_on_separate_connections_never_overspend(db: Database) -> None:
    """Many writers at once (threads here, processes in production on PostgreSQL)."""
    with db.begin() as conn:
        created = accounts.create(conn, name="Carrera", credits=20, now=now())
    results: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        start.wait()
        for i in range(5):
            try:
                with db.begin() as conn:
                    submit.commit(
                        conn,
                        account=created.account,
                        planned=_plan([f"0414{n}{i:06d}"]),
                        source="race",
                        now=now(),
                    )
                outcome = "ok"
            except InsufficientCredits:
                outcome = "305"
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results.count("ok") == 20
    assert results.count("305") == 20
    assert _balance_and_ledger(db, created.account.id) == (0, 0)
    with db.read() as conn:
        assert len(message_store.listing(conn, account_id=created.account.id, limit=100)) == 20
