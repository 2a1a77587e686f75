"""One send, one statement on PostgreSQL: the same outcomes as the step-by-step SQLite path.

``submit.commit`` charges, writes the messages and the ledger row, and leaves out the
suppressed numbers; on PostgreSQL all of it is one round trip (store/sends.py). Each test
runs on both stores, so the two paths are held to the same answers.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from centauro.domain.errors import AuthenticationFailed, CentauroError, InsufficientCredits
from centauro.domain.models import Account
from centauro.domain.states import MessageState
from centauro.service import accounts, senders, submit
from centauro.store import accounts as account_store
from centauro.store import messages as message_store
from centauro.store import suppressions as suppression_store
from centauro.store.engine import Database


def now() -> datetime:
    return datetime.now(UTC)


def _plan(numbers: list[str], text: str = "Hola") -> submit.Plan:
    return submit.plan(
        [submit.Recipient(n, name=f"N{i}", reference=f"r{i}") for i, n in enumerate(numbers)],
        text,
        country="VE",
        max_segments=10,
        max_recipients=10_000,
    )


def _account(db: Database, credits: int) -> Account:
    with db.begin() as conn:
        return accounts.create(conn, name="Farmacia", credits=credits, now=now()).account


def _state(db: Database, account_id: int) -> tuple[int, int, int, int]:
    """(balance, ledger sum, ledger rows, messages) of the account."""
    with db.read() as conn:
        account = account_store.by_id(conn, account_id)
        assert account is not None
        entries = account_store.ledger_entries(conn, account_id)
        listed = message_store.listing(conn, account_id=account_id, limit=10_000)
        return (
            account.balance,
            account_store.ledger_sum(conn, account_id),
            len(entries),
            len(listed),
        )


def test_send_charges_writes_messages_in_request_order_and_one_ledger_row(db: Database) -> None:
    account = _account(db, 100)
    numbers = ["04141234567", "04241234568", "0414 123 4567", "bad", "04161234569"]
    with db.begin() as conn:
        receipt = submit.commit(
            conn, account=account, planned=_plan(numbers, "x" * 200), source="test", now=now()
        )
    verdicts = [i.verdict for i in receipt.items]
    assert verdicts == [
        submit.Verdict.ACCEPTED,
        submit.Verdict.ACCEPTED,
        submit.Verdict.DUPLICATE,
        submit.Verdict.INVALID_NUMBER,
        submit.Verdict.ACCEPTED,
    ]
    ids = [m for m in receipt.message_ids if m is not None]
    assert len(ids) == 3
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    assert receipt.cost == 6
    assert receipt.balance == 94
    assert _state(db, account.id) == (94, 94, 2, 3)
    with db.read() as conn:
        first = message_store.by_id(conn, ids[0], account_id=account.id)
        last = message_store.by_id(conn, ids[2], account_id=account.id)
        charge = account_store.ledger_entries(conn, account.id, limit=1)[0]
    assert first is not None
    assert last is not None
    assert (first.recipient, first.name, first.reference) == ("+584141234567", "N0", "r0")
    assert (last.recipient, last.segments, last.cost) == ("+584161234569", 2, 2)
    assert first.status is MessageState.QUEUED
    assert first.source == "test"
    assert first.expires_at is not None
    assert first.due_at is not None
    assert first.expires_at - first.due_at == submit.DEFAULT_VALIDITY
    assert (charge.kind, charge.amount, charge.balance_after) == ("charge", -6, 94)
    assert (charge.message_id, charge.messages, charge.note) == (ids[0], 3, "test: 3 mensajes")


def test_suppressed_numbers_are_left_out_and_not_charged(db: Database) -> None:
    account = _account(db, 10)
    with db.begin() as conn:
        suppression_store.add(conn, account.id, "+584241234568", "cli", now())
    with db.begin() as conn:
        receipt = submit.commit(
            conn,
            account=account,
            planned=_plan(["04141234567", "04241234568", "04161234569"]),
            source="test",
            now=now(),
        )
    assert [i.verdict for i in receipt.items] == [
        submit.Verdict.ACCEPTED,
        submit.Verdict.OPTED_OUT,
        submit.Verdict.ACCEPTED,
    ]
    assert receipt.message_ids[1] is None
    assert None not in (receipt.message_ids[0::2])
    assert (receipt.cost, receipt.balance) == (2, 8)
    assert _state(db, account.id) == (8, 8, 2, 2)


def test_all_suppressed_sends_nothing_charges_nothing_and_writes_no_ledger_row(
    db: Database,
) -> None:
    account = _account(db, 10)
    with db.begin() as conn:
        suppression_store.add(conn, account.id, "+584141234567", "cli", now())
    with db.begin() as conn:
        receipt = submit.commit(
            conn, account=account, planned=_plan(["04141234567"]), source="test", now=now()
        )
    assert receipt.items[0].verdict is submit.Verdict.OPTED_OUT
    assert (receipt.cost, receipt.balance, receipt.message_ids) == (0, 10, [None])
    assert _state(db, account.id) == (10, 10, 1, 0)


def test_insufficient_credits_change_nothing_and_name_the_balance(db: Database) -> None:
    account = _account(db, 2)
    with (
        pytest.raises(InsufficientCredits) as caught,
        db.begin() as conn,
    ):
        submit.commit(
            conn,
            account=account,
            planned=_plan(["04141234567", "04241234568", "04161234569"]),
            source="test",
            now=now(),
        )
    assert (caught.value.needed, caught.value.available) == (3, 2)
    assert _state(db, account.id) == (2, 2, 1, 0)


@pytest.mark.parametrize("change", ["disabled", "secret"])
def test_a_disabled_account_or_changed_secret_is_refused_even_with_credits(
    db: Database, change: str
) -> None:
    account = _account(db, 100)
    with db.begin() as conn:
        if change == "disabled":
            account_store.set_fields(conn, account.id, now(), enabled=False)
        else:
            account_store.set_fields(conn, account.id, now(), secret_hash="otro")
    for numbers, suppress in ((["04141234567"], False), (["04241234568"], True)):
        if suppress:  # nothing to charge: the credentials are still re-checked
            with db.begin() as conn:
                suppression_store.add(conn, account.id, "+584241234568", "cli", now())
        with pytest.raises(AuthenticationFailed), db.begin() as conn:
            submit.commit(conn, account=account, planned=_plan(numbers), source="t", now=now())
    assert _state(db, account.id) == (100, 100, 1, 0)


def _marketing_at(later: datetime) -> submit.Timing:
    return submit.Timing(
        schedule_at=later,
        validity=timedelta(hours=1),
        category="marketing",
        callback_url="https://example.test/cb",
    )


def test_scheduled_send_keeps_its_time_category_and_callback(db: Database) -> None:
    account = _account(db, 10)
    start = now()
    later = start + timedelta(hours=2)
    timing = _marketing_at(later)
    with db.begin() as conn:
        receipt = submit.commit(
            conn,
            account=account,
            planned=_plan(["04141234567"]),
            source="rest",
            now=start,
            timing=timing,
        )
    assert receipt.status is MessageState.SCHEDULED
    assert receipt.due_at == later
    message_id = receipt.message_ids[0]
    assert message_id is not None
    with db.read() as conn:
        message = message_store.by_id(conn, message_id)
    assert message is not None
    assert message.status is MessageState.SCHEDULED
    assert message.category == "marketing"
    assert message.due_at == later
    assert message.expires_at == later + timedelta(hours=1)
    assert message.callback_url == "https://example.test/cb"


def _round_trips(db: Database, work: Any) -> int:
    """Messages libpq sent that wait for the server (Query, Sync) while ``work`` ran."""
    with tempfile.TemporaryDirectory() as tmp, db.begin() as conn:
        trace = Path(tmp) / "trace.log"
        pgconn = conn.connection.driver_connection.pgconn  # type: ignore[union-attr]
        with trace.open("w") as handle:
            pgconn.trace(handle.fileno())
            try:
                work(conn)
            finally:
                pgconn.untrace()
        lines = [line.split("\t") for line in trace.read_text().splitlines()]
    waits = ("Query", "Sync")  # [timestamp] F length message …
    return sum(1 for p in lines if "F" in p[:2] and p[p.index("F") + 2].split(" ")[0] in waits)


@pytest.mark.parametrize("recipients", [1, 500])
def test_a_send_is_one_round_trip_on_postgresql(db: Database, recipients: int) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite has no round trips")
    account = _account(db, 10_000)
    planned = _plan([f"0414{i:07d}" for i in range(recipients)])
    trips = _round_trips(
        db,
        lambda conn: submit.commit(conn, account=account, planned=planned, source="t", now=now()),
    )
    assert trips == 2  # the transaction's BEGIN, then the whole send
    assert _state(db, account.id)[3] == recipients


def test_a_batch_in_one_statement_writes_what_the_sends_one_by_one_write(db: Database) -> None:
    """``Commit.send_many`` (PostgreSQL: a writer batch of sends in one statement) against
    the same sends committed one by one: the same receipts, messages and ledger rows, per
    account — suppressions, duplicates, a scheduled marketing send and two accounts mixed
    in request order included."""
    if db.is_sqlite:
        pytest.skip("SQLite runs a batch through Commit.together (tests/integration/test_writer)")
    start = now()
    later = start + timedelta(hours=2)
    scheduled = _marketing_at(later)
    requests = [
        (0, ["04141234567", "04241234568", "04141234567", "bad"], submit.Timing()),
        (1, ["04161111111"], submit.Timing()),
        (0, ["04145550000", "04145550001"], scheduled),  # the first is suppressed
        (1, ["04162222222", "04163333333"], scheduled),  # the second is suppressed
        (0, ["04145550000"], submit.Timing()),  # suppressed: costs nothing
        (1, ["04164444444"], submit.Timing(sender="NOCONCEDIDO")),  # refused, writes nothing
        # Charged in the statement: a duplicate and a bad number, its default sender ID.
        (2, ["04121234567", "0412 123 4567", "bad", "04129876543"], submit.Timing()),
        (2, ["04125550000"], submit.Timing(sender="Farmacia")),
    ]

    def run(together: bool) -> tuple[list[Any], list[list[Any]], list[list[Any]]]:
        owners = [_account(db, 50), _account(db, 60), _account(db, 70)]
        with db.begin() as conn:
            senders.add(conn, owners[2], "Centauro", now=now(), default=True)
            senders.add(conn, owners[2], "Farmacia", now=now())
            suppression_store.add(conn, owners[0].id, "+584145550000", "test", now())
            suppression_store.add(conn, owners[1].id, "+584163333333", "test", now())
        commits = [
            submit.Commit(owners[o], _plan(numbers), "test", start, timing)
            for o, numbers, timing in requests
        ]
        with db.begin() as conn:
            if together:
                outcomes = submit.Commit.send_many(conn, commits)()
            else:
                outcomes = []
                for c in commits:
                    try:
                        outcomes.append((True, c(conn)))
                    except CentauroError as exc:
                        outcomes.append((False, exc))
        receipts: list[Any] = []
        for ok, receipt in outcomes:
            if not ok:
                receipts.append(type(receipt).__name__)
                continue
            assert isinstance(receipt, submit.Receipt)
            receipts.append(
                (
                    [i.verdict for i in receipt.items],
                    [m is not None for m in receipt.message_ids],
                    receipt.cost,
                    receipt.balance,
                    receipt.status,
                    receipt.due_at,
                )
            )
        messages, ledgers = [], []
        with db.read() as conn:
            for owner in owners:
                listed = message_store.listing(conn, account_id=owner.id, limit=100)
                rows = [message_store.by_id(conn, m.id) for m in sorted(listed, key=lambda m: m.id)]
                messages.append(
                    [
                        (
                            m.recipient,
                            m.name,
                            m.reference,
                            m.status,
                            m.due_at,
                            m.expires_at,
                            m.category,
                            m.callback_url,
                            m.segments,
                            m.cost,
                            m.source,
                            m.sender,
                        )
                        for m in rows
                        if m is not None
                    ]
                )
                entries = sorted(account_store.ledger_entries(conn, owner.id), key=lambda e: e.id)
                ledgers.append(
                    [(e.kind, e.amount, e.balance_after, e.messages, e.note) for e in entries]
                )
                assert (
                    account_store.ledger_sum(conn, owner.id)
                    == account_store.by_id(conn, owner.id).balance
                )  # type: ignore[union-attr]
        return receipts, messages, ledgers

    alone = run(together=False)
    assert run(together=True) == alone
    receipts, messages, ledgers = alone
    assert receipts[5] == "SenderNotGranted"
    receipts = receipts[:5] + receipts[6:]
    assert [r[2] for r in receipts] == [2, 1, 1, 1, 0, 2, 1]
    # The fifth charged nothing: it answers the balance the request was authorised with.
    assert [r[3] for r in receipts] == [48, 59, 47, 58, 50, 68, 67]
    assert [len(m) for m in messages] == [3, 2, 3]
    assert [m[-1] for m in messages[2]] == ["Centauro", "Centauro", "Farmacia"]
    charges = [[(e[1], e[2]) for e in ledger if e[0] == "charge"] for ledger in ledgers]
    assert charges == [[(-2, 48), (-1, 47)], [(-1, 59), (-1, 58)], [(-2, 68), (-1, 67)]]
