"""Settings read once at start-up from ``CENTAURO_*`` environment variables.

Entry points (the CLI, the ASGI app factory) build a :class:`Settings` and pass values
down; nothing else reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

DEFAULT_DATABASE_URL = "sqlite:///centauro.sqlite3"


class SettingsError(ValueError):
    """An environment variable holds a value of the wrong kind."""


@dataclass(frozen=True, slots=True)
class Settings:
    #: SQLAlchemy URL; a SQLite file in the working directory unless set.
    database_url: str = DEFAULT_DATABASE_URL
    #: Largest request body accepted, in bytes (413 beyond it).
    max_body_bytes: int = 10 * 1024 * 1024
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
    #: Run the delivery dispatcher inside ``serve``.
    dispatcher: bool = True
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
    #: IANA zone of the operator's panel pages (the dashboard's "today", message searches
    #: across accounts); a customer's pages use their account's own zone.
    panel_timezone: str = "America/Caracas"
    log_level: str = "INFO"

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
