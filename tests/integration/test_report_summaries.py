"""The reports' hourly summaries on both stores: known counts across hours, days and zones;
a late receipt picked up by a re-roll; the page's hours not rolled yet read live; one
runner at a time; and every read a range of an index."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from centauro.delivery.rollup import ReportRollup
from centauro.domain.models import Account
from centauro.domain.states import MessageState
from centauro.service import accounts, outcomes, submit, summaries
from centauro.store import summaries as store
from centauro.store.engine import Database
from centauro.web.format import zone
from tests.support.plans import captured, plan

T0 = datetime(2030, 3, 10, 15, 20, tzinfo=UTC)  # 11:20 in Caracas (UTC-4)
CARACAS = zone("America/Caracas")
BOGOTA = zone("America/Bogota")


def _account(db: Database, name: str = "tienda") -> Account:
    with db.begin() as conn:
        made = accounts.create(conn, name=name, credits=10_000, now=T0 - timedelta(days=60))
        return made.account


def _send(db: Database, account: Account, at: datetime, *, text_: str = "hola") -> int:
    planned = submit.plan(
        [submit.Recipient("04141234567")], text_, country="VE", max_segments=10, max_recipients=1
    )
    with db.begin() as conn:
        fresh = accounts.get(conn, account.client_id)
        receipt = submit.commit(conn, account=fresh, planned=planned, source="cli", now=at)
    message_id = receipt.message_ids[0]
    assert message_id is not None
    return message_id


def _carried(db: Database, message_id: int, connector: str, at: datetime) -> None:
    with db.begin() as conn:
        outcomes.record_sent(conn, [(message_id, connector, (f"c{message_id}",))], at)


def _final(db: Database, message_id: int, state: MessageState, at: datetime) -> None:
    with db.begin() as conn:
        outcomes.record_final(conn, [outcomes.Final(message_id, state)], at)


def _roll_all(db: Database, now: datetime) -> None:
    """Rounds until caught up (bounded)."""
    for _ in range(100):
        with db.begin() as conn:
            if not summaries.roll(conn, now=now).behind:
                return
    raise AssertionError("the roll-up never caught up")


def _report(db: Database, first: date, last: date, **kw: Any) -> summaries.Report:
    with db.read() as conn:
        return summaries.report(conn, summaries.period(first, last, CARACAS), CARACAS, **kw)


def test_counts_per_day_account_and_connector_across_hours_and_days(db: Database) -> None:
    shop, bank = _account(db, "tienda"), _account(db, "banco")
    midnight = datetime(2030, 3, 10, 4, 0, tzinfo=UTC)  # 10 March 00:00 in Caracas
    late = _send(db, shop, midnight - timedelta(minutes=1))  # 9 March 23:59 local
    _carried(db, late, "movistar", midnight)
    _final(db, late, MessageState.DELIVERED, midnight)
    early = _send(db, shop, midnight)  # 10 March 00:00 local
    _carried(db, early, "digitel", midnight)
    _final(db, early, MessageState.UNDELIVERED, midnight + timedelta(minutes=5))
    long = _send(db, bank, T0 - timedelta(hours=2), text_="x" * 200)  # 2 segments, sent
    _carried(db, long, "movistar", T0)
    _send(db, bank, T0 - timedelta(minutes=10))  # queued, this (unrolled) hour
    cancelled = _send(db, bank, T0 - timedelta(days=1))
    with db.begin() as conn:
        outcomes.record_final(conn, [outcomes.Final(cancelled, MessageState.CANCELLED)], T0)
    _send(db, shop, T0 - timedelta(days=40))  # before the period

    for rolled in (False, True):  # all live, then closed hours from the summary
        if rolled:
            _roll_all(db, T0)
        r = _report(db, date(2030, 3, 8), date(2030, 3, 10))
        assert r.live_since == (datetime(2030, 3, 10, 15, tzinfo=UTC) if rolled else r.period.since)
        by_day = {d: (c.accepted, c.delivered, c.failed, c.pending, c.credits) for d, c in r.days}
        assert by_day == {
            date(2030, 3, 8): (0, 0, 0, 0, 0),
            date(2030, 3, 9): (1, 1, 0, 0, 1),  # the cancelled one is not accepted
            date(2030, 3, 10): (3, 0, 1, 2, 1 + 2 + 1),  # undelivered: not refunded
        }
        assert [(a.name, a.counts.accepted, a.counts.credits) for a in r.accounts] == [
            ("banco", 2, 3),
            ("tienda", 2, 2),
        ]
        assert [(n, c.accepted, c.delivered, c.failed) for n, c in r.connectors] == [
            ("", 1, 0, 0),
            ("digitel", 1, 0, 1),
            ("movistar", 2, 1, 0),
        ]


def test_a_late_receipt_reaches_the_summary_when_its_hour_is_rolled_again(db: Database) -> None:
    shop = _account(db)
    sent_at = T0 - timedelta(hours=30)
    message = _send(db, shop, sent_at)
    _carried(db, message, "movistar", sent_at)
    _roll_all(db, T0)
    day = sent_at.astimezone(CARACAS).date()
    assert _report(db, day, day).days[0][1].pending == 1
    [line] = _report(db, day - timedelta(days=1), day + timedelta(days=1)).accounts
    assert line.counts.pending == 1

    _final(db, message, MessageState.DELIVERED, T0 + timedelta(minutes=1))  # 30 h late
    with db.begin() as conn:  # a minute later: only the last hours are rolled again
        assert summaries.roll(conn, now=T0 + timedelta(minutes=2)).steps[0].since == (
            datetime(2030, 3, 10, 12, tzinfo=UTC)
        )
    assert _report(db, day, day).days[0][1].pending == 1
    with db.begin() as conn:  # the last days' re-roll is due every 15 minutes
        summaries.roll(conn, now=T0 + summaries.DAYS_EVERY)
    counts = _report(db, day, day).days[0][1]
    assert (counts.pending, counts.delivered) == (0, 1)
    # the account table reads that whole UTC day from report_days: re-derived too
    [line] = _report(db, day - timedelta(days=1), day + timedelta(days=1)).accounts
    assert (line.counts.pending, line.counts.delivered) == (0, 1)


def test_days_follow_the_zone_asked_for(db: Database) -> None:
    shop = _account(db)
    _send(db, shop, datetime(2030, 3, 10, 4, 30, tzinfo=UTC))  # 00:30 Caracas, 23:30 Bogotá
    _roll_all(db, T0)
    with db.read() as conn:
        for tz, day in ((CARACAS, date(2030, 3, 10)), (BOGOTA, date(2030, 3, 9))):
            p = summaries.period(date(2030, 3, 9), date(2030, 3, 10), tz)
            days = summaries.report(conn, p, tz).days
            assert {d: c.accepted for d, c in days if c.accepted} == {day: 1}


def test_a_zone_with_summer_time_cuts_each_day_at_its_own_offset(db: Database) -> None:
    new_york = zone("America/New_York")  # EST −5 until 2030-03-10 02:00, EDT −4 after
    shop = _account(db)
    _send(db, shop, datetime(2030, 3, 9, 5, 30, tzinfo=UTC))  # 9 March 00:30 EST
    _send(db, shop, datetime(2030, 3, 11, 4, 30, tzinfo=UTC))  # 11 March 00:30 EDT
    _roll_all(db, datetime(2030, 3, 11, 4, tzinfo=UTC))  # the last one stays live
    with db.read() as conn:
        p = summaries.period(date(2030, 3, 9), date(2030, 3, 11), new_york)
        days = summaries.report(conn, p, new_york).days
    assert [c.accepted for _, c in days] == [1, 0, 1]


def test_a_half_hour_zone_starts_its_days_at_the_next_whole_utc_hour() -> None:
    kolkata = zone("Asia/Kolkata")  # +05:30
    p = summaries.period(date(2030, 3, 10), date(2030, 3, 10), kolkata)
    assert p.since == datetime(2030, 3, 9, 19, tzinfo=UTC)  # 00:30 local
    assert p.until == datetime(2030, 3, 10, 19, tzinfo=UTC)


def test_one_account_sees_only_its_own_counts(db: Database) -> None:
    shop, bank = _account(db, "tienda"), _account(db, "banco")
    _send(db, shop, T0 - timedelta(hours=5))
    _send(db, bank, T0 - timedelta(hours=5))
    _send(db, bank, T0 - timedelta(minutes=5))
    _roll_all(db, T0)
    r = _report(db, date(2030, 3, 10), date(2030, 3, 10), account_id=shop.id, only_days=True)
    assert [c.accepted for _, c in r.days] == [1]
    assert r.accounts == []
    assert r.connectors == []


def test_one_runner_rolls_while_its_lease_lasts(db: Database) -> None:
    hold = timedelta(minutes=3)
    with db.begin() as conn:
        assert summaries.hold(conn, "a", now=T0, hold_for=hold)
    with db.begin() as conn:
        assert not summaries.hold(conn, "b", now=T0 + timedelta(minutes=1), hold_for=hold)
        assert summaries.hold(conn, "a", now=T0 + timedelta(minutes=1), hold_for=hold)
    with db.begin() as conn:  # a stops renewing: b takes over once it ran out
        assert summaries.hold(conn, "b", now=T0 + timedelta(minutes=5), hold_for=hold)
        step = summaries.Step(T0, T0 + timedelta(hours=1))
        assert not summaries.write_step(
            conn, step, [], "a", now=T0 + timedelta(minutes=5), hold_for=hold
        )


def test_a_first_start_catches_up_a_day_per_step_from_the_oldest_message(db: Database) -> None:
    shop = _account(db)
    _send(db, shop, T0 - timedelta(days=3, minutes=30))
    rounds = 0
    for _ in range(10):
        rounds += 1
        with db.begin() as conn:
            if not summaries.roll(conn, now=T0).behind:
                break
    assert rounds == 4  # 3 days and 1 hour, 24 hours a step
    with db.read() as conn:
        assert store.rollup(conn).rolled_until == datetime(2030, 3, 10, 15, tzinfo=UTC)


def test_report_queries_are_ranges_of_indexes(db: Database) -> None:
    shop = _account(db)
    for n in range(30):
        _send(db, shop, T0 - timedelta(hours=n * 5))
    _roll_all(db, T0 - timedelta(hours=2))  # the last two hours stay live
    with captured(db, "messages", "report_hours", "report_days", "report_totals") as seen:
        _report(db, date(2030, 2, 1), date(2030, 3, 10))
        _report(db, date(2030, 2, 1), date(2030, 3, 10), account_id=shop.id, only_days=True)
    # per day: totals + live; per account and per connector: edge hours, whole days,
    # edge hours, live; then one account's days: its hours + live
    assert len(seen) == 2 + 4 + 4 + 2
    for statement, params in seen:
        found = plan(db, statement, params, seqscan=False)
        for scan in ("SCAN messages", "SCAN report_", "Seq Scan"):
            assert scan not in found, found


def _runner(db: Database, name: str, clock: list[datetime]) -> ReportRollup:
    """The server's roll-up loop on this store, reads and writes run inline."""

    async def read(fn: Any) -> Any:
        with db.read() as conn:
            return fn(conn)

    async def write(fn: Any) -> Any:
        with db.begin() as conn:
            return fn(conn)

    return ReportRollup(read, write, runner=name, clock=lambda: clock[0])


def test_two_processes_loops_roll_up_once_and_the_second_takes_over(db: Database) -> None:
    shop = _account(db)
    _send(db, shop, T0 - timedelta(days=2))
    clock = [T0]
    first, second = _runner(db, "first", clock), _runner(db, "second", clock)

    async def rounds() -> None:
        assert await first.round()  # behind: two days to catch up, a day per step
        assert not await second.round()  # the lease is the first's: nothing rolled
        with db.read() as conn:
            assert store.rollup(conn).runner == "first"
        while await first.round():
            pass
        clock[0] = T0 + timedelta(minutes=1)
        assert not await second.round()
        clock[0] = T0 + timedelta(minutes=10)  # the first stopped renewing 9 minutes ago
        assert not await second.round()  # took over (nothing new to catch up)

    asyncio.run(rounds())
    with db.read() as conn:
        state = store.rollup(conn)
    assert state.runner == "second"
    assert state.rolled_until == datetime(2030, 3, 10, 15, tzinfo=UTC)
    day = (T0 - timedelta(days=2)).astimezone(CARACAS).date()
    assert _report(db, day, day).days[0][1].accepted == 1
