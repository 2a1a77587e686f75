"""Input at the door, against real ``centauro serve`` processes on both stores: ids in
paths (ASCII digits only), private webhook targets, control characters in fields (NUL made
PostgreSQL fail where SQLite stored it: both must now refuse it the same way)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.php import (
    Gateway,
    assert_protocol_error,
    json_encode,
    recipient,
    running_gateway,
)
from tests.support.server import Account


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory) as gateway:
        yield gateway


def rest(gw: Gateway, account: Account, method: str, path: str, **kw: Any) -> httpx.Response:
    return gw.http.request(
        method, f"/v1{path}", auth=(account.client_id, account.client_secret), **kw
    )


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


# --- ids in paths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/webhooks/%C2%B2/deliveries"),  # "²": isdigit() is true, int() raises
        ("DELETE", "/webhooks/%C2%B2"),
        ("DELETE", "/webhooks/%D9%A3"),  # Arabic-Indic three
        ("GET", "/messages/%C2%B2"),
        ("GET", "/messages/%EF%BC%91"),  # fullwidth one
        ("DELETE", "/webhooks/+1"),
        ("DELETE", "/webhooks/1_0"),
    ],
)
def test_an_id_that_is_not_ascii_digits_is_not_found(gw: Gateway, method: str, path: str) -> None:
    account = gw.account()
    assert problem(rest(gw, account, method, path), 404)["code"] == "not_found"


# --- webhook targets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[::127.0.0.1]/",  # IPv4-compatible
        "http://[::ffff:a9fe:a9fe]/latest",  # IPv4-mapped 169.254.169.254
        "http://100.64.0.1/hook",  # shared address space
    ],
)
def test_webhooks_to_ipv4_private_addresses_in_ipv6_clothes_are_refused(
    gw: Gateway, url: str
) -> None:
    account = gw.account()
    answer = problem(rest(gw, account, "POST", "/webhooks", json={"url": url}), 422)
    assert answer["code"] == "invalid_request"
    assert "private" in answer["detail"]
    assert rest(gw, account, "GET", "/webhooks").json() == {"data": []}


# --- control characters: the same answer on both stores ----------------------------------

CONTROLS = ["nul\x00", "campana\x07", "\x1b[31mrojo", "del\x7f", "c1\x85"]


def no_store_failure(gw: Gateway) -> None:
    """The server is up and never handed the store a value it refuses."""
    gw.assert_alive()
    log = gw.log()
    assert "store_job_failed" not in log
    assert "api_unexpected_error" not in log


@pytest.mark.parametrize("bad", CONTROLS)
def test_rest_reference_with_a_control_character_is_a_422(gw: Gateway, bad: str) -> None:
    account = gw.account(10)
    for path, body in (
        ("/messages", {"to": "04141234567", "text": "Hola", "reference": bad}),
        ("/messages/batch", {"messages": [{"to": "04141234567", "text": "x", "reference": bad}]}),
    ):
        answer = problem(rest(gw, account, "POST", path, json=body), 422)
        assert answer["code"] == "invalid_request", answer
        assert "reference contains a control character" in answer["detail"]
    assert rest(gw, account, "GET", "/balance").json() == {"balance": 10}
    no_store_failure(gw)


def test_rest_text_keeps_lf_and_cr_and_refuses_other_controls(gw: Gateway) -> None:
    account = gw.account(10)
    sent = rest(gw, account, "POST", "/messages", json={"to": "04141234567", "text": "a\r\nb"})
    assert sent.status_code == 202, sent.text
    for bad in ("tab\tx", *CONTROLS):
        body = {"to": "04141234567", "text": bad}
        answer = problem(rest(gw, account, "POST", "/messages", json=body), 422)
        assert answer["code"] == "invalid_text", answer
    no_store_failure(gw)


@pytest.mark.parametrize(
    "params",
    [{"reference": "a\x00b"}, {"reference": "\x01"}, {"to": "0414\x001234567"}],
)
def test_list_filters_with_control_characters_are_a_422(
    gw: Gateway, params: dict[str, str]
) -> None:
    account = gw.account()
    answer = problem(rest(gw, account, "GET", "/messages", params=params), 422)
    assert answer["code"] in {"invalid_request", "invalid_number"}, answer
    no_store_failure(gw)


@pytest.mark.parametrize("bad", ["https://example.com/\x00hook", "https://example.com/a\x07"])
def test_webhook_and_callback_urls_with_control_characters_are_a_422(gw: Gateway, bad: str) -> None:
    account = gw.account(10)
    hook = problem(rest(gw, account, "POST", "/webhooks", json={"url": bad}), 422)
    assert hook["code"] == "invalid_request", hook
    assert "url contains a control character" in hook["detail"]
    body = {"to": "04141234567", "text": "Hola", "callback_url": bad}
    callback = problem(rest(gw, account, "POST", "/messages", json=body), 422)
    assert callback["code"] == "validation_error", callback
    assert rest(gw, account, "GET", "/webhooks").json() == {"data": []}
    no_store_failure(gw)


def test_suppression_numbers_with_control_characters_are_invalid_numbers(gw: Gateway) -> None:
    account = gw.account()
    added = rest(gw, account, "POST", "/suppressions", json={"number": "0414\x001234567"})
    assert problem(added, 422)["code"] == "invalid_number"
    removed = rest(gw, account, "DELETE", "/suppressions/0414%001234567")
    assert problem(removed, 422)["code"] == "invalid_number"
    no_store_failure(gw)


def test_basic_credentials_with_a_nul_are_a_401(gw: Gateway) -> None:
    account = gw.account()
    stranger = Account(account.client_id + "\x00", account.client_secret)
    assert problem(rest(gw, stranger, "GET", "/balance"), 401)["code"] == "unauthorized"
    no_store_failure(gw)


# --- the compat API: 304 ------------------------------------------------------------------


@pytest.mark.parametrize("bad", CONTROLS)
def test_compat_nom_and_id_with_control_characters_answer_304(gw: Gateway, bad: str) -> None:
    c = gw.new_client(10)
    for person in (recipient("04141234567", nom=bad), recipient("04141234567", id_=bad)):
        assert_protocol_error(c.set_sms_send(json_encode([person]), "Hola"), "304")
        personal = {**person, "msg": "Hola"}
        assert_protocol_error(c.set_sms_send_personalizado(json_encode([personal])), "304")
    assert c.balance() == 10
    no_store_failure(gw)


def test_compat_client_id_with_a_nul_answers_304(gw: Gateway) -> None:
    c = gw.new_client(10)
    c.client_id += "\x00"
    assert_protocol_error(c.get_sms_disponibles(), "304")
    assert_protocol_error(c.http_get("client_opcion=send_sms&num=04141234567&msg=Hola"), "304")
    no_store_failure(gw)


# --- the CLI: refused in Spanish ------------------------------------------------------------


@pytest.mark.parametrize("bad", ["Tienda\x1b[31m", "Tienda\x07", "Tien\x7fda"])
def test_cli_refuses_account_names_with_control_characters(gw: Gateway, bad: str) -> None:
    created = gw.server.cli("accounts", "create", bad, check=False)
    assert created.returncode == 1, created.stdout
    assert "no puede contener caracteres de control" in created.stderr
    account = gw.account()
    updated = gw.server.cli("accounts", "update", account.client_id, "--name", bad, check=False)
    assert updated.returncode == 1, updated.stdout
    assert "no puede contener caracteres de control" in updated.stderr
    names = [a["name"] for a in gw.server.cli_json("accounts", "list")]
    assert bad not in names
