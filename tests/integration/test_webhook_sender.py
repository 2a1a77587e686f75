"""The webhook sender driven directly: a real store (both kinds), a real local receiver,
an injected clock for the backoff and the 24 h give-up.

Deliveries are created at the fixed ``T0``, so the sender always runs on a :class:`Clock`
that starts at ``T0`` too (one clock per test): on the real clock, a failure more than
24 h after ``T0`` is already past the retry window. Only the signature's timestamp is
real time (``wall``), as receivers check it against theirs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from centauro.client.webhooks import verify_signature
from centauro.delivery.webhooks import USER_AGENT, WebhookSender
from centauro.domain.errors import InvalidRequest
from centauro.service import accounts
from centauro.service import webhooks as service
from centauro.store import sql, workers
from centauro.store import webhooks as store
from centauro.store.engine import Database
from centauro.store.writer import Writer
from tests.support.webhook_receiver import receiving, signed_by

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PAYLOAD = json.dumps({"event": "message.status", "created_at": T0.isoformat(), "data": {"id": "1"}})


class Clock:
    """Stands still at ``now`` until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _queue(
    db: Database, url: str, *, callback: bool = False, count: int = 1
) -> tuple[list[int], str, int]:
    """Deliveries of ``PAYLOAD`` to ``url``: their ids, the signing key, the webhook id."""
    with db.begin() as conn:
        created = accounts.create(conn, name="Hooks", credits=10, now=T0)
        account_id = created.account.id
        reg = service.register(
            conn, account_id=account_id, url=url, events=None, now=T0, allow_private=True
        )
        hook = None if callback else reg.webhook.id
        store.insert_deliveries(
            conn,
            [store.NewDelivery(account_id, hook, url, "message.status", PAYLOAD)] * count,
            T0,
        )
        ids = [r[0] for r in sql.fetchall(conn, "SELECT id FROM webhook_deliveries ORDER BY id")]
    key = created.signing_key if callback else reg.secret
    assert key is not None
    return ids, key, reg.webhook.id


def _row(db: Database, delivery_id: int) -> dict[str, Any]:
    with db.read() as conn:
        r = sql.fetchone(
            conn,
            "SELECT status, attempts, due_at, claimed_by, last_status, last_error, delivered_at "
            "FROM webhook_deliveries WHERE id = :id",
            {"id": delivery_id},
        )
    assert r is not None
    keys = ("status", "attempts", "due_at", "claimed_by", "last_status", "last_error", "delivered")
    row = dict(zip(keys, r, strict=True))
    row["due_at"] = sql.unstamp(row["due_at"])
    return row


