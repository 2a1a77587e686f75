"""Webhooks: register, list, remove, the delivery log; URL safety and signatures.

Why the rules:

* **Targets.** The gateway POSTs wherever a customer points it, from inside the
  operator's network. Unless ``CENTAURO_WEBHOOK_ALLOW_PRIVATE`` is set, a URL whose host is
  (or resolves to) a loopback, private, link-local or otherwise non-global address is
  refused at registration, and the sender checks the resolved address again before each
  POST (DNS can change after registration).
* **Secrets** are ``whsec_`` + 256 random bits, shown once. Every delivery is signed with
  them, so they are kept readable: sealed under ``CENTAURO_SECRET_KEY`` when it is set,
  in clear otherwise (:mod:`centauro.service.sealing`); the log never prints them.
* **Signatures**: ``Centauro-Signature: t=<unix>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>``,
  the key being the secret's UTF-8 bytes. A message's ``callback_url`` has no webhook: its
  key is the account's own random signing key (``accounts.signing_key``, same form, sealed
  the same way), which the account reads at ``GET /v1/account/signing-key``. (It used to be
  the hex of ``accounts.secret_hash``: whoever read the database could forge callbacks.)
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import random
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import Connection

from centauro.domain import inputs
from centauro.domain.errors import Conflict, InvalidRequest, NotFound
from centauro.service.events import EVENTS
from centauro.service.sealing import CLEAR, Sealer
from centauro.store import webhooks as store

MAX_WEBHOOKS = 20  #: per account: every event is copied to each of them
MAX_URL = 2000
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True, slots=True)
class Registered:
    webhook: store.Webhook
    secret: str  #: shown once


# -- targets ----------------------------------------------------------------------------


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  #: RFC 6052 well-known prefix: v4 in the low 32 bits
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  #: RFC 8215 local-use: never public
_EMBEDDED = ipaddress.IPv6Network("::/96")  #: IPv4-compatible ``::a.b.c.d`` (deprecated)
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  #: RFC 6598 carrier-grade NAT


def is_private(address: str) -> bool:
    """Whether an IP address is anything but a public unicast one.

    An IPv6 address that carries an IPv4 one (mapped ``::ffff:a.b.c.d``, compatible
    ``::a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``, 6to4 ``2002:AABB:CCDD::``, Teredo) is
    judged by the IPv4 address it reaches: ``[64:ff9b::7f00:1]`` is loopback.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _not_public(ip)
    if ip in _NAT64_LOCAL:
        return True
    carried = _carried_ipv4(ip)
    if carried is not None:
        return _not_public(carried)
    if any(_not_public(v4) for v4 in _tunnelled_ipv4(ip)):
        return True
    return _not_public(ip)


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, compatible, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _EMBEDDED and int(ip) > 1:  # not "::" nor "::1"
        return ipaddress.IPv4Address(int(ip))
    return None


