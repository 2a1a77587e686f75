"""``centauro inbound …``: messages handsets sent to our numbers (MO)."""

from __future__ import annotations

from typing import Annotated

import typer

from centauro.cli import output, texts
from centauro.cli.context import snapshot

app = typer.Typer(help="Mensajes recibidos (MO) desde los teléfonos.")


@app.command("list")
def list_(
    ctx: typer.Context,
    sender: Annotated[str | None, typer.Option("--from", help="Solo de este número.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")] = False,
) -> None:
    """Lista los mensajes recibidos más recientes."""
    from centauro.service import inbound

    with snapshot(ctx, as_json=as_json) as conn:
        found = inbound.listing(conn, sender=sender, limit=limit)
    rows = [
        {
            "id": m.id,
            "from": m.sender,
            "to": m.recipient,
            "text": m.text,
            "connector": m.connector,
            "received_at": m.received_at,
            "parts": m.parts,
            "complete": m.complete,
        }
        for m in found
    ]
    if as_json:
        output.emit_json(rows)
    elif not rows:
        output.console.print(texts.NO_INBOUND)
    else:
        # "complete": a message given up on (a part never came) must not read as whole.
        columns = ["id", "from", "to", "text", "connector", "received_at", "parts", "complete"]
        output.table(rows, columns)
