"""``centauro campaigns create|confirm|list|show|pause|resume|cancel|report``.

An operator's command on the store, like ``accounts`` and ``messages``: it calls
``service.campaigns`` as the REST API and the panel do. ``create`` reads a CSV or XLSX,
shows the preview (rows left out and why, the cost) and keeps a draft; ``--confirmar``
(or ``confirm ID``) charges and queues it.
"""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer

from centauro.cli import output
from centauro.cli.context import now, settings, snapshot, transaction

if TYPE_CHECKING:
    from centauro.service.campaigns import Progress

app = typer.Typer(help="Campañas: envíos masivos desde un CSV o XLSX con plantilla.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")]
CampaignId = Annotated[int, typer.Argument(metavar="ID", help="Id de la campaña.")]
At = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="Fecha y hora de envío (ISO 8601, p. ej. 2027-01-15T09:00); sin zona, la de "
        "la cuenta. Sin --at: ahora.",
    ),
]


def campaign_dict(p: Progress, *, preview: bool = False) -> dict[str, Any]:
    from centauro.service import campaigns as service

    c = p.campaign
    row: dict[str, Any] = {
        "id": c.id,
        "account_id": c.account_id,
        "name": c.name,
        "state": p.state,
        "estado": service.STATE_NAMES[p.state],
        "rows": c.total_rows,
        "accepted": c.accepted,
        "rejected": c.rejected,
        "cost": c.cost,
        "charged": c.charged,
        "refunded": c.refunded,
        "percent": p.percent,
        "delivered": p.delivered,
        "failed": p.failed,
        "pending": p.pending,
        "cancelled": p.cancelled,
        "schedule_at": c.schedule_at,
        "created_at": c.created_at,
    }
    if preview:
        row["preview"] = service.preview_of(c)
    return row


def _print(p: Progress, as_json: bool, *, preview: bool = False) -> None:
    row = campaign_dict(p, preview=preview)
    if as_json:
        output.emit_json(row)
        return
    shown = row.pop("preview", None)
    output.fields(row)
    if shown:
        from centauro.service.campaigns import REASONS

        for sample in shown["sample"]:
            output.console.print(f"  {sample['number']}: {output.safe(sample['text'])}")
        for reason, n in sorted(shown["problem_counts"].items()):
            output.console.print(f"  {REASONS.get(reason, reason)}: {n} filas")


def _when(at: str | None, timezone: str) -> datetime | None:
    if at is None:
        return None
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        output.fail(f"--at no es una fecha ISO 8601 válida: {at}", code=2)
    return when if when.tzinfo else when.replace(tzinfo=ZoneInfo(timezone))


def _confirm(ctx: typer.Context, campaign_id: int, at: str | None, as_json: bool) -> Progress:
    from centauro.service import campaigns as service

    max_segments = settings(ctx).max_segments
    with snapshot(ctx, as_json=as_json) as conn:
        campaign = service.get(conn, campaign_id)
        account = service.owner(conn, campaign)
        prepared = service.reload(conn, campaign_id, account=account, max_segments=max_segments)
    when = _when(at, account.timezone)
    with transaction(ctx, as_json=as_json) as conn:
        current = service.owner(conn, campaign)
        done = service.confirm(
            conn, campaign_id, account=current, prepared=prepared, schedule_at=when, now=now()
        )
        return service.progress(conn, done, now())


@app.command("create")
def create(
    ctx: typer.Context,
    account: Annotated[str, typer.Option("--account", help="client_id de la cuenta.")],
    name: Annotated[str, typer.Option("--name", help="Nombre de la campaña.")],
    template: Annotated[
        str, typer.Option("--template", help="Texto con campos, p. ej. 'Hola {nombre}'.")
    ],
    file: Annotated[
        Path | None, typer.Argument(metavar="ARCHIVO", help="CSV o XLSX (o use --lista).")
    ] = None,
    list_id: Annotated[
        int | None,
        typer.Option(
            "--lista",
            metavar="ID",
            help="Id de una lista de contactos de la cuenta, en vez de un archivo.",
        ),
    ] = None,
    number_column: Annotated[
        str | None,
        typer.Option("--number-column", help="Columna con el número (con --lista: «numero»)."),
    ] = None,
    name_column: Annotated[
        str | None,
        typer.Option("--name-column", help="Columna con el nombre (con --lista: «nombre»)."),
    ] = None,
    confirm: Annotated[
        bool, typer.Option("--confirmar", help="Confirmar de una vez: cobra y encola.")
    ] = False,
    at: At = None,
    as_json: JsonFlag = False,
) -> None:
    """Crea un borrador desde un archivo o una lista de contactos y muestra la vista
    previa (no cobra nada)."""
    from centauro.service import accounts as account_service
    from centauro.service import campaigns as service

    if (file is None) == (list_id is None):
        output.fail("Indique un ARCHIVO o --lista ID (uno de los dos).", as_json=as_json, code=2)
    data: bytes | None = None
    if file is not None:
        if number_column is None:
            output.fail("Falta la opción --number-column.", as_json=as_json, code=2)
        try:
            data = file.read_bytes()
        except OSError as exc:
            output.fail(f"No se pudo leer {file}: {exc.strerror}", as_json=as_json, code=2)
    max_segments = settings(ctx).max_segments
    with transaction(ctx, as_json=as_json) as conn:
        owner = account_service.get(conn, account)
        if list_id is not None:
            table, source_name = service.list_table(conn, owner.id, list_id)
            spec = service.Spec(
                name,
                template,
                number_column or service.LIST_NUMBER,
                name_column or service.LIST_NAME,
            )
        else:
            assert file is not None
            assert data is not None
            assert number_column is not None
            table, source_name = service.read_file(data, file.name), file.name
            spec = service.Spec(name, template, number_column, name_column)
        prepared = service.prepare(table, spec, country=owner.country, max_segments=max_segments)
        draft = service.save_draft(
            conn, account=owner, prepared=prepared, data=data, filename=source_name, now=now()
        )
        shown = service.progress(conn, draft, now())
    if confirm:
        shown = _confirm(ctx, draft.id, at, as_json)
    _print(shown, as_json, preview=True)


