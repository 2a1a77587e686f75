"""Campaigns: an audience (a file or rows), a template, a preview, then one confirm.

The design (docs/campaigns.md):

* :func:`prepare` is pure and slow (parse, render, validate every row); doors run it
  outside the write transaction, on a worker thread.
* :func:`save_draft` stores the campaign with the file as uploaded and the preview.
* :func:`confirm` moves the campaign out of ``draft`` in a conditional UPDATE and, in
  the same transaction, charges and queues every accepted row through
  ``submit.commit`` — the bulk path. A second confirm (a double click) finds the
  campaign no longer a draft and changes nothing: one campaign, charged once.
* Pause holds the messages not yet claimed (state ``held``, which no dispatcher
  claims); resume puts them back; cancel cancels what has not left and refunds it in
  one ledger row. The dispatcher's hot path is unchanged.
* ``done`` is derived, not stored: a campaign sending with nothing left waiting is done.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from centauro.domain import numbers, templates, text
from centauro.domain.errors import (
    Conflict,
    InvalidNumber,
    InvalidRequest,
    InvalidText,
    NotFound,
)
from centauro.domain.ids import MAX_ID
from centauro.domain.models import Account
from centauro.domain.states import SPANISH_NAMES
from centauro.service import campaign_files, contacts, events, submit
from centauro.service.campaign_files import Table
from centauro.store import accounts as account_store
from centauro.store import campaigns as store
from centauro.store import contacts as contact_store
from centauro.store import suppressions as suppression_store
from centauro.store.campaigns import Campaign

__all__ = ["Campaign", "Prepared", "Progress", "Report", "Spec"]

SOURCE = "campaign"
VALIDITY = timedelta(hours=24)
SAMPLE_ROWS = 5
#: Problems listed one by one in the preview (all are counted).
LISTED_PROBLEMS = 1000
MAX_SCHEDULE_AHEAD = timedelta(days=366)

REASONS: dict[str, str] = {
    "invalid_number": "número inválido",
    "duplicate": "número repetido",
    "opted_out": "pidió no recibir mensajes",
    "missing_field": "faltan datos para la plantilla",
    "invalid_text": "texto con caracteres no permitidos",
    "text_too_long": "texto demasiado largo",
}

WAITING = ("queued", "scheduled", "held")
FAILED = ("failed", "rejected", "undelivered", "expired")


@dataclass(frozen=True, slots=True)
class Spec:
    """What the customer chose: a name, the template and which columns are what."""

    name: str
    template: str
    number_column: str
    name_column: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    row: int  #: the row as a spreadsheet numbers it (the header is row 1)
    number: str
    reason: str  #: a key of REASONS
    detail: str = ""


@dataclass(slots=True)
class Prepared:
    """A validated audience: the accepted rows as submit items, and what was left out."""

    spec: Spec
    table: Table
    items: list[submit.Item]
    problems: list[Problem]
    sample: list[dict[str, Any]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  #: each item's row in the file

    @property
    def cost(self) -> int:
        return sum(i.segments for i in self.items)


def read_file(data: bytes, filename: str) -> Table:
    return campaign_files.read(data, filename)


def rows_table(rows: Sequence[Mapping[str, object]]) -> Table:
    """Rows as another door hands them in (JSON, a contact list) as a :class:`Table`."""
    if not rows:
        raise InvalidRequest("La campaña no tiene filas.")
    if len(rows) > campaign_files.MAX_ROWS:
        raise campaign_files.TooManyRows()
    columns: dict[str, None] = {}
    for row in rows:
        for k in row:
            columns.setdefault(str(k), None)
    out = [{str(k): "" if v is None else str(v).strip() for k, v in row.items()} for row in rows]
    return Table(list(columns), out, "rows")


#: A contact list's columns for the number (E.164) and the name: the mapping a campaign
#: from a list starts with (see :func:`list_table`).
LIST_NUMBER = "numero"
LIST_NAME = "nombre"
#: ``source_format`` of a campaign whose audience is a contact list (kept as JSON rows).
LIST_FORMAT = "list"


def list_table(conn: Connection, account_id: int, list_id: int) -> tuple[Table, str]:
    """A contact list as a campaign's audience, and the source name to keep with it.

    The campaign keeps a snapshot of the list as it was at the preview (the rows as
    JSON), so what is confirmed and charged is what was previewed; later changes to the
    list do not move a draft. Columns: ``numero`` (E.164), ``nombre`` and the list's
    fields. Opted-out contacts stay in: :func:`save_draft` shows them as ``opted_out``
    rows, never charged. Another account's list, like a missing one, is a NotFound.
    """
    found = contact_store.get_list(conn, account_id, list_id) if 0 < list_id <= MAX_ID else None
    if found is None:
        raise NotFound("No existe esa lista de contactos.")
    rows = contacts.audience(conn, account_id, list_id)
    if not rows:
        raise InvalidRequest(f"La lista de contactos «{found.name}» no tiene contactos.")
    table = rows_table(rows)
    return Table(table.columns, table.rows, LIST_FORMAT), f"Lista: {found.name}"


def prepare(table: Table, spec: Spec, *, country: str, max_segments: int) -> Prepared:
    """Check the mapping and template, then render and validate every row (pure)."""
    number_col, name_col = _mapped_columns(table, spec)
    by_key = {templates.key(c): c for c in table.columns}
    template = templates.parse(spec.template, table.columns)
    fields = [(f, by_key[f]) for f in template.fields]
    default_country = numbers.parse_country(country)
    infos: dict[str, text.TextInfo] = {}
    seen: set[str] = set()
    items: list[submit.Item] = []
    problems: list[Problem] = []
    item_rows: list[int] = []
    for index, row in enumerate(table.rows, start=2):
        raw = row.get(number_col, "")
        try:
            phone = numbers.normalize(raw, default_country)
        except InvalidNumber:
            problems.append(Problem(index, raw, "invalid_number"))
            continue
        if phone.e164 in seen:
            problems.append(Problem(index, raw, "duplicate"))
            continue
        body, missing = templates.render(template, {f: row.get(c, "") for f, c in fields})
        if missing:
            problems.append(Problem(index, raw, "missing_field", ", ".join(missing)))
            continue
        info = infos.get(body)
        if info is None:
            try:
                text.check_sendable(body)
            except InvalidText:
                problems.append(Problem(index, raw, "invalid_text"))
                continue
            info = text.analyze(body)
            infos[body] = info
        if info.segments > max_segments:
            problems.append(Problem(index, raw, "text_too_long", f"{info.segments} partes"))
            continue
        seen.add(phone.e164)
        item_rows.append(index)
        person = " ".join(row.get(name_col, "").split())[:200] if name_col else ""
        items.append(
            submit.Item(
                verdict=submit.Verdict.ACCEPTED,
                number=raw,
                national=phone.national,
                e164=phone.e164,
                name=person,
                reference="",
                text=body,
                encoding=info.encoding.value,
                segments=info.segments,
            )
        )
    sample = [
        {"number": i.e164, "name": i.name, "text": i.text, "segments": i.segments}
        for i in items[:SAMPLE_ROWS]
    ]
    return Prepared(spec, table, items, problems, sample, item_rows)


def _mapped_columns(table: Table, spec: Spec) -> tuple[str, str | None]:
    """The file's columns for the number and the name; raise if the mapping is wrong."""
    name = spec.name.strip()
    if not name or len(name) > 200:
        raise InvalidRequest("Escriba un nombre para la campaña (hasta 200 caracteres).")
    by_key = {templates.key(c): c for c in table.columns}
    number_col = by_key.get(templates.key(spec.number_column))
    if number_col is None:
        raise InvalidRequest(
            f"La columna del número «{spec.number_column}» no está en el archivo. "
            "Columnas: " + ", ".join(table.columns)
        )
    name_col = None
    if spec.name_column:
        name_col = by_key.get(templates.key(spec.name_column))
        if name_col is None:
            raise InvalidRequest(
                f"La columna del nombre «{spec.name_column}» no está en el archivo."
            )
    return number_col, name_col


