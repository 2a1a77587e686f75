"""``centauro routes …``: which connector carries which numbers."""

from __future__ import annotations

from typing import Annotated

import typer

from centauro.cli import output, texts
from centauro.cli.context import now, snapshot, transaction

app = typer.Typer(help="Rutas: qué conector lleva cada prefijo de número (E.164).")

JsonFlag = Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")]


@app.command("add")
def add(
    ctx: typer.Context,
    connector: Annotated[str, typer.Option("--connector", help="Nombre del conector.")],
    prefix: Annotated[
        str,
        typer.Option("--prefix", help="Prefijo E.164 sin '+', p. ej. 58414 (Movistar VE)."),
    ] = "",
    default: Annotated[
        bool, typer.Option("--default", help="Ruta por defecto (cualquier número).")
    ] = False,
    priority: Annotated[
        int, typer.Option("--priority", help="Menor va primero entre rutas del mismo prefijo.")
    ] = 0,
    alphanumeric: Annotated[
        bool,
        typer.Option(
            "--alphanumeric/--no-alphanumeric",
            help=(
                "Si el conector lleva remitentes alfanuméricos. Con --no-alphanumeric, esos "
                "mensajes toman otra ruta; si ninguna los lleva, fallan y se reembolsan."
            ),
        ),
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Añade una ruta: los números con ese prefijo van por ese conector."""
    from centauro.service import carriers

    if not prefix and not default:
        output.fail(texts.ROUTE_NEEDS_PREFIX, as_json=as_json, code=2)
    with transaction(ctx, as_json=as_json) as conn:
        route = carriers.add_route(
            conn,
            prefix=prefix,
            connector=connector,
            priority=priority,
            now=now(),
            allow_alphanumeric=alphanumeric,
        )
    row = {
        "id": route.id,
        "prefix": route.prefix,
        "connector": route.connector,
        "priority": route.priority,
        "allow_alphanumeric": route.allow_alphanumeric,
    }
    if as_json:
        output.emit_json(row)
    else:
        output.console.print(
            texts.ROUTE_ADDED.format(
                prefix=output.safe(route.prefix or "*"), connector=output.safe(connector)
            )
        )


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Lista las rutas, de la más específica a la más general."""
    from centauro.service import carriers

    with snapshot(ctx, as_json=as_json) as conn:
        rows = [
            {
                "id": r.id,
                "prefix": r.prefix,
                "connector": r.connector,
                "priority": r.priority,
                "allow_alphanumeric": r.allow_alphanumeric,
            }
            for r in carriers.list_routes(conn)
        ]
    if as_json:
        output.emit_json(rows)
    elif not rows:
        output.console.print(texts.NO_ROUTES)
    else:
        for row in rows:
            row["prefix"] = row["prefix"] or texts.DEFAULT_ROUTE
        output.table(rows, ["id", "prefix", "connector", "priority", "allow_alphanumeric"])


@app.command("remove")
def remove(
    ctx: typer.Context,
    route_id: Annotated[int, typer.Argument(help="ID de la ruta (ver routes list).")],
    as_json: JsonFlag = False,
) -> None:
    """Elimina una ruta."""
    from centauro.service import carriers

    with transaction(ctx, as_json=as_json) as conn:
        carriers.remove_route(conn, route_id)
    if as_json:
        output.emit_json({"removed": route_id})
    else:
        output.console.print(texts.ROUTE_REMOVED.format(id=route_id))
