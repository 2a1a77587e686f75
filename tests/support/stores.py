"""Empty stores for tests: a SQLite file, or a PostgreSQL schema of its own.

PostgreSQL is at 127.0.0.1:5432 (database ``test``). Without it the PostgreSQL cases
skip — except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

PG_DSN = os.environ.get("CENTAURO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
KINDS = ("sqlite", "postgresql")

_pg_reachable: bool | None = None


def pg_or_skip() -> None:
    """Skip (or, in CI, fail) the calling test when PostgreSQL cannot be reached."""
    global _pg_reachable
    if _pg_reachable is None:
        try:
            with psycopg.connect(PG_DSN, connect_timeout=3):
                _pg_reachable = True
        except psycopg.Error:
            _pg_reachable = False
    if not _pg_reachable:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {PG_DSN} is required under CI=true but is unreachable")
        pytest.skip(f"PostgreSQL at {PG_DSN} unreachable")


def pg_schema_url(schema: str) -> str:
    base = PG_DSN.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}?options=-csearch_path%3D{schema}"


@contextmanager
def store_url(kind: str, workdir: Path) -> Iterator[str]:
    """An empty store of ``kind`` ("sqlite" or "postgresql"), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'centauro.sqlite3'}"
        return
    pg_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield pg_schema_url(schema)
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
