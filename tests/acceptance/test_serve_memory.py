"""What a running ``centauro serve`` keeps out of memory until it needs it: the panel's
stack (Jinja, argon2) until the panel's first request, ``cryptography`` without
``CENTAURO_SECRET_KEY``, Alembic on a store already at the newest schema; and its reads
share a bounded set of worker threads. Checked on the real process through ``/proc``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess, free_port, run_cli, start_server

#: Native libraries that show in /proc/PID/maps once their Python package is imported.
ARGON2 = "_argon2_cffi_bindings"
CRYPTOGRAPHY = "cryptography/hazmat/bindings"


def mapped(proc: ServerProcess) -> str:
    assert proc.process is not None
    return Path(f"/proc/{proc.process.pid}/maps").read_text()


def threads(proc: ServerProcess) -> int:
    assert proc.process is not None
    status = Path(f"/proc/{proc.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Threads:")).split()[1])


@pytest.fixture
def migrated_server(database_url: str, tmp_path: Path) -> ServerProcess:
    run_cli(database_url, "db", "upgrade", cwd=tmp_path)
    proc = start_server(database_url, tmp_path, port=free_port())
    yield proc
    proc.stop()


def test_the_panel_stack_loads_on_the_panel_first_request(migrated_server: ServerProcess) -> None:
    before = mapped(migrated_server)
    assert ARGON2 not in before
    assert CRYPTOGRAPHY not in before  # no CENTAURO_SECRET_KEY: nothing is sealed

    answer = httpx.get(f"{migrated_server.base_url}/panel/sign-in", timeout=10)
    assert answer.status_code == 200
    assert "Iniciar sesión" in answer.text
    assert ARGON2 in mapped(migrated_server)


def test_a_secret_key_loads_cryptography(database_url: str, tmp_path: Path) -> None:
    proc = start_server(
        database_url, tmp_path, port=free_port(), env={"CENTAURO_SECRET_KEY": "k" * 40}
    )
    try:
        assert CRYPTOGRAPHY in mapped(proc)
    finally:
        proc.stop()


def test_first_sign_ins_at_once_share_a_bounded_set_of_threads(
    migrated_server: ServerProcess,
) -> None:
    """64 requests at once, each a first sign-in (a store read): the reads queue for 8
    worker threads instead of starting one thread each."""
    accounts = [migrated_server.create_account(credits=0, name=f"t{i}") for i in range(4)]
    start = threads(migrated_server)

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=migrated_server.base_url, timeout=30) as client:
            calls = [
                client.get(
                    "/http/",
                    params={
                        "client_id": a.client_id,
                        "client_secret": a.client_secret,
                        "client_opcion": "sms_disponibles",
                    },
                )
                for a in accounts * 16
            ]
            return [r.status_code for r in await asyncio.gather(*calls)]

    assert set(asyncio.run(burst())) == {200}
    assert threads(migrated_server) <= start + 8
