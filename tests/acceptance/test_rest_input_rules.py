"""Input at the door, against real ``centauro serve`` processes on both stores: ids in
paths (ASCII digits only), private webhook targets, control characters in fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.php import Gateway, running_gateway
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
