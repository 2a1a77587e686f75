"""``centauro accounts smpp-password`` and ``centauro smpp-clients``: the operator's side
of the SMPP server customers bind to (docs/smpp-server.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from centauro.cli import output, texts
from centauro.cli.context import now, snapshot, transaction

JsonFlag = Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")]


def smpp_password(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Argument(help="client_id de la cuenta (su system_id SMPP).")],
    max_binds: Annotated[
        int | None,
        typer.Option("--max-binds", min=1, help="Conexiones (binds) simultáneas permitidas."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Asigna una contraseña SMPP nueva (8 caracteres); la anterior deja de funcionar."""
    from centauro.service import smpp

    with transaction(ctx, as_json=as_json) as conn:
        account, password = smpp.set_password(conn, client_id, now(), max_binds=max_binds)
    data = {
        "client_id": account.client_id,
        "system_id": smpp.system_id_of(account.client_id),
        "password": password,
    }
    if max_binds is not None:
        data["max_binds"] = str(max_binds)
    if as_json:
        output.emit_json(data)
        return
    output.console.print(f"[green]{texts.SMPP_CREDENTIAL_NOTICE}[/green]")
    output.fields(data)


clients_app = typer.Typer(help="Clientes conectados por SMPP al servidor SMPP de Centauro.")


@clients_app.command("status")
def status(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Binds por cuenta, ventana en uso, envíos/s y confirmaciones en espera."""
    from centauro.service import smpp

    with snapshot(ctx, as_json=as_json) as conn:
        rows = smpp.clients_status(conn, now())
    if as_json:
        output.emit_json(rows)
        return
    if not rows:
        output.console.print(texts.SMPP_NO_CLIENTS)
        return
    shown = [
        {
            **r,
            "binds": ", ".join(f"{k}={v}" for k, v in sorted(r["binds"].items())) or "-",
            "window": f"{r['window_used']}/{r['window']}",
        }
        for r in rows
    ]
    output.table(shown, ["system_id", "name", "binds", "window", "submits_per_s", "waiting"])