def _drop_opted_out(conn: Connection, account_id: int, prepared: Prepared) -> None:
    suppressed = suppression_store.among(conn, account_id, [i.e164 for i in prepared.items])
    if not suppressed:
        return
    kept: list[submit.Item] = []
    kept_rows: list[int] = []
    for row, item in zip(prepared.rows, prepared.items, strict=True):
        if item.e164 in suppressed:
            prepared.problems.append(Problem(row, item.number, "opted_out"))
        else:
            kept.append(item)
            kept_rows.append(row)
    prepared.items, prepared.rows = kept, kept_rows


def _preview_json(prepared: Prepared) -> str:
    counts = Counter(p.reason for p in prepared.problems)
    listed = sorted(prepared.problems, key=lambda p: p.row)[:LISTED_PROBLEMS]
    return json.dumps(
        {
            "sample": prepared.sample,
            "problem_counts": dict(counts),
            "problems": [
                {"row": p.row, "number": p.number, "reason": p.reason, "detail": p.detail}
                for p in listed
            ],
        },
        ensure_ascii=False,
    )


def _source_bytes(table: Table, data: bytes | None) -> bytes:
    if data is not None:
        return data
    return json.dumps({"columns": table.columns, "rows": table.rows}, ensure_ascii=False).encode()


def save_draft(
    conn: Connection,
    *,
    account: Account,
    prepared: Prepared,
    data: bytes | None,
    filename: str,
    now: datetime,
) -> Campaign:
    """Store a draft: the source as given (``data``; None: the rows as JSON), the mapping,
    and the preview with opted-out numbers already left out."""
    _drop_opted_out(conn, account.id, prepared)
    spec = prepared.spec
    campaign_id = store.insert_campaign(
        conn,
        source=_source_bytes(prepared.table, data),
        account_id=account.id,
        name=spec.name.strip(),
        template=spec.template,
        state="draft",
        source_name=filename[:200],
        source_format=prepared.table.format,
        mapping=json.dumps(
            {
                "columns": prepared.table.columns,
                "number": spec.number_column,
                "name": spec.name_column,
            },
            ensure_ascii=False,
        ),
        preview=_preview_json(prepared),
        total_rows=len(prepared.table.rows),
        accepted=len(prepared.items),
        rejected=len(prepared.problems),
        cost=prepared.cost,
        created_at=now,
        updated_at=now,
    )
    draft = get(conn, campaign_id, account_id=account.id)
    _remember(draft, prepared)
    return draft


