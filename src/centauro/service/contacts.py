"""Contact lists: a customer's named lists of contacts, kept by hand or from CSV files.

A contact is a number (stored in E.164, read as a send from the account reads it, so
``0414-123.45.67`` and ``+584141234567`` are one contact), a name, and extra fields
(``{"ciudad": "Maracay"}``) whose columns the list remembers in order. A list exported to
CSV and imported again gives the same list (``domain/csvfile.py`` reads the spreadsheet
quirks and guards formulas both ways). Numbers on the account's opt-out list are
marked ``opted_out`` when read; they stay in the list (the opt-out may be lifted), and a
campaign's send refuses them as any send does.

Every call takes the account: another account's list id is a :class:`NotFound`, exactly
like an id that does not exist. Refusals carry Spanish messages: they reach people as
the REST ``detail``, the panel's alert and the CLI's error line.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import Connection

from centauro.domain import csvfile
from centauro.domain.errors import Conflict, InvalidNumber, InvalidRequest, NotFound
from centauro.domain.models import Account
from centauro.service.suppressions import normalize
from centauro.store import contacts as store
from centauro.store import suppressions as suppression_store

MAX_NAME = 200
MAX_FIELDS = csvfile.MAX_COLUMNS - 2
MAX_FIELD_NAME = 100
MAX_VALUE = csvfile.MAX_CELL
MAX_PAGE = 1000
#: Header names read as the number column and as the name column (accents and case aside).
NUMBER_COLUMNS = ("numero", "telefono", "celular", "movil", "number", "phone", "cel", "tlf")
NAME_COLUMNS = ("nombre", "name")
EXPORT_HEADER = ("numero", "nombre")


@dataclass(frozen=True, slots=True)
class ContactList:
    id: int
    name: str
    fields: list[str]  #: the extra columns, in order
    count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    number: str  #: E.164
    name: str
    fields: dict[str, str]
    opted_out: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Page:
    contacts: list[Contact]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    value: str
    reason: str  #: Spanish


@dataclass(slots=True)
class ImportReport:
    added: int = 0
    updated: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def _key(name: str) -> str:
    """A header name compared without case or accents: ``Número`` is ``numero``."""
    plain = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(c for c in plain if not unicodedata.combining(c))


def _list(row: store.ListRow) -> ContactList:
    return ContactList(
        row.id, row.name, json.loads(row.fields), row.count, row.created_at, row.updated_at
    )


def _contact(row: store.ContactRow, opted_out: set[str]) -> Contact:
    return Contact(
        row.id,
        row.number,
        row.name,
        json.loads(row.fields),
        row.number in opted_out,
        row.created_at,
        row.updated_at,
    )


def _list_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidRequest(f"El nombre de la lista debe tener entre 1 y {MAX_NAME} caracteres.")
    return name


def _row(conn: Connection, account: Account, list_id: int) -> store.ListRow:
    found = store.get_list(conn, account.id, list_id)
    if found is None:
        raise NotFound("No existe esa lista de contactos.")
    return found


def create_list(conn: Connection, account: Account, name: str, *, now: datetime) -> ContactList:
    name = _list_name(name)
    if store.list_named(conn, account.id, name) is not None:
        raise Conflict(f"Ya existe una lista llamada «{name}».")
    return _list(_row(conn, account, store.insert_list(conn, account.id, name, now)))


def lists(conn: Connection, account: Account) -> list[ContactList]:
    return [_list(r) for r in store.lists(conn, account.id)]


def get_list(conn: Connection, account: Account, list_id: int) -> ContactList:
    return _list(_row(conn, account, list_id))


def rename_list(
    conn: Connection, account: Account, list_id: int, name: str, *, now: datetime
) -> ContactList:
    _row(conn, account, list_id)
    name = _list_name(name)
    other = store.list_named(conn, account.id, name)
    if other is not None and other != list_id:
        raise Conflict(f"Ya existe una lista llamada «{name}».")
    store.update_list(conn, list_id, now, name=name)
    return get_list(conn, account, list_id)


def delete_list(conn: Connection, account: Account, list_id: int) -> None:
    store.delete_list(conn, _row(conn, account, list_id).id)


def _cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 19:
        raise InvalidRequest("Cursor no válido.")
    return int(cursor)


def page(
    conn: Connection, account: Account, list_id: int, *, limit: int = 50, cursor: str | None = None
) -> Page:
    """Contacts in the order they were added; opted-out numbers marked."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(f"limit debe estar entre 1 y {MAX_PAGE}.")
    row = _row(conn, account, list_id)
    found = store.page(conn, row.id, after=_cursor(cursor), limit=limit + 1)
    more = len(found) > limit
    found = found[:limit]
    out = suppression_store.among(conn, account.id, [c.number for c in found])
    return Page([_contact(c, out) for c in found], str(found[-1].id) if more else None)


