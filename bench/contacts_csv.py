"""What a contact list's CSV costs: import into an empty list, the same file again (every
row an update), and the export — on a SQLite file and, when reachable, PostgreSQL.

In process over the real service and store (no HTTP): ``service.contacts`` in one write
transaction each, as the REST route and the panel run them. Prints the median of
``--runs`` per step, in seconds and rows per second. The update import runs twice per
run, interleaved: with the store's one executemany UPDATE (now) and with one UPDATE
statement per row (before), to give the ratio on the same machine at the same time.

Usage: python bench/contacts_csv.py [--rows 20000] [--runs 3] [--pg URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import Connection, update

from centauro.service import accounts, contacts
from centauro.store import contacts as contact_store
from centauro.store import migrate
from centauro.store.engine import Database, open_database
from centauro.store.tables import contacts as contacts_table

PG = "postgresql://postgres@127.0.0.1:5432/test"


def sheet(rows: int) -> bytes:
    lines = ["numero;nombre;ciudad;nota"]
    for n in range(rows):
        lines.append(f'0414{n:07d};"Pérez, Ana {n}";Maracay;"línea\r\ndos, {n}"')
    return "\r\n".join(lines).encode("cp1252")


def per_row_update(
    conn: Connection,
    list_id: int,
    rows: list[tuple[int, contact_store.NewContact]],
    now: datetime,
) -> None:
    """The store's update before: one UPDATE statement per contact."""
    for contact_id, r in rows:
        conn.execute(
            update(contacts_table)
            .where(contacts_table.c.list_id == list_id, contacts_table.c.id == contact_id)
            .values(number=r.number, name=r.name, fields=r.fields, updated_at=now)
        )


UPDATES = {"(update, now)": contact_store.update_many, "(update, before)": per_row_update}


def measure(db: Database, data: bytes, runs: int) -> dict[str, list[float]]:
    now = datetime.now(UTC)
    with db.begin() as conn:
        made = accounts.create(conn, name="bench", credits=0, now=now)
        account = accounts.get(conn, made.client_id)
    figures: dict[str, list[float]] = {}
    for run in range(runs):
        with db.begin() as conn:
            list_id = contacts.create_list(conn, account, f"l{run}", now=now).id
        started = time.perf_counter()
        with db.begin() as conn:
            contacts.import_csv(conn, account, list_id, data, now=now)
        figures.setdefault("import (new)", []).append(time.perf_counter() - started)
        for label, variant in UPDATES.items():
            contact_store.update_many = variant  # type: ignore[assignment]
            try:
                started = time.perf_counter()
                with db.begin() as conn:
                    contacts.import_csv(conn, account, list_id, data, now=now)
                figures.setdefault("import " + label, []).append(time.perf_counter() - started)
            finally:
                contact_store.update_many = UPDATES["(update, now)"]  # type: ignore[assignment]
        started = time.perf_counter()
        with db.read() as conn:
            contacts.export_csv(conn, account, list_id)
        figures.setdefault("export", []).append(time.perf_counter() - started)
    return figures


def report(store: str, figures: dict[str, list[float]], rows: int) -> None:
    for step, values in figures.items():
        median = statistics.median(values)
        print(f"{store:10} {step:24} {median:7.2f} s  {rows / median:9,.0f} rows/s")
    now, before = (statistics.median(figures[f"import {k}"]) for k in UPDATES)
    print(f"{store:10} update import, before / now: {before / now:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default=PG)
    args = parser.parse_args()
    data = sheet(args.rows)
    print(f"{args.rows} rows, {len(data) / 1e6:.1f} MB, median of {args.runs}")
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        migrate.upgrade(db)
        try:
            report("sqlite", measure(db, data, args.runs), args.rows)
        finally:
            db.dispose()
    schema = f"b_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.Error:
        print("postgresql unreachable: skipped")
        return
    url = args.pg.replace("postgresql://", "postgresql+psycopg://", 1)
    db = open_database(f"{url}?options=-csearch_path%3D{schema}")
    try:
        migrate.upgrade(db)
        report("postgresql", measure(db, data, args.runs), args.rows)
    finally:
        db.dispose()
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    main()
