"""Failed sign-ins are throttled and logged: a flood of wrong secrets locks the client id
(429 on /v1, a held-back 301 on the compat API, one ``auth_lockout`` log line), a spray of
wrong ids locks the address for failures only, and right credentials of other accounts go
through all along. Against a real ``centauro serve`` process.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.php import Gateway, PhpClient, running_gateway
from tests.support.server import Account

FLOOD = 2000
THREADS = 16


@pytest.fixture
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A fresh server per test: the failure counters live in its process."""
    with running_gateway("sqlite", tmp_path_factory) as gateway:
        yield gateway


def lockout_lines(gw: Gateway) -> list[dict[str, object]]:
    lines = [json.loads(x) for x in gw.server.log_path.read_text().splitlines() if x[:1] == "{"]
    return [x for x in lines if x.get("action") == "auth_lockout"]


def balance(http: httpx.Client, client_id: str, secret: str) -> httpx.Response:
    return http.get("/v1/balance", auth=(client_id, secret))


def test_a_flood_of_wrong_secrets_locks_the_client_id_only(gw: Gateway) -> None:
    victim = gw.account(10)
    other = gw.account(10)
    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        wrong = pool.map(
            lambda _: balance(gw.http, victim.client_id, "wrong").status_code, range(FLOOD)
        )
        right = [
            balance(gw.http, other.client_id, other.client_secret).status_code for _ in range(50)
        ]
        statuses = Counter(wrong)
    assert time.monotonic() - started < 120
    assert statuses[401] == 9  # the 10th failure starts the lockout: 429 from there on
    assert statuses[429] == FLOOD - 9
    assert set(right) == {200}

    locked = balance(gw.http, victim.client_id, victim.client_secret)
    assert locked.status_code == 429
    assert locked.json()["code"] == "sign_in_locked"
    assert 800 <= int(locked.headers["retry-after"]) <= 900
    lines = lockout_lines(gw)
    assert [(x["locked"], x["client_id"], x["ip"]) for x in lines] == [
        ("client_id", victim.client_id, "127.0.0.1")
    ]
    assert "wrong" not in gw.server.log_path.read_text()

    compat = PhpClient(gw.http, victim.client_id, victim.client_secret)
    held = time.monotonic()
    answer = compat.get_sms_disponibles()
    assert answer.json()["status"] == "301"
    assert time.monotonic() - held >= 0.9


def test_an_address_spraying_ids_is_refused_but_right_credentials_pass(gw: Gateway) -> None:
    honest = gw.account(10)
    sprayed = [balance(gw.http, f"guess{i:04d}", "wrong").status_code for i in range(150)]
    assert sprayed[:99] == [401] * 99
    assert set(sprayed[99:]) == {429}
    assert balance(gw.http, honest.client_id, honest.client_secret).status_code == 200
    assert PhpClient(gw.http, honest.client_id, honest.client_secret).balance() == 10
    assert [x["locked"] for x in lockout_lines(gw)] == ["ip"]


def test_a_locked_client_id_opens_again_after_the_lockout(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    env = {"CENTAURO_AUTH_LOCKOUT_FAILURES": "3", "CENTAURO_AUTH_LOCKOUT_SECONDS": "2"}
    with running_gateway("sqlite", tmp_path_factory, env=env) as gw:
        who: Account = gw.account(5)
        codes = [balance(gw.http, who.client_id, "wrong").status_code for _ in range(4)]
        assert codes == [401, 401, 429, 429]
        assert balance(gw.http, who.client_id, who.client_secret).status_code == 429
        deadline = time.monotonic() + 10
        while balance(gw.http, who.client_id, who.client_secret).status_code == 429:
            assert time.monotonic() < deadline, "the lockout did not end"
            time.sleep(0.2)
        assert balance(gw.http, who.client_id, who.client_secret).json() == {"balance": 5}


def test_wrong_operator_tokens_count_as_failed_sign_ins_of_the_address(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The operator token (item 11) is a credential too: guessing it at /health was neither
    throttled nor logged (item 7). Wrong tokens lock the address; the right one still passes."""
    token = "op-3b9d7c1e-lockout-token"
    env = {"CENTAURO_OPERATOR_TOKEN": token, "CENTAURO_AUTH_LOCKOUT_IP_FAILURES": "5"}
    with running_gateway("sqlite", tmp_path_factory, env=env) as gw:
        guesses = [
            gw.http.get("/health", headers={"authorization": f"Bearer guess{i}"}).status_code
            for i in range(8)
        ]
        assert guesses == [401] * 4 + [429] * 4
        right = gw.http.get("/v1/health", headers={"authorization": f"Bearer {token}"})
        assert right.status_code == 200
        assert "in_flight" in right.json()
        assert [(x["locked"], x["ip"]) for x in lockout_lines(gw)] == [("ip", "127.0.0.1")]
        assert "guess" not in gw.server.log_path.read_text()
