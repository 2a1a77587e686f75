"""Idempotency keys: a retried request gets its first answer again, and is done once.

:func:`run_once` claims the key, runs the request's work and stores its answer, all in
the caller's write transaction (the store's group-commit writer): the key's row and the
messages it sent commit together or not at all. A retry finds the row and gets the stored
answer; jobs of one writer batch run one after another, so the second job of a batch sees
the first one's row, and on PostgreSQL another process's transaction waits on the key's
unique index until the first commits (see :mod:`centauro.store.idempotency`).

An answer is an opaque status and body: what they mean is the API's business.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from centauro.domain.errors import CentauroError, Conflict
from centauro.store import idempotency as store
from centauro.store import sql

#: How long a key holds its answer; after that the key is free again.
TTL = timedelta(hours=24)
#: Rows one purge deletes at most (it runs inside the shared write transaction).
PURGE_BATCH = 1000


class KeyReused(Conflict):
    """The idempotency key was already used for a different request."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a request answered: an HTTP-like status and the exact body bytes."""

    status: int
    body: bytes
    replayed: bool = False  #: the stored answer of an earlier request with the same key


def request_hash(method: str, path: str, body: bytes) -> str:
    """The request's fingerprint: the same key with another fingerprint is a conflict."""
    digest = hashlib.sha256()
    digest.update(f"{method.upper()} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def lookup(
    conn: Connection, *, account_id: int, key: str, fingerprint: str, now: datetime
) -> Answer | None:
    """The stored answer for a live ``key`` (None if none); :class:`KeyReused` if it was
    for another request. A read before the work, so retries skip it; the write re-checks."""
    row = store.get(conn, account_id=account_id, key=key)
    if row is None or row.created_at < now - TTL or row.status_code == 0:
        return None
    return _replay(row, fingerprint)


def run_once(
    conn: Connection,
    *,
    account_id: int,
    key: str,
    fingerprint: str,
    now: datetime,
    work: Callable[[Connection], Answer],
    keep: Callable[[CentauroError], Answer | None] = lambda _error: None,
) -> Answer:
    """Run ``work`` unless ``key`` already has an answer; store and return its answer.

    ``work`` runs in a savepoint. If it raises and ``keep`` turns the error into an answer
    (a refusal that is the request's own fault, like too few credits), the work is undone
    and that answer is stored like any other; otherwise the error propagates and the
    caller's job rolls back, key claim included, so a retry may try again.
    """
    claimed = store.claim(
        conn,
        account_id=account_id,
        key=key,
        request_hash=fingerprint,
        now=now,
        expired_before=now - TTL,
    )
    if not claimed:
        row = store.get(conn, account_id=account_id, key=key)
        if row is None:  # purged between our insert and read: the key is free after all
            return run_once(
                conn,
                account_id=account_id,
                key=key,
                fingerprint=fingerprint,
                now=now,
                work=work,
                keep=keep,
            )
        return _replay(row, fingerprint)
    try:
        with _savepoint(conn):
            answer = work(conn)
    except CentauroError as error:
        kept = keep(error)
        if kept is None:
            raise
        answer = kept
    store.record(
        conn,
        account_id=account_id,
        key=key,
        status_code=answer.status,
        response=answer.body.decode("utf-8"),
    )
    return answer


def purge(conn: Connection, *, now: datetime) -> int:
    """Forget up to :data:`PURGE_BATCH` expired keys; how many went."""
    return store.purge(conn, expired_before=now - TTL, limit=PURGE_BATCH)


def _replay(row: store.StoredKey, fingerprint: str) -> Answer:
    if row.request_hash != fingerprint:
        raise KeyReused(
            "this Idempotency-Key was used with a different request (method, path or body)"
        )
    return Answer(row.status_code, row.response.encode("utf-8"), replayed=True)


@contextmanager
def _savepoint(conn: Connection) -> Iterator[None]:
    """A raw savepoint (SQLAlchemy's ``begin_nested`` costs ~20x more on this path)."""
    sql.execute(conn, "SAVEPOINT idempotent_work")
    try:
        yield
    except BaseException:
        sql.execute(conn, "ROLLBACK TO SAVEPOINT idempotent_work")
        raise
    sql.execute(conn, "RELEASE SAVEPOINT idempotent_work")
