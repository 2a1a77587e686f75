"""Account use cases: create, credentials, top-ups, enabling, balances.

Each function runs inside the caller's write (or read) transaction and takes ``now``
so the same call gives the same rows in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from centauro.domain import inputs, schedule
from centauro.domain.errors import AuthenticationFailed, Conflict, InvalidRequest, NotFound
from centauro.domain.models import Account, LedgerEntry
from centauro.domain.numbers import Country, parse_country
from centauro.service import credentials
from centauro.service.sealing import CLEAR, Sealer
from centauro.service.webhooks import new_secret as new_signing_key
from centauro.store import accounts as store

MAX_TOPUP = 10**12


@dataclass(frozen=True, slots=True)
class NewCredentials:
    """What an operator must hand to the customer; the secret is never shown again."""

    account: Account
    client_id: str
    client_secret: str
    signing_key: str | None = None  #: set when an account is created


def create(
    conn: Connection,
    *,
    name: str,
    credits: int,
    country: str = "VE",
    now: datetime,
    client_id: str | None = None,
    client_secret: str | None = None,
    import_secret: bool = False,
    sealer: Sealer = CLEAR,
) -> NewCredentials:
    """Open an account with ``credits`` (recorded as its first ledger top-up).

    ``import_secret`` takes ``client_secret`` as the original service issued it, however
    weak, and stores it under the slow hash (a site that cannot edit its code keeps it).
    """
    name = inputs.check_line("name", name).strip()
    if not name:
        raise InvalidRequest("account name is empty")
    if credits < 0 or credits > MAX_TOPUP:
        raise InvalidRequest("credits must be between 0 and 10^12")
    try:
        country_code = parse_country(country)
    except ValueError:
        raise InvalidRequest(f"unsupported country: {country}") from None
    client_id = inputs.check_line("client_id", client_id or credentials.new_client_id()).strip()
    if not client_id or len(client_id) > 64:
        raise InvalidRequest("client_id must have 1 to 64 characters")
    if store.by_client_id(conn, client_id) is not None:
        raise Conflict(f"client_id already exists: {client_id}")
    if import_secret:
        if client_secret is None:
            raise InvalidRequest("importing a secret needs the secret")
        credentials.check_imported(client_secret)
        secret, secret_hash = client_secret, credentials.hash_imported(client_secret)
    else:
        if client_secret is not None:
            credentials.check_chosen(client_secret)
        secret = client_secret or credentials.new_secret()
        secret_hash = credentials.hash_secret(secret)
    signing_key = new_signing_key()
    account = store.insert_account(
        conn,
        name=name,
        client_id=client_id,
        secret_hash=secret_hash,
        signing_key=sealer.seal(signing_key),
        country=Country(country_code).value,
        now=now,
    )
    if credits:
        topup(conn, client_id=client_id, amount=credits, now=now, note="saldo inicial")
    return NewCredentials(
        account=store.by_id(conn, account.id) or account,
        client_id=client_id,
        client_secret=secret,
        signing_key=signing_key,
    )


def get(conn: Connection, client_id: str) -> Account:
    account = store.by_client_id(conn, client_id)
    if account is None:
        raise NotFound(f"no account with client_id {client_id}")
    return account


def by_name(conn: Connection, name: str) -> Account | None:
    """The oldest account with this display name, if any."""
    return store.by_name(conn, name)


def authenticate(conn: Connection, client_id: str, secret: str) -> Account:
    """The enabled account these credentials open, or :class:`AuthenticationFailed`."""
    return verify(find(conn, client_id), secret)


def find(conn: Connection, client_id: str) -> Account | None:
    """The account a sign-in names, if any: read it in a transaction, :func:`verify`
    after it (an imported secret's slow check must not hold a pooled connection)."""
    return store.by_client_id(conn, client_id) if client_id else None


def verify(account: Account | None, secret: str, *, proven: bool = False) -> Account:
    """``account`` if ``secret`` opens it and it is enabled, else :class:`AuthenticationFailed`.

    ``proven``: the caller saw this very secret verify against ``account.secret_hash``
    already (an imported secret's slow hash is then not derived again)."""
    if account is None:
        # Spend the same hashing time as a real check so ids cannot be probed by timing
        # (an imported secret's slow check still shows: client ids are not secret).
        credentials.verify_secret(secret, credentials.hash_secret(""))
        raise AuthenticationFailed
    opens = proven or credentials.verify_secret(secret, account.secret_hash)
    if not opens or not account.enabled:
        raise AuthenticationFailed
    return account


def ensure_current(conn: Connection, account: Account) -> None:
    """Refuse an ``account`` read earlier (a cached sign-in) that has since been disabled
    or had its secret rotated: every operation calls this in its own transaction, so
    neither takes effect "after the cache expires" nor only in the process that made it."""
    if not store.is_current(conn, account.id, account.secret_hash):
        raise AuthenticationFailed


def topup(
    conn: Connection, *, client_id: str, amount: int, now: datetime, note: str = "recarga"
) -> int:
    """Add credits (negative amounts correct a top-up, never below zero); new balance."""
    if amount == 0 or abs(amount) > MAX_TOPUP:
        raise InvalidRequest("amount must be a non-zero integer up to 10^12")
    account = get(conn, client_id)
    balance = store.add_credit(conn, account_id=account.id, amount=amount, now=now)
    if balance is None:
        raise InvalidRequest(f"balance would go below zero ({account.balance} {amount:+d})")
    store.record_ledger(
        conn,
        account_id=account.id,
        kind="topup",
        amount=amount,
        balance_after=balance,
        now=now,
        note=note,
    )
    return balance


def set_enabled(conn: Connection, *, client_id: str, enabled: bool, now: datetime) -> Account:
    account = get(conn, client_id)
    store.set_fields(conn, account.id, now, enabled=enabled)
    return get(conn, client_id)


_UNSET: Any = object()


def update(
    conn: Connection,
    *,
    client_id: str,
    now: datetime,
    name: str | None = None,
    country: str | None = None,
    timezone: str | None = None,
    quiet_hours: str | None = _UNSET,
    rate_limit: float | None = _UNSET,
    max_recipients: int | None = _UNSET,
) -> Account:
    """Change an account's settings; ``None`` clears the optional limits (server default).

    ``quiet_hours`` is "HH:MM-HH:MM" in the account's ``timezone`` (an IANA name).
    """
    account = get(conn, client_id)
    values: dict[str, object] = {}
    if name is not None:
        if not inputs.check_line("name", name).strip():
            raise InvalidRequest("account name is empty")
        values["name"] = name.strip()
    if country is not None:
        try:
            values["country"] = parse_country(country).value
        except ValueError:
            raise InvalidRequest(f"unsupported country: {country}") from None
    if timezone is not None:
        try:
            schedule.zone(timezone)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        values["timezone"] = timezone
    values.update(_limits(quiet_hours, rate_limit, max_recipients))
    if values:
        store.set_fields(conn, account.id, now, **values)
    return get(conn, client_id)


def _limits(quiet_hours: Any, rate_limit: Any, max_recipients: Any) -> dict[str, object]:
    """The columns for the optional limits that were given, validated."""
    values: dict[str, object] = {}
    if quiet_hours is not _UNSET:
        try:
            quiet = schedule.parse_quiet_hours(quiet_hours or "")
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        values["quiet_start"] = f"{quiet.start:%H:%M}" if quiet else None
        values["quiet_end"] = f"{quiet.end:%H:%M}" if quiet else None
    if rate_limit is not _UNSET:
        if rate_limit is not None and not 0 <= rate_limit <= 100_000:
            raise InvalidRequest("rate_limit must be 0 (no limit) to 100000 requests/s")
        values["rate_limit"] = rate_limit
    if max_recipients is not _UNSET:
        if max_recipients is not None and not 1 <= max_recipients <= 1_000_000:
            raise InvalidRequest("max_recipients must be between 1 and 1000000")
        values["max_recipients"] = max_recipients
    return values


def rotate_secret(conn: Connection, *, client_id: str, now: datetime) -> NewCredentials:
    """Issue a new secret; the old one stops working at once."""
    account = get(conn, client_id)
    secret = credentials.new_secret()
    store.set_fields(conn, account.id, now, secret_hash=credentials.hash_secret(secret))
    return NewCredentials(account=get(conn, client_id), client_id=client_id, client_secret=secret)


def balance(conn: Connection, account_id: int) -> int:
    """The account's credits now (0 for an account deleted meanwhile)."""
    current = store.by_id(conn, account_id)
    return current.balance if current is not None else 0


def signing_key(conn: Connection, account: Account, sealer: Sealer) -> str:
    """The key that signs the account's callback_url deliveries (docs/webhooks.md)."""
    stored = store.signing_key(conn, account.id)
    if stored is None:
        raise NotFound(f"no signing key for {account.client_id}; rotate it to make one")
    return sealer.open(stored)


def rotate_signing_key(conn: Connection, *, client_id: str, now: datetime, sealer: Sealer) -> str:
    """A new callback signing key, returned in clear this once; pending deliveries are
    signed with it from now on."""
    account = get(conn, client_id)
    key = new_signing_key()
    store.set_fields(conn, account.id, now, signing_key=sealer.seal(key))
    return key


def list_all(conn: Connection) -> list[Account]:
    return store.all_accounts(conn)


def ledger(
    conn: Connection, client_id: str, *, limit: int = 100, before_id: int | None = None
) -> list[LedgerEntry]:
    """Newest first; ``before_id`` pages backwards."""
    return store.ledger_entries(conn, get(conn, client_id).id, limit=limit, before_id=before_id)
