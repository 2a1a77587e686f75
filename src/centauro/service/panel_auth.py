"""Panel users, passwords, one-time links, sessions and the sign-in throttle.

Why each choice:

* Passwords are argon2id: people choose guessable passwords, unlike the random API
  secrets of :mod:`centauro.service.credentials`. The parameters are OWASP's first
  recommendation (19 MiB, 2 passes, 1 lane), not the library's default 64 MiB: a gateway
  process is budgeted at about 120 MB, and a sign-in must not double it.
* A session is a random 256-bit token. The cookie carries it with an HMAC signature
  (a tampered cookie is refused before any lookup); the store keeps only its SHA-256,
  with an expiry and a revocation time, so sign-out and a password change end it on
  every process at once.
* Set-password links are single-use (one conditional UPDATE) and expire.
* Ten failed sign-ins for one e-mail or from one address within 15 minutes lock that
  key for 15 minutes, even for the right password; the lockout is logged once.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection

from centauro.domain.errors import AuthenticationFailed, Conflict, InvalidRequest, NotFound
from centauro.store import accounts as account_store
from centauro.store import panel as store

log = logging.getLogger(__name__)

OPERATOR, CUSTOMER = "operator", "customer"
SESSION_TTL = timedelta(hours=12)
LINK_TTL = timedelta(hours=72)
MAX_FAILURES = 10
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD, MAX_PASSWORD = 10, 200
SET_PASSWORD_PATH = "/panel/set-password/"  # noqa: S105 - a path, not a password

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)  # argon2id
#: Spent on unknown e-mails so a sign-in takes as long whether the user exists or not.


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown e-mails (same time as a known one); made on
    first need, not at import: every process imports this, few ever sign anyone in."""
    return _hasher.hash(secrets.token_urlsafe(16))


class LockedOut(AuthenticationFailed):
    """Too many failed sign-ins; try again later."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True, slots=True)
class PanelUser:
    id: int
    email: str
    role: str  #: "operator" or "customer"
    account_id: int | None  #: the customer's account; None for operators
    has_password: bool
    enabled: bool

    @property
    def is_operator(self) -> bool:
        return self.role == OPERATOR


def _public(row: store.UserRow) -> PanelUser:
    return PanelUser(
        row.id, row.email, row.role, row.account_id, row.password_hash is not None, row.enabled
    )


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """Lower-case and trimmed; refused unless it looks like one address."""
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or not domain or len(email) > 254 or any(c.isspace() for c in email):
        raise InvalidRequest("invalid e-mail address")
    return email


# -- users and links ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invitation:
    """A new user and the one-time path that sets their password (shown once)."""

    user: PanelUser
    path: str


def create_user(
    conn: Connection, *, email: str, role: str, now: datetime, client_id: str | None = None
) -> Invitation:
    """Create an operator, or a customer user of ``client_id``'s account, with a link."""
    email = normalise_email(email)
    account_id: int | None = None
    if role == CUSTOMER:
        account = account_store.by_client_id(conn, client_id or "")
        if account is None:
            raise NotFound(f"no account with client_id {client_id}")
        account_id = account.id
    elif role != OPERATOR:
        raise InvalidRequest(f"unknown role: {role}")
    if store.user_by_email(conn, email) is not None:
        raise Conflict(f"a panel user with e-mail {email} exists")
    row = store.insert_user(conn, email=email, role=role, account_id=account_id, now=now)
    return Invitation(_public(row), new_link(conn, row.id, now=now))


def new_link(conn: Connection, user_id: int, *, now: datetime) -> str:
    """A fresh one-time set-password path for this user."""
    token = secrets.token_urlsafe(32)
    store.insert_token(
        conn, token_hash=digest(token), user_id=user_id, now=now, expires_at=now + LINK_TTL
    )
    return SET_PASSWORD_PATH + token


def operators_exist(conn: Connection) -> bool:
    return store.operator_count(conn) > 0


def first_operator(conn: Connection, *, email: str, now: datetime) -> Invitation | None:
    """A set-password link for a first operator while no operator has a password yet
    (a start whose link was missed gets a fresh one); None once somebody can sign in."""
    if store.operator_count(conn, with_password=True) > 0:
        return None
    row = store.user_by_email(conn, normalise_email(email))
    if row is None:
        return create_user(conn, email=email, role=OPERATOR, now=now)
    if row.role != OPERATOR:
        return None
    return Invitation(_public(row), new_link(conn, row.id, now=now))


def users_of_account(conn: Connection, account_id: int) -> list[PanelUser]:
    return [_public(r) for r in store.users_of_account(conn, account_id)]


def link_is_live(conn: Connection, token: str, now: datetime) -> bool:
    return store.token_user(conn, digest(token), now) is not None


