"""``verify_signature`` against signatures computed here, with
hmac and hashlib directly (not through any code of ours)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

import pytest

from centauro.client import verify_signature

SECRET = "whsec_3f1c2a9d8e7b6a5f4e3d2c1b0a998877"
BODY = b'{"event":"message.status","created_at":"2026-11-25T12:00:00+00:00","data":{"id":"7"}}'
NOW = 1_790_000_000


def reference(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def test_a_signature_made_with_the_secret_verifies() -> None:
    assert verify_signature(BODY, reference(SECRET, BODY, NOW), SECRET, now=NOW)


def test_the_body_may_be_given_as_text() -> None:
    assert verify_signature(BODY.decode(), reference(SECRET, BODY, NOW), SECRET, now=NOW)


@pytest.mark.parametrize(
    "change",
    [
        lambda h, b, s: (h, b + b" ", s),
        lambda h, b, s: (h, b.replace(b"7", b"8"), s),
        lambda h, b, s: (h, b, s + "x"),
        lambda h, b, s: (h.replace(f"t={NOW}", f"t={NOW + 1}"), b, s),
        lambda h, b, s: (h[:-1] + ("0" if h[-1] != "0" else "1"), b, s),
    ],
    ids=["body-grown", "body-changed", "other-secret", "other-time", "signature-changed"],
)
def test_any_change_breaks_the_signature(
    change: Callable[[str, bytes, str], tuple[str, bytes, str]],
) -> None:
    header, body, secret = change(reference(SECRET, BODY, NOW), BODY, SECRET)
    assert not verify_signature(body, header, secret, now=NOW)


def test_an_old_or_future_signature_is_refused_beyond_the_tolerance() -> None:
    header = reference(SECRET, BODY, NOW)
    assert verify_signature(BODY, header, SECRET, now=NOW + 300)
    assert not verify_signature(BODY, header, SECRET, now=NOW + 301)
    assert not verify_signature(BODY, header, SECRET, now=NOW - 301)
    assert verify_signature(BODY, header, SECRET, tolerance=3600, now=NOW + 3000)
    assert verify_signature(BODY, header, SECRET, tolerance=None, now=NOW + 10**6)


def test_the_default_clock_is_now() -> None:
    now = int(time.time())  # this test's one clock: the real one, as the default's
    assert verify_signature(BODY, reference(SECRET, BODY, now), SECRET)
    assert not verify_signature(BODY, reference(SECRET, BODY, now - 10**6), SECRET)


def test_any_of_several_v1_signatures_may_match() -> None:
    good = reference(SECRET, BODY, NOW).split(",")[1]
    header = f"t={NOW}, v1={'0' * 64}, {good}, v0=legacy"
    assert verify_signature(BODY, header, SECRET, now=NOW)


@pytest.mark.parametrize(
    "header",
    [None, "", "garbage", f"t={NOW}", "v1=abc", f"t=abc,v1={'a' * 64}", f"t={NOW},v1=ñ", "t=,v1="],
)
def test_malformed_headers_are_refused_without_raising(header: str | None) -> None:
    assert not verify_signature(BODY, header, SECRET, now=NOW)


def test_an_empty_secret_verifies_nothing() -> None:
    assert not verify_signature(BODY, reference("", BODY, NOW), "", now=NOW)
