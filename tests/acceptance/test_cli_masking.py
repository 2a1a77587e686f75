"""The database password never reaches the operator's screen or the logs (issue 8, item 4).

PostgreSQL here trusts every local connection, so a URL carrying any password connects:
the real server and CLI run with ``s3cret`` in their URL and we read all they print.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess, free_port, run_cli
from tests.support.stores import store_url

PASSWORD = "s3cret"
pytestmark = pytest.mark.postgresql


def _with_password(url: str) -> str:
    return re.sub(r"://([^:@/]+)@", rf"://\1:{PASSWORD}@", url, count=1)


@pytest.fixture
def pg_url_with_password(tmp_path: Path) -> Iterator[str]:
    with store_url("postgresql", tmp_path) as url:
        with_password = _with_password(url)
        assert PASSWORD in with_password
        yield with_password


def test_serve_banner_and_logs_mask_the_password(pg_url_with_password: str, tmp_path: Path) -> None:
    server = ServerProcess(pg_url_with_password, tmp_path, free_port())
    server.start()
    try:
        account = server.create_account(credits=5)
        answer = httpx.post(
            f"{server.base_url}/v1/messages",
            auth=(account.client_id, account.client_secret),
            json={"to": "04141234567", "text": "hola"},
        )
        assert answer.status_code in (200, 201, 202), answer.text
        time.sleep(0.5)  # a dispatcher round and its log lines
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "base de datos: postgresql+psycopg://postgres:***@127.0.0.1" in log
    assert PASSWORD not in log


def test_db_commands_and_help_mask_the_password(pg_url_with_password: str) -> None:
    for args in (("db", "upgrade"), ("db", "current"), ("--help",), ("db", "--help")):
        result = run_cli(pg_url_with_password, *args)
        assert PASSWORD not in result.stdout + result.stderr, args


def test_a_failing_connection_names_the_masked_url() -> None:
    closed = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{free_port()}/test"
    for args in (("db", "upgrade"), ("accounts", "list"), ("accounts", "list", "--json")):
        result = run_cli(closed, *args, check=False)
        assert result.returncode == 1, args
        out = result.stdout + result.stderr
        assert PASSWORD not in out
        assert "Traceback" not in out
        assert "postgres:***@127.0.0.1" in out.replace("\n", "")


def test_a_url_sqlalchemy_cannot_use_is_a_clear_error_without_the_password() -> None:
    result = run_cli(f"nosuchdb://postgres:{PASSWORD}@127.0.0.1/x", "accounts", "list", check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert "URL de base de datos no válida" in result.stderr


def test_serve_that_cannot_reach_the_database_logs_no_password(tmp_path: Path) -> None:
    closed = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{free_port()}/test"
    server = ServerProcess(closed, tmp_path, free_port())
    with pytest.raises(RuntimeError, match="exited early"):
        server.start()
    log = server.log_path.read_text()
    assert "postgres:***@127.0.0.1" in log
    assert PASSWORD not in log
    # One Spanish line and exit 1, not uvicorn's lifespan traceback and exit 3.
    assert server.process is not None
    assert server.process.returncode == 1, log
    assert "Traceback" not in log
    assert "Servicio no disponible" in log


def test_a_url_whose_driver_is_not_installed_is_a_clear_error() -> None:
    """SQLAlchemy knows mysql:// but its driver is not ours to install: an ImportError
    from create_engine was a traceback; it is a bad URL for this gateway."""
    result = run_cli(f"mysql://root:{PASSWORD}@127.0.0.1/x", "db", "upgrade", check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert "URL de base de datos no válida" in result.stderr


def test_a_migration_the_database_refuses_is_one_line_not_a_traceback(
    pg_url_with_password: str,
) -> None:
    """A search_path naming no schema: CREATE TABLE fails, and the advisory unlock that
    followed in the aborted transaction raised over it, as a traceback."""
    nowhere = re.sub(r"search_path%3D\w+", "search_path%3Dno_such_schema", pg_url_with_password)
    assert nowhere != pg_url_with_password
    result = run_cli(nowhere, "db", "upgrade", check=False)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "Traceback" not in out
    assert PASSWORD not in out
    assert "no schema has been selected" in out
    assert "postgres:***@127.0.0.1" in out.replace("\n", "")
