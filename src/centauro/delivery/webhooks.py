"""The webhook sender: claim due deliveries, POST them signed, record what happened.

It runs on the shared :class:`~centauro.delivery.claims.ClaimLoop`, as the dispatcher
does: deliveries are claimed in batches with a lease and our worker id, at most
``concurrency`` are in flight, and each outcome is recorded as soon as it is known
(group-committed with whatever else the writer has). A ``kill -9`` therefore re-POSTs
only what was in flight or answered in the last few milliseconds; receivers deduplicate
by ``Centauro-Delivery``.

The POSTs go through a few keep-alive ``httpx.AsyncClient`` pools of :data:`POOL_SIZE`
connections (``concurrency`` in all, one TLS context shared), each POST taking the pool
with the fewest in flight — so, as with one big pool, a POST never waits for a
connection. One pool of 200 would be simpler, but httpcore's pool bookkeeping runs a
``poll()`` on every idle connection (and a quadratic count of them) twice per request:
measured with ``py-spy``, at 200 connections that was 80% of the sender's CPU and capped
it near 400 deliveries/s (docs/webhooks.md). Redirects are never followed (a 3xx is a
failure: a webhook must not be steered elsewhere), cookies are never kept (receivers of
different accounts may share a host), environment proxies and ``.netrc`` are ignored,
and no more than a few KiB of an answer is read. ``2xx`` is a delivery; anything else is
retried by :class:`~centauro.service.webhooks.Backoff` until 24 h after the event, then
the delivery is ``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.cookiejar
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Connection

from centauro import __version__, metrics
from centauro.config import Settings
from centauro.delivery.claims import ClaimLoop
from centauro.domain.errors import InvalidRequest, Unavailable
from centauro.service import webhooks as service
from centauro.service.sealing import CLEAR, Sealer
from centauro.store import webhooks as store
from centauro.store.writer import Writer

log = logging.getLogger(__name__)

USER_AGENT = f"Centauro-Webhooks/{__version__}"
ANSWER_LIMIT = 4096  #: bytes of an answer read at most (then the connection is dropped)
DNS_TTL = 60.0  #: seconds a host's "is it private" verdict is reused
POOL_SIZE = 4  #: connections per httpx pool (see the module's docstring)


@dataclass(frozen=True, slots=True)
class Attempt:
    delivery: store.Claimed
    status: int | None = None  #: the HTTP status, if an answer came
    error: str | None = None
    final: bool = False  #: not worth retrying (no key, private target)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def new_clients(concurrency: int, timeout: float) -> list[httpx.AsyncClient]:
    """Clients for ``concurrency`` connections in all, :data:`POOL_SIZE` per pool."""
    count = max(1, -(-concurrency // POOL_SIZE))
    size = -(-concurrency // count)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=30)
    tls = httpx.create_ssl_context(trust_env=False)  # loading the CA bundle costs ms: once
    return [
        httpx.AsyncClient(
            limits=limits,
            timeout=httpx.Timeout(timeout),
            verify=tls,
            follow_redirects=False,
            trust_env=False,
            cookies=http.cookiejar.CookieJar(
                http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
            ),
            headers={"User-Agent": USER_AGENT},
        )
        for _ in range(count)
    ]


class WebhookSender:
    def __init__(
        self,
        writer: Writer,
        *,
        worker_id: str | None,
        concurrency: int = 200,
        batch: int = 500,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 0.5,
        timeout: float = 10.0,
        backoff: service.Backoff | None = None,
        allow_private: bool = False,
        retention: timedelta = timedelta(days=7),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        wall: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        sealer: Sealer = CLEAR,
    ) -> None:
        self._writer = writer
        self._sealer = sealer
        self._worker_id = worker_id
        self._lease = lease
        self._timeout = timeout
        self._backoff = backoff or service.Backoff()
        self._allow_private = allow_private
        self._retention = retention
        self._clients = new_clients(concurrency, timeout)
        self._load = [0] * len(self._clients)  #: POSTs in flight per client
        self._clock = clock
        self._wall = wall
        self._rng = rng or random.Random()
        self._private: dict[str, tuple[float, bool]] = {}
        #: Claim again only once this much room is free (or nothing is in flight): many
        #: tiny claims would each cost the writer a statement and a share of a commit.
        self._loop: ClaimLoop[store.Claimed, Attempt] = ClaimLoop(
            "webhooks",
            claim=self._claim,
            handle=self._attempt,
            record=self._record,
            crashed=_crashed,
            capacity=lambda: concurrency,
            batch=batch,
            min_claim=min(batch, concurrency) // 4,
            poll_interval=poll_interval,
            stop_timeout=timeout + 1,
        )
        self._cleanup: asyncio.Task[None] | None = None
        self.delivered = self.retried = self.failed = 0

    def start(self) -> None:
        self._loop.start()
        self._cleanup = asyncio.create_task(self._cleanup_loop(), name="webhooks-cleanup")

    def wake(self) -> None:
        """Deliveries were queued: look now rather than at the next poll."""
        self._loop.wake()

    @property
    def in_flight(self) -> int:
        return self._loop.in_flight

    async def stop(self) -> None:
        """Stop claiming; let POSTs in flight finish (or cancel them), record, close."""
        if self._cleanup is not None:
            self._cleanup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cleanup
            self._cleanup = None
        await self._loop.stop()
        for client in self._clients:
            await client.aclose()

    async def _claim(self, limit: int) -> list[store.Claimed]:
        now = self._clock()
        lease_until = now + self._lease

        def job(conn: Connection) -> list[store.Claimed]:
            return store.claim(
                conn, now=now, lease_until=lease_until, limit=limit, worker=self._worker_id
            )

        return await self._writer.run(job)

    # -- sending ------------------------------------------------------------------------

    def _key(self, d: store.Claimed) -> str | Attempt:
        """The clear signing key, or the failed attempt when there is none to use."""
        if d.key is None:
            return Attempt(d, error="webhook deleted", final=True)
        try:
            return self._sealer.open(d.key)
        except Unavailable as exc:  # sealed under another server key: retry later
            return Attempt(d, error=str(exc))

    async def _attempt(self, d: store.Claimed) -> Attempt:
        key = self._key(d)
        if isinstance(key, Attempt):
            return key
        if not self._allow_private and await self._is_private(d.url):
            return Attempt(
                d, error="refused: the host is a private or loopback address", final=True
            )
        body = d.payload.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "Centauro-Event": d.event,
            "Centauro-Delivery": str(d.id),
            "Centauro-Signature": service.signature(key, body, int(self._wall())),
        }
        try:
            async with asyncio.timeout(self._timeout):
                status, snippet = await self._post(d.url, body, headers)
        except (TimeoutError, httpx.TimeoutException):
            return Attempt(d, error=f"timeout after {self._timeout:g} s")
        except httpx.HTTPError as exc:
            return Attempt(d, error=f"{type(exc).__name__}: {exc}"[:300])
        if 200 <= status < 300:
            return Attempt(d, status=status)
        if 300 <= status < 400:
            snippet = "redirects are not followed"
        return Attempt(
            d, status=status, error=f"HTTP {status}" + (f": {snippet}" if snippet else "")
        )

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST through the least busy pool (never more in flight than its connections)."""
        index = min(range(len(self._load)), key=self._load.__getitem__)
        self._load[index] += 1
        try:
            return await _post(self._clients[index], url, body, headers)
        finally:
            self._load[index] -= 1

    async def _is_private(self, url: str) -> bool:
        """Whether the URL's host is, or now resolves to, a non-public address (cached)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        cached = self._private.get(host)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            service.check_url(url, allow_private=False)
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443)
            private = any(service.is_private(str(i[4][0])) for i in infos)
        except InvalidRequest:
            private = True
        except OSError:
            return False  # unresolvable now: the POST fails and is retried
        if len(self._private) > 10_000:
            self._private.clear()
        self._private[host] = (time.monotonic() + DNS_TTL, private)
        return private

    # -- recording ----------------------------------------------------------------------

    async def _record(self, results: list[tuple[store.Claimed, Attempt]]) -> None:
        now = self._clock()
        delivered: list[store.Outcome] = []
        retries: list[tuple[int, int | None, str | None, datetime]] = []
        failed: list[store.Outcome] = []
        for d, a in results:
            if a.ok:
                delivered.append((d.id, a.status, None))
                continue
            due = None if a.final else self._backoff.next_due(
                attempts=d.attempts, now=now, created_at=d.created_at, rng=self._rng
            )  # fmt: skip
            if due is None:
                failed.append((d.id, a.status, a.error))
            else:
                retries.append((d.id, a.status, a.error, due))

        def job(conn: Connection) -> None:
            store.record(conn, delivered=delivered, retries=retries, failed=failed, now=now)

        await self._writer.run(job)
        metrics.webhook_outcomes(len(delivered), len(retries), len(failed))
        self.delivered += len(delivered)
        self.retried += len(retries)
        self.failed += len(failed)
        if retries or failed:
            log.info(
                "webhooks_recorded",
                extra={
                    "action": "webhooks_recorded",
                    "delivered": len(delivered),
                    "retries": len(retries),
                    "failed": len(failed),
                },
            )

    # -- housekeeping -------------------------------------------------------------------

    async def _cleanup_loop(self) -> None:
        """Forget final deliveries older than the retention, a batch at a time."""
        while True:
            try:
                removed = await self._writer.run(
                    functools.partial(store.cleanup, before=self._clock() - self._retention)
                )
            except Exception:
                log.exception("webhook_cleanup_failed", extra={"action": "webhook_cleanup"})
                removed = 0
            await asyncio.sleep(1.0 if removed else 600.0)


def _crashed(delivery: store.Claimed, why: str) -> Attempt:
    """A POST that crashed or hung at stop: retried with the backoff, not lost."""
    return Attempt(delivery, error=why)


async def _post(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    """POST; the status and the start of the answer (never more than a few KiB read)."""
    request = client.build_request("POST", url, content=body, headers=headers)
    response = await client.send(request, stream=True)
    try:
        data = b""
        async for chunk in response.aiter_raw():
            data += chunk
            if len(data) >= ANSWER_LIMIT:
                break  # closing unread drops the connection: fine for a misbehaving peer
    finally:
        await response.aclose()
    text = data[:200].decode("utf-8", "replace")
    return response.status_code, "".join(c if c.isprintable() else " " for c in text).strip()


def sender_for(settings: Settings, writer: Writer, worker_id: str | None) -> WebhookSender:
    """The sender ``serve`` runs, configured from ``CENTAURO_WEBHOOK_*``."""
    return WebhookSender(
        writer,
        worker_id=worker_id,
        concurrency=settings.webhook_concurrency,
        poll_interval=settings.webhook_poll_seconds,
        timeout=settings.webhook_timeout_seconds,
        lease=timedelta(seconds=max(settings.lease_seconds, settings.webhook_timeout_seconds * 3)),
        backoff=service.Backoff(
            first=settings.webhook_retry_first_seconds,
            ceiling=settings.webhook_retry_max_seconds,
            give_up=timedelta(seconds=settings.webhook_give_up_seconds),
        ),
        allow_private=settings.webhook_allow_private,
        retention=timedelta(days=settings.webhook_retention_days),
        sealer=Sealer(settings.secret_key),
    )
