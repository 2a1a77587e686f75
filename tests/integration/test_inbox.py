"""The inbox: reports are durable when ``receipts()``/``inbound()`` return."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from centauro.connectors.base import InboundSms, Receipt
from centauro.delivery.inbox import BufferedInbox
from centauro.domain.states import MessageState
from centauro.service import accounts, outcomes, submit
from centauro.store import inbound, outbox
from centauro.store import messages as message_store
from centauro.store import receipts as store_receipts
from centauro.store.engine import Database
from centauro.store.writer import Writer

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _queue(db: Database, count: int) -> list[int]:
    with db.begin() as conn:
        created = accounts.create(conn, name="Inbox", credits=100, now=T0)
        planned = submit.plan(
            [submit.Recipient(f"0414{i:07d}") for i in range(count)],
            "Hola",
            country="VE",
            max_segments=10,
            max_recipients=100,
        )
        receipt = submit.commit(conn, account=created.account, planned=planned, source="t", now=T0)
        outbox.claim(conn, now=T0, lease_until=T0 + timedelta(minutes=1), limit=count)
    return [m for m in receipt.message_ids if m is not None]


def _status(db: Database, message_id: int) -> MessageState:
    with db.read() as conn:
        message = message_store.by_id(conn, message_id)
        assert message is not None
        return message.status


def test_reports_are_committed_when_the_inbox_returns(db: Database) -> None:
    ids = _queue(db, 2)
    with db.begin() as conn:
        outcomes.record_sent(conn, [(ids[0], "smsc", ("c1",))], T0)

    async def main() -> None:
        writer = Writer(db.write_engine)
        writer.start()
        inbox = BufferedInbox(writer, clock=lambda: T0)  # the clock the rows were made on
        inbox.start()
        try:
            await inbox.receipts(
                [
                    Receipt("smsc", "c1", MessageState.DELIVERED),
                    Receipt("smsc", "c2", MessageState.UNDELIVERED, "err:001"),  # not sent yet
                ]
            )
            # Durable on return: the known one applied, the other kept.
            assert _status(db, ids[0]) is MessageState.DELIVERED
            with db.read() as conn:
                kept = store_receipts.pending(conn, limit=10)
            assert [(p.carrier_id, p.state) for p in kept] == [("c2", "undelivered")]

            await inbox.inbound([InboundSms("smsc", "584141234567", "2222", "BAJA", T0)])
            with db.read() as conn:
                assert [m.text for m in inbound.listing(conn)] == ["BAJA"]

            # The submit of the second message is recorded late: its kept receipt applies.
            with db.begin() as conn:
                outcomes.record_sent(conn, [(ids[1], "smsc", ("c2",))], T0)
            await inbox.retry_pending()
            assert _status(db, ids[1]) is MessageState.UNDELIVERED
            with db.read() as conn:
                assert store_receipts.count_pending(conn) == 0
        finally:
            await inbox.stop()
            writer.stop()

    asyncio.run(main())


def test_many_concurrent_reports_share_commits(db: Database) -> None:
    ids = _queue(db, 50)
    with db.begin() as conn:
        outcomes.record_sent(conn, [(m, "smsc", (f"x{m}",)) for m in ids], T0)

    async def main() -> int:
        writer = Writer(db.write_engine)
        writer.start()
        inbox = BufferedInbox(writer, clock=lambda: T0)  # the clock the rows were made on
        inbox.start()
        try:
            await asyncio.gather(
                *(inbox.receipts([Receipt("smsc", f"x{m}", MessageState.DELIVERED)]) for m in ids)
            )
            return writer.commits
        finally:
            await inbox.stop()
            writer.stop()

    commits = asyncio.run(main())
    assert commits < len(ids)
    assert {_status(db, m) for m in ids} == {MessageState.DELIVERED}


def test_a_receipt_queued_before_its_submit_record_in_one_batch_still_matches(
    db: Database,
) -> None:
    """The carrier's receipt follows its submit_sm_resp at once, so the receipt's job and
    the record of its submit often share a writer batch, the receipt's first: it runs
    after the record and matches, instead of being kept as pending."""
    [message] = _queue(db, 1)

    async def main() -> None:
        writer = Writer(db.write_engine)
        writer.start()
        inbox = BufferedInbox(writer, clock=lambda: T0)
        inbox.start()
        entered, busy = threading.Event(), threading.Event()

        def hold(_: object) -> None:
            entered.set()
            busy.wait(10)

        try:
            holding = asyncio.ensure_future(writer.run(hold))
            # The writer is inside the holding job: the rest queue behind it. Waited for,
            # not slept for: a loaded machine (the suite under faketime) took longer.
            assert await asyncio.to_thread(entered.wait, 10)
            receipt = asyncio.ensure_future(
                inbox.receipts([Receipt("smsc", "c1", MessageState.DELIVERED)])
            )
            await _until_queued(writer, 1)  # the receipt's job is queued first
            record = asyncio.ensure_future(
                writer.run(
                    lambda conn: outcomes.record_sent(conn, [(message, "smsc", ("c1",))], T0)
                )
            )
            await _until_queued(writer, 2)
            busy.set()
            await asyncio.wait_for(asyncio.gather(holding, receipt, record), 10)
            assert _status(db, message) is MessageState.DELIVERED
            assert (inbox.applied, inbox.kept) == (1, 0)
        finally:
            busy.set()
            await inbox.stop()
            writer.stop()

    asyncio.run(main())


async def _until_queued(writer: Writer, jobs: int) -> None:
    """Until ``jobs`` jobs wait in the writer's queue (at most 10 s)."""
    for _ in range(1000):
        if writer._queue.qsize() >= jobs:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {jobs} jobs queued after 10 s")


def test_tries_between_full_ones_take_only_recent_kept_receipts(db: Database) -> None:
    """After each record only the receipts kept in the last seconds are tried again (one
    that overtook its submit's record is that young); the older ones wait for the full
    try. Trying them all after every record made a carrier that reports unknown ids cost
    4× the CPU per message."""
    ids = _queue(db, 2)
    now = [T0]

    async def keep(inbox: BufferedInbox, receipt: Receipt) -> None:
        # Flushed here rather than by the inbox's own loops (not started): no try of the
        # kept receipts runs but the ones this test asks for.
        delivered = asyncio.create_task(inbox.receipts([receipt]))
        await asyncio.sleep(0)
        await inbox.flush()
        await asyncio.wait_for(delivered, 10)

    async def main() -> None:
        writer = Writer(db.write_engine)
        writer.start()
        inbox = BufferedInbox(writer, clock=lambda: now[0])
        try:
            await keep(inbox, Receipt("smsc", "old", MessageState.DELIVERED))
            now[0] = T0 + timedelta(minutes=1)
            await keep(inbox, Receipt("smsc", "new", MessageState.DELIVERED))
            with db.read() as conn:
                assert store_receipts.count_pending(conn) == 2
            with db.begin() as conn:
                outcomes.record_sent(
                    conn, [(ids[0], "smsc", ("old",)), (ids[1], "smsc", ("new",))], now[0]
                )
            await inbox.retry_pending(recent_only=True)
            assert _status(db, ids[1]) is MessageState.DELIVERED
            assert _status(db, ids[0]) is MessageState.SENT
            await inbox.retry_pending()
            assert _status(db, ids[0]) is MessageState.DELIVERED
            with db.read() as conn:
                assert store_receipts.count_pending(conn) == 0
        finally:
            writer.stop()

    asyncio.run(main())
