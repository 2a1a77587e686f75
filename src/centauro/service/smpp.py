"""Use cases of the SMPP server door: passwords, submits that want receipts, and the
durable queue of deliver_sm (receipts, MO) owed to customers' binds.

SMPP passwords are 8 characters at most (§4.1.1), so unlike the 192-bit API secrets they
can be searched: they are stored as salted scrypt hashes, checked in constant time, and
the server throttles wrong guesses. Receipts and MO are queued in the same transaction
as the status change or the MO they report (like webhook events), and leave the queue
only when the customer's deliver_sm_resp says it has them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from centauro.domain.errors import Conflict, NotFound
from centauro.domain.models import Account
from centauro.domain.states import FINAL
from centauro.service.submit import Commit, Plan, Receipt, Timing, commit
from centauro.store import accounts as account_store
from centauro.store import smpp as store

PASSWORD_LENGTH = 8
SYSTEM_ID_LENGTH = 15  #: system_id is a C-string of 16 octets with its NUL (§4.1.1)
_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
#: A receipt or MO not acknowledged by then is dropped: the customer's bind was gone
#: for three days.
DELIVERY_VALIDITY = timedelta(hours=72)
RECEIPT = "receipt"
#: ``messages.source`` of a message that came in by submit_sm.
SOURCE = "smpp"
MO = "mo"


@dataclass(frozen=True, slots=True)
class Login:
    """What a bind needs: the account, its SMPP password hash and its bind limit."""

    account: Account
    password_hash: str
    max_binds: int | None


def new_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(PASSWORD_LENGTH))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check; slow on purpose (tens of ms): run it off the event loop."""
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    given = hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"), salt=base64.b64decode(salt), **_SCRYPT
    )
    return hmac.compare_digest(given, base64.b64decode(digest))


def system_id_of(client_id: str) -> str:
    """An account's SMPP system_id: its client_id, cut to the 15 characters SMPP allows."""
    return client_id[:SYSTEM_ID_LENGTH]


def set_password(
    conn: Connection, client_id: str, now: datetime, *, max_binds: int | None = None
) -> tuple[Account, str]:
    """A new random SMPP password for the account (the old one stops working)."""
    # The store, not service.accounts: service.events imports this module, and
    # service.accounts imports service.events through service.webhooks.
    account = account_store.by_client_id(conn, client_id)
    if account is None:
        raise NotFound(f"no account with client_id {client_id}")
    system_id = system_id_of(account.client_id)
    taken = store.credential(conn, system_id)
    if taken is not None and taken.account_id != account.id:
        raise Conflict(f"system_id {system_id} belongs to another account")
    password = new_password()
    store.set_credential(conn, account.id, system_id, hash_password(password), max_binds, now)
    return account, password


def login(conn: Connection, system_id: str) -> Login | None:
    """The account that may bind as ``system_id``; None if none may (no SMPP password)."""
    credential = store.credential(conn, system_id)
    if credential is None:
        return None
    account = account_store.by_id(conn, credential.account_id)
    if account is None:
        return None
    return Login(account, credential.password_hash, credential.max_binds)


@dataclass(frozen=True, slots=True)
class Addresses:
    """The submit_sm's addresses as the customer wrote them, for its receipt."""

    source: str
    destination: str


def submit(
    conn: Connection,
    *,
    account: Account,
    planned: Plan,
    now: datetime,
    timing: Timing,
    registered: int,
    addresses: Sequence[Addresses],
) -> Receipt:
    """The one submit path, plus what a receipt will need (``addresses`` per item)."""
    receipt = commit(conn, account=account, planned=planned, source=SOURCE, now=now, timing=timing)
    if registered & 0x03:
        _remember(conn, account, receipt, registered, addresses, now)
    return receipt


def _remember(
    conn: Connection,
    account: Account,
    receipt: Receipt,
    registered: int,
    addresses: Sequence[Addresses],
    now: datetime,
) -> None:
    """Keep what the receipts the customer asked for will need."""
    store.insert_submits(
        conn,
        [
            store.NewSubmit(mid, account.id, registered & 0x03, a.source, a.destination)
            for mid, a in zip(receipt.message_ids, addresses, strict=True)
            if mid is not None
        ],
        now,
    )


@dataclass(frozen=True, slots=True)
class Submit:
    """:func:`submit` as a writer job. On SQLite the writer runs a batch of them through
    :meth:`together`: the bind's window of submits shares the statements of one send
    (``service.submit.Commit.together``, store/writer.py)."""

    account: Account
    planned: Plan
    now: datetime
    timing: Timing
    registered: int
    addresses: Sequence[Addresses]

    def __call__(self, conn: Connection) -> Receipt:
        return submit(
            conn,
            account=self.account,
            planned=self.planned,
            now=self.now,
            timing=self.timing,
            registered=self.registered,
            addresses=self.addresses,
        )

    @staticmethod
    def together(conn: Connection, jobs: Sequence[Submit]) -> list[tuple[bool, object]]:
        """:func:`submit` for each of ``jobs``, in order, as in ``Commit.together``."""
        outcomes = Commit.together(
            conn, [Commit(j.account, j.planned, SOURCE, j.now, j.timing) for j in jobs]
        )
        for job, (ok, receipt) in zip(jobs, outcomes, strict=True):
            if ok and job.registered & 0x03:
                assert isinstance(receipt, Receipt)
                _remember(conn, job.account, receipt, job.registered, job.addresses, job.now)
        return outcomes