def check_password_rules(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidRequest(f"password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    """argon2id of a password that meets the rules. Slow on purpose (tens of ms): call it
    outside the write transaction, never on the shared writer."""
    check_password_rules(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; as slow for a missing hash as for a real one."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def set_password_with_link(conn: Connection, token: str, password_hash: str, now: datetime) -> None:
    """Use a one-time link: set the password and end any session the user had."""
    user_id = store.use_token(conn, digest(token), now)
    if user_id is None:
        raise NotFound("this link was used already or has expired")
    store.set_password_hash(conn, user_id, password_hash, now)
    store.revoke_user_sessions(conn, user_id, now)


def password_hash_of(conn: Connection, user_id: int) -> str | None:
    row = store.user_by_id(conn, user_id)
    return row.password_hash if row else None


def replace_password(conn: Connection, user_id: int, password_hash: str, now: datetime) -> None:
    """Store a new password (its current one already checked); every session ends."""
    store.set_password_hash(conn, user_id, password_hash, now)
    store.revoke_user_sessions(conn, user_id, now)


# -- sign-in, throttle and sessions ------------------------------------------------------
#
# A sign-in is three steps so the slow hash never runs inside a transaction:
# ``prepare_sign_in`` (read), ``verify_password`` (a worker thread), ``finish_sign_in``
# (write: a session, or one more failure for the e-mail and the address).


@dataclass(frozen=True, slots=True)
class Attempt:
    email: str
    ip: str
    user_id: int | None  #: None: no such enabled user
    password_hash: str | None


def _keys(email: str, ip: str) -> tuple[str, str]:
    return f"user:{email}", f"ip:{ip}"


def prepare_sign_in(conn: Connection, *, email: str, ip: str, now: datetime) -> Attempt:
    """The user to check, or :class:`LockedOut` while the e-mail or address is locked."""
    email = email.strip().lower()[:254]
    for key in _keys(email, ip):
        row = store.throttle_get(conn, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            raise LockedOut(row.locked_until)
    user = store.user_by_email(conn, email)
    if user is None or not user.enabled:
        return Attempt(email, ip, None, None)
    return Attempt(email, ip, user.id, user.password_hash)


def finish_sign_in(conn: Connection, attempt: Attempt, *, ok: bool, now: datetime) -> str | None:
    """A new session token when ``ok``; otherwise count the failure and return None
    (returned, not raised, so the count is committed)."""
    user_key, ip_key = _keys(attempt.email, attempt.ip)
    if not ok or attempt.user_id is None:
        _count_failure(conn, user_key, now)
        _count_failure(conn, ip_key, now)
        return None
    store.throttle_clear(conn, user_key)
    token = secrets.token_urlsafe(32)
    store.insert_session(
        conn,
        token_hash=digest(token),
        user_id=attempt.user_id,
        now=now,
        expires_at=now + SESSION_TTL,
    )
    return token


def _count_failure(conn: Connection, key: str, now: datetime) -> None:
    row = store.throttle_get(conn, key)
    if row is None or row.window_start <= now - LOCKOUT:
        row = store.ThrottleRow(0, now, None)
    failures = row.failures + 1
    if failures >= MAX_FAILURES:
        until = now + LOCKOUT
        log.warning(
            "panel_lockout",
            extra={"action": "panel_lockout", "key": key, "until": until.isoformat()},
        )
        store.throttle_put(conn, key, store.ThrottleRow(0, now, until))
    else:
        store.throttle_put(conn, key, store.ThrottleRow(failures, row.window_start, None))


def session_user(conn: Connection, token: str, now: datetime) -> PanelUser | None:
    row = store.live_session_user(conn, digest(token), now)
    return _public(row) if row else None


def sign_out(conn: Connection, token: str, now: datetime) -> None:
    store.revoke_session(conn, digest(token), now)


# -- cookie signing ----------------------------------------------------------------------

_KEY_NAME = "panel_signing_key"


def signing_key(conn: Connection) -> bytes:
    """The server-wide key that signs panel cookies (made on first use, then kept)."""
    return store.put_setting_once(conn, _KEY_NAME, secrets.token_hex(32)).encode()


def sign(key: bytes, value: str) -> str:
    mac = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return f"{value}.{mac}"


def unsign(key: bytes, signed: str) -> str | None:
    """The value of a signed string, or None when the signature does not match."""
    value, _, _mac = signed.rpartition(".")
    if not value or not hmac.compare_digest(sign(key, value).encode(), signed.encode()):
        return None
    return value


def csrf_token(key: bytes, seed: str) -> str:
    """The form token bound to a session (or a pre-session cookie)."""
    return hmac.new(key, b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()
