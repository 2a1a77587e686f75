"""The SDK reads numbers in answers with ``domain.ids``: a Unicode digit from a broken
server or proxy is a :class:`ProtocolError` (or ignored), never a ``ValueError``."""

from __future__ import annotations

import json

import httpx
import pytest

from centauro.client import _base, _rest
from centauro.client.errors import ProtocolError, RateLimited

BASE = "https://sms.example.com"
CREDS = _base.Credentials("id_credencial", "codigo_secreto_credencial")


@pytest.mark.parametrize("status", ["²", "٣٠٤", "+304", " 304"])
def test_a_compat_status_that_is_not_ascii_digits_is_a_protocol_error(status: str) -> None:
    with pytest.raises(ProtocolError, match="status is not a number"):
        _base.check_code({"status": status, "response": {"error": "x"}})


@pytest.mark.parametrize("credits", ["²", "٥", "1_000", "-5"])
def test_a_balance_that_is_not_ascii_digits_is_a_protocol_error(credits: str) -> None:
    answer = {"status": "200", "response": {"sms_disponibles": credits}}
    with pytest.raises(ProtocolError, match="no sms_disponibles"):
        _base.parse_balance(answer)
    assert _base.parse_balance({"status": "200", "response": {"sms_disponibles": "0042"}}) == 42


@pytest.mark.parametrize(("header", "seconds"), [("²", None), ("1.5", 1.5), ("7", 7.0)])
def test_retry_after_with_unicode_digits_is_ignored(header: str, seconds: float | None) -> None:
    body = json.dumps({"type": "t", "title": "t", "status": 429, "code": "rate_limited"})
    with pytest.raises(RateLimited) as caught:
        _rest.balance(BASE, CREDS).read(
            429, httpx.Headers({"Retry-After": header.encode("latin-1")}), body.encode()
        )
    assert caught.value.retry_after == (seconds if seconds is not None else 1.0)
