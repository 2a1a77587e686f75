"""When messages go out: schedule_at, quiet hours, validity, and the per-account limits.

One ``centauro serve`` per store serves the module. Its carriers: a sandbox connector for
the numbers the tests send to, and an SMPP connector to a port where nothing listens as
the only route for 0426 numbers, so a message to one can never leave. Such a message,
sent with a 60-second validity when the module starts, is what the validity test
watches expire while the other tests run. Limits are set with the operator's
``centauro accounts update``, as an operator would.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest

from centauro.service import accounts as account_service
from tests.support.php import Gateway, assert_protocol_error, datos, running_gateway
from tests.support.server import Account, free_port

T = TypeVar("T")
CARACAS = ZoneInfo("America/Caracas")
FAST = {
    "CENTAURO_RELOAD_SECONDS": "0.2",
    "CENTAURO_HEARTBEAT_SECONDS": "0.5",
    "CENTAURO_SANDBOX_DLR_DELAY": "0.1",
}
VALIDITY = 60
_numbers = itertools.count(2_000_000)


def fresh_number(prefix: str = "0414") -> str:
    return f"{prefix}{next(_numbers):07d}"


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 15.0) -> T:
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return found


def at(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value)


@dataclass
class Doomed:
    """A message nobody can carry, sent with ``validity_period: 60`` at the module's start."""

    account: Account
    message_id: str
    credits: int


@dataclass
class Setup:
    gw: Gateway
    doomed: Doomed | None  #: None when POST /v1/messages does not exist (yet)

    def rest(self, account: Account, method: str, path: str, **kw: Any) -> httpx.Response:
        auth = (account.client_id, account.client_secret)
        return self.gw.http.request(method, f"/v1{path}", auth=auth, **kw)

    def send(self, account: Account, body: dict[str, Any], status: int = 202) -> dict[str, Any]:
        response = self.rest(account, "POST", "/messages", json=body)
        if response.status_code == 404:
            pytest.skip("POST /v1/messages is not there yet")
        assert response.status_code == status, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def message(self, account: Account, message_id: str) -> dict[str, Any]:
        response = self.rest(account, "GET", f"/messages/{message_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def wait_sent(self, account: Account, message_id: str, timeout: float = 15.0) -> dict[str, Any]:
        return eventually(
            lambda: (m := self.message(account, message_id))["sent_at"] and m,
            f"message {message_id} sent",
            timeout,
        )

    def update(self, account: Account, *options: str) -> dict[str, Any]:
        """``centauro accounts update CID OPTIONS --json``."""
        row: dict[str, Any] = self.gw.server.cli_json(
            "accounts", "update", account.client_id, *options
        )
        return row

    def balance(self, account: Account) -> int:
        with self.gw.db.read() as conn:
            return account_service.get(conn, account.client_id).balance


def configure_carriers(gw: Gateway) -> None:
    """Sandbox for 0414/0424/0412 and Colombia; 0426 only through a connector that is down."""
    cli = gw.server.cli_json
    cli("connectors", "add", "sbx", "--type", "sandbox")
    cli(
        "connectors", "add", "dead", "--host", "127.0.0.1", "--port", str(free_port()),
        "--system-id", "nobody", "--password", "x", "--reconnect-min", "0.2",
        "--reconnect-max", "1",
    )  # fmt: skip
    for prefix in ("58414", "58424", "58412", "57"):
        cli("routes", "add", "--prefix", prefix, "--connector", "sbx")
    cli("routes", "add", "--prefix", "58426", "--connector", "dead")
    eventually(
        lambda: {c["name"] for c in cli("connectors", "status")["connectors"]} >= {"sbx", "dead"},
        "both connectors running",
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    with running_gateway(request.param, tmp_path_factory, env=FAST) as gw:
        configure_carriers(gw)
        account = gw.account(10)
        body = {"to": fresh_number("0426"), "text": "Su clave es 1234", "validity_period": VALIDITY}
        response = gw.http.post(
            "/v1/messages", json=body, auth=(account.client_id, account.client_secret)
        )
        doomed = None
        if response.status_code != 404:
            assert response.status_code == 202, response.text
            [sent] = response.json()["messages"]
            doomed = Doomed(account, sent["id"], 10)
        yield Setup(gw, doomed)


def test_a_scheduled_message_goes_out_within_two_seconds_of_its_time(setup: Setup) -> None:
    account = setup.gw.account()
    when = (datetime.now(UTC) + timedelta(seconds=3)).astimezone(CARACAS)  # "…-04:00"
    answer = setup.send(
        account, {"to": fresh_number(), "text": "Hola", "schedule_at": when.isoformat()}
    )
    [sent] = answer["messages"]
    assert (sent["status"], sent["cost"], answer["cost"]) == ("scheduled", 1, 1)
    waiting = setup.message(account, sent["id"])
    assert (waiting["status"], at(waiting["scheduled_for"])) == ("scheduled", when)

    done = setup.wait_sent(account, sent["id"], timeout=10)
    late = (at(done["sent_at"]) - when).total_seconds()
    assert 0 <= late <= 2, late
    assert done["scheduled_for"] is None


def test_a_message_due_while_the_server_was_down_goes_out_when_it_returns(setup: Setup) -> None:
    account = setup.gw.account()
    when = datetime.now(UTC) + timedelta(seconds=3)
    answer = setup.send(
        account, {"to": fresh_number(), "text": "Hola", "schedule_at": when.isoformat()}
    )
    message_id = answer["messages"][0]["id"]
    setup.gw.server.stop()
    time.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()) + 1)
    setup.gw.server.start()
    back = datetime.now(UTC)

    done = setup.wait_sent(account, message_id, timeout=10)
    assert at(done["sent_at"]) > when
    assert (at(done["sent_at"]) - back).total_seconds() <= 2


