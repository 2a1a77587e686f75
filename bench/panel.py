"""The web panel at scale: its pages over a store of ``--messages`` (default 1,000,000).

1. Fills the store quickly with one ``INSERT … SELECT`` per chunk (a recursive CTE on
   SQLite, ``generate_series`` on PostgreSQL): messages spread evenly over the last 30 days,
   oldest first (ids grow with ``created_at``, as in a real store; one clock: now), in final
   states only (the dispatcher has nothing to deliver), over a few
   accounts, numbers and connectors.
2. Times the dashboard and the message search pages, signed in as an operator and as a
   customer, with several filters → p50 / p95 of ``--requests`` requests each (client-timed
   over a keep-alive connection).
3. The reports page (Informes): the roll-up is reset as for a store upgraded to 0014 with
   its messages already in it, and the bench waits for the serving process to roll them up
   (printed: how long); then the page and its CSV are timed like the others, and the
   page's counts read in-process from the summary against the same counts read from the
   messages index alone (interleaved, medians of ``--runs``); ``--explain`` prints the
   plans of the page's statements; and what the roll-up's reads cost on this store.
4. ``--polling``: compat single sends with and without a signed-in operator loading the
   dashboard every second, interleaved, medians of ``--runs``.

Usage: python bench/panel.py [--db URL] [--messages 1000000] [--requests 20] [--polling]
       [--explain] [--accounts 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from tests.support.panel import Panel, ready_user
from tests.support.plans import captured, plan

from bench.common import Server, median_report, start_server
from bench.loadgen import run_load
from centauro.service import accounts, summaries
from centauro.store import summaries as summary_store
from centauro.store.engine import Database, open_database
from centauro.web.format import zone

STATUSES = ["delivered"] * 8 + ["failed", "undelivered", "expired", "cancelled"]
CHUNK = 100_000

_SQLITE_FILL = """
WITH RECURSIVE n(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM n WHERE i < :last)
INSERT INTO messages (account_id, recipient, name, reference, text, encoding, segments,
    cost, status, source, attempts, connector, parts, category, created_at, updated_at)
SELECT :account + (i % :accounts), '+58414' || printf('%07d', i % 200000), '', '',
    'Su pedido va en camino', 'gsm7', 1, 1,
    CASE i % 12 {cases} END, 'compat', 1, 'c' || (i % 3), 1, 'transactional',
    strftime('%Y-%m-%d %H:%M:%f', :now,
        '-' || (((:total - 1 - i) * 2592000) / :total) || ' seconds'),
    :now
FROM n
"""

_PG_FILL = """
INSERT INTO messages (account_id, recipient, name, reference, text, encoding, segments,
    cost, status, source, attempts, connector, parts, category, created_at, updated_at)