def status_changed(conn: Connection, message_ids: Sequence[int], now: datetime) -> int:
    """Queue the receipts these status changes owe to SMPP customers. How many."""
    if not message_ids:
        return 0
    rows = store.finished_submits(conn, message_ids, sorted(FINAL))
    deliveries = []
    for mid, account_id, registered, src, dst, status, error, text, created, done in rows:
        if registered == 2 and status == "delivered":
            continue  # asked for failures only
        body = {
            "id": str(mid),
            "source": dst,
            "destination": src,
            "status": status,
            "error": error,
            "text": text[:20],
            "submitted": _iso(created),
            "done": _iso(done) or now.isoformat(),
        }
        deliveries.append(
            store.NewDelivery(account_id, RECEIPT, mid, _json(body), now + DELIVERY_VALIDITY)
        )
    store.insert_deliveries(conn, deliveries, now)
    store.forget_submits(conn, [r[0] for r in rows])
    return len(deliveries)


def inbound_received(
    conn: Connection, messages: Sequence[tuple[int, str, str, str]], now: datetime
) -> int:
    """Queue MO ``(account_id, sender, recipient, text)`` for accounts that bind by SMPP."""
    enabled = store.enabled_accounts(conn, [m[0] for m in messages])
    deliveries = [
        store.NewDelivery(
            account_id,
            MO,
            None,
            _json({"source": sender.removeprefix("+"), "destination": recipient, "text": text}),
            now + DELIVERY_VALIDITY,
        )
        for account_id, sender, recipient, text in messages
        if account_id in enabled
    ]
    return store.insert_deliveries(conn, deliveries, now)


def due(
    conn: Connection, account_id: int, now: datetime, *, skip: Sequence[int], limit: int
) -> list[store.Delivery]:
    return store.due_deliveries(conn, account_id, now, skip=skip, limit=limit)


def settle(
    conn: Connection,
    *,
    acknowledged: Sequence[int],
    retries: Sequence[tuple[int, datetime]],
    now: datetime,
    expire: bool = False,
) -> None:
    """Forget what the customer has; postpone what it refused; drop what expired."""
    store.acknowledge(conn, acknowledged)
    store.postpone(conn, retries)
    if expire:
        store.drop_expired(conn, now)


def waiting(conn: Connection) -> dict[int, int]:
    """deliver_sm waiting per account id."""
    return store.waiting_by_account(conn)


def report(conn: Connection, worker_id: str, snapshot: dict[str, Any], now: datetime) -> None:
    """Store this process's view of its binds for the operator's CLI."""
    store.save_status(conn, worker_id, _json(snapshot), now)


def withdraw_report(conn: Connection, worker_id: str) -> None:
    store.drop_status(conn, worker_id)


#: A process whose report is older than this is gone (it reports every 2 s).
REPORT_STALE = timedelta(seconds=15)


def _summed(snapshots: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Binds, window use and submits/s per client_id, summed over the serving processes'
    reports."""
    live: dict[str, dict[str, Any]] = {}
    for snapshot in snapshots:
        for entry in snapshot.get("accounts", []):
            into = live.setdefault(
                entry["client_id"],
                {"binds": {}, "window_used": 0, "window": 0, "submits_per_s": 0, "waiting": 0},
            )
            for kind, count in entry["binds"].items():
                into["binds"][kind] = into["binds"].get(kind, 0) + count
            for key in ("window_used", "window", "submits_per_s"):
                into[key] += entry[key]
            into["waiting"] = max(into["waiting"], entry.get("waiting", 0))
    return live


def _fresh(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    return [json.loads(s) for s in store.statuses(conn, now - REPORT_STALE)]


def server_report(conn: Connection, now: datetime) -> dict[str, Any] | None:
    """What /v1/health and /metrics show of the SMPP server in a process that does not run
    it (``serve --workers 3`` and more: one worker holds the binds): the fresh reports of
    the processes that do, summed; None when none runs."""
    snapshots = _fresh(conn, now)
    if not snapshots:
        return None
    live = _summed(snapshots)
    return {
        "port": snapshots[0].get("port", 0),
        "connections": sum(s.get("connections", 0) for s in snapshots),
        "accounts": [{"client_id": k, **v} for k, v in sorted(live.items())],
    }


def clients_status(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """Every account with an SMPP login: binds, window use and submits/s summed over the
    serving processes, and deliver_sm waiting in the store."""
    live = _summed(_fresh(conn, now))
    waiting = store.waiting_by_account(conn)
    accounts = account_store.all_accounts(conn)
    enabled = store.enabled_accounts(conn, [a.id for a in accounts])
    rows = []
    for account in accounts:
        if account.id not in enabled:
            continue
        seen = live.get(account.client_id, {})
        rows.append(
            {
                "client_id": account.client_id,
                "system_id": system_id_of(account.client_id),
                "name": account.name,
                "binds": seen.get("binds", {}),
                "window_used": seen.get("window_used", 0),
                "window": seen.get("window", 0),
                "submits_per_s": seen.get("submits_per_s", 0),
                "waiting": waiting.get(account.id, 0),
            }
        )
    return rows


def _iso(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _json(body: dict[str, object]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