def test_marketing_waits_out_the_quiet_hours_transactional_does_not(setup: Setup) -> None:
    account = setup.gw.account()
    local_now = datetime.now(CARACAS).replace(second=0, microsecond=0)
    end = local_now + timedelta(minutes=61)  # Caracas has no DST: plain arithmetic
    window = f"{end - timedelta(hours=3):%H:%M}-{end:%H:%M}"
    updated = setup.update(account, "--timezone", "America/Caracas", "--quiet-hours", window)
    assert (updated["timezone"], updated["quiet_hours"]) == ("America/Caracas", window)

    promo = setup.send(account, {"to": fresh_number(), "text": "2x1", "category": "marketing"})
    [held] = promo["messages"]
    assert held["status"] == "scheduled"
    assert at(setup.message(account, held["id"])["scheduled_for"]) == end.astimezone(UTC)
    later = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()  # still in the window
    promo2 = setup.send(
        account,
        {"to": fresh_number(), "text": "3x2", "category": "marketing", "schedule_at": later},
    )
    assert at(setup.message(account, promo2["messages"][0]["id"])["scheduled_for"]) == end

    code = setup.send(account, {"to": fresh_number(), "text": "Su código es 4521"})
    [now] = code["messages"]
    assert now["status"] == "queued"
    setup.wait_sent(account, now["id"])

    quiet_less = setup.gw.account()
    free = setup.send(quiet_less, {"to": fresh_number(), "text": "2x1", "category": "marketing"})
    assert free["messages"][0]["status"] == "queued"


def test_over_the_rate_limit_rest_answers_429_and_compat_302(setup: Setup) -> None:
    account = setup.gw.account()
    assert setup.update(account, "--rate-limit", "2")["rate_limit"] == 2
    started = time.monotonic()
    answers = [setup.rest(account, "GET", "/suppressions") for _ in range(12)]
    elapsed = time.monotonic() - started
    statuses = [r.status_code for r in answers]
    refused = [r for r in answers if r.status_code == 429]
    assert refused, statuses
    assert statuses[:4] == [200] * 4, statuses  # a burst of two seconds' worth (2/s × 2 s)
    assert statuses.count(200) <= 4 + 2 * elapsed + 1, (statuses, elapsed)  # then 2/s
    assert refused[0].json()["code"] == "rate_limited"
    assert int(refused[0].headers["retry-after"]) >= 1

    php = setup.gw.client(account)
    compat = [php.get_sms_disponibles() for _ in range(5)]
    assert any(r.json()["status"] == "302" for r in compat)
    assert_protocol_error(next(r for r in compat if r.json()["status"] == "302"), "302")

    assert setup.update(account, "--rate-limit", "0")["rate_limit"] == 0  # no limit at all
    time.sleep(2.5)  # servers cache an authenticated account for 2 s
    answers = [setup.rest(account, "GET", "/suppressions") for _ in range(30)]
    assert {r.status_code for r in answers} == {200}


def test_over_the_recipient_limit_compat_answers_304_and_rest_413(setup: Setup) -> None:
    account = setup.gw.account()
    assert setup.update(account, "--max-recipients", "3")["max_recipients"] == 3
    php = setup.gw.client(account)
    four = [fresh_number() for _ in range(4)]

    assert_protocol_error(php.send(four, "Hola"), "304")
    assert len(datos(php.send(four[:3], "Hola"))) == 3
    too_many = setup.send(account, {"to": four, "text": "Hola"}, status=413)
    assert too_many["code"] == "too_many_recipients"
    batch = setup.rest(
        account,
        "POST",
        "/messages/batch",
        json={"messages": [{"to": n, "text": "Hola"} for n in four]},
    )
    assert (batch.status_code, batch.json()["code"]) == (413, "too_many_recipients")
    assert setup.balance(account) == 100 - 3


@pytest.mark.slow  # the shortest validity is 60 s: up to a minute after the module starts
def test_a_message_that_cannot_go_out_in_its_validity_expires_and_is_refunded(
    setup: Setup,
) -> None:
    doomed = setup.doomed
    if doomed is None:
        pytest.skip("POST /v1/messages is not there yet")
    account, message_id = doomed.account, doomed.message_id
    first = setup.message(account, message_id)
    created, expires = at(first["created_at"]), at(first["expires_at"])
    assert expires - created == timedelta(seconds=VALIDITY)
    assert setup.balance(account) in (doomed.credits - 1, doomed.credits)

    remaining = (expires - datetime.now(UTC)).total_seconds()
    final = eventually(
        lambda: (m := setup.message(account, message_id))["status"] != "queued" and m,
        "the expiry",
        timeout=max(0.0, remaining) + 20,
    )
    assert final["status"] == "expired", final
    assert final["sent_at"] is None
    # Tried until its time was up, not given up on early.
    assert at(final["done_at"]) >= expires - timedelta(seconds=5)
    assert setup.balance(account) == doomed.credits
    with setup.gw.db.read() as conn:
        ledger = account_service.ledger(conn, account.client_id)
    assert [(e.kind, e.amount) for e in ledger[:2]] == [("refund", 1), ("charge", -1)]
    assert ledger[0].message_id == int(message_id)