def get(conn: Connection, campaign_id: int, *, account_id: int | None = None) -> Campaign:
    found = store.by_id(conn, campaign_id, account_id=account_id)
    if found is None:
        raise NotFound(f"No existe la campaña {campaign_id}.")
    return found


def preview_of(campaign: Campaign) -> dict[str, Any]:
    """The stored preview: ``sample``, ``problem_counts`` and the listed ``problems``."""
    found: dict[str, Any] = json.loads(campaign.preview)
    return found


def owner(conn: Connection, campaign: Campaign) -> Account:
    """The campaign's account as it is now (an operator's door confirms on its behalf)."""
    found = account_store.by_id(conn, campaign.account_id)
    if found is None:
        raise NotFound(f"No existe la cuenta {campaign.account_id}.")
    return found


def mapping_of(campaign: Campaign) -> dict[str, Any]:
    """The stored mapping: ``columns``, ``number`` and ``name`` (None: no name column)."""
    found: dict[str, Any] = json.loads(campaign.mapping)
    return found


def find(
    conn: Connection, *, account_id: int | None, before_id: int | None = None, limit: int = 50
) -> list[Campaign]:
    return store.listing(conn, account_id=account_id, before_id=before_id, limit=limit)


#: Drafts this process validated last, so that their confirm charges and queues without
#: parsing and validating the file again (the preview and the confirm are usually seconds
#: apart, on the same process). Keyed by the draft's id and its last change; another
#: process, or a change in between, simply prepares again.
_RECENT: OrderedDict[tuple[int, datetime], Prepared] = OrderedDict()
_RECENT_LOCK = threading.Lock()
RECENT_DRAFTS = 2


