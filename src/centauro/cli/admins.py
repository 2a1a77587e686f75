"""``centauro admins …``: operator users of the web panel."""

from __future__ import annotations

from typing import Annotated

import typer

from centauro.cli import output, texts
from centauro.cli.context import now, transaction

app = typer.Typer(help="Operadores del panel web: crear y dar enlaces para fijar contraseña.")

BaseUrl = Annotated[
    str,
    typer.Option(
        "--base-url",
        help="Dirección pública del panel, para armar el enlace.",
    ),
]
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@app.command("create")
def create(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Correo del operador (su usuario).")],
    base_url: BaseUrl = DEFAULT_BASE_URL,
    as_json: Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")] = False,
) -> None:
    """Crea un operador y muestra un enlace de un solo uso para fijar su contraseña."""
    from centauro.service import panel_auth

    with transaction(ctx, as_json=as_json) as conn:
        made = panel_auth.create_user(conn, email=email, role=panel_auth.OPERATOR, now=now())
    link = base_url.rstrip("/") + made.path
    if as_json:
        output.emit_json({"email": made.user.email, "role": made.user.role, "link": link})
        return
    output.console.print(f"[green]{texts.ADMIN_CREATED.format(email=made.user.email)}[/green]")
    output.console.print(texts.ADMIN_LINK.format(link=link), soft_wrap=True)