SELECT :account + (i % :accounts), '+58414' || lpad((i % 200000)::text, 7, '0'), '', '',
    'Su pedido va en camino', 'gsm7', 1, 1,
    CASE i % 12 {cases} END, 'compat', 1, 'c' || (i % 3), 1, 'transactional',
    CAST(:now AS timestamptz) - make_interval(secs => ((:total - 1 - i) * 2592000) / :total),
    CAST(:now AS timestamptz)
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS i
"""


def fill(server: Server, total: int, accounts: list[int]) -> float:
    """Insert ``total`` messages; seconds it took."""
    db = open_database(server.env["CENTAURO_DATABASE_URL"])
    sqlite = db.write_engine.dialect.name == "sqlite"
    cases = " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(STATUSES))
    statement = text((_SQLITE_FILL if sqlite else _PG_FILL).format(cases=cases))
    now = datetime.now(UTC)
    started = time.perf_counter()
    for first in range(0, total, CHUNK):
        with db.write_engine.begin() as conn:
            conn.execute(
                statement,
                {
                    "first": first,
                    "last": min(first + CHUNK, total) - 1,
                    "account": accounts[0],
                    "accounts": len(accounts),
                    "total": total,
                    "now": now.replace(tzinfo=None).isoformat(sep=" ") if sqlite else now,
                },
            )
    with db.write_engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    db.dispose()
    return time.perf_counter() - started


def times(panel: Panel, path: str, requests: int) -> list[float]:
    found: list[float] = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = panel.get(path)
        found.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code} {answer.text[:300]}")
    return found


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def rolled_up(db: Database, timeout: float = 900.0) -> float:
    """Forget the roll-up's progress (as after upgrading a filled store to 0014) and wait
    until the server has rolled every closed hour again; seconds it took."""
    with db.write_engine.begin() as conn:
        conn.execute(text("UPDATE report_rollup SET rolled_until = NULL, runner = NULL"))
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        with db.read() as conn:
            until = summary_store.rollup(conn).rolled_until
        if until is not None and until >= summaries.floor_hour(datetime.now(UTC)):
            return time.perf_counter() - started
        time.sleep(0.5)
    raise SystemExit("the roll-up did not catch up")


def summary_against_index(db: Database, runs: int, explain: bool) -> None:
    """The 30-day report's counts from the summary (what the page does) against the same
    counts read from the messages index alone; in-process, interleaved."""
    caracas = zone("America/Caracas")
    today = datetime.now(caracas).date()
    p = summaries.period(today - timedelta(days=29), today, caracas)

    def from_summary() -> None:
        with db.read() as conn:
            summaries.report(conn, p, caracas)

    def from_index() -> None:
        with db.read() as conn:
            for by in ("hour", "account", "connector"):
                summary_store.counts(conn, (by,), p.since, p.until, source="messages")

    found: dict[str, list[float]] = {"summary": [], "index": []}
    for _ in range(runs):
        for name, fn in (("summary", from_summary), ("index", from_index)):
            started = time.perf_counter()
            fn()
            found[name].append((time.perf_counter() - started) * 1000)
    print(median_report("report counts, 30 days, summary + live hour", "ms", found["summary"]))
    print(median_report("report counts, 30 days, messages index only", "ms", found["index"]))
    ratio = statistics.median(found["index"]) / statistics.median(found["summary"])
    print(f"index only / summary: {ratio:.1f}x")
    if explain:
        with captured(db, "report_hours", "messages") as seen:
            from_summary()
        for statement, params in seen:
            print("--", " ".join(statement.split()))
            print(plan(db, statement, params).replace(" | ", "\n"))


def roll_costs(db: Database) -> None:
    """What the roll-up's reads cost on this store (its writes are the few summary rows):
    a round's last hours, the 15-minute re-roll, the daily one."""
    current = summaries.floor_hour(datetime.now(UTC))
    for name, span in (
        ("every round: the last 3 hours", summaries.RECENT),
        ("every 15 minutes: the last 3 days", summaries.DAYS_BACK),
        ("once a day: the last 92 days", summaries.DEEP),
    ):
        started, rows = time.perf_counter(), 0
        since = current - span
        while since < current:
            until = min(since + summaries.STEP, current)
            with db.read() as conn:
                rows += len(summaries.read_step(conn, summaries.Step(since, until)))
            since = until
        took = (time.perf_counter() - started) * 1000
        print(f"roll-up read, {name}: {took:,.0f} ms ({rows:,} summary rows)")