def _remember(campaign: Campaign, prepared: Prepared) -> None:
    with _RECENT_LOCK:
        _RECENT[(campaign.id, campaign.updated_at)] = prepared
        while len(_RECENT) > RECENT_DRAFTS:
            _RECENT.popitem(last=False)


def _recalled(campaign: Campaign) -> Prepared | None:
    with _RECENT_LOCK:
        return _RECENT.get((campaign.id, campaign.updated_at))


def _forget(campaign_id: int) -> None:
    with _RECENT_LOCK:
        for key in [k for k in _RECENT if k[0] == campaign_id]:
            del _RECENT[key]


def source_table(conn: Connection, campaign: Campaign) -> Table:
    """The campaign's kept source, parsed again."""
    data = store.source_of(conn, campaign.id)
    if campaign.source_format in ("rows", LIST_FORMAT):
        kept = json.loads(data)
        return Table(kept["columns"], kept["rows"], "rows")
    return campaign_files.read(data, campaign.source_name)


def reload(conn: Connection, campaign_id: int, *, account: Account, max_segments: int) -> Prepared:
    """Re-read a draft's kept source with its mapping (to confirm it). Pure but for reads."""
    campaign = get(conn, campaign_id, account_id=account.id)
    if campaign.state != "draft":
        raise Conflict(_not_draft(campaign))
    if not campaign.template:
        raise InvalidRequest("Falta escribir el mensaje de la campaña.")
    recalled = _recalled(campaign)
    if recalled is not None and recalled.spec.template == campaign.template:
        return recalled
    mapping = mapping_of(campaign)
    spec = Spec(campaign.name, campaign.template, mapping["number"], mapping.get("name"))
    table = source_table(conn, campaign)
    return prepare(table, spec, country=account.country, max_segments=max_segments)


_NUMBER_HINTS = ("tel", "cel", "movil", "móvil", "numero", "número", "phone", "whatsapp")
_NAME_HINTS = ("nombre", "name", "cliente")


def _guess(columns: list[str], hints: tuple[str, ...]) -> str | None:
    for column in columns:
        if any(h in templates.key(column) for h in hints):
            return column
    return None


def save_upload(
    conn: Connection,
    *,
    account: Account,
    name: str,
    table: Table,
    data: bytes | None,
    filename: str,
    now: datetime,
) -> Campaign:
    """The panel's first step: keep the file (``data``; None: the table's rows, as for a
    contact list from :func:`list_table`) as a draft with no template yet, and which
    columns hold the number and the name (a list's ``numero`` and ``nombre``; a file's
    guessed from its headers)."""
    if not name.strip() or len(name.strip()) > 200:
        raise InvalidRequest("Escriba un nombre para la campaña (hasta 200 caracteres).")
    if table.format == LIST_FORMAT:
        number: str = LIST_NUMBER
        person: str | None = LIST_NAME
    else:
        number = _guess(table.columns, _NUMBER_HINTS) or table.columns[0]
        person = _guess(table.columns, _NAME_HINTS)
    campaign_id = store.insert_campaign(
        conn,
        source=_source_bytes(table, data),
        account_id=account.id,
        name=name.strip(),
        template="",
        state="draft",
        source_name=filename[:200],
        source_format=table.format,
        mapping=json.dumps(
            {
                "columns": table.columns,
                "number": number,
                "name": person,
            },
            ensure_ascii=False,
        ),
        preview=json.dumps({"sample": [], "problem_counts": {}, "problems": []}),
        total_rows=len(table.rows),
        accepted=0,
        rejected=0,
        cost=0,
        created_at=now,
        updated_at=now,
    )
    return get(conn, campaign_id, account_id=account.id)


