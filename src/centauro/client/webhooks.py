"""Check that an event POSTed to you came from your gateway.

Every webhook delivery carries ``Centauro-Signature: t=<unix seconds>,v1=<hex>``, where
the hex is HMAC-SHA256 over ``"<t>.<raw body>"``. The key is the webhook's ``secret`` (shown
once, by ``create_webhook``); for a message's own ``callback_url`` it is your account's
signing key (``GET /v1/account/signing-key``). Verify the raw body bytes exactly as
received, before any JSON parsing::

    if not verify_signature(request.body, request.headers["Centauro-Signature"], secret):
        return 400

The timestamp is part of what is signed, and a signature older than *tolerance* seconds
is refused, so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from centauro.domain.ids import parse_ascii_int

__all__ = ["verify_signature"]

DEFAULT_TOLERANCE = 300


def verify_signature(
    payload: bytes | str,
    header: str | None,
    secret: str,
    tolerance: float | None = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """Whether *header* (``Centauro-Signature``) signs *payload* with *secret*, at most
    *tolerance* seconds away from *now* (None: no age check). Never raises on bad input."""
    if not header or not secret:
        return False
    body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if name == "t" and (seconds := parse_ascii_int(value)) is not None:
            timestamp = seconds
        elif name == "v1":
            signatures.append(value.strip())
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if tolerance is not None and abs(current - timestamp) > tolerance:
        return False
    expected = hmac.new(
        secret.encode("utf-8"), b"%d.%s" % (timestamp, body), hashlib.sha256
    ).hexdigest()
    return any(hmac.compare_digest(expected, s.lower()) for s in signatures if s.isascii())