def get_contact(conn: Connection, account: Account, list_id: int, contact_id: int) -> Contact:
    row = _row(conn, account, list_id)
    found = store.get(conn, row.id, contact_id)
    if found is None:
        raise NotFound("No existe ese contacto en la lista.")
    return _contact(found, suppression_store.among(conn, account.id, [found.number]))


def _number(account: Account, raw: str) -> str:
    if not raw.strip():
        raise InvalidNumber(raw, "Falta el número de celular.")
    try:
        return normalize(account, raw)
    except InvalidNumber:
        raise InvalidNumber(
            raw, f"«{raw.strip()[:40]}» no es un celular válido de Venezuela o Colombia."
        ) from None


def _fields(values: Mapping[str, str]) -> dict[str, str]:
    if len(values) > MAX_FIELDS:
        raise InvalidRequest(f"Un contacto tiene a lo sumo {MAX_FIELDS} campos.")
    out: dict[str, str] = {}
    for given, value in values.items():
        name = given.strip()
        if not name or len(name) > MAX_FIELD_NAME:
            raise InvalidRequest(
                f"Los nombres de campo tienen entre 1 y {MAX_FIELD_NAME} caracteres."
            )
        if _key(name) in NUMBER_COLUMNS + NAME_COLUMNS:
            raise InvalidRequest(f"«{name}» no puede ser un campo: es el número o el nombre.")
        if len(value) > MAX_VALUE:
            raise InvalidRequest(f"El campo «{name}» pasa de {MAX_VALUE} caracteres.")
        out[name] = value.replace("\x00", "")
    return out


def _grow_columns(
    conn: Connection, row: store.ListRow, names: list[str], now: datetime
) -> list[str]:
    columns: list[str] = json.loads(row.fields)
    new = [n for n in names if n not in columns]
    if new:
        columns += new
        if len(columns) > MAX_FIELDS:
            raise InvalidRequest(f"Una lista tiene a lo sumo {MAX_FIELDS} campos extra.")
        store.update_list(conn, row.id, now, fields=json.dumps(columns, ensure_ascii=False))
    return columns


def _name(name: str) -> str:
    name = name.strip()
    if len(name) > MAX_NAME:
        raise InvalidRequest(f"El nombre del contacto pasa de {MAX_NAME} caracteres.")
    return name


def add_contact(
    conn: Connection,
    account: Account,
    list_id: int,
    *,
    number: str,
    name: str = "",
    fields: Mapping[str, str] | None = None,
    now: datetime,
) -> Contact:
    """Add one contact; Conflict when the list has that number already."""
    row = _row(conn, account, list_id)
    e164, values = _number(account, number), _fields(fields or {})
    if store.by_numbers(conn, row.id, [e164]):
        raise Conflict(f"La lista ya tiene el número {e164}.")
    _grow_columns(conn, row, list(values), now)
    new = store.NewContact(e164, _name(name), json.dumps(values, ensure_ascii=False))
    store.insert_many(conn, row.id, [new], now)
    made = store.by_numbers(conn, row.id, [e164])[e164]
    return _contact(made, suppression_store.among(conn, account.id, [e164]))


