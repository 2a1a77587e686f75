"""The SDK's REST methods against a real ``centauro serve`` on each store, sync and async."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from centauro.client import (
    AsyncClient,
    BatchItem,
    Client,
    Conflict,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidCredentials,
    InvalidParameters,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    verify_signature,
)
from centauro.service import accounts as account_service
from centauro.service import senders as sender_service
from tests.support.php import Gateway, running_gateway
from tests.support.server import Account, run_cli

_numbers = itertools.count(5_000_000)
ENV = {
    "CENTAURO_WEBHOOK_ALLOW_PRIVATE": "1",
    "CENTAURO_SANDBOX_DLR_DELAY": "0.1",
    "CENTAURO_MAX_RECIPIENTS": "50",
}


def fresh() -> str:
    return f"0416{next(_numbers):07d}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory, env=ENV) as gateway:
        yield gateway


def client(gw: Gateway, account: Account) -> Client:
    return Client(gw.url, account.client_id, account.client_secret)


def test_send_get_list_and_balance(gw: Gateway) -> None:
    account = gw.account(20)
    with client(gw, account) as sdk:
        number = fresh()
        sent = sdk.send_message([number, "0212123"], "Hola", reference="sdk-1")
        assert [m.status for m in sent.messages] == ["queued", "rejected"]
        assert (sent.cost, sent.balance, sent.replayed) == (1, 19, False)
        assert sent.rejected[0].error == "invalid_number"
        message = sdk.get_message(sent.message_ids[0])
        assert (message.to, message.text, message.reference) == (
            "+58" + number[1:],
            "Hola",
            "sdk-1",
        )
        assert message.created_at.tzinfo is not None
        page = sdk.list_messages(reference="sdk-1")
        assert [m.id for m in page.data] == sent.message_ids
        assert page.next_cursor is None
        assert sdk.get_balance() == sdk.balance() == 19


def test_batch_and_iterating_every_page(gw: Gateway) -> None:
    account = gw.account(100)
    with client(gw, account) as sdk:
        items = [BatchItem(fresh(), f"texto {i}", reference="sdk-batch") for i in range(23)]
        sent = sdk.send_batch(items, validity_period=600)
        assert len(sent.message_ids) == 23
        listed = [m.id for m in sdk.iter_messages(reference="sdk-batch", page_size=5)]
        assert listed == sorted(sent.message_ids, key=int, reverse=True)
        first = sdk.list_messages(reference="sdk-batch", limit=5)
        second = sdk.list_messages(reference="sdk-batch", limit=5, cursor=first.next_cursor)
        assert [m.id for m in first.data + second.data] == listed[:10]
        ledger = list(sdk.iter_ledger(page_size=1))
        assert [e.kind for e in ledger] == ["charge", "topup"]
        assert ledger[0].amount == -23


def test_schedule_and_cancel_refunds(gw: Gateway) -> None:
    account = gw.account(5)
    with client(gw, account) as sdk:
        later = datetime.now(UTC) + timedelta(hours=1)
        sent = sdk.send_message(fresh(), "Luego", schedule_at=later, category="marketing")
        [mid] = sent.message_ids
        assert sdk.get_message(mid).scheduled_for == later
        cancelled = sdk.cancel_message(mid)
        assert cancelled.status == "cancelled"
        assert sdk.get_balance() == 5
        with pytest.raises(Conflict) as caught:
            sdk.cancel_message(mid)
        assert caught.value.code == 409
        assert sdk.list_ledger(limit=1).data[0].kind == "refund"


def test_idempotency_key_replays_and_conflicts(gw: Gateway) -> None:
    account = gw.account(10)
    with client(gw, account) as sdk:
        number = fresh()
        first = sdk.send_message(number, "Una vez", idempotency_key="sdk-once")
        again = sdk.send_message(number, "Una vez", idempotency_key="sdk-once")
        assert again.replayed
        assert again.message_ids == first.message_ids
        with pytest.raises(IdempotencyConflict):
            sdk.send_message(number, "Otra", idempotency_key="sdk-once")
        assert sdk.get_balance() == 9


def test_refusals_raise_their_exceptions(gw: Gateway) -> None:
    poor = gw.account(1)
    with client(gw, poor) as sdk:
        with pytest.raises(InsufficientCredits) as short:
            sdk.send_message([fresh(), fresh()], "Caro")
        assert (short.value.code, short.value.needed, short.value.available) == (402, 2, 1)
        with pytest.raises(InvalidParameters) as invalid:
            sdk.send_message("0212123", "x")
        assert invalid.value.problem_code == "no_valid_recipient"
        with pytest.raises(PayloadTooLarge):
            sdk.send_message([fresh() for _ in range(51)], "x")
        with pytest.raises(NotFound):
            sdk.get_message("999999999")
    with Client(gw.url, poor.client_id, "wrong") as bad, pytest.raises(InvalidCredentials):
        bad.get_balance()


def _balances(sdk: Client, n: int) -> None:
    for _ in range(n):
        sdk.get_balance()


def test_rate_limited_carries_retry_after(gw: Gateway) -> None:
    account = gw.account(1)
    with gw.db.begin() as conn:  # before its first request: nothing cached in the server
        account_service.update(
            conn, client_id=account.client_id, now=datetime.now(UTC), rate_limit=1
        )
    with client(gw, account) as sdk, pytest.raises(RateLimited) as caught:
        _balances(sdk, 10)
    assert caught.value.retry_after >= 1
    assert caught.value.code == 429


def test_inbound_and_health(gw: Gateway) -> None:
    account = gw.account(5)
    with client(gw, account) as sdk:
        assert sdk.list_inbound().data == []
        assert list(sdk.iter_inbound()) == []
        health = sdk.health()  # as the account: states, not the operator's figures
        assert health.ok
        assert health.store == "ok"
        assert health.connectors[0].name == "sandbox"
        assert health.connectors[0].last_error is None
        assert health.connectors[0].submitted is None


def test_suppressions_from_the_sdk(gw: Gateway) -> None:
    account = gw.account(5)
    with client(gw, account) as sdk:
        number = fresh()
        entry = sdk.add_suppression(number)
        assert (entry.number, entry.source) == ("+58" + number[1:], "api")
        assert sdk.add_suppression(number).created_at == entry.created_at
        assert [s.number for s in sdk.iter_suppressions(page_size=1)] == [entry.number]
        sent = sdk.send_message([number, fresh()], "Hola")
        assert [m.error for m in sent.messages] == ["opted_out", None]
        sdk.remove_suppression(number)
        with pytest.raises(NotFound):
            sdk.remove_suppression(number)
        assert sdk.list_suppressions().data == []


def test_webhooks_from_the_sdk(gw: Gateway) -> None:
    account = gw.account(5)
    with client(gw, account) as sdk:
        hook = sdk.create_webhook("http://127.0.0.1:9/hook", ["message.status"])
        assert hook.secret
        assert hook.events == ["message.status"]
        [listed] = sdk.list_webhooks()
        assert (listed.id, listed.secret) == (hook.id, None)
        sdk.send_message(fresh(), "Hola")
        deadline = time.monotonic() + 10
        while not (deliveries := sdk.list_webhook_deliveries(hook.id, limit=10).data):
            assert time.monotonic() < deadline, "no delivery recorded"
            time.sleep(0.2)
        assert deliveries[0].event == "message.status"
        assert list(sdk.iter_webhook_deliveries(hook.id, page_size=1))
        sdk.delete_webhook(hook.id)
        assert sdk.list_webhooks() == []
        with pytest.raises(NotFound):
            sdk.delete_webhook(hook.id)
    assert verify_signature(b"x", None, hook.secret or "") is False


def test_the_async_client_does_the_same(gw: Gateway) -> None:
    account = gw.account(10)

    async def main() -> None:
        async with AsyncClient(gw.url, account.client_id, account.client_secret) as sdk:
            sent = await sdk.send_message(fresh(), "Async", reference="sdk-async")
            again = await sdk.send_batch([(fresh(), "uno"), (fresh(), "dos")])
            assert len(again.message_ids) == 2
            message = await sdk.get_message(sent.message_ids[0])
            assert message.reference == "sdk-async"
            ids = [m.id async for m in sdk.iter_messages(page_size=1)]
            assert len(ids) == 3
            assert (await sdk.list_messages(reference="sdk-async")).data[0].id == message.id
            assert await sdk.get_balance() == 7
            assert [e.kind async for e in sdk.iter_ledger()] == ["charge", "charge", "topup"]
            assert (await sdk.health()).ok
            with pytest.raises(NotFound):
                await sdk.cancel_message("123456789")

    asyncio.run(main())


def _cli_send(gw: Gateway, account: Account, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "CENTAURO_URL": gw.url,
        "CENTAURO_CLIENT_ID": account.client_id,
        "CENTAURO_CLIENT_SECRET": account.client_secret,
    }
    return run_cli(gw.server.database_url, "send", *args, env=env, check=False)


def test_cli_send_schedule_goes_through_the_rest_api(gw: Gateway) -> None:
    account = gw.account(5)
    when = (datetime.now(UTC) + timedelta(hours=3)).astimezone(timezone(timedelta(hours=-4)))
    number = fresh()
    done = _cli_send(
        gw, account, f"{number},0212", "Luego", "--schedule", when.isoformat(), "--json"
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert [(m["status"], m["error"]) for m in answer["messages"]] == [
        ("scheduled", None),
        ("rejected", "invalid_number"),
    ]
    assert answer["summary"] == {"accepted": 1, "rejected": 1}
    with client(gw, account) as sdk:
        message = sdk.get_message(answer["messages"][0]["message_id"])
        assert (message.status, message.scheduled_for) == ("scheduled", when)
    human = _cli_send(gw, account, fresh(), "Luego", "--schedule", when.isoformat())
    assert human.returncode == 0, human.stderr
    assert "Programado" in human.stdout


@pytest.mark.parametrize("value", ["2026-11-26T09:00:00", "mañana", "26/11/2026 09:00"])
def test_cli_send_schedule_needs_a_time_with_its_zone(gw: Gateway, value: str) -> None:
    account = gw.account(5)
    done = _cli_send(gw, account, fresh(), "x", "--schedule", value)
    assert done.returncode == 2
    assert "--schedule" in done.stderr
    with client(gw, account) as sdk:
        assert sdk.get_balance() == 5


def test_send_with_a_sender_id_sync_and_async(gw: Gateway) -> None:
    account = gw.account(20)
    with gw.db.begin() as conn:
        owner = account_service.get(conn, account.client_id)
        sender_service.add(conn, owner, "Tienda", now=datetime.now(UTC))
        sender_service.add(conn, owner, "2020", now=datetime.now(UTC))
    with client(gw, account) as sdk:
        sent = sdk.send_message(fresh(), "Hola", sender="2020")
        assert sdk.get_message(sent.message_ids[0]).sender == "2020"
        default = sdk.send_batch([(fresh(), "Uno")])
        assert sdk.get_message(default.message_ids[0]).sender == "Tienda"
        with pytest.raises(InvalidParameters) as caught:
            sdk.send_message(fresh(), "Hola", sender="OtraTienda")
        assert caught.value.code == 422
        assert "sender_not_granted" in str(caught.value.answer)
        assert sdk.get_balance() == 18

    async def batch() -> str | None:
        async with AsyncClient(gw.url, account.client_id, account.client_secret) as sdk:
            sent = await sdk.send_batch([(fresh(), "Dos")], sender="2020")
            return (await sdk.get_message(sent.message_ids[0])).sender

    assert asyncio.run(batch()) == "2020"
