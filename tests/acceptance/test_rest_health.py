"""``/health`` and ``/v1/health`` against real ``centauro serve`` processes on both stores:
anonymous liveness, an account's view, the operator's view (bearer token), one source."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.support.php import Gateway, running_gateway
from tests.support.server import Account, ServerProcess

TOKEN = "op-7f3c2a9e-health-token"
PATHS = ("/health", "/v1/health")
OPERATOR_ONLY = {"in_flight", "queued", "tps", "submitted", "last_error", "owner"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    env = {"CENTAURO_OPERATOR_TOKEN": TOKEN}
    with running_gateway(request.param, tmp_path_factory, env=env) as gateway:
        yield gateway


def get(gw: Gateway, path: str, **headers: str) -> httpx.Response:
    return gw.http.get(path, headers=headers)


def basic(account: Account) -> str:
    return httpx.BasicAuth(account.client_id, account.client_secret)._auth_header


def body(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


@pytest.mark.parametrize("path", PATHS)
def test_anonymous_health_says_only_ok(gw: Gateway, path: str) -> None:
    assert body(get(gw, path)) == {"status": "ok"}


@pytest.mark.parametrize("path", PATHS)
def test_an_account_sees_version_store_and_connector_states(gw: Gateway, path: str) -> None:
    health = body(get(gw, path, Authorization=basic(gw.account())))
    assert (health["status"], health["store"]) == ("ok", "ok")
    assert health["version"]
    assert not {"writer", "in_flight"} & set(health)
    [sandbox] = health["connectors"]
    assert set(sandbox) == {"name", "kind", "state", "up_since"}
    assert (sandbox["name"], sandbox["state"]) == ("sandbox", "up")
    assert datetime.fromisoformat(sandbox["up_since"]).tzinfo is not None


def test_the_operator_sees_every_figure_the_same_on_both_paths(gw: Gateway) -> None:
    old, new = (body(get(gw, p, Authorization=f"Bearer {TOKEN}")) for p in PATHS)
    for health in (old, new):
        assert (health["status"], health["store"]) == ("ok", "ok")
        assert {"version", "in_flight", "writer", "connectors"} <= set(health)
        assert set(health["writer"]) == {"jobs", "commits", "busy_seconds", "runs_on"}
        [sandbox] = health["connectors"]
        assert OPERATOR_ONLY | {"name", "kind", "state", "up_since"} == set(sandbox)
        assert gw.server.process is not None
        assert sandbox["owner"] == {"host": socket.gethostname(), "pid": gw.server.process.pid}
    assert set(old) == set(new)
    assert old["connectors"][0]["up_since"] == new["connectors"][0]["up_since"]


def test_on_postgresql_delivery_records_go_through_a_writer_of_their_own(gw: Gateway) -> None:
    account = gw.account()
    sent = gw.http.post(
        "/v1/messages",
        json={"to": "04141234567", "text": "Su código es 4521"},
        headers={"Authorization": basic(account)},
    )
    assert sent.status_code == 202, sent.text
    message = sent.json()["messages"][0]["id"]
    for _ in range(100):  # bounded: the sandbox answers with a receipt at once
        found = body(get(gw, f"/v1/messages/{message}", Authorization=basic(account)))
        if found["status"] == "delivered":
            break
        time.sleep(0.1)
    assert found["status"] == "delivered"
    health = body(get(gw, "/v1/health", Authorization=f"Bearer {TOKEN}"))
    if gw.kind == "sqlite":  # one write lock per file: one writer
        assert "delivery_writer" not in health
        return
    records = health["delivery_writer"]
    assert set(records) == {"jobs", "commits", "busy_seconds", "runs_on"}
    assert records["jobs"] >= 1  # which parts use it: test_gateway_lifecycle.py


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "header",
    [
        f"Bearer {TOKEN}x",
        "Bearer",
        "Basic bm9ib2R5Om5vdGhpbmc=",  # nobody:nothing
        "Basic !!!",
    ],
)
def test_wrong_credentials_are_a_401_problem_not_a_quiet_downgrade(
    gw: Gateway, path: str, header: str
) -> None:
    answer = get(gw, path, Authorization=header)
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "unauthorized"


def test_the_openapi_health_schema_marks_details_optional(gw: Gateway) -> None:
    schema = body(gw.http.get("/openapi.json"))["components"]["schemas"]["Health"]
    assert schema["required"] == ["status"]


def test_with_the_store_down_health_is_503_degraded_for_everyone(gw: Gateway) -> None:
    if gw.kind != "postgresql":
        pytest.skip("a SQLite file cannot be taken away from a running server")
    stranger = gw.account()  # never authenticated before: not in the cache
    with gw.store_offline():
        anonymous = get(gw, "/v1/health")
        account = get(gw, "/v1/health", Authorization=basic(stranger))
        operator = get(gw, "/health", Authorization=f"Bearer {TOKEN}")
    assert body(anonymous, 503) == {"status": "degraded"}
    assert body(account, 503) == {"status": "degraded"}
    details = body(operator, 503)
    assert (details["status"], details["store"]) == ("degraded", "unavailable")
    gw.assert_alive()


def test_without_an_operator_token_no_bearer_is_accepted(server: ServerProcess) -> None:
    for header in ("Bearer", "Bearer x", f"Bearer {TOKEN}"):
        answer = httpx.get(f"{server.base_url}/v1/health", headers={"Authorization": header})
        assert answer.status_code == 401, answer.text
    assert httpx.get(f"{server.base_url}/health").json() == {"status": "ok"}
