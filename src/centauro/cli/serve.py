"""``centauro serve``: the API and the delivery dispatcher in one process."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from centauro.cli import output, texts
from centauro.cli.context import now, settings, store
from centauro.domain.errors import CentauroError

DEMO_NAME = "demo"
DEMO_CREDITS = 1000


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Dirección de escucha.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Puerto.")] = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Crea una cuenta de demostración si no existe y muestra sus credenciales.",
        ),
    ] = False,
    migrate_db: Annotated[
        bool,
        typer.Option("--migrate/--no-migrate", help="Aplicar migraciones pendientes al iniciar."),
    ] = True,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Registrar cada petición HTTP.")
    ] = False,
) -> None:
    """Ejecuta el gateway: API compatible CentauroSMS v1.2 + despacho de mensajes."""
    import uvicorn

    from centauro.api.app import create_app
    from centauro.logs import configure_logging

    s = settings(ctx)
    configure_logging(s.log_level)
    if demo:
        _ensure_demo(ctx)
        _ensure_operator(ctx, f"http://{host}:{port}")
    output.console.print(
        texts.SERVING.format(host=host, port=port, db=s.database_url), soft_wrap=True
    )
    app = create_app(s, migrate=migrate_db)
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=access_log,
        log_level=s.log_level.lower(),
        timeout_graceful_shutdown=10,
        log_config=None,
    )


def _ensure_demo(ctx: typer.Context) -> None:
    from centauro.service import accounts

    with store(ctx) as db:
        try:
            with db.begin() as conn:
                existing = accounts.by_name(conn, DEMO_NAME)
                if existing is not None:
                    output.console.print(texts.DEMO_EXISTS.format(client_id=existing.client_id))
                    return
                created = accounts.create(conn, name=DEMO_NAME, credits=DEMO_CREDITS, now=now())
        except CentauroError as exc:
            output.fail(exc)
    output.console.print(f"[green]{texts.DEMO_CREATED}[/green]")
    output.fields({"client_id": created.client_id, "client_secret": created.client_secret})
    logging.getLogger(__name__).debug("demo account ready")


FIRST_OPERATOR_EMAIL = "admin@localhost"


def _ensure_operator(ctx: typer.Context, base_url: str) -> None:
    """Until an operator can sign in, each demo start prints a link to set a password."""
    from centauro.service import panel_auth

    with store(ctx) as db:
        try:
            with db.begin() as conn:
                made = panel_auth.first_operator(conn, email=FIRST_OPERATOR_EMAIL, now=now())
        except CentauroError as exc:
            output.fail(exc)
    if made is None:
        return
    output.console.print(
        texts.FIRST_OPERATOR.format(email=made.user.email, link=base_url + made.path),
        soft_wrap=True,
    )
