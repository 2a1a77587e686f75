"""``centauro db …``: the schema."""

from __future__ import annotations

from typing import Annotated

import typer

from centauro.cli import output, texts
from centauro.cli.context import database

app = typer.Typer(help="Base de datos: aplicar migraciones.")


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Salida JSON.")] = False,
) -> None:
    """Aplica las migraciones pendientes (crea el esquema en una base nueva)."""
    from centauro.store import migrate

    with database(ctx, as_json=as_json) as db:
        revision = migrate.upgrade(db)
    if as_json:
        output.emit_json({"revision": revision})
    else:
        output.console.print(texts.DB_UPGRADED.format(revision=revision))


@app.command("current")
def current(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Salida JSON.")] = False,
) -> None:
    """Muestra la revisión del esquema y la más reciente."""
    from centauro.store import migrate

    with database(ctx, as_json=as_json) as db:
        at = migrate.current(db)
    if as_json:
        output.emit_json({"current": at, "head": migrate.head()})
    else:
        output.console.print(texts.DB_CURRENT.format(current=at or "—", head=migrate.head()))