def polling_comparison(server: Server, operator: Panel, runs: int, gets: int) -> None:
    host = f"127.0.0.1:{server.port}"
    query = urllib.parse.urlencode(
        {"client_id": server.client_id, "client_secret": server.client_secret}
    )

    def one_run(run: int, poll: bool) -> float:
        stop = threading.Event()

        def poller() -> None:
            while not stop.wait(1.0):
                operator.get("/panel/")

        thread = threading.Thread(target=poller, daemon=True)
        if poll:
            thread.start()

        def build(i: int) -> bytes:
            return (
                f"GET /http/?{query}&client_opcion=send_sms&num=0424{run % 10}{i:06d}&msg=hola "
                f"HTTP/1.1\r\nHost: {host}\r\n\r\n"
            ).encode()

        try:
            result = asyncio.run(
                run_load(
                    "127.0.0.1",
                    server.port,
                    build,
                    total=gets,
                    concurrency=32,
                    accept=lambda status, body: status == 200 and b'"status":"200"' in body,
                )
            )
        finally:
            stop.set()
            if poll:
                thread.join(timeout=5)
        if result.failed:
            raise SystemExit(f"{result.failed} sends failed: {result.first_failure}")
        return result.rate

    without: list[float] = []
    with_poll: list[float] = []
    for run in range(runs):
        # A-B then B-A: a store that slows down run after run (autovacuum after the fill,
        # the table growing) would otherwise count against the second of every pair.
        for poll in (False, True) if run % 2 == 0 else (True, False):
            (with_poll if poll else without).append(one_run(2 * run + poll, poll=poll))
    print(median_report("GET /http/ single sends, no panel", "msg/s", without))
    print(
        median_report("GET /http/ single sends, dashboard polled every second", "msg/s", with_poll)
    )
    ratio = statistics.median(with_poll) / statistics.median(without)
    print(f"with panel polling / without: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--polling", action="store_true")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--accounts", type=int, default=2, help="accounts the messages spread over")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gets", type=int, default=10_000)
    args = parser.parse_args()

    server = start_server(args.db)
    try:
        customer = server.cli("accounts", "create", "cliente", "--credits", "10", "--json")
        customer_id = __import__("json").loads(customer)["client_id"]
        db = open_database(server.env["CENTAURO_DATABASE_URL"])
        with db.begin() as conn:  # more accounts than the bench's two, if asked
            for n in range(args.accounts - 2):
                accounts.create(conn, name=f"extra {n}", credits=0, now=datetime.now(UTC))
        with db.read_engine.connect() as conn:
            ids = [
                int(i) for i in conn.execute(text("SELECT id FROM accounts ORDER BY id")).scalars()
            ]
        seconds = fill(server, args.messages, ids)
        print(f"filled {args.messages:,} messages in {seconds:.1f} s")
        print(f"rolled up by the server in {rolled_up(db):.1f} s")
        summary_against_index(db, args.runs, args.explain)
        roll_costs(db)
        base = server.base_url
        operator = Panel(base).signed_in(ready_user(base, db))
        client = Panel(base).signed_in(ready_user(base, db, role="customer", client_id=customer_id))
        db.dispose()
        today = datetime.now(UTC).date()
        ninety_one_days_ago = (today - timedelta(days=91)).isoformat()
        ten_days_ago = (today - timedelta(days=10)).isoformat()
        pages = [
            ("operator: dashboard /panel/", operator, "/panel/"),
            ("operator: messages, no filter", operator, "/panel/messages"),
            ("operator: messages, by number", operator, "/panel/messages?numero=04140001234"),
            ("operator: messages, status failed", operator, "/panel/messages?estado=failed"),
            (
                "operator: messages, one day 10 days ago",
                operator,
                f"/panel/messages?desde={ten_days_ago}&hasta={ten_days_ago}",
            ),
            (
                "operator: messages, one account + a status it has none of",
                operator,
                f"/panel/messages?cuenta={customer_id}&estado=expired",
            ),
            ("operator: reports, last 30 days", operator, "/panel/reports"),
            (
                "operator: reports, 92 days",
                operator,
                f"/panel/reports?desde={ninety_one_days_ago}&hasta={today.isoformat()}",
            ),
            ("operator: reports CSV by account", operator, "/panel/reports.csv?by=account"),
            ("customer: overview /panel/", client, "/panel/"),
            ("customer: reports, last 30 days", client, "/panel/reports"),
            ("customer: messages, no filter", client, "/panel/messages"),
            (
                "customer: messages, status undelivered",
                client,
                "/panel/messages?estado=undelivered",
            ),
            (
                "customer: messages, one day 10 days ago",
                client,
                f"/panel/messages?desde={ten_days_ago}&hasta={ten_days_ago}",
            ),
            ("customer: messages, status it has none of", client, "/panel/messages?estado=failed"),
            (
                "customer: messages, since 29 days ago",
                client,
                f"/panel/messages?desde={(today - timedelta(days=29)).isoformat()}",
            ),
        ]
        for name, panel, path in pages:
            found = times(panel, path, args.requests)
            print(
                f"{name}: p50 {statistics.median(found):.0f} ms, p95 {p95(found):.0f} ms"
                f" (first {found[0]:.0f} ms, slowest of the rest {max(found[1:]):.0f} ms)"
            )
        if args.polling:
            polling_comparison(server, operator, args.runs, args.gets)
        print(f"peak RSS of centauro serve: {server.peak_rss_mb():.0f} MB")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
