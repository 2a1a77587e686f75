"""``/metrics`` through the real app, asked from an address that is not loopback.

Every other test talks over loopback, which may always scrape; here the ASGI app (the
same one ``serve`` runs, its lifespan started) gets requests whose client address is
``203.0.113.7``, as uvicorn would hand them from a remote peer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from centauro.api.app import create_app
from centauro.config import Settings

TOKEN = "un-token-de-metricas-largo"
REMOTE = ("203.0.113.7", 40000)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan started (the gateway up), and a client from ``REMOTE``."""
    app = create_app(settings)
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: dict[str, Any]) -> None:
        await outbox.put(message)

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    await inbox.put({"type": "lifespan.startup"})
    started = await asyncio.wait_for(outbox.get(), 30)
    assert started["type"] == "lifespan.startup.complete", started
    transport = httpx.ASGITransport(app=app, client=REMOTE)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield client
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(task, 30)


def settings(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}", **kw)


def test_a_remote_scraper_needs_the_token(tmp_path: Path) -> None:
    asyncio.run(_needs_the_token(tmp_path))


async def _needs_the_token(tmp_path: Path) -> None:
    async with running(settings(tmp_path, metrics_token=TOKEN)) as client:
        refused = await client.get("/metrics")
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        body = refused.json()
        assert (body["code"], body["status"]) == ("metrics_forbidden", 403)
        assert "CENTAURO_METRICS_TOKEN" in body["detail"]

        wrong = await client.get("/metrics", headers={"Authorization": "Bearer otro"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        assert wrong.json()["code"] == "unauthorized"

        allowed = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert allowed.status_code == 200, allowed.text
        names = {f.name for f in text_string_to_metric_families(allowed.text)}
        assert {"centauro_queue_depth", "centauro_http_requests"} <= names


def test_without_a_token_a_remote_scraper_is_refused(tmp_path: Path) -> None:
    asyncio.run(_refused_without_token(tmp_path))


async def _refused_without_token(tmp_path: Path) -> None:
    async with running(settings(tmp_path)) as client:
        assert (await client.get("/metrics")).status_code == 403
        no_token = await client.get("/metrics", headers={"Authorization": "Bearer "})
        assert no_token.status_code == 401


def test_public_metrics_answer_a_remote_scraper(tmp_path: Path) -> None:
    asyncio.run(_public(tmp_path))


async def _public(tmp_path: Path) -> None:
    async with running(settings(tmp_path, metrics_public=True)) as client:
        answer = await client.get("/metrics")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
