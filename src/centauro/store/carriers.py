"""Statements on carrier configuration: connectors, routes, and their live status."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from centauro.domain.routing import Route
from centauro.store import leases, sql
from centauro.store.tables import connector_status, connectors, routes, workers


@dataclass(frozen=True, slots=True)
class ConnectorRow:
    name: str
    kind: str
    enabled: bool
    settings: dict[str, Any]
    updated_at: datetime

    @property
    def fingerprint(self) -> tuple[str, bool, str]:
        """What a running connector must be restarted for when it changes."""
        return (self.kind, self.enabled, json.dumps(self.settings, sort_keys=True))


@dataclass(frozen=True, slots=True)
class RouteRow:
    id: int
    prefix: str
    connector: str
    priority: int
    allow_alphanumeric: bool = True

    def route(self) -> Route:
        return Route(self.prefix, self.connector, self.priority, self.allow_alphanumeric)


def _connector(row: Any) -> ConnectorRow:
    return ConnectorRow(
        name=row.name,
        kind=row.kind,
        enabled=row.enabled,
        settings=json.loads(row.settings),
        updated_at=row.updated_at,
    )


def all_connectors(conn: Connection) -> list[ConnectorRow]:
    return [_connector(r) for r in conn.execute(select(connectors).order_by(connectors.c.name))]


def connector(conn: Connection, name: str) -> ConnectorRow | None:
    row = conn.execute(select(connectors).where(connectors.c.name == name)).first()
    return _connector(row) if row else None


def insert_connector(
    conn: Connection, *, name: str, kind: str, settings: dict[str, Any], now: datetime
) -> None:
    conn.execute(
        insert(connectors).values(
            name=name,
            kind=kind,
            enabled=True,
            settings=json.dumps(settings, sort_keys=True),
            created_at=now,
            updated_at=now,
        )
    )


def update_connector(conn: Connection, name: str, now: datetime, **values: Any) -> bool:
    if "settings" in values:
        values["settings"] = json.dumps(values["settings"], sort_keys=True)
    result = conn.execute(
        update(connectors).where(connectors.c.name == name).values(updated_at=now, **values)
    )
    return result.rowcount == 1


def delete_connector(conn: Connection, name: str) -> bool:
    conn.execute(delete(routes).where(routes.c.connector == name))
    return conn.execute(delete(connectors).where(connectors.c.name == name)).rowcount == 1


def all_routes(conn: Connection) -> list[RouteRow]:
    rows = conn.execute(
        select(routes).order_by(routes.c.prefix.desc(), routes.c.priority, routes.c.id)
    )
    return [RouteRow(r.id, r.prefix, r.connector, r.priority, r.allow_alphanumeric) for r in rows]


def insert_route(
    conn: Connection,
    *,
    prefix: str,
    connector: str,
    priority: int,
    now: datetime,
    allow_alphanumeric: bool = True,
) -> int:
    return int(
        conn.execute(
            insert(routes)
            .values(
                prefix=prefix,
                connector=connector,
                priority=priority,
                created_at=now,
                allow_alphanumeric=allow_alphanumeric,
            )
            .returning(routes.c.id)
        ).scalar_one()
    )


def route_exists(conn: Connection, prefix: str, connector: str) -> bool:
    found = conn.execute(
        select(routes.c.id).where(routes.c.prefix == prefix, routes.c.connector == connector)
    ).first()
    return found is not None


def delete_route(conn: Connection, route_id: int) -> bool:
    return conn.execute(delete(routes).where(routes.c.id == route_id)).rowcount == 1


_UPSERT_STATUS = """
INSERT INTO connector_status (worker_id, name, kind, state, in_flight, queued, submitted, tps,
                              last_error, since, updated_at)
VALUES (:worker_id, :name, :kind, :state, :in_flight, :queued, :submitted, :tps, :last_error,
        :since, :updated_at)
ON CONFLICT (worker_id, name) DO UPDATE SET
    kind = excluded.kind, state = excluded.state, in_flight = excluded.in_flight,
    queued = excluded.queued, submitted = excluded.submitted, tps = excluded.tps,
    last_error = excluded.last_error, since = excluded.since, updated_at = excluded.updated_at
"""


def save_status(
    conn: Connection, worker_id: str, rows: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Replace this worker's status rows with ``rows`` (one per running connector)."""
    names = [r["name"] for r in rows]
    conn.execute(
        delete(connector_status).where(
            connector_status.c.worker_id == worker_id, connector_status.c.name.not_in(names)
        )
    )
    sql.executemany(
        conn,
        _UPSERT_STATUS,
        [
            {
                **r,
                "worker_id": worker_id,
                "last_error": (r.get("last_error") or None) and str(r["last_error"])[:300],
                "since": sql.stamp(conn, r.get("since")),
                "updated_at": sql.stamp(conn, now),
            }
            for r in rows
        ],
    )


def live_status(conn: Connection) -> list[dict[str, Any]]:
    """Status rows of workers that are still registered (dead workers' rows are stale),
    each with its ``owner`` ``{host, pid}``. Where bind leases exist (PostgreSQL), a
    connector's row is its lease holder's only: a process that lost the lease and has
    not yet noticed still has a row, but no longer owns the binds."""
    rows = conn.execute(
        select(connector_status, workers.c.host, workers.c.pid)
        .join(workers, workers.c.id == connector_status.c.worker_id)
        .order_by(connector_status.c.name, connector_status.c.worker_id)
    )
    holders = {o.connector: o.worker for o in leases.owners(conn) if not o.expired}
    shown = []
    for r in rows:
        row = dict(r._mapping)
        host, pid = row.pop("host"), row.pop("pid")
        if holders.get(row["name"], row["worker_id"]) != row["worker_id"]:
            continue
        row["owner"] = {"host": host, "pid": pid}
        shown.append(row)
    return shown


def queued_counts(conn: Connection) -> dict[str, int]:
    """Messages waiting in the queue, and those sent and waiting for a receipt."""
    rows = sql.fetchall(
        conn,
        "SELECT status, COUNT(*) FROM messages WHERE status IN ('queued', 'sent') GROUP BY status",
    )
    return {r[0]: int(r[1]) for r in rows}
