"""Apply the Alembic migrations shipped in ``centauro/store/migrations``.

``serve`` upgrades a fresh or older database on start; on PostgreSQL an advisory lock
keeps several processes starting at once from migrating twice.

Alembic (with Mako: ~10 MB resident) is imported only when there is something to do: a
database already at the newest revision is recognised by one query against the revision
named in the shipped migration files (:func:`shipped_head`), so a server restarted on a
migrated store never loads it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect
from sqlalchemy import exc as sa_exc

from centauro.domain.errors import Unavailable
from centauro.store.engine import Database
from centauro.store.errors import StoreUnavailable, wrap_errors

if TYPE_CHECKING:
    from alembic.config import Config

_LOCK_KEY = 0x43454E54  # "CENT"
_VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def shipped_head() -> str | None:
    """The newest revision of the shipped migration files, read without Alembic: the one
    revision no file names as its ``down_revision`` (None if that is not exactly one —
    then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in _VERSIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        parents.update(m.group(1) for m in _DOWN.finditer(source))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at(conn: Connection) -> str | None:
    """The revision recorded in the database (None: none), in plain SQL."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _config(conn: Connection) -> Config:
    from alembic.config import Config  # noqa: PLC0415

    cfg = Config()
    cfg.set_main_option("script_location", "centauro.store:migrations")
    cfg.attributes["connection"] = conn
    return cfg


def head() -> str:
    from alembic.config import Config  # noqa: PLC0415
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    cfg = Config()
    cfg.set_main_option("script_location", "centauro.store:migrations")
    revision = ScriptDirectory.from_config(cfg).get_current_head()
    assert revision is not None
    return revision


def current(db: Database) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with wrap_errors(), db.read_engine.connect() as conn:
        return _at(conn)


def upgrade(db: Database) -> str:
    """Bring the schema to the newest revision; return it."""
    newest = shipped_head()
    if newest is not None and current(db) == newest:
        return newest  # nothing to do: Alembic stays unloaded
    from alembic import command  # noqa: PLC0415

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
    if at is None or at != (shipped_head() or head()):
        raise Unavailable(
            f"the database schema is at {at or 'nothing'}, not {head()}: "
            "run `centauro db upgrade` first"
        )
