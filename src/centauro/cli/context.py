"""What every server-side command needs: settings and an open, migrated store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer

from centauro.cli import output, texts
from centauro.config import Settings, SettingsError, masked_url
from centauro.domain.errors import CentauroError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from centauro.store.engine import Database

# The store (SQLAlchemy, Alembic) is imported inside the functions that need it, so
# that client-side commands (`balance`, `send`) start without loading the server stack.


#: Commands that run the gateway or open its store: they need the ``server`` extra.
SERVER_COMMANDS = frozenset(
    {
        "serve",
        "db",
        "accounts",
        "admins",
        "connectors",
        "routes",
        "senders",
        "messages",
        "campaigns",
        "inbound",
        "smpp-clients",
        "smsc-sim",
    }
)
#: What the ``server`` extra brings (import names), checked without importing them.
SERVER_MODULES = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "phonenumbers",
    "gsm0338",
    "smpp34",
)


def require_server(command: str) -> None:
    """Exit 1 with what to install when the server stack is missing (an SDK-only install),
    instead of a ModuleNotFoundError traceback from deep inside a command."""
    import importlib.util

    missing = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        output.fail(texts.NEEDS_SERVER.format(command=command, missing=", ".join(missing)))


@dataclass
class State:
    database_url: str | None = None


def database_url(value: str | None) -> str | None:
    """Accept a SQLAlchemy URL or a plain file path (taken as SQLite)."""
    if value is None or "://" in value:
        return value
    return f"sqlite:///{value}"


def settings(ctx: typer.Context, **overrides: object) -> Settings:
    state: State = ctx.find_root().obj or State()
    try:
        return Settings.from_env(None, database_url=state.database_url, **overrides)
    except SettingsError as exc:
        output.fail(str(exc), code=2)


@contextmanager
def database(ctx: typer.Context, *, as_json: bool = False) -> Iterator[Database]:
    """The store as configured, not migrated; errors name its URL with the password masked."""
    from centauro.domain.errors import Unavailable
    from centauro.store.engine import open_database

    s = settings(ctx)
    shown = masked_url(s.database_url)
    try:
        db = open_database(s.database_url, sqlite_synchronous=s.sqlite_synchronous)
    except ValueError as exc:
        output.fail(texts.BAD_DATABASE_URL.format(url=shown, error=exc), as_json=as_json, code=2)
    try:
        yield db
    except Unavailable as exc:
        output.fail(f"{texts.describe(exc)} ({shown})", as_json=as_json)
    except CentauroError as exc:
        output.fail(exc, as_json=as_json)
    finally:
        db.dispose()


def upgrade(ctx: typer.Context) -> None:
    """Apply pending migrations once, before ``serve --workers N`` starts its workers
    (each worker then only checks the schema is current)."""
    from centauro.store import migrate

    with database(ctx) as db:
        migrate.upgrade(db)


def check_reachable(ctx: typer.Context) -> None:
    """Reach the store once, or fail in one Spanish line with the masked URL: ``serve``
    calls it first, since inside the app's start the same failure was a traceback."""
    with database(ctx) as db, db.read():
        pass


@contextmanager
def store(ctx: typer.Context, *, as_json: bool = False) -> Iterator[Database]:
    """The store, with a fresh database given its schema (an older one must be upgraded)."""
    from centauro.store import migrate

    with database(ctx, as_json=as_json) as db:
        if migrate.current(db) is None:
            migrate.upgrade(db)
        else:
            migrate.ensure_current(db)
        yield db


@contextmanager
def transaction(ctx: typer.Context, *, as_json: bool = False) -> Iterator[Connection]:
    """One write transaction on the store, for a command's service calls.

    A :class:`CentauroError` raised inside rolls it back, is printed in Spanish (or as a
    JSON error object with ``--json``) and exits 1: commands need no ``try`` of their own.
    """
    with store(ctx, as_json=as_json) as db, db.begin() as conn:
        yield conn


@contextmanager
def snapshot(ctx: typer.Context, *, as_json: bool = False) -> Iterator[Connection]:
    """One read-only snapshot of the store; errors as for :func:`transaction`."""
    with store(ctx, as_json=as_json) as db, db.read() as conn:
        yield conn


def now() -> datetime:
    return datetime.now(UTC)
