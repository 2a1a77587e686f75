"""Settings read once at start-up from ``CENTAURO_*`` environment variables.

Entry points (the CLI, the ASGI app factory) build a :class:`Settings` and pass values
down; nothing else reads the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

DEFAULT_DATABASE_URL = "sqlite:///centauro.sqlite3"
#: Process roles of ``centauro serve --role`` (docs/architecture.md, "Roles").
ROLES = ("all", "api", "delivery")
MASK = "***"

#: ``scheme://user:password@`` anywhere in a text (a DSN echoed by a driver or a log line).
_CREDENTIALS = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:)[^@\s]*@")
#: The same at the start of a database URL, parsed as SQLAlchemy does (a password runs
#: to the first ``@`` and may hold ``/``, ``?`` or spaces).
_URL_CREDENTIALS = re.compile(r"^(?P<head>[\w+]+://[^:/@]*:)[^@]*@")
#: ``password=…`` in a libpq keyword string or a URL query.
_PASSWORD_PARAM = re.compile(r"(?P<head>\bpassword=)[^&\s]*", re.IGNORECASE)


class SettingsError(ValueError):
    """An environment variable holds a value of the wrong kind."""


def masked_url(url: str) -> str:
    """``url`` with its password (in the userinfo or a ``password=`` query) as ``***``.

    stdlib only, not SQLAlchemy's ``make_url(...).render_as_string(hide_password=True)``:
    the CLI's base install (the SDK) has no SQLAlchemy, and error paths must not need it.
    Everything else is kept byte for byte, so the operator sees the URL they gave.
    """
    return _PASSWORD_PARAM.sub(rf"\g<head>{MASK}", _URL_CREDENTIALS.sub(rf"\g<head>{MASK}@", url))


def redact(text: str) -> str:
    """Any URL credentials or ``password=`` value inside ``text`` masked (logs, errors)."""
    return _PASSWORD_PARAM.sub(rf"\g<head>{MASK}", _CREDENTIALS.sub(rf"\g<head>{MASK}@", text))


@dataclass(frozen=True, slots=True)
class Settings:
    #: SQLAlchemy URL; a SQLite file in the working directory unless set. Kept out of
    #: ``repr()``: it may hold the database password (print :func:`masked_url` instead).
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    #: Largest request body accepted, in bytes (413 beyond it).
    max_body_bytes: int = 10 * 1024 * 1024
    #: Largest request line plus headers accepted, in bytes (431 beyond it).
    max_header_bytes: int = 16 * 1024
    #: Seconds a request's line and headers may take to arrive, from its first byte (or
    #: from the connection's opening) to the blank line (408 and closed beyond it).
    header_timeout_seconds: float = 10.0
    #: Seconds a request's body may take to arrive after its headers (408 and closed).
    body_timeout_seconds: float = 30.0
    #: Open HTTP connections at most; one more is answered 503 and closed.
    max_connections: int = 1000
    #: Most segments one message may take (304 beyond it).
    max_segments: int = 10
    #: Most recipients one request may carry (304 in the compat API beyond it).
    max_recipients: int = 10_000
    #: Seconds the sandbox connector waits before reporting a message delivered.
    sandbox_dlr_delay: float = 0.2
    #: Requests per second an account may make (per server process; 0: no limit).
    #: An account's own ``rate_limit`` replaces it (0 there: no limit for it).
    rate_limit: float = 500.0
    #: Messages one dispatcher claim takes at most.
    dispatch_batch: int = 500
    #: Seconds a claimed message stays reserved for its dispatcher before others may retry it.
    lease_seconds: float = 60.0
    #: Seconds a positive authentication stays cached in a server process.
    auth_cache_seconds: float = 2.0
    #: Failed sign-ins of one client id within the window that lock it (every sign-in
    #: of it answered 429 / compat 301 for ``auth_lockout_seconds``).
    auth_lockout_failures: int = 10
    #: Failed sign-ins from one address within the window after which its further
    #: failures are answered 429 / compat 301 (right credentials from it still pass).
    auth_lockout_ip_failures: int = 100
    auth_lockout_window_seconds: float = 300.0
    auth_lockout_seconds: float = 900.0
    #: Seconds a compat answer to a locked sign-in is held back (at most 100 at once).
    auth_failure_delay_seconds: float = 1.0
    #: Server key (32+ characters) sealing webhook secrets and signing keys at rest;
    #: empty: they are stored in clear (docs/security.md).
    secret_key: str = field(default="", repr=False)
    #: SQLite's ``synchronous`` pragma: NORMAL survives a process crash (kill -9);
    #: FULL also survives power loss, at the cost of an fsync per group commit.
    sqlite_synchronous: str = "FULL"
    #: Seconds between two heartbeats of a delivering process.
    heartbeat_seconds: float = 5.0
    #: Seconds of silence after which a delivering process counts as dead and its
    #: claimed messages go back to the queue (PostgreSQL; SQLite knows at once).
    worker_stale_seconds: float = 30.0
    #: Seconds between two reads of the connector and route configuration.
    reload_seconds: float = 2.0
    #: Seconds a concatenated inbound message (MO) waits for its missing parts after its
    #: first part came; then it is stored as what arrived, marked incomplete.
    mo_reassembly_seconds: float = 300.0
    #: Run the delivery dispatcher inside ``serve``.
    dispatcher: bool = True
    #: Processes ``serve`` runs on one port (``--workers``); 0: one per CPU.
    workers: int = 0
    #: What this process does: ``all`` (the API and delivery), ``api`` (the doors only:
    #: it never binds a connector) or ``delivery`` (binds and dispatches; its HTTP port
    #: still answers, for ``/health``). See :data:`ROLES`.
    role: str = "all"
    #: Seconds a delivering process holds a connector's bind lease on PostgreSQL (it renews
    #: it every third of that); another process takes the connector over once it runs out.
    bind_lease_seconds: float = 6.0
    #: Let webhooks (and callback URLs) target loopback, private and link-local
    #: addresses. Off in production: the gateway would POST into the operator's network.
    webhook_allow_private: bool = False
    #: Webhook POSTs in flight at most (one shared keep-alive connection pool).
    webhook_concurrency: int = 200
    #: Seconds one webhook POST may take, connect to answer, before it counts as failed.
    webhook_timeout_seconds: float = 10.0
    #: Webhook retries: first wait, doubling up to the max, given up this long after the event.
    webhook_retry_first_seconds: float = 5.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_give_up_seconds: float = 86400.0
    #: Seconds between two looks for due webhook deliveries when there were none.
    webhook_poll_seconds: float = 0.5
    #: Days a finished (delivered or failed) webhook delivery stays in the log.
    webhook_retention_days: float = 7.0
    #: Bearer token that shows every health figure (``/health``, ``/v1/health``) to the
    #: operator's monitoring; unset: only accounts see details, and fewer of them.
    operator_token: str = field(default="", repr=False)
    #: IANA zone of the operator's panel pages (the dashboard's "today", message searches
    #: across accounts); a customer's pages use their account's own zone.
    panel_timezone: str = "America/Caracas"
    # -- GET /metrics (docs/metrics.md) --
    #: Bearer token that lets a scraper from any address read ``/metrics``; loopback
    #: clients need none.
    metrics_token: str = field(default="", repr=False)
    #: Answer ``/metrics`` to every address (behind a proxy that guards it).
    metrics_public: bool = False
    #: Label message counters with the account's client id; false: one series for all
    #: accounts (many accounts would make many series).
    metrics_account_label: bool = True
    log_level: str = "INFO"
    #: ``auto`` (readable lines on a terminal, JSON lines otherwise), ``json`` or ``console``.
    log_format: str = "auto"
    # -- the SMPP server for customers (docs/smpp-server.md) --
    #: Port of the SMPP server ``serve`` runs beside the API; 0: none.
    smpp_port: int = 0
    #: Address it listens on; empty: the same as the API's ``--host``.
    smpp_host: str = ""
    #: Binds one account may hold at once (an account's own limit replaces it).
    smpp_max_binds: int = 4
    #: submit_sm one bind may have unanswered before we stop reading from it, and
    #: deliver_sm we send it before waiting for its answers.
    smpp_window: int = 1000
    #: Seconds of silence before we send enquire_link; as long again and the bind is dropped.
    smpp_enquire_link_seconds: float = 30.0
    #: TLS: PEM certificate chain and key files; empty: plain TCP.
    smpp_tls_cert: str = ""
    smpp_tls_key: str = ""

    @property
    def delivers(self) -> bool:
        """Whether this process runs the delivery parts (dispatcher, binds, scheduler…)."""
        return self.dispatcher and self.role != "api"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read ``CENTAURO_<FIELD>`` variables; explicit ``overrides`` (CLI flags) win."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            key = f"CENTAURO_{f.name.upper()}"
            if key in env and env[key] != "":
                values[f.name] = _cast(key, env[key], type(getattr(cls(), f.name)))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _cast(key: str, raw: str, kind: type) -> object:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw.replace("_", ""))
        if kind is float:
            return float(raw)
    except ValueError:
        raise SettingsError(f"{key}={raw!r} is not a valid {kind.__name__}") from None
    return raw
