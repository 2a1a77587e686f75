"""The Alembic migrations build exactly the schema that ``store/tables.py`` declares."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from centauro.store import migrate
from centauro.store.engine import Database, open_database
from centauro.store.tables import metadata


def test_upgrade_head_matches_the_declared_tables(db: Database) -> None:
    with db.write_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_reports_the_head(db: Database) -> None:
    assert migrate.upgrade(db) == migrate.head()
    assert migrate.current(db) == migrate.head()
    migrate.ensure_current(db)


def test_0005_gives_every_existing_account_its_own_signing_key(database_url: str) -> None:
    db = open_database(database_url)
    try:
        with db.write_engine.connect() as conn:
            command.upgrade(migrate._config(conn), "0004")
            conn.commit()
        with db.begin() as conn:
            for client_id in ("uno", "dos"):
                conn.execute(
                    text(
                        "INSERT INTO accounts (name, client_id, secret_hash, enabled, country, "
                        "balance, timezone, created_at, updated_at) VALUES (:n, :n, 'sha256:0', "
                        "true, 'VE', 0, 'America/Caracas', :t, :t)"
                    ),
                    {"n": client_id, "t": datetime.now(UTC)},
                )
        migrate.upgrade(db)
        with db.read() as conn:
            keys = conn.execute(text("SELECT signing_key FROM accounts")).scalars().all()
    finally:
        db.dispose()
    assert len(set(keys)) == 2
    assert all(k.startswith("whsec_") and len(k) > 40 for k in keys)


def test_the_shipped_head_is_alembics_head() -> None:
    assert migrate.shipped_head() == migrate.head()


def test_a_current_store_is_upgraded_without_loading_alembic(db: Database) -> None:
    """``serve`` on a migrated store answers "nothing to do" from one query."""
    probe = (
        "import sys\n"
        "from centauro.store import migrate\n"
        "from centauro.store.engine import open_database\n"
        "db = open_database(sys.argv[1])\n"
        "print(migrate.upgrade(db), migrate.ensure_current(db))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    )
    url = db.write_engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-c", probe, url], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == [f"{migrate.head()} None", "[]"]
