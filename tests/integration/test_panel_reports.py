"""The dashboard's counts: local days cut in the account zone, and every query a range
of an index (EXPLAIN on both stores), never a scan of the messages table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from centauro.domain.models import Account
from centauro.service import accounts, counts, reports, submit
from centauro.store.engine import Database
from centauro.web.format import zone
from tests.support.plans import captured, plan

T0 = datetime(2030, 3, 10, 15, 0, tzinfo=UTC)  # 11:00 in Caracas (UTC-4)
CARACAS = zone("America/Caracas")


def _account(db: Database) -> Account:
    with db.begin() as conn:
        return accounts.create(conn, name="t", credits=1000, now=T0 - timedelta(days=40)).account


def _send(db: Database, account: Account, at: datetime, number: str = "04141234567") -> None:
    planned = submit.plan(
        [submit.Recipient(number)], "hola", country="VE", max_segments=10, max_recipients=10
    )
    with db.begin() as conn:
        fresh = accounts.get(conn, account.client_id)
        submit.commit(conn, account=fresh, planned=planned, source="cli", now=at)


def test_days_are_cut_at_local_midnight(db: Database) -> None:
    account = _account(db)
    local_midnight_utc = datetime(2030, 3, 10, 4, 0, tzinfo=UTC)
    _send(db, account, local_midnight_utc - timedelta(minutes=1))  # 9 March, 23:59 local
    _send(db, account, local_midnight_utc)  # 10 March, 00:00 local
    _send(db, account, T0 - timedelta(days=29, hours=1))  # 9 Feb local: 30 days back
    _send(db, account, T0 - timedelta(days=40))  # outside the window
    with db.read() as conn:
        days = reports.last_days(conn, now=T0, zone=CARACAS)
        today = reports.today(conn, now=T0, zone=CARACAS)
    assert len(days) == 30
    assert days[0][0] == date(2030, 2, 9)
    assert days[-1][0] == date(2030, 3, 10)
    by_day = {d: c.accepted for d, c in days if c.accepted}
    assert by_day == {date(2030, 2, 9): 1, date(2030, 3, 9): 1, date(2030, 3, 10): 1}
    assert today.counts.accepted == 1
    assert today.credits_left == 1000 - 4


def test_credits_sold_counts_todays_top_ups_only(db: Database) -> None:
    account = _account(db)
    with db.begin() as conn:
        accounts.topup(conn, client_id=account.client_id, amount=500, now=T0)
        accounts.topup(conn, client_id=account.client_id, amount=-100, now=T0)
        accounts.topup(conn, client_id=account.client_id, amount=70, now=T0 - timedelta(days=1))
    with db.read() as conn:
        assert reports.today(conn, now=T0, zone=CARACAS).credits_sold == 500


def _statements(db: Database) -> list[tuple[str, Any]]:
    """The SQL the dashboard runs, captured as it goes to the driver."""
    with captured(db, "messages", "ledger") as seen, db.read() as conn:
        reports.today(conn, now=T0, zone=CARACAS)
        reports.last_days(conn, now=T0, zone=CARACAS)
    return seen


def test_dashboard_queries_use_indexes_not_scans(db: Database) -> None:
    account = _account(db)
    for n in range(20):
        _send(db, account, T0 - timedelta(hours=n * 7))
    statements = _statements(db)
    assert len(statements) >= 3
    for statement, params in statements:
        found = plan(db, statement, params, seqscan=False)
        if db.is_sqlite:
            assert "SCAN messages" not in found, found
            assert "SCAN ledger" not in found, found
            assert "INDEX" in found, found
        else:
            assert "Seq Scan on messages" not in found, found
            assert "Seq Scan on ledger" not in found, found


def test_the_chart_reads_past_days_every_few_minutes_and_today_every_view(db: Database) -> None:
    account = _account(db)
    chart = reports.DayCounts(ttl=timedelta(minutes=5))
    _send(db, account, T0 - timedelta(days=3))
    with db.read() as conn:
        first = chart.last_days(conn, now=T0, zone=CARACAS)
        assert first == reports.last_days(conn, now=T0, zone=CARACAS)
    three_days_ago = first[-4][0]
    assert first[-4][1].accepted == 1

    _send(db, account, T0)  # today: seen at once
    _send(db, account, T0 - timedelta(days=3))  # a past day: seen once the window is re-read
    later = T0 + timedelta(minutes=1)
    with db.read() as conn:
        kept = chart.last_days(conn, now=later, zone=CARACAS)
        assert dict(kept)[three_days_ago].accepted == 1
        assert kept[-1][1].accepted == 1
        assert len(kept) == 30
        assert kept[0][0] == first[0][0]
        today = reports.today(conn, now=later, zone=CARACAS).counts
        assert chart.last_days(conn, now=later, zone=CARACAS, today=today) == kept

        reread = chart.last_days(conn, now=T0 + timedelta(minutes=5), zone=CARACAS)
        assert reread == reports.last_days(conn, now=T0 + timedelta(minutes=5), zone=CARACAS)
        assert dict(reread)[three_days_ago].accepted == 2


def test_the_chart_reads_the_whole_window_again_on_a_new_day(db: Database) -> None:
    account = _account(db)
    chart = reports.DayCounts(ttl=timedelta(hours=48))
    with db.read() as conn:
        chart.last_days(conn, now=T0, zone=CARACAS)
    _send(db, account, T0)
    tomorrow = T0 + timedelta(days=1)
    with db.read() as conn:
        days = chart.last_days(conn, now=tomorrow, zone=CARACAS)
        assert days == reports.last_days(conn, now=tomorrow, zone=CARACAS)
    assert days[-2][1].accepted == 1


def test_the_dashboard_reads_the_window_apart_and_shows_what_it_kept(db: Database) -> None:
    """The page's way (``due`` → ``refresh`` in the background → ``kept``): a view never
    reads the window itself; before the first read there is nothing kept, after it the
    kept past days (even past ``ttl``, while the next read runs) with today's counts."""
    account = _account(db)
    chart = reports.DayCounts(ttl=timedelta(minutes=5))
    _send(db, account, T0 - timedelta(days=3))
    today = counts.Counts(accepted=7)
    assert chart.due(now=T0, zone=CARACAS)
    assert chart.kept(now=T0, zone=CARACAS, today=today) is None
    with db.read() as conn:
        chart.refresh(conn, now=T0, zone=CARACAS)
        if not db.is_sqlite:  # the background read runs in one process, not in parallel
            setting = conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar()
            assert setting == "0"
        window = reports.last_days(conn, now=T0, zone=CARACAS)
    assert not chart.due(now=T0 + timedelta(minutes=4), zone=CARACAS)
    kept = chart.kept(now=T0 + timedelta(minutes=4), zone=CARACAS, today=today)
    assert kept == [*window[:-1], (window[-1][0], today)]
    assert dict(kept)[window[-4][0]].accepted == 1

    _send(db, account, T0 - timedelta(days=3))
    later = T0 + timedelta(minutes=6)
    assert chart.due(now=later, zone=CARACAS)
    assert chart.kept(now=later, zone=CARACAS, today=today) == kept  # stale, still shown
    with db.read() as conn:
        chart.refresh(conn, now=later, zone=CARACAS)
    fresh = chart.kept(now=later, zone=CARACAS, today=today)
    assert fresh is not None
    assert dict(fresh)[window[-4][0]].accepted == 2

    tomorrow = T0 + timedelta(days=1)
    assert chart.due(now=tomorrow, zone=CARACAS)
    assert chart.kept(now=tomorrow, zone=CARACAS, today=today) is None