@app.command("confirm")
def confirm_(
    ctx: typer.Context, campaign_id: CampaignId, at: At = None, as_json: JsonFlag = False
) -> None:
    """Confirma un borrador: cobra los créditos y encola (o programa) los mensajes."""
    _print(_confirm(ctx, campaign_id, at, as_json), as_json)


@app.command("list")
def list_(
    ctx: typer.Context,
    account: Annotated[
        str | None, typer.Option("--account", help="client_id de la cuenta.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Lista las campañas más recientes (de una cuenta, o de todas)."""
    from centauro.service import accounts as account_service
    from centauro.service import campaigns as service

    with snapshot(ctx, as_json=as_json) as conn:
        account_id = account_service.get(conn, account).id if account else None
        found = [
            campaign_dict(service.progress(conn, c, now()))
            for c in service.find(conn, account_id=account_id, limit=limit)
        ]
    if as_json:
        output.emit_json(found)
    elif not found:
        output.console.print("No hay campañas.")
    else:
        output.table(
            found, ["id", "account_id", "name", "estado", "rows", "accepted", "cost", "percent"]
        )


@app.command("show")
def show(ctx: typer.Context, campaign_id: CampaignId, as_json: JsonFlag = False) -> None:
    """Muestra una campaña: estado, conteos, costo, avance y vista previa."""
    from centauro.service import campaigns as service

    with snapshot(ctx, as_json=as_json) as conn:
        found = service.show(conn, campaign_id, account_id=None, now=now())
    _print(found, as_json, preview=True)


def _move(ctx: typer.Context, verb: str, campaign_id: int, as_json: bool) -> None:
    from centauro.service import campaigns as service

    with transaction(ctx, as_json=as_json) as conn:
        owner = service.get(conn, campaign_id).account_id
        moved = getattr(service, verb)(conn, campaign_id, account_id=owner, now=now())
    _print(moved, as_json)


@app.command("pause")
def pause(ctx: typer.Context, campaign_id: CampaignId, as_json: JsonFlag = False) -> None:
    """Pausa: lo que no ha salido espera hasta reanudar."""
    _move(ctx, "pause", campaign_id, as_json)


@app.command("resume")
def resume(ctx: typer.Context, campaign_id: CampaignId, as_json: JsonFlag = False) -> None:
    """Reanuda una campaña en pausa."""
    _move(ctx, "resume", campaign_id, as_json)


@app.command("cancel")
def cancel(ctx: typer.Context, campaign_id: CampaignId, as_json: JsonFlag = False) -> None:
    """Cancela: lo que no ha salido se cancela y se reembolsa."""
    _move(ctx, "cancel", campaign_id, as_json)


@app.command("report")
def report(
    ctx: typer.Context,
    campaign_id: CampaignId,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", help="Escribir el detalle por mensaje en este CSV ('-': salida)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Informe: entregados, fallidos y pendientes, con los motivos; CSV por mensaje."""
    from centauro.service import campaigns as service

    with snapshot(ctx, as_json=as_json) as conn:
        found = service.report(conn, campaign_id, account_id=None, now=now())
        rows = list(service.report_rows(conn, campaign_id, account_id=None)) if csv_out else []
    if csv_out is not None:
        if str(csv_out) == "-":
            csv.writer(sys.stdout).writerows(rows)
            return
        with csv_out.open("w", newline="", encoding="utf-8-sig") as f:
            csv.writer(f).writerows(rows)
    data = campaign_dict(found.progress)
    data["reasons"] = [{"state": s, "error": e, "messages": n} for s, e, n in found.reasons]
    if as_json:
        output.emit_json(data)
        return
    reasons = data.pop("reasons")
    output.fields(data)
    for r in reasons:
        output.console.print(f"  {r['state']}: {r['error'] or '-'} ({r['messages']})")