def configure(
    conn: Connection, campaign_id: int, *, account: Account, prepared: Prepared, now: datetime
) -> Campaign:
    """Set a draft's mapping and template, with the preview they give."""
    _drop_opted_out(conn, account.id, prepared)
    spec = prepared.spec
    if not store.move(
        conn, campaign_id, from_states=["draft"], to_state="draft", now=now,
        template=spec.template,
        mapping=json.dumps(
            {"columns": prepared.table.columns, "number": spec.number_column,
             "name": spec.name_column},
            ensure_ascii=False,
        ),
        preview=_preview_json(prepared),
        accepted=len(prepared.items),
        rejected=len(prepared.problems),
        cost=prepared.cost,
    ):  # fmt: skip
        raise Conflict(_not_draft(get(conn, campaign_id, account_id=account.id)))
    draft = get(conn, campaign_id, account_id=account.id)
    _remember(draft, prepared)
    return draft


def _not_draft(campaign: Campaign) -> str:
    return (
        f"La campaña {campaign.id} ya fue confirmada (está "
        f"{STATE_NAMES.get(campaign.state, campaign.state)}); no se cobró de nuevo."
    )


def confirm(
    conn: Connection,
    campaign_id: int,
    *,
    account: Account,
    prepared: Prepared,
    schedule_at: datetime | None,
    now: datetime,
) -> Campaign:
    """Charge and queue a draft, all or nothing; a second confirm is a :class:`Conflict`."""
    if schedule_at is not None and schedule_at > now + MAX_SCHEDULE_AHEAD:
        raise InvalidRequest("La fecha de envío puede estar a lo sumo 366 días adelante.")
    due = schedule_at if schedule_at is not None and schedule_at > now else None
    state = "scheduled" if due is not None else "sending"
    if not store.move(
        conn, campaign_id, from_states=["draft"], to_state=state, now=now,
        confirmed_at=now, schedule_at=due or now,
    ):  # fmt: skip
        raise Conflict(_not_draft(get(conn, campaign_id, account_id=account.id)))
    _drop_opted_out(conn, account.id, prepared)
    if not prepared.items:
        raise InvalidRequest("La campaña no tiene ningún número válido para enviar.")
    receipt = submit.commit(
        conn,
        account=account,
        planned=submit.Plan(prepared.items, prepared.cost),
        source=SOURCE,
        now=now,
        timing=submit.Timing(
            schedule_at=due, validity=VALIDITY, category="marketing", campaign_id=campaign_id
        ),
    )
    accepted = sum(1 for m in receipt.message_ids if m is not None)
    store.move(
        conn,
        campaign_id,
        from_states=[state],
        to_state=state,
        now=now,
        accepted=accepted,
        rejected=len(prepared.table.rows) - accepted,
        cost=receipt.cost,
        charged=receipt.cost,
        preview=_preview_json(prepared),
    )
    _forget(campaign_id)
    return get(conn, campaign_id)


@dataclass(frozen=True, slots=True)
class Progress:
    """A campaign with its derived state and counters, for the progress bar and report."""

    campaign: Campaign
    state: str
    counts: dict[str, int]
    delivered: int
    failed: int
    pending: int  #: still waiting to leave, or sent and waiting for a receipt
    cancelled: int
    left: int  #: handed to a carrier or finished
    percent: int  #: of the accepted messages, how many have left (0–100)