def update_contact(
    conn: Connection,
    account: Account,
    list_id: int,
    contact_id: int,
    *,
    number: str | None = None,
    name: str | None = None,
    fields: Mapping[str, str] | None = None,
    now: datetime,
) -> Contact:
    """Change what is given; ``fields`` replaces all extra fields. Conflict on a number
    another contact of the list has."""
    current = get_contact(conn, account, list_id, contact_id)
    row = _row(conn, account, list_id)
    e164 = _number(account, number) if number is not None else current.number
    if e164 != current.number and store.by_numbers(conn, row.id, [e164]):
        raise Conflict(f"La lista ya tiene el número {e164}.")
    values = _fields(fields) if fields is not None else current.fields
    _grow_columns(conn, row, list(values), now)
    new = store.NewContact(
        e164,
        _name(name) if name is not None else current.name,
        json.dumps(values, ensure_ascii=False),
    )
    store.update_many(conn, row.id, [(contact_id, new)], now)
    return get_contact(conn, account, list_id, contact_id)


def delete_contact(conn: Connection, account: Account, list_id: int, contact_id: int) -> None:
    if not store.delete_one(conn, _row(conn, account, list_id).id, contact_id):
        raise NotFound("No existe ese contacto en la lista.")


def _columns(header: list[str]) -> tuple[int, int | None, list[tuple[int, str]]]:
    """Where the number and the name are, and the extra columns (position, name)."""
    keys = [_key(h) for h in header]
    number = next((i for i, k in enumerate(keys) if k in NUMBER_COLUMNS), None)
    if number is None:
        raise csvfile.CsvError(
            "El archivo no tiene una columna «numero» (también vale teléfono o celular)."
        )
    name = next((i for i, k in enumerate(keys) if k in NAME_COLUMNS), None)
    extra = [(i, h) for i, h in enumerate(header) if i not in (number, name)]
    return number, name, extra


#: Contacts written per write transaction by the doors: the store's single writer serves
#: the APIs' sends too, so a 100.000-row file must not hold it for the whole import.
IMPORT_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """A file read and checked, before anything is written (see :func:`plan_import`)."""

    columns: list[str]  #: the extra columns, in file order
    #: E.164 → (name, or None when the file has no name column; extra fields)
    rows: list[tuple[str, str | None, dict[str, str]]]
    rejected: list[Rejected]


def plan_import(account: Account, data: bytes) -> ImportPlan:
    """Read a CSV file into the contacts it holds; no store involved (the costly part —
    reading numbers — runs outside the write transaction). :class:`CsvError` when the
    file cannot be read; rows with a bad number are set aside with their line."""
    table = csvfile.read(data, max_columns=MAX_FIELDS + 2)
    at_number, at_name, extra = _columns(table.header)
    long = next((h for _, h in extra if len(h) > MAX_FIELD_NAME), None)
    if long is not None:
        raise csvfile.CsvError(
            f"Encabezado: el nombre de columna «{long[:40]}…» pasa de {MAX_FIELD_NAME} caracteres."
        )
    rejected: list[Rejected] = []
    wanted: dict[str, tuple[str | None, dict[str, str]]] = {}
    for line, cells in table.rows:
        raw = cells[at_number].strip()
        try:
            e164 = _number(account, raw)
        except InvalidNumber as exc:
            rejected.append(Rejected(line, raw, str(exc)))
            continue
        name = csvfile.unguard(cells[at_name]).strip()[:MAX_NAME] if at_name is not None else None
        wanted[e164] = (name, {h: csvfile.unguard(cells[i]) for i, h in extra})
    rows = [(e164, name, values) for e164, (name, values) in wanted.items()]
    return ImportPlan([h for _, h in extra], rows, rejected)


