"""Driver errors become ours here, once (the rest of the code never sees SQLAlchemy's)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from centauro.domain.errors import StoreUnavailable

__all__ = ["StoreUnavailable", "is_transient", "wrap_errors"]


def is_transient(error: BaseException) -> bool:
    """Errors worth retrying the same transaction for: lock waits, deadlocks, serialization."""
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        orig: object = error.orig
    elif type(error).__module__.startswith(("psycopg", "sqlite3")):
        orig = error  # raised by the driver itself (store/sql.py's raw statements)
    else:
        return False
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in {"40001", "40P01", "55P03"}:  # serialization, deadlock, lock not available
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database table is locked" in text


@contextmanager
def wrap_errors() -> Iterator[None]:
    """Turn connection-level failures into :class:`StoreUnavailable`."""
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        raise StoreUnavailable(f"store unavailable: {type(exc.orig).__name__}") from exc
    except sa_exc.DBAPIError as exc:
        # The server ended the session (an idle transaction's timeout, an administrator's
        # pg_terminate_backend): psycopg raises these as other classes of error.
        if not exc.connection_invalidated:
            raise
        raise StoreUnavailable(f"store unavailable: {type(exc.orig).__name__}") from exc
