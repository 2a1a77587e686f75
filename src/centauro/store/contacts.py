"""Statements on contact lists and their contacts (not a hot path: SQLAlchemy Core).

Every statement on a list takes the account id with it, so a list of another account
reads as absent; contacts are reached only through a list found that way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from centauro.store.tables import contact_lists, contacts


@dataclass(frozen=True, slots=True)
class ListRow:
    id: int
    account_id: int
    name: str
    fields: str  #: JSON array of the extra columns, in order
    created_at: datetime
    updated_at: datetime
    count: int


@dataclass(frozen=True, slots=True)
class ContactRow:
    id: int
    list_id: int
    number: str  #: E.164
    name: str
    fields: str  #: JSON object
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewContact:
    number: str
    name: str
    fields: str


_COUNT = (
    select(func.count())
    .where(contacts.c.list_id == contact_lists.c.id)
    .correlate(contact_lists)
    .scalar_subquery()
)
_LIST_COLUMNS = (*contact_lists.c, _COUNT.label("count"))


def _list(row: Any) -> ListRow:
    return ListRow(
        row.id, row.account_id, row.name, row.fields, row.created_at, row.updated_at, row.count
    )


def _contact(row: Any) -> ContactRow:
    return ContactRow(
        row.id, row.list_id, row.number, row.name, row.fields, row.created_at, row.updated_at
    )


def insert_list(conn: Connection, account_id: int, name: str, now: datetime) -> int:
    return int(
        conn.execute(
            insert(contact_lists)
            .values(account_id=account_id, name=name, fields="[]", created_at=now, updated_at=now)
            .returning(contact_lists.c.id)
        ).scalar_one()
    )


def list_named(conn: Connection, account_id: int, name: str) -> int | None:
    found = conn.execute(
        select(contact_lists.c.id).where(
            contact_lists.c.account_id == account_id, contact_lists.c.name == name
        )
    ).scalar_one_or_none()
    return int(found) if found is not None else None


def lists(conn: Connection, account_id: int) -> list[ListRow]:
    rows = conn.execute(
        select(*_LIST_COLUMNS)
        .where(contact_lists.c.account_id == account_id)
        .order_by(contact_lists.c.name, contact_lists.c.id)
    )
    return [_list(r) for r in rows]


def get_list(conn: Connection, account_id: int, list_id: int) -> ListRow | None:
    row = conn.execute(
        select(*_LIST_COLUMNS).where(
            contact_lists.c.account_id == account_id, contact_lists.c.id == list_id
        )
    ).first()
    return _list(row) if row is not None else None


def update_list(
    conn: Connection,
    list_id: int,
    now: datetime,
    *,
    name: str | None = None,
    fields: str | None = None,
) -> None:
    values: dict[str, Any] = {"updated_at": now}
    if name is not None:
        values["name"] = name
    if fields is not None:
        values["fields"] = fields
    conn.execute(update(contact_lists).where(contact_lists.c.id == list_id).values(**values))


def delete_list(conn: Connection, list_id: int) -> None:
    conn.execute(delete(contacts).where(contacts.c.list_id == list_id))
    conn.execute(delete(contact_lists).where(contact_lists.c.id == list_id))


def page(conn: Connection, list_id: int, *, after: int, limit: int) -> list[ContactRow]:
    """Contacts in the order they were added, from after the id ``after``."""
    rows = conn.execute(
        select(contacts)
        .where(contacts.c.list_id == list_id, contacts.c.id > after)
        .order_by(contacts.c.id)
        .limit(limit)
    )
    return [_contact(r) for r in rows]


def by_numbers(conn: Connection, list_id: int, numbers: Sequence[str]) -> dict[str, ContactRow]:
    found: dict[str, ContactRow] = {}
    unique = sorted(set(numbers))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = conn.execute(
            select(contacts).where(contacts.c.list_id == list_id, contacts.c.number.in_(chunk))
        )
        found.update((r.number, _contact(r)) for r in rows)
    return found


def get(conn: Connection, list_id: int, contact_id: int) -> ContactRow | None:
    row = conn.execute(
        select(contacts).where(contacts.c.list_id == list_id, contacts.c.id == contact_id)
    ).first()
    return _contact(row) if row is not None else None


def insert_many(conn: Connection, list_id: int, rows: Sequence[NewContact], now: datetime) -> None:
    if rows:
        conn.execute(
            insert(contacts),
            [
                {
                    "list_id": list_id,
                    "number": r.number,
                    "name": r.name,
                    "fields": r.fields,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in rows
            ],
        )


def update_many(
    conn: Connection, list_id: int, rows: Sequence[tuple[int, NewContact]], now: datetime
) -> None:
    """One statement, executed once per row by the driver (executemany)."""
    if not rows:
        return
    conn.execute(
        update(contacts)
        .where(contacts.c.list_id == list_id, contacts.c.id == bindparam("contact_id"))
        .values(
            number=bindparam("new_number"),
            name=bindparam("new_name"),
            fields=bindparam("new_fields"),
            updated_at=now,
        ),
        [
            {"contact_id": i, "new_number": r.number, "new_name": r.name, "new_fields": r.fields}
            for i, r in rows
        ],
    )


def delete_one(conn: Connection, list_id: int, contact_id: int) -> bool:
    done = conn.execute(
        delete(contacts).where(contacts.c.list_id == list_id, contacts.c.id == contact_id)
    )
    return done.rowcount == 1
