"""Carrier configuration use cases: connectors and routes, as the operator edits them.

A connector's ``settings`` arrive already validated by its own kind's code (the CLI
builds them with e.g. ``SmppSettings``); here we keep names, kinds and routes sane.
Running servers pick changes up within seconds (``delivery/supervisor.py``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from centauro.domain.errors import Conflict, InvalidRequest, NotFound
from centauro.domain.routing import parse_prefix
from centauro.store import carriers as store
from centauro.store.carriers import ConnectorRow, RouteRow

KINDS = ("smpp", "sandbox")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def add_connector(
    conn: Connection, *, name: str, kind: str, settings: dict[str, Any], now: datetime
) -> ConnectorRow:
    if _NAME.fullmatch(name) is None:
        raise InvalidRequest("connector names are 1-64 of a-z 0-9 _ . - (starting alphanumeric)")
    if kind not in KINDS:
        raise InvalidRequest(f"unknown connector type {kind!r}: expected one of {', '.join(KINDS)}")
    if store.connector(conn, name) is not None:
        raise Conflict(f"connector {name} already exists")
    store.insert_connector(conn, name=name, kind=kind, settings=settings, now=now)
    return get_connector(conn, name)


def get_connector(conn: Connection, name: str) -> ConnectorRow:
    row = store.connector(conn, name)
    if row is None:
        raise NotFound(f"no connector named {name}")
    return row


def update_connector(
    conn: Connection, name: str, *, settings: dict[str, Any], now: datetime
) -> ConnectorRow:
    get_connector(conn, name)
    store.update_connector(conn, name, now, settings=settings)
    return get_connector(conn, name)


def set_enabled(conn: Connection, name: str, *, enabled: bool, now: datetime) -> ConnectorRow:
    get_connector(conn, name)
    store.update_connector(conn, name, now, enabled=enabled)
    return get_connector(conn, name)


def remove_connector(conn: Connection, name: str) -> int:
    """Delete a connector and its routes; returns how many routes went with it."""
    get_connector(conn, name)
    routes = [r for r in store.all_routes(conn) if r.connector == name]
    store.delete_connector(conn, name)
    return len(routes)


def list_connectors(conn: Connection) -> list[ConnectorRow]:
    return store.all_connectors(conn)


def add_route(
    conn: Connection,
    *,
    prefix: str,
    connector: str,
    priority: int,
    now: datetime,
    allow_alphanumeric: bool = True,
) -> RouteRow:
    try:
        digits = parse_prefix(prefix)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    get_connector(conn, connector)
    if store.route_exists(conn, digits, connector):
        raise Conflict(f"route {digits or '(default)'} → {connector} already exists")
    route_id = store.insert_route(
        conn,
        prefix=digits,
        connector=connector,
        priority=priority,
        now=now,
        allow_alphanumeric=allow_alphanumeric,
    )
    return next(r for r in store.all_routes(conn) if r.id == route_id)


def remove_route(conn: Connection, route_id: int) -> None:
    if not store.delete_route(conn, route_id):
        raise NotFound(f"no route {route_id}")


def list_routes(conn: Connection) -> list[RouteRow]:
    return store.all_routes(conn)


def live_status(conn: Connection) -> list[dict[str, Any]]:
    """What running servers last reported of their connectors (dead workers left out)."""
    return store.live_status(conn)


def queued_counts(conn: Connection) -> dict[str, int]:
    """Messages waiting in the queue (``queued``), and sent awaiting a receipt (``sent``)."""
    return store.queued_counts(conn)