async def _until(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _recorded(db: Database, delivery_id: int, attempts: int) -> Callable[[], bool]:
    def check() -> bool:
        row = _row(db, delivery_id)
        return row["attempts"] == attempts and row["claimed_by"] is None

    return check


def _run(
    db: Database,
    scenario: Callable[[WebhookSender], Awaitable[None]],
    *,
    clock: Callable[[], datetime] | None = None,
    **options: Any,
) -> None:
    """Run ``scenario`` against a started sender whose clock is ``clock`` (default: at T0)."""
    now = clock or Clock(T0)

    async def main() -> None:
        writer = Writer(db.write_engine)
        writer.start()
        options.setdefault("allow_private", True)
        sender = WebhookSender(writer, worker_id="w1", poll_interval=0.02, clock=now, **options)
        sender.start()
        try:
            await scenario(sender)
        finally:
            await sender.stop()
            writer.stop()

    asyncio.run(main())


def test_a_delivery_is_posted_signed_and_recorded(db: Database) -> None:
    with receiving() as rx:
        [delivery], secret, _ = _queue(db, rx.url())

        async def scenario(_: WebhookSender) -> None:
            await _until(lambda: _row(db, delivery)["status"] == "delivered", "the delivery")

        _run(db, scenario)
    [request] = rx.requests
    assert request.body == PAYLOAD.encode()
    assert secret.startswith("whsec_")
    assert len(secret) >= 6 + 32
    assert signed_by(request, secret)
    assert not signed_by(request, secret + "x")
    assert verify_signature(request.body, request.headers["centauro-signature"], secret)  # SDK
    t = int(request.headers["centauro-signature"].split(",")[0][2:])
    assert abs(t - time.time()) < 30
    h = request.headers
    assert (h["centauro-event"], h["centauro-delivery"]) == ("message.status", str(delivery))
    assert (h["user-agent"], h["content-type"]) == (USER_AGENT, "application/json")
    row = _row(db, delivery)
    assert (row["attempts"], row["last_status"], row["last_error"]) == (1, 200, None)
    assert row["delivered"] is not None


def test_a_callback_url_is_signed_with_the_hash_of_the_client_secret(db: Database) -> None:
    with receiving() as rx:
        [delivery], key, _ = _queue(db, rx.url("/cb"), callback=True)

        async def scenario(_: WebhookSender) -> None:
            await _until(lambda: _row(db, delivery)["status"] == "delivered", "the delivery")

        _run(db, scenario)
    assert signed_by(rx.on("/cb")[0], key)


def test_failures_back_off_exponentially_and_give_up_24_hours_after_the_event(
    db: Database,
) -> None:
    clock = Clock(T0)
    with receiving() as rx:
        rx.fail_first["/hook"] = 10**6
        [delivery], _, _ = _queue(db, rx.url())

        async def scenario(_: WebhookSender) -> None:
            await _until(_recorded(db, delivery, 1), "the first attempt")
            first = _row(db, delivery)
            assert first["status"] == "pending"
            assert first["last_status"] == 500
            assert "HTTP 500" in first["last_error"]
            wait = (first["due_at"] - T0).total_seconds()
            assert 4.5 <= wait <= 5.5, wait  # 5 s ± 10 %
            clock.now = first["due_at"]
            await _until(_recorded(db, delivery, 2), "the second attempt")
            wait = (_row(db, delivery)["due_at"] - clock.now).total_seconds()
            assert 9.0 <= wait <= 11.0, wait  # doubled
            clock.now = T0 + timedelta(hours=24) - timedelta(seconds=2)
            await _until(_recorded(db, delivery, 3), "an attempt just before the deadline")
            assert _row(db, delivery)["due_at"] == T0 + timedelta(hours=24)  # the last try
            clock.now = T0 + timedelta(hours=24)
            await _until(lambda: _row(db, delivery)["status"] == "failed", "the give-up")

        _run(db, scenario, clock=clock)
    row = _row(db, delivery)
    assert (row["attempts"], row["last_status"]) == (4, 500)
    assert len(rx.on("/hook")) == 4


def test_the_backoff_is_capped_at_one_hour() -> None:
    import random

    backoff = service.Backoff()
    rng = random.Random(1)
    waits = [
        (backoff.next_due(attempts=n, now=T0, created_at=T0, rng=rng) - T0).total_seconds()  # type: ignore[operator]
        for n in range(1, 16)
    ]
    assert 4.5 <= waits[0] <= 5.5
    assert all(3240 <= w <= 3960 for w in waits[11:])
    assert (
        backoff.next_due(attempts=3, now=T0 + timedelta(hours=24), created_at=T0, rng=rng) is None
    )


def test_a_retry_succeeds_after_500s(db: Database) -> None:
    clock = Clock(T0)
    with receiving() as rx:
        rx.fail_first["/hook"] = 2
        [delivery], _, _ = _queue(db, rx.url())

        async def scenario(_: WebhookSender) -> None:
            for attempt in (1, 2):
                await _until(_recorded(db, delivery, attempt), f"attempt {attempt}")
                clock.now = _row(db, delivery)["due_at"]
            await _until(lambda: _row(db, delivery)["status"] == "delivered", "the delivery")

        _run(db, scenario, clock=clock)
    assert len(rx.on("/hook")) == 3
    assert len({r.delivery for r in rx.requests}) == 1  # one delivery id throughout


def test_redirects_are_not_followed(db: Database) -> None:
    with receiving() as rx:
        rx.answers["/hook"] = (302, {"Location": rx.url("/elsewhere")}, b"")
        [delivery], _, _ = _queue(db, rx.url())

        async def scenario(_: WebhookSender) -> None:
            await _until(_recorded(db, delivery, 1), "the attempt")

        _run(db, scenario, clock=Clock(T0))  # the event's own clock: not 24 h old yet
    assert rx.on("/elsewhere") == []
    row = _row(db, delivery)
    assert (row["status"], row["last_status"]) == ("pending", 302)
    assert "redirect" in row["last_error"]


def test_slow_receivers_time_out_and_big_answers_are_not_read(db: Database) -> None:
    with receiving() as rx:
        rx.delay["/slow"] = 2.0
        rx.answers["/big"] = (200, {}, b"x" * 5_000_000)
        [slow], _, _ = _queue(db, rx.url("/slow"))
        with db.begin() as conn:
            store.insert_deliveries(
                conn, [store.NewDelivery(1, 1, rx.url("/big"), "message.status", PAYLOAD)], T0
            )
        big = slow + 1

        async def scenario(_: WebhookSender) -> None:
            await _until(_recorded(db, slow, 1), "the timeout")
            await _until(lambda: _row(db, big)["status"] == "delivered", "the big answer")

        started = time.monotonic()
        _run(db, scenario, clock=Clock(T0), timeout=0.5)  # one clock: the deliveries' own
        assert time.monotonic() - started < 10
    assert "timeout" in _row(db, slow)["last_error"]
    assert _row(db, slow)["status"] == "pending"  # a retry: the event is not 24 h old


def test_private_targets_are_refused_unless_allowed(db: Database) -> None:
    with receiving() as rx:
        [delivery], _, _ = _queue(db, rx.url())

        async def scenario(_: WebhookSender) -> None:
            await _until(lambda: _row(db, delivery)["status"] == "failed", "the refusal")

        _run(db, scenario, clock=Clock(T0), allow_private=False)
    assert rx.requests == []
    assert "private" in _row(db, delivery)["last_error"]


def test_a_deleted_webhook_fails_its_pending_deliveries(db: Database) -> None:
    [delivery], _, hook = _queue(db, "http://127.0.0.1:9/hook")
    with db.begin() as conn:
        account_id = sql.fetchone(conn, "SELECT account_id FROM webhooks")[0]  # type: ignore[index]
        service.remove(conn, account_id, hook)
    row = _row(db, delivery)
    assert (row["status"], row["last_error"]) == ("failed", "webhook deleted")


def test_claims_of_a_dead_worker_are_released_at_once(db: Database) -> None:
    ids, _, _ = _queue(db, "http://127.0.0.1:9/hook", count=3)
    with db.begin() as conn:
        workers.register(conn, worker_id="dead", host="h", pid=1, now=T0)
        claimed = store.claim(
            conn, now=T0, lease_until=T0 + timedelta(minutes=1), limit=10, worker="dead"
        )
        assert [c.id for c in claimed] == ids
        assert store.claim(conn, now=T0, lease_until=T0, limit=10, worker="w") == []
        released = workers.reap_all_but(conn, worker_id="me", now=T0)
    assert released == 3
    with db.begin() as conn:
        again = store.claim(conn, now=T0, lease_until=T0, limit=10, worker="me")
    assert [(c.id, c.attempts) for c in again] == [(i, 2) for i in ids]


def test_cleanup_forgets_old_final_deliveries_only(db: Database) -> None:
    ids, _, _ = _queue(db, "http://127.0.0.1:9/hook", count=4)
    with db.begin() as conn:
        store.record(
            conn, delivered=[(ids[0], 200, None)], retries=[], failed=[(ids[1], 500, "x")], now=T0
        )
        assert store.cleanup(conn, before=T0) == 0  # not old yet
        removed = store.cleanup(conn, before=T0 + timedelta(days=7))
        left = [r[0] for r in sql.fetchall(conn, "SELECT id FROM webhook_deliveries ORDER BY id")]
    assert removed == 2
    assert left == ids[2:]  # pending ones stay


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "example.com/hook",
        "https:///nohost",
        "http://user:pw@example.com/",
        "http://127.0.0.1/",
        "http://localhost:8080/",
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:192.168.0.1]/",
        "http://example.com:99999/",
    ],
)
def test_bad_or_private_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest):
        service.check_url(url, allow_private=False)


def test_numeric_host_forms_are_caught_by_resolution() -> None:
    with pytest.raises(InvalidRequest):
        service.check_resolved("http://2130706433/hook", allow_private=False)  # 127.0.0.1
    service.check_resolved("http://2130706433/hook", allow_private=True)
    assert service.check_url("https://example.com/hook", allow_private=False)
