"""Apply the Alembic migrations shipped in ``centauro/store/migrations``.

``serve`` upgrades a fresh or older database on start; on PostgreSQL an advisory lock
keeps several processes starting at once from migrating twice.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc

from centauro.domain.errors import Unavailable
from centauro.store.engine import Database
from centauro.store.errors import StoreUnavailable, wrap_errors

_LOCK_KEY = 0x43454E54  # "CENT"


def _config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "centauro.store:migrations")
    cfg.attributes["connection"] = conn
    return cfg


def head() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", "centauro.store:migrations")
    revision = ScriptDirectory.from_config(cfg).get_current_head()
    assert revision is not None
    return revision


def current(db: Database) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with wrap_errors(), db.read_engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database) -> str:
    """Bring the schema to the newest revision; return it."""
    with wrap_errors(), db.write_engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({_LOCK_KEY})")
        try:
            command.upgrade(_config(conn), "head")
            conn.commit()
        except sa_exc.DBAPIError as exc:
            if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
                raise  # the connection itself failed: wrap_errors says so
            # Roll back first: the unlock below would fail in the aborted transaction and
            # hide this error. The driver's first line names the cause, never the URL.
            conn.rollback()
            cause = str(exc.orig).strip().splitlines()[0]
            raise StoreUnavailable(f"migration failed: {cause}") from exc
        finally:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_LOCK_KEY})")
                conn.commit()
    return head()


def ensure_current(db: Database) -> None:
    """Refuse to run on a schema that is not the newest, saying how to fix it."""
    at = current(db)
    if at != head():
        raise Unavailable(
            f"the database schema is at {at or 'nothing'}, not {head()}: "
            "run `centauro db upgrade` first"
        )
