"""``centauro messages …``: look up messages and their delivery state."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from centauro.cli import output, texts
from centauro.cli.context import snapshot
from centauro.domain.models import Message

app = typer.Typer(help="Mensajes: estado, destinatario, segmentos, fechas.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")]


def message_dict(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "account_id": m.account_id,
        "status": m.status.value,
        "to": m.recipient,
        "sender": m.sender,
        "segments": m.segments,
        "encoding": m.encoding,
        "cost": m.cost,
        "text": m.text,
        "reference": m.reference,
        "name": m.name,
        "source": m.source,
        "attempts": m.attempts,
        "connector": m.connector,
        "carrier_id": m.carrier_id,
        "error": m.error,
        "created_at": m.created_at,
        "sent_at": m.sent_at,
        "done_at": m.done_at,
        "updated_at": m.updated_at,
    }


@app.command("show")
def show(
    ctx: typer.Context,
    message_id: Annotated[int, typer.Argument(help="Messageid devuelto al enviar.")],
    as_json: JsonFlag = False,
) -> None:
    """Muestra un mensaje: estado, destinatario, segmentos, codificación, texto y fechas."""
    from centauro.service import messages as service

    with snapshot(ctx, as_json=as_json) as conn:
        message = service.get(conn, message_id)
    if as_json:
        output.emit_json(message_dict(message))
    else:
        output.fields(message_dict(message))


@app.command("list")
def list_(
    ctx: typer.Context,
    account: Annotated[
        str | None, typer.Option("--account", help="client_id de la cuenta.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="queued, sent, delivered, undelivered, expired, rejected o failed.",
        ),
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Destinatario en E.164.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Lista los mensajes más recientes, con filtros."""
    from centauro.service import accounts as account_service
    from centauro.service import messages as service

    with snapshot(ctx, as_json=as_json) as conn:
        account_id = account_service.get(conn, account).id if account else None
        found = service.find(conn, account_id=account_id, status=status, recipient=to, limit=limit)
    rows = [message_dict(m) for m in found]
    if as_json:
        output.emit_json(rows)
    elif not rows:
        output.console.print(texts.NO_MESSAGES)
    else:
        for row in rows:
            row["text"] = row["text"] if len(row["text"]) <= 40 else row["text"][:39] + "…"
        output.table(
            rows, ["id", "account_id", "status", "to", "segments", "encoding", "text", "created_at"]
        )
