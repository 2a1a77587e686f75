"""The schema, in one place. Alembic migrations create exactly this (a test checks it).

Times are UTC; on SQLite they are stored as ISO text and read back as aware datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Integer primary keys: 64-bit on PostgreSQL, SQLite's rowid alias on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        if value is not None and dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


accounts = Table(
    "accounts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("client_id", String(64), nullable=False, unique=True),
    #: "sha256:<hex>" of the secret; secrets are random 128+ bits, so a fast hash is enough.
    Column("secret_hash", String(100), nullable=False),
    #: HMAC key of callback_url deliveries ("whsec_…"), sealed like webhook secrets.
    Column("signing_key", String(300), nullable=True),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("country", String(2), nullable=False, server_default="VE"),
    #: Cached sum of this account's ledger rows, kept in the same transactions.
    Column("balance", BigInteger, nullable=False, server_default="0"),
    #: IANA zone for quiet hours and local times, e.g. "America/Caracas".
    Column("timezone", String(64), nullable=False, server_default="America/Caracas"),
    #: Quiet window for marketing messages, local "HH:MM" (may cross midnight); NULL: none.
    Column("quiet_start", String(5), nullable=True),
    Column("quiet_end", String(5), nullable=True),
    #: Requests per second this account may make (NULL: the server's default).
    Column("rate_limit", Float, nullable=True),
    #: Recipients one request may carry (NULL: the server's default).
    Column("max_recipients", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    sqlite_autoincrement=True,
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    #: "charge" (negative), "topup" (positive or a correction), "refund" (positive)
    Column("kind", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    #: The message refunded, or the first message of the charged request.
    Column("message_id", BigInteger, nullable=True),
    #: Messages the row covers (a charge covers a whole request).
    Column("messages", Integer, nullable=False, server_default="0"),
    Column("note", String(200), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "account_id", "id"),
    #: The panel's "credits sold today": top-ups in a time range.
    Index(None, "kind", "created_at"),
    sqlite_autoincrement=True,
)

messages = Table(
    "messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    #: E.164, e.g. "+584141234567"
    Column("recipient", String(16), nullable=False),
    #: The caller's "nom" and "id" (compat API), kept to echo back and to search by.
    Column("name", String(200), nullable=False, server_default=""),
    Column("reference", String(200), nullable=False, server_default=""),
    Column("text", Text, nullable=False),
    Column("encoding", String(8), nullable=False),
    Column("segments", SmallInteger, nullable=False),
    Column("cost", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    #: Which door it came in by: "compat", "http", "cli", "v1".
    Column("source", String(8), nullable=False),
    #: When the dispatcher may next claim it; a claim pushes it forward by the lease.
    Column("due_at", UtcDateTime, nullable=True),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    #: The worker (``workers.id``) holding the current claim, if any.
    Column("claimed_by", String(64), nullable=True),
    Column("connector", String(64), nullable=True),
    Column("carrier_id", String(80), nullable=True),
    #: Normalised carrier id (receipts.key) of a single-part message; NULL when the
    #: carrier took several parts (their ids are in message_parts).
    Column("carrier_key", String(80), nullable=True),
    #: How many PDUs the carrier took for it (1, or the parts of a concatenated SMS).
    Column("parts", SmallInteger, nullable=False, server_default="1"),
    Column("error", String(200), nullable=True),
    #: "transactional" or "marketing" (only marketing waits out quiet hours).
    Column("category", String(16), nullable=False, server_default="transactional"),
    #: Where to POST this message's status changes, besides the account's webhooks.
    Column("callback_url", Text, nullable=True),
    #: After this the message is not sent any more: it expires (and is refunded).
    Column("expires_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    #: The sender ID it goes out with (a granted ``sender_ids.value``); NULL: the
    #: connector's own source address.
    Column("sender", String(16), nullable=True),
    #: For ``encoding`` "binary" (``text`` is then the body in hex): the customer's UDH
    #: in hex, its length octet first, concatenation elements taken out; NULL: none.
    Column("udh", String(280), nullable=True),
    Column("done_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    #: ``campaigns.id`` when a campaign queued it (no foreign key: added by ALTER TABLE).
    Column("campaign_id", BigId, nullable=True),
    Index(None, "account_id", "id"),
    Index(None, "status", "id"),
    #: The panel's searches within one account (0013): by status, and by dates. On
    #: PostgreSQL 0013 also adds statistics on (account_id, status) (not in metadata).
    Index(None, "account_id", "status", "id"),
    Index(None, "account_id", "created_at"),
    Index(
        "ix_messages_due",
        "due_at",
        "id",
        sqlite_where=text("status = 'queued'"),
        postgresql_where=text("status = 'queued'"),
    ),
    Index(None, "connector", "carrier_id"),
    Index(None, "connector", "carrier_key"),
    Index(None, "recipient", "id"),
    #: The panel's day counts and date searches: a range of this index, status included
    #: so counting by status never reads the table.
    Index(None, "created_at", "status"),
    Index(
        "ix_messages_scheduled",
        "due_at",
        sqlite_where=text("status = 'scheduled'"),
        postgresql_where=text("status = 'scheduled'"),
    ),
    #: The campaign it belongs to, if any (progress counts by campaign and state).
    Index(
        "ix_messages_campaign",
        "campaign_id",
        "status",
        sqlite_where=text("campaign_id IS NOT NULL"),
        postgresql_where=text("campaign_id IS NOT NULL"),
    ),
    Index(
        "ix_messages_claimed",
        "claimed_by",
        sqlite_where=text("claimed_by IS NOT NULL"),
        postgresql_where=text("claimed_by IS NOT NULL"),
    ),
    sqlite_autoincrement=True,
)

#: Campaigns: an uploaded audience (kept as uploaded), its column mapping and template,
#: the preview's counts, and a state (docs/campaigns.md). Its messages are ordinary
#: messages with ``messages.campaign_id``; progress is counted from them by index.
campaigns = Table(
    "campaigns",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("template", Text, nullable=False),
    #: "draft", "scheduled", "sending", "paused", "cancelled" (``done`` is derived)
    Column("state", String(16), nullable=False),
    Column("source_name", String(200), nullable=False, server_default=""),
    #: "csv", "xlsx" or "rows" (JSON rows from the API or a contact list)
    Column("source_format", String(8), nullable=False),
    Column("source", LargeBinary, nullable=False),
    #: JSON: {"columns": [...], "number": "...", "name": "..."}
    Column("mapping", Text, nullable=False),
    #: JSON: the preview's sample rows and listed problems
    Column("preview", Text, nullable=False),
    Column("total_rows", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("cost", Integer, nullable=False),
    Column("charged", Integer, nullable=False, server_default="0"),
    Column("refunded", Integer, nullable=False, server_default="0"),
    Column("schedule_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "account_id", "id"),
    sqlite_autoincrement=True,
)

#: Running dispatcher processes. A claim names its worker; when a worker stops
#: heartbeating, the others hand its claimed messages back to the queue.
workers = Table(
    "workers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("heartbeat_at", UtcDateTime, nullable=False),
)


#: Carrier connections, configured from the CLI; ``settings`` is the connector's own
#: JSON (host, port, credentials, window, rate…), read by ``delivery/supervisor.py``.
connectors = Table(
    "connectors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("settings", Text, nullable=False, server_default="{}"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Which connector carries which numbers: the longest matching E.164 prefix wins, then
#: the lowest priority number; the others are the failover order. Prefix "" is the default.
routes = Table(
    "routes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("prefix", String(16), nullable=False),
    Column("connector", ForeignKey("connectors.name", ondelete="CASCADE"), nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    #: False: this connector does not carry alphanumeric senders (the carrier rewrites or
    #: refuses them); such messages skip it for the next candidate.
    Column("allow_alphanumeric", Boolean, nullable=False, server_default=text("true")),
    UniqueConstraint("prefix", "connector"),
    sqlite_autoincrement=True,
)

#: The carrier ids of a concatenated message's parts, and each part's receipt.
message_parts = Table(
    "message_parts",
    metadata,
    Column("message_id", ForeignKey("messages.id"), primary_key=True),
    Column("part", SmallInteger, primary_key=True),
    Column("connector", String(64), nullable=False),
    Column("carrier_id", String(80), nullable=False),
    Column("carrier_key", String(80), nullable=False),
    Column("state", String(16), nullable=True),
    Column("error", String(200), nullable=True),
    Column("done_at", UtcDateTime, nullable=True),
    Index(None, "connector", "carrier_key"),
)

#: Messages handsets sent to us (MO).
inbound = Table(
    "inbound",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("connector", String(64), nullable=False),
    Column("sender", String(32), nullable=False),
    Column("recipient", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    #: The account it answers: the one that last sent to this sender (NULL: none).
    Column("account_id", BigInteger, nullable=True),
    #: How many parts it was joined from (1: a single SMS); they are in inbound_parts.
    Column("parts", SmallInteger, nullable=False, server_default="1"),
    #: False when parts never came and it was stored as what arrived.
    Column("complete", Boolean, nullable=False, server_default=text("true")),
    Index(None, "sender", "id"),
    Index(None, "account_id", "id"),
    sqlite_autoincrement=True,
)

#: The parts of concatenated MO (UDH or SAR), committed before the carrier is answered;
#: joined into one ``inbound`` row when all are in or the wait is over. They are kept,
#: pointing at that row, as the record of what the carrier sent.
inbound_parts = Table(
    "inbound_parts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("connector", String(64), nullable=False),
    Column("sender", String(32), nullable=False),
    Column("recipient", String(32), nullable=False),
    Column("reference", Integer, nullable=False),
    Column("total", SmallInteger, nullable=False),
    Column("seq", SmallInteger, nullable=False),
    Column("data_coding", SmallInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    #: The message it became part of; NULL while its siblings are awaited.
    Column("inbound_id", BigInteger, nullable=True),
    Index(None, "inbound_id", "received_at"),
    Index(None, "sender", "reference"),
    sqlite_autoincrement=True,
)

#: Which live process owns each connector's binds (PostgreSQL; delivery/leases.py): the
#: owner renews ``lease_until`` (the database's clock) well before it runs out; another
#: process takes an expired lease over and ``epoch`` grows by one at each takeover.
connector_leases = Table(
    "connector_leases",
    metadata,
    Column("connector", String(64), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("lease_until", UtcDateTime, nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
    Column("previous_owner", String(64), nullable=True),
)


#: Each worker's latest view of its connectors, refreshed every few seconds, so the CLI
#: (another process) can show bind health.
connector_status = Table(
    "connector_status",
    metadata,
    Column("worker_id", String(64), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("in_flight", Integer, nullable=False, server_default="0"),
    Column("queued", Integer, nullable=False, server_default="0"),
    Column("submitted", BigInteger, nullable=False, server_default="0"),
    Column("tps", Float, nullable=False, server_default="0"),
    Column("last_error", String(300), nullable=True),
    Column("since", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Receipts that matched no message yet (one can overtake the record of its submit),
#: kept durably: the carrier was told we have them.
pending_receipts = Table(
    "pending_receipts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("connector", String(64), nullable=False),
    Column("carrier_id", String(80), nullable=False),
    Column("state", String(16), nullable=False),
    Column("error", String(200), nullable=True),
    Column("received_at", UtcDateTime, nullable=False),
    Index(None, "connector", "id"),
    sqlite_autoincrement=True,
)


#: Numbers an account must not text (the handset answered BAJA/STOP, or the API said so).
suppressions = Table(
    "suppressions",
    metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("number", String(16), primary_key=True),  #: E.164
    Column("source", String(16), nullable=False),  #: "inbound", "api" or "cli"
    Column("created_at", UtcDateTime, nullable=False),
)

#: The first answer to each Idempotency-Key (kept 24 h): a retry gets it again.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "created_at"),
)

#: Where an account wants its events POSTed; the secret signs every delivery.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("url", Text, nullable=False),
    #: Comma-separated: "message.status", "message.inbound".
    Column("events", String(100), nullable=False),
    #: HMAC key: every delivery is signed with it, so it is kept readable — sealed
    #: (``enc:v1:…``) under CENTAURO_SECRET_KEY when one is set (service/sealing.py).
    Column("secret", String(300), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "account_id"),
    sqlite_autoincrement=True,
)

#: One event to POST to one URL: a durable outbox of its own, retried with backoff.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, nullable=False),
    #: NULL for a message's own callback_url.
    Column("webhook_id", BigInteger, nullable=True),
    Column("url", Text, nullable=False),
    Column("event", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    #: "pending", "delivered" or "failed"
    Column("status", String(16), nullable=False),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("due_at", UtcDateTime, nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", String(300), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    Index(
        "ix_webhook_deliveries_due",
        "due_at",
        "id",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
    Index(None, "webhook_id", "id"),
    Index(None, "account_id", "id"),
    sqlite_autoincrement=True,
)

#: The sender IDs the operator granted each account; at most one is its default (used
#: when a request names none: the compat API, SMPP binds with an empty source_addr).
sender_ids = Table(
    "sender_ids",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    #: Alphanumeric name, short code digits, or E.164 (domain/senders.py).
    Column("value", String(16), nullable=False),
    #: "alnum", "shortcode" or "long"
    Column("kind", String(16), nullable=False),
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "value"),
    sqlite_autoincrement=True,
)

# -- the SMPP server (customers binding to us) ------------------------------------------

#: An account's SMPP login, apart from the API secret: SMPP passwords hold 8 characters at
#: most (hashed with scrypt, salted and slow), system_ids 15: the client_id's first 15.
smpp_credentials = Table(
    "smpp_credentials",
    metadata,
    Column("account_id", ForeignKey("accounts.id"), primary_key=True),
    Column("system_id", String(16), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    #: Binds this account may hold at once (NULL: the server's default).
    Column("max_binds", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Messages that came in by submit_sm asking for a receipt, with the addresses as the
#: customer gave them (the receipt goes back with them swapped). Deleted once the
#: receipt is queued.
smpp_submits = Table(
    "smpp_submits",
    metadata,
    Column("message_id", BigId, primary_key=True, autoincrement=False),
    Column("account_id", BigInteger, nullable=False),
    #: registered_delivery bits 0-1: 1 every final state, 2 failures only.
    Column("registered", SmallInteger, nullable=False),
    Column("source_addr", String(32), nullable=False),
    Column("dest_addr", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

#: deliver_sm owed to customers (receipts and MO), durable until their deliver_sm_resp.
smpp_deliveries = Table(
    "smpp_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", BigInteger, nullable=False),
    #: "receipt" or "mo"
    Column("kind", String(8), nullable=False),
    Column("message_id", BigInteger, nullable=True),
    #: The deliver_sm's fields as JSON (addresses, receipt fields or text).
    Column("body", Text, nullable=False),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("due_at", UtcDateTime, nullable=False),
    #: Not delivered by then: dropped (the customer's validity window).
    Column("expires_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "account_id", "id"),
    sqlite_autoincrement=True,
)

#: Each serving process's view of its SMPP binds (JSON), refreshed every few seconds,
#: so ``centauro smpp-clients status`` (another process) can show them.
smpp_server_status = Table(
    "smpp_server_status",
    metadata,
    Column("worker_id", String(64), primary_key=True),
    Column("snapshot", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: People who sign in to the web panel: operators (``account_id`` NULL) and customer
#: users (one account each). ``password_hash`` is argon2id; NULL until they set one.
panel_users = Table(
    "panel_users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    #: "operator" or "customer"
    Column("role", String(16), nullable=False),
    Column("account_id", ForeignKey("accounts.id"), nullable=True),
    Column("password_hash", String(200), nullable=True),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "account_id"),
    sqlite_autoincrement=True,
)

#: Signed-in panel sessions; the cookie carries the token, the table only its SHA-256,
#: so sign-out and a password change revoke a session whatever the cookie says.
panel_sessions = Table(
    "panel_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("panel_users.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Index(None, "user_id"),
)

#: One-time set-password links (invitations, first operator, resets): SHA-256 only.
panel_tokens = Table(
    "panel_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("panel_users.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
)

#: Failed sign-ins per user ("user:<email>") and per address ("ip:<addr>"): ten in a
#: window lock the key out; shared by every server process through the store.
panel_throttle = Table(
    "panel_throttle",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("window_start", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime, nullable=True),
)

#: Small server-wide values: the key that signs the panel's cookies lives here, so
#: every process (and every restart) signs alike without a setting to manage.
panel_settings = Table(
    "panel_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# -- contact lists (a customer's phonebook; a campaign's audience) ----------------------

#: A customer's named list of contacts. ``fields`` is the JSON array of its extra
#: columns in file order, so an export writes them back in the order they came.
contact_lists = Table(
    "contact_lists",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("fields", Text, nullable=False, server_default="[]"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name"),
    sqlite_autoincrement=True,
)

#: One contact of a list: its number normalised to E.164 (unique in the list), a name,
#: and its extra fields as a JSON object {column: text}.
contacts = Table(
    "contacts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("list_id", ForeignKey("contact_lists.id", ondelete="CASCADE"), nullable=False),
    Column("number", String(16), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("fields", Text, nullable=False, server_default="{}"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("list_id", "number"),
    sqlite_autoincrement=True,
)

# -- reports (0014): messages counted per UTC hour, rolled up in the background ----------


def _per_account(name: str, time: str, *extra: Any) -> Table:
    """Counts per ``time`` (an hour or a day, UTC), account, connector and status."""
    return Table(
        name,
        metadata,
        Column(time, UtcDateTime, primary_key=True),
        Column("account_id", BigInteger, primary_key=True),
        #: ``messages.connector`` ("" for a message no connector has taken yet).
        Column("connector", String(64), primary_key=True),
        Column("status", String(16), primary_key=True),
        Column("messages", Integer, nullable=False),
        Column("segments", BigInteger, nullable=False),
        *extra,
    )


#: Messages created in one UTC hour, per account, connector and status. Rolled up from
#: ``messages`` by the delivering process (service/summaries.py); the reports page reads
#: closed hours here and only the hours not rolled yet from the messages index.
report_hours = _per_account("report_hours", "hour", Index(None, "account_id", "hour"))

#: The same per UTC day (derived from report_hours in the same write): the account and
#: connector tables read whole days here, ~24 times fewer rows than hours.
report_days = _per_account("report_days", "day")

#: Every account's messages per UTC hour and status (derived from report_hours): the
#: operator's per-day table, whatever the number of accounts.
report_totals = Table(
    "report_totals",
    metadata,
    Column("hour", UtcDateTime, primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("messages", Integer, nullable=False),
    Column("segments", BigInteger, nullable=False),
)

#: One row: how far the roll-up has gone, and which process rolls (a lease: one runner).
report_rollup = Table(
    "report_rollup",
    metadata,
    Column("name", String(16), primary_key=True),
    #: Every hour before this one is in report_hours (NULL: nothing rolled yet).
    Column("rolled_until", UtcDateTime, nullable=True),
    #: When the recent days and the deep window were last rolled again.
    Column("recent_at", UtcDateTime, nullable=True),
    Column("deep_at", UtcDateTime, nullable=True),
    Column("runner", String(64), nullable=True),
    Column("held_until", UtcDateTime, nullable=True),
)
