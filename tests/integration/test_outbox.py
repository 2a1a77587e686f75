"""The outbox: claims lease messages, leases expire, outcomes move states exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from centauro.domain.states import MessageState
from centauro.service import accounts, outcomes, submit
from centauro.store import messages as message_store
from centauro.store import outbox
from centauro.store.engine import Database

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _queue(db: Database, count: int) -> tuple[int, list[int]]:
    with db.begin() as conn:
        created = accounts.create(conn, name="Outbox", credits=1000, now=T0)
        planned = submit.plan(
            [submit.Recipient(f"0414{i:07d}") for i in range(count)],
            "Hola",
            country="VE",
            max_segments=10,
            max_recipients=10_000,
        )
        receipt = submit.commit(conn, account=created.account, planned=planned, source="t", now=T0)
    return created.account.id, [m for m in receipt.message_ids if m is not None]


def _status(db: Database, message_id: int) -> MessageState:
    with db.read() as conn:
        message = message_store.by_id(conn, message_id)
        assert message is not None
        return message.status


def test_a_claimed_message_is_not_claimed_again_until_its_lease_ends(db: Database) -> None:
    _, ids = _queue(db, 5)
    lease = timedelta(seconds=60)
    with db.begin() as conn:
        first = outbox.claim(conn, now=T0, lease_until=T0 + lease, limit=3)
        second = outbox.claim(conn, now=T0, lease_until=T0 + lease, limit=10)
    assert [m.id for m in first] == ids[:3]
    assert [m.id for m in second] == ids[3:]
    assert all(m.attempts == 1 for m in first)
    with db.begin() as conn:
        assert outbox.claim(conn, now=T0 + timedelta(seconds=59), lease_until=T0, limit=10) == []
        again = outbox.claim(conn, now=T0 + lease, lease_until=T0 + 2 * lease, limit=10)
    assert [m.id for m in again] == ids
    assert all(m.attempts == 2 for m in again)
    assert all(_status(db, i) is MessageState.QUEUED for i in ids)


def test_sent_then_receipt_moves_to_delivered_and_late_reports_change_nothing(
    db: Database,
) -> None:
    _, ids = _queue(db, 2)
    with db.begin() as conn:
        outbox.claim(conn, now=T0, lease_until=T0 + timedelta(minutes=1), limit=10)
        outcomes.record_sent(
            conn, [(ids[0], "sandbox", ("c-1",)), (ids[1], "sandbox", ("c-2",))], T0
        )
        unmatched = outcomes.apply_receipts(
            conn,
            "sandbox",
            [
                outcomes.CarrierReceipt("c-1", MessageState.DELIVERED),
                outcomes.CarrierReceipt("c-404", MessageState.DELIVERED),
            ],
            T0,
        )
    assert [r.carrier_id for r in unmatched] == ["c-404"]
    assert _status(db, ids[0]) is MessageState.DELIVERED
    assert _status(db, ids[1]) is MessageState.SENT
    with db.begin() as conn:
        # A second, contradicting receipt for a final message is ignored.
        outcomes.apply_receipts(
            conn, "sandbox", [outcomes.CarrierReceipt("c-1", MessageState.UNDELIVERED)], T0
        )
        # A sent message is never claimed again.
        assert outbox.claim(conn, now=T0 + timedelta(hours=1), lease_until=T0, limit=10) == []
    assert _status(db, ids[0]) is MessageState.DELIVERED


def test_retry_puts_a_message_back_for_later_and_failure_refunds_it(db: Database) -> None:
    account_id, ids = _queue(db, 2)
    later = T0 + timedelta(seconds=30)
    with db.begin() as conn:
        outbox.claim(conn, now=T0, lease_until=T0 + timedelta(minutes=1), limit=10)
        outcomes.record_retry(conn, [(ids[0], later, "throttled")], T0)
        outcomes.record_final(conn, [outcomes.Final(ids[1], MessageState.FAILED, "bad")], T0)
        assert (
            outbox.claim(conn, now=later - timedelta(seconds=1), lease_until=later, limit=9) == []
        )
        claimed = outbox.claim(conn, now=later, lease_until=later + timedelta(minutes=1), limit=9)
    assert [m.id for m in claimed] == [ids[0]]
    assert _status(db, ids[1]) is MessageState.FAILED
    with db.read() as conn:
        refunded = accounts.get(conn, accounts.list_all(conn)[0].client_id)
    assert refunded.id == account_id
    assert refunded.balance == 1000 - 2 + 1


def test_claims_of_a_silent_worker_go_back_to_the_queue_at_once(db: Database) -> None:
    from centauro.store import workers

    _, ids = _queue(db, 3)
    with db.begin() as conn:
        workers.register(conn, worker_id="dead", host="h", pid=1, now=T0)
        workers.register(conn, worker_id="alive", host="h", pid=2, now=T0)
        outbox.claim(conn, now=T0, lease_until=T0 + timedelta(hours=1), limit=2, worker="dead")
        outbox.claim(conn, now=T0, lease_until=T0 + timedelta(hours=1), limit=1, worker="alive")
    later = T0 + timedelta(seconds=40)
    with db.begin() as conn:
        workers.heartbeat(conn, worker_id="alive", now=later)
        released = workers.reap(conn, now=later, stale_before=later - timedelta(seconds=30))
        again = outbox.claim(conn, now=later, lease_until=later + timedelta(minutes=1), limit=9)
        assert [w[0] for w in workers.live(conn)] == ["alive"]
    assert released == 2
    assert [m.id for m in again] == ids[:2]


def test_receipts_match_ids_written_in_hex_decimal_or_zero_padded(db: Database) -> None:
    _, ids = _queue(db, 3)
    with db.begin() as conn:
        outbox.claim(conn, now=T0, lease_until=T0 + timedelta(minutes=1), limit=10)
        outcomes.record_sent(
            conn,
            [(ids[0], "smsc", ("0A3F",)), (ids[1], "smsc", ("2623",)), (ids[2], "smsc", ("77",))],
            T0,
        )
        unmatched = outcomes.apply_receipts(
            conn,
            "smsc",
            [
                outcomes.CarrierReceipt("0000002623", MessageState.DELIVERED),  # decimal of 0xa3f
                outcomes.CarrierReceipt("a2f", MessageState.UNDELIVERED),  # hex of 2607: none
                outcomes.CarrierReceipt("0x4d", MessageState.DELIVERED),  # not a plain reading
            ],
            T0,
        )
    # "0000002623" is literally message 2's id: the literal reading wins over hex.
    assert _status(db, ids[1]) is MessageState.DELIVERED
    assert _status(db, ids[0]) is MessageState.SENT
    assert sorted(r.carrier_id for r in unmatched) == ["0x4d", "a2f"]
    with db.begin() as conn:
        outcomes.apply_receipts(
            conn, "smsc", [outcomes.CarrierReceipt("2623", MessageState.DELIVERED)], T0
        )
        outcomes.apply_receipts(
            conn, "smsc", [outcomes.CarrierReceipt("4D", MessageState.EXPIRED)], T0
        )
    assert _status(db, ids[2]) is MessageState.EXPIRED  # 0x4d == 77
    assert _status(db, ids[0]) is MessageState.SENT  # 2623 went to its literal twin


def test_a_concatenated_message_is_final_when_every_part_has_reported(db: Database) -> None:
    _, ids = _queue(db, 2)
    with db.begin() as conn:
        outbox.claim(conn, now=T0, lease_until=T0 + timedelta(minutes=1), limit=10)
        outcomes.record_sent(
            conn, [(ids[0], "smsc", ("p1", "p2", "p3")), (ids[1], "smsc", ("q1", "q2"))], T0
        )
        outcomes.apply_receipts(
            conn,
            "smsc",
            [
                outcomes.CarrierReceipt("p1", MessageState.DELIVERED),
                outcomes.CarrierReceipt("p3", MessageState.DELIVERED),
                outcomes.CarrierReceipt("q1", MessageState.DELIVERED),
                outcomes.CarrierReceipt("q2", MessageState.EXPIRED, "err:027"),
            ],
            T0,
        )
    assert _status(db, ids[0]) is MessageState.SENT  # p2 still owes its receipt
    assert _status(db, ids[1]) is MessageState.EXPIRED
    with db.begin() as conn:
        outcomes.apply_receipts(
            conn, "smsc", [outcomes.CarrierReceipt("p2", MessageState.DELIVERED)], T0
        )
    assert _status(db, ids[0]) is MessageState.DELIVERED
    with db.read() as conn:
        expired = message_store.by_id(conn, ids[1])
        assert expired is not None
        assert expired.error == "err:027"
        assert accounts.list_all(conn)[0].balance == 1000 - 2 + 1  # the expired one refunded


def test_a_carrier_id_reused_later_reaches_the_message_still_waiting(db: Database) -> None:
    _, ids = _queue(db, 2)
    with db.begin() as conn:
        outbox.claim(conn, now=T0, lease_until=T0 + timedelta(minutes=1), limit=10)
        outcomes.record_sent(conn, [(ids[0], "smsc", ("777",))], T0)
        outcomes.apply_receipts(
            conn, "smsc", [outcomes.CarrierReceipt("777", MessageState.DELIVERED)], T0
        )
        # Days later the SMSC hands out the same id again.
        outcomes.record_sent(conn, [(ids[1], "smsc", ("777",))], T0)
        unmatched = outcomes.apply_receipts(
            conn, "smsc", [outcomes.CarrierReceipt("777", MessageState.UNDELIVERED)], T0
        )
    assert unmatched == []
    assert _status(db, ids[0]) is MessageState.DELIVERED
    assert _status(db, ids[1]) is MessageState.UNDELIVERED


def test_a_batch_of_outcomes_moves_each_message_once_the_first_report_winning(
    db: Database,
) -> None:
    """``mark_sent`` and ``finish`` take a whole batch (one statement on PostgreSQL, one
    per row on SQLite): a message twice in a batch moves once, by its first row; a message
    not in the state the move starts from is left alone; the counts say how many moved."""
    _, ids = _queue(db, 4)
    later = T0 + timedelta(seconds=5)
    with db.begin() as conn:
        outbox.claim(conn, now=T0, lease_until=T0 + timedelta(minutes=1), limit=10)
        sent = outbox.mark_sent(
            conn,
            [
                (ids[2], "sim", ("c-3",)),
                (ids[0], "sim", ("c-1",)),
                (ids[0], "other", ("c-9",)),
                (ids[1], "sim", ("c-2a", "c-2b")),
            ],
            T0,
        )
        again = outbox.mark_sent(conn, [(ids[0], "sim", ("c-1",))], T0)
        finished = outbox.finish(
            conn,
            [
                (ids[0], "delivered", None),
                (ids[0], "undelivered", "late"),
                (ids[3], "failed", "x" * 300),
                (ids[2], "undelivered", "rejected"),
            ],
            later,
        )
        repeat = outbox.finish(conn, [(ids[0], "failed", "again")], later)
    assert (sent, again, finished, repeat) == (3, 0, 3, 0)
    with db.read() as conn:
        rows = {m: message_store.by_id(conn, m) for m in ids}
    first, parts, third, fourth = (rows[m] for m in ids)
    assert None not in (first, parts, third, fourth)
    assert first is not None
    assert parts is not None
    assert third is not None
    assert fourth is not None
    assert (first.status, first.connector, first.carrier_id) == (
        MessageState.DELIVERED, "sim", "c-1",
    )  # fmt: skip
    assert first.error is None
    assert (parts.status, parts.carrier_id) == (MessageState.SENT, "c-2a")
    assert (third.status, third.error) == (MessageState.UNDELIVERED, "rejected")
    assert (fourth.status, fourth.error) == (MessageState.FAILED, "x" * 200)
    assert first.sent_at == T0
    assert fourth.sent_at is None