def progress(conn: Connection, campaign: Campaign, now: datetime) -> Progress:
    by_state = store.counts(conn, campaign.id)
    counts = {s: n for s, (n, _) in by_state.items()}
    waiting = sum(counts.get(s, 0) for s in WAITING)
    state = campaign.state
    if state == "scheduled" and campaign.schedule_at is not None and campaign.schedule_at <= now:
        state = "sending"
    if state == "sending" and waiting == 0:
        state = "done"
    total = sum(counts.values())
    delivered = counts.get("delivered", 0)
    failed = sum(counts.get(s, 0) for s in FAILED)
    cancelled = counts.get("cancelled", 0)
    pending = waiting + counts.get("sent", 0)
    left = total - waiting
    percent = 100 if total and left == total else (left * 100 // total if total else 0)
    return Progress(campaign, state, counts, delivered, failed, pending, cancelled, left, percent)


def show(conn: Connection, campaign_id: int, *, account_id: int | None, now: datetime) -> Progress:
    return progress(conn, get(conn, campaign_id, account_id=account_id), now)


def pause(conn: Connection, campaign_id: int, *, account_id: int, now: datetime) -> Progress:
    current = show(conn, campaign_id, account_id=account_id, now=now)
    if current.state not in ("scheduled", "sending") or not store.move(
        conn, campaign_id, from_states=["scheduled", "sending"], to_state="paused", now=now
    ):
        raise Conflict(f"La campaña está {STATE_NAMES[current.state]}: no se puede pausar.")
    store.hold(conn, campaign_id, now)
    return show(conn, campaign_id, account_id=account_id, now=now)


def resume(conn: Connection, campaign_id: int, *, account_id: int, now: datetime) -> Progress:
    campaign = get(conn, campaign_id, account_id=account_id)
    later = campaign.schedule_at is not None and campaign.schedule_at > now
    if not store.move(
        conn, campaign_id, from_states=["paused"],
        to_state="scheduled" if later else "sending", now=now,
    ):  # fmt: skip
        raise Conflict(
            f"La campaña está {STATE_NAMES.get(campaign.state, campaign.state)}: "
            "solo se reanuda una campaña en pausa."
        )
    due = campaign.schedule_at if later and campaign.schedule_at else now
    store.release(conn, campaign_id, due=due, expires=due + VALIDITY, now=now)
    return show(conn, campaign_id, account_id=account_id, now=now)


def cancel(conn: Connection, campaign_id: int, *, account_id: int, now: datetime) -> Progress:
    """Cancel what has not left and refund it (one ledger row); sent messages stay."""
    current = show(conn, campaign_id, account_id=account_id, now=now)
    if current.state in ("done", "cancelled") or not store.move(
        conn, campaign_id, from_states=["draft", "scheduled", "sending", "paused"],
        to_state="cancelled", now=now,
    ):  # fmt: skip
        raise Conflict(f"La campaña está {STATE_NAMES[current.state]}: no se puede cancelar.")
    cancelled = store.cancel_open(conn, campaign_id, now)
    refund = sum(cost for _, cost in cancelled)
    if refund:
        balance = account_store.add_credit(conn, account_id=account_id, amount=refund, now=now)
        account_store.record_ledger(
            conn,
            account_id=account_id,
            kind="refund",
            amount=refund,
            balance_after=balance or 0,
            now=now,
            message_id=min(m for m, _ in cancelled),
            messages=len(cancelled),
            note=f"reembolso: campaña {campaign_id} cancelada",
        )
        store.add_refund(conn, campaign_id, refund, now)
    events.status_changed(conn, [m for m, _ in cancelled], now)
    return show(conn, campaign_id, account_id=account_id, now=now)


@dataclass(frozen=True, slots=True)
class Report:
    progress: Progress
    reasons: list[tuple[str, str, int]]  #: (state, error, messages) of those not delivered


def report(conn: Connection, campaign_id: int, *, account_id: int | None, now: datetime) -> Report:
    current = show(conn, campaign_id, account_id=account_id, now=now)
    return Report(current, store.reasons(conn, campaign_id))


CSV_HEADER = ["id", "numero", "nombre", "estado", "motivo", "partes", "costo", "enviado", "final"]


def report_rows(
    conn: Connection, campaign_id: int, *, account_id: int | None
) -> Iterator[list[str]]:
    """The report as CSV rows (Spanish header and state names), messages in id order."""
    get(conn, campaign_id, account_id=account_id)
    yield CSV_HEADER
    for mid, to, name, status, error, segments, cost, sent_at, done_at in store.message_rows(
        conn, campaign_id
    ):
        yield [
            str(mid), to, name, SPANISH_NAMES.get(status, status), error or "",
            str(segments), str(cost),
            sent_at.isoformat() if sent_at else "", done_at.isoformat() if done_at else "",
        ]  # fmt: skip


STATE_NAMES: dict[str, str] = {
    "draft": "en borrador",
    "scheduled": "programada",
    "sending": "enviándose",
    "paused": "en pausa",
    "cancelled": "cancelada",
    "done": "terminada",
}
