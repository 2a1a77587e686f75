"""The Alembic migrations build exactly the schema that ``store/tables.py`` declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from centauro.store import migrate
from centauro.store.engine import Database
from centauro.store.tables import metadata


def test_upgrade_head_matches_the_declared_tables(db: Database) -> None:
    with db.write_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_reports_the_head(db: Database) -> None:
    assert migrate.upgrade(db) == migrate.head()
    assert migrate.current(db) == migrate.head()
    migrate.ensure_current(db)
