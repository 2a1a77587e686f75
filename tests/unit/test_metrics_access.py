"""Who may read ``/metrics``: the decision function, every combination (docs/metrics.md)."""

from __future__ import annotations

import pytest

from centauro.metrics import Access, access

TOKEN = "s3creto-de-metricas"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_loopback_clients_may_scrape_without_a_token(host: str) -> None:
    assert access(host, None, token="", public=False) is Access.ALLOWED
    assert access(host, None, token=TOKEN, public=False) is Access.ALLOWED


NOT_LOOPBACK = ["10.0.0.5", "192.168.1.20", "203.0.113.7", "2001:db8::1", "::ffff:10.0.0.1"]


@pytest.mark.parametrize("host", [*NOT_LOOPBACK, "fe80::1%lo", "", None])
def test_other_addresses_are_forbidden_without_token_or_public(host: str | None) -> None:
    assert access(host, None, token="", public=False) is Access.FORBIDDEN
    assert access(host, None, token=TOKEN, public=False) is Access.FORBIDDEN
    assert access(host, "Basic dXNlcjpwYXNz", token=TOKEN, public=False) is Access.FORBIDDEN


def test_a_name_that_is_not_an_address_is_not_loopback() -> None:
    assert access("localhost", None, token="", public=False) is Access.FORBIDDEN
    assert access("testclient", None, token="", public=False) is Access.FORBIDDEN


def test_the_right_bearer_token_opens_it_from_anywhere() -> None:
    for header in (f"Bearer {TOKEN}", f"bearer {TOKEN}", f"Bearer  {TOKEN} "):
        assert access("203.0.113.7", header, token=TOKEN, public=False) is Access.ALLOWED


def test_a_wrong_token_is_refused_even_from_loopback() -> None:
    assert access("127.0.0.1", "Bearer nope", token=TOKEN, public=False) is Access.BAD_TOKEN
    assert access("203.0.113.7", f"Bearer {TOKEN}x", token=TOKEN, public=True) is Access.BAD_TOKEN


def test_no_token_configured_means_no_bearer_is_accepted() -> None:
    assert access("203.0.113.7", "Bearer ", token="", public=False) is Access.BAD_TOKEN
    assert access("127.0.0.1", "Bearer anything", token="", public=False) is Access.BAD_TOKEN


def test_public_opens_it_to_every_address() -> None:
    assert access("203.0.113.7", None, token="", public=True) is Access.ALLOWED
    assert access(None, None, token=TOKEN, public=True) is Access.ALLOWED