def _tunnelled_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 ends of a 6to4 or Teredo address: packets to it reach them."""
    found = [ip.sixtofour] if ip.sixtofour is not None else []
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def _not_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Every special-purpose range, not only ``is_global`` (its tables differ by Python)."""
    special = (
        ip.is_private,
        ip.is_loopback,
        ip.is_link_local,
        ip.is_multicast,
        ip.is_reserved,
        ip.is_unspecified,
        isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED,
        isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local,
    )
    return not ip.is_global or any(special)


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL if it may receive webhooks; :class:`InvalidRequest` saying why not.

    Pure: literal addresses and ``localhost`` names only. :func:`check_resolved` looks up
    a host name's addresses (blocking; run it off the event loop and the writer).
    """
    url = inputs.check_line("url", url).strip()
    if not url or len(url) > MAX_URL:
        raise InvalidRequest(f"url must be 1..{MAX_URL} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError as exc:
        raise InvalidRequest(f"url is not valid: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidRequest("url must start with http:// or https://")
    if not host:
        raise InvalidRequest("url must name a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest("url must not carry credentials; verify the signature instead")
    if parts.fragment:
        raise InvalidRequest("url must not have a #fragment")
    if not allow_private and _private_host(host):
        raise InvalidRequest(f"url host {host} is a private or loopback address")
    return url


def _private_host(host: str) -> bool:
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return is_private(name)
    except ValueError:
        return False  # a name: see check_resolved


def check_resolved(url: str, *, allow_private: bool) -> None:
    """Refuse a URL whose host name resolves to a private address (blocking DNS).

    A name that does not resolve now is accepted: the sender checks again at each POST.
    """
    if allow_private:
        return
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return
    if any(is_private(str(info[4][0])) for info in infos):
        raise InvalidRequest(f"url host {host} resolves to a private or loopback address")


def check_events(events: Sequence[str] | None) -> tuple[str, ...]:
    """The events, known and deduplicated, in a stable order; all of them when None."""
    if events is None:
        return EVENTS
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise InvalidRequest(f"unknown event(s) {', '.join(unknown)}; known: {', '.join(EVENTS)}")
    if not events:
        raise InvalidRequest("events must name at least one event")
    return tuple(e for e in EVENTS if e in events)


# -- use cases --------------------------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def register(
    conn: Connection,
    *,
    account_id: int,
    url: str,
    events: Sequence[str] | None,
    now: datetime,
    allow_private: bool,
    sealer: Sealer = CLEAR,
) -> Registered:
    """Create a webhook for the account; its secret is returned this once."""
    url = check_url(url, allow_private=allow_private)
    wanted = check_events(events)
    if store.count(conn, account_id) >= MAX_WEBHOOKS:
        raise Conflict(f"an account has at most {MAX_WEBHOOKS} webhooks")
    secret = new_secret()
    hook = store.create(
        conn, account_id=account_id, url=url, events=wanted, secret=sealer.seal(secret), now=now
    )
    return Registered(hook, secret)


def listing(conn: Connection, account_id: int) -> list[store.Webhook]:
    return store.listing(conn, account_id)


def remove(conn: Connection, account_id: int, webhook_id: int) -> None:
    """Delete the account's webhook (another account's is "not found")."""
    if not store.delete(conn, account_id, webhook_id):
        raise NotFound(f"webhook {webhook_id}")


def deliveries(
    conn: Connection, account_id: int, webhook_id: int, *, before_id: int | None, limit: int
) -> list[store.Delivery]:
    """The account's webhook's deliveries, newest first, below ``before_id``."""
    if store.get(conn, account_id, webhook_id) is None:
        raise NotFound(f"webhook {webhook_id}")
    return store.deliveries(conn, webhook_id, before_id=before_id, limit=limit)


# -- retries --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backoff:
    """``first`` seconds doubling per attempt up to ``ceiling``, ±``jitter``, until ``give_up``
    after the event; the last try lands exactly at the deadline."""

    first: float = 5.0
    ceiling: float = 3600.0
    give_up: timedelta = timedelta(hours=24)
    jitter: float = 0.1

    def next_due(
        self, *, attempts: int, now: datetime, created_at: datetime, rng: random.Random
    ) -> datetime | None:
        """When to try again after ``attempts`` failed tries; None: give up."""
        deadline = created_at + self.give_up
        if now >= deadline:
            return None
        delay = min(self.ceiling, self.first * 2 ** max(0, attempts - 1))
        delay *= rng.uniform(1 - self.jitter, 1 + self.jitter)
        return min(now + timedelta(seconds=delay), deadline)


# -- signatures -------------------------------------------------------------------------


def signature(key: str, body: bytes, timestamp: int) -> str:
    """The ``Centauro-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(key.encode("utf-8"), b"%d.%s" % (timestamp, body), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


# -- the panel's extras ---------------------------------------------------------------------

#: The event of a test delivery a customer asks for from the panel.
TEST_EVENT = "webhook.test"


def send_test(conn: Connection, account_id: int, webhook_id: int, now: datetime) -> None:
    """Queue one ``webhook.test`` delivery to the account's webhook, signed and retried
    like any event, so its receiver can be checked end to end."""
    hook = store.get(conn, account_id, webhook_id)
    if hook is None:
        raise NotFound(f"webhook {webhook_id}")
    body = json.dumps(
        {"event": TEST_EVENT, "created_at": now.isoformat(), "data": {"webhook_id": str(hook.id)}},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    delivery = store.NewDelivery(account_id, hook.id, hook.url, TEST_EVENT, body)
    store.insert_deliveries(conn, [delivery], now)


def recent_deliveries(
    conn: Connection, *, before_id: int | None, limit: int, status: str | None = None
) -> list[store.LoggedDelivery]:
    """Every account's deliveries, newest first (the operator's log)."""
    return store.recent(conn, before_id=before_id, limit=limit, status=status)
