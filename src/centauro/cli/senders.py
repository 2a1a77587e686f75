"""``centauro senders add|list|remove|default``: the sender IDs the operator grants.

An operator command (it opens the store, like ``accounts``): customers cannot grant
themselves a sender, they only name a granted one when they send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from centauro.cli import output, texts
from centauro.cli.context import now, snapshot, transaction

if TYPE_CHECKING:
    from centauro.service.senders import SenderId

app = typer.Typer(
    help=(
        "Remitentes (sender IDs) de cada cuenta: códigos cortos, números largos y nombres "
        "alfanuméricos de hasta 11 caracteres GSM-7, y cuál es el predeterminado."
    )
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")]
ClientId = Annotated[str, typer.Argument(help="client_id de la cuenta.")]
Value = Annotated[
    str,
    typer.Argument(
        metavar="REMITENTE",
        help="Código corto (2020), número internacional (+584141234567) o nombre (Centauro).",
    ),
]


def _row(s: SenderId) -> dict[str, Any]:
    return {
        "value": s.value,
        "kind": s.kind,
        "is_default": s.is_default,
        "created_at": s.created_at,
    }


@app.command("add")
def add(
    ctx: typer.Context,
    client_id: ClientId,
    value: Value,
    default: Annotated[
        bool, typer.Option("--default", help="Hacerlo el remitente predeterminado.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Autoriza un remitente para la cuenta (el primero queda como predeterminado)."""
    from centauro.service import accounts, senders

    with transaction(ctx, as_json=as_json) as conn:
        account = accounts.get(conn, client_id)
        added = senders.add(conn, account, value, now=now(), default=default)
    if as_json:
        output.emit_json(_row(added))
        return
    template = texts.SENDER_ADDED_DEFAULT if added.is_default else texts.SENDER_ADDED
    output.console.print(
        template.format(
            client_id=output.safe(client_id),
            value=output.safe(added.value),
            kind=texts.SENDER_KINDS.get(added.kind, added.kind),
        )
    )


@app.command("list")
def list_(ctx: typer.Context, client_id: ClientId, as_json: JsonFlag = False) -> None:
    """Lista los remitentes de la cuenta, el predeterminado primero."""
    from centauro.service import accounts, senders

    with snapshot(ctx, as_json=as_json) as conn:
        rows = [_row(s) for s in senders.listing(conn, accounts.get(conn, client_id))]
    if as_json:
        output.emit_json(rows)
    elif not rows:
        output.console.print(texts.NO_SENDERS)
    else:
        for row in rows:
            row["kind"] = texts.SENDER_KINDS.get(row["kind"], row["kind"])
        output.table(rows, ["value", "kind", "is_default", "created_at"])


@app.command("remove")
def remove(
    ctx: typer.Context, client_id: ClientId, value: Value, as_json: JsonFlag = False
) -> None:
    """Retira un remitente de la cuenta (los mensajes ya aceptados lo conservan)."""
    from centauro.service import accounts, senders

    with transaction(ctx, as_json=as_json) as conn:
        removed = senders.remove(conn, accounts.get(conn, client_id), value)
    if as_json:
        output.emit_json({"value": removed, "removed": True})
    else:
        output.console.print(
            texts.SENDER_REMOVED.format(
                client_id=output.safe(client_id), value=output.safe(removed)
            )
        )


@app.command("default")
def default(
    ctx: typer.Context, client_id: ClientId, value: Value, as_json: JsonFlag = False
) -> None:
    """Elige el remitente predeterminado: el de los envíos que no nombran uno."""
    from centauro.service import accounts, senders

    with transaction(ctx, as_json=as_json) as conn:
        chosen = senders.set_default(conn, accounts.get(conn, client_id), value)
    if as_json:
        output.emit_json(_row(chosen))
    else:
        output.console.print(
            texts.SENDER_DEFAULT.format(
                client_id=output.safe(client_id), value=output.safe(chosen.value)
            )
        )
