"""Shared fixtures: real stores (a SQLite file, a PostgreSQL schema) and a real server process.

Store-touching tests run once per backend via the ``database_url`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from centauro.store import migrate
from centauro.store.engine import Database, open_database
from tests.support.server import ServerProcess, free_port, start_server
from tests.support.stores import KINDS, store_url


@pytest.fixture(params=KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store of each kind."""
    with store_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """An open store with the schema applied."""
    database = open_database(database_url)
    migrate.upgrade(database)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A real ``centauro serve`` process on a free loopback port, over each store."""
    proc = start_server(database_url, tmp_path, port=free_port())
    try:
        yield proc
    finally:
        proc.stop()