def apply_import(
    conn: Connection,
    account: Account,
    list_id: int,
    columns: list[str],
    rows: list[tuple[str, str | None, dict[str, str]]],
    *,
    now: datetime,
) -> tuple[int, int]:
    """Write some of a plan's rows: new numbers added, known ones updated (the file's
    columns replace those fields, others stay). (added, updated). Running it again with
    the same rows changes nothing more, so an interrupted import is finished by importing
    the file again."""
    row = _row(conn, account, list_id)
    _grow_columns(conn, row, columns, now)
    existing = store.by_numbers(conn, row.id, [r[0] for r in rows])
    inserts: list[store.NewContact] = []
    updates: list[tuple[int, store.NewContact]] = []
    for e164, name, values in rows:
        old = existing.get(e164)
        if old is None:
            fields = json.dumps(values, ensure_ascii=False)
            inserts.append(store.NewContact(e164, name or "", fields))
            continue
        merged = json.dumps({**json.loads(old.fields), **values}, ensure_ascii=False)
        kept = old.name if name is None else name
        updates.append((old.id, store.NewContact(e164, kept, merged)))
    store.insert_many(conn, row.id, inserts, now)
    store.update_many(conn, row.id, updates, now)
    return len(inserts), len(updates)


Read = Callable[[Callable[[Connection], Any]], Awaitable[Any]]


async def import_in_chunks(
    read: Read, write: Read, account: Account, list_id: int, data: bytes, *, now: datetime
) -> ImportReport:
    """What the doors run: check the list (NotFound first), read the file on a worker
    thread, then write it in :data:`IMPORT_CHUNK`-row write transactions (``read`` and
    ``write`` are the gateway's), so sends keep flowing during a long import."""
    await read(lambda c: _row(c, account, list_id))
    plan = await anyio.to_thread.run_sync(plan_import, account, data)
    report = ImportReport(rejected=plan.rejected)
    for start in range(0, max(len(plan.rows), 1), IMPORT_CHUNK):
        chunk = plan.rows[start : start + IMPORT_CHUNK]

        def work(conn: Connection, chunk: list[Any] = chunk) -> tuple[int, int]:
            return apply_import(conn, account, list_id, plan.columns, chunk, now=now)

        added, updated = await write(work)
        report.added += added
        report.updated += updated
    return report


def import_csv(
    conn: Connection, account: Account, list_id: int, data: bytes, *, now: datetime
) -> ImportReport:
    """:func:`plan_import` and :func:`apply_import` in one transaction (the CLI-less
    callers and tests; the doors write in :data:`IMPORT_CHUNK` chunks instead). A file
    that cannot be read changes nothing."""
    _row(conn, account, list_id)
    plan = plan_import(account, data)
    added, updated = apply_import(conn, account, list_id, plan.columns, plan.rows, now=now)
    return ImportReport(added, updated, plan.rejected)


def _all(conn: Connection, list_id: int) -> list[store.ContactRow]:
    rows: list[store.ContactRow] = []
    after = 0
    while chunk := store.page(conn, list_id, after=after, limit=5000):
        rows += chunk
        after = chunk[-1].id
    return rows


def export_csv(conn: Connection, account: Account, list_id: int) -> bytes:
    """The list as the CSV file :func:`import_csv` reads back to the same list."""
    row = _row(conn, account, list_id)
    columns: list[str] = json.loads(row.fields)
    lines = []
    for c in _all(conn, row.id):
        values = json.loads(c.fields)
        lines.append([c.number, c.name, *(values.get(k, "") for k in columns)])
    return csvfile.write([*EXPORT_HEADER, *columns], lines, plain={0})


def audience(conn: Connection, account_id: int, list_id: int) -> list[dict[str, str]]:
    """A list as a campaign's audience: one dict per contact, ``numero`` (E.164),
    ``nombre`` and every extra field (empty when a contact lacks it), in the order they
    were added. Opted-out numbers are included: the send refuses them as it refuses any.
    NotFound when the list is not the account's."""
    found = store.get_list(conn, account_id, list_id)
    if found is None:
        raise NotFound("No existe esa lista de contactos.")
    columns: list[str] = json.loads(found.fields)
    out = []
    for c in _all(conn, found.id):
        values = json.loads(c.fields)
        out.append(
            {"numero": c.number, "nombre": c.name, **{k: values.get(k, "") for k in columns}}
        )
    return out
