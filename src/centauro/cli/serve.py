"""``centauro serve``: the API and the delivery dispatcher in one process."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import typer

from centauro.cli import output, texts
from centauro.cli.context import check_reachable, now, settings, transaction
from centauro.config import masked_url
from centauro.domain.errors import CentauroError

if TYPE_CHECKING:
    from centauro.api.app import Door
    from centauro.config import Settings

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
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            metavar="auto|json|console",
            help="Formato del registro: legible en una terminal, JSON si no (auto); "
            "o CENTAURO_LOG_FORMAT.",
        ),
    ] = None,
    smpp_port: Annotated[
        int | None,
        typer.Option(
            "--smpp-port",
            min=0,
            max=65535,
            help="Puerto del servidor SMPP para clientes (0: ninguno). [env: CENTAURO_SMPP_PORT]",
        ),
    ] = None,
) -> None:
    """Ejecuta el gateway: API compatible CentauroSMS v1.2 + despacho de mensajes."""
    import uvicorn

    from centauro.api.app import create_app
    from centauro.api.protocol import HttpLimits, protocol_for
    from centauro.logs import FORMATS, configure_logging
    from centauro.process import limit_malloc_arenas

    limit_malloc_arenas()

    s = settings(ctx, log_format=log_format)
    if s.log_format not in FORMATS:
        output.fail(texts.BAD_LOG_FORMAT.format(value=s.log_format), code=2)
    configure_logging(s.log_level, s.log_format)
    check_reachable(ctx)
    if demo:
        _ensure_demo(ctx)
        _ensure_operator(ctx, f"http://{host}:{port}")
    output.console.print(
        texts.SERVING.format(host=host, port=port, db=masked_url(s.database_url)), soft_wrap=True
    )
    try:
        app = create_app(s, migrate=migrate_db, doors=_smpp_door(s, host, smpp_port))
    except CentauroError as exc:  # a setting the app refuses (CENTAURO_SECRET_KEY too short)
        output.fail(exc, code=2)
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http=protocol_for(HttpLimits.from_settings(s)),
        access_log=access_log,
        log_level=s.log_level.lower(),
        timeout_graceful_shutdown=10,
        log_config=None,
    )


def _smpp_door(s: Settings, host: str, port: int | None) -> list[Door]:
    """The SMPP server beside the API, when a port is given (flag or CENTAURO_SMPP_PORT)."""
    port = s.smpp_port if port is None else port
    if not port:
        return []
    from centauro import smpp_server

    smpp_host = s.smpp_host or host
    output.console.print(texts.SMPP_SERVING.format(host=smpp_host, port=port), soft_wrap=True)
    return [smpp_server.door(smpp_host, port)]


def _ensure_demo(ctx: typer.Context) -> None:
    from centauro.service import accounts
    from centauro.service.sealing import Sealer

    with transaction(ctx) as conn:
        existing = accounts.by_name(conn, DEMO_NAME)
        if existing is not None:
            output.console.print(
                texts.DEMO_EXISTS.format(client_id=output.safe(existing.client_id))
            )
            return
        created = accounts.create(
            conn,
            name=DEMO_NAME,
            credits=DEMO_CREDITS,
            now=now(),
            sealer=Sealer(settings(ctx).secret_key),
        )
    output.console.print(f"[green]{texts.DEMO_CREATED}[/green]")
    output.fields({"client_id": created.client_id, "client_secret": created.client_secret})
    logging.getLogger(__name__).debug("demo account ready")


FIRST_OPERATOR_EMAIL = "admin@localhost"


def _ensure_operator(ctx: typer.Context, base_url: str) -> None:
    """Until an operator can sign in, each demo start prints a link to set a password."""
    from centauro.service import panel_auth

    with transaction(ctx) as conn:
        made = panel_auth.first_operator(conn, email=FIRST_OPERATOR_EMAIL, now=now())
    if made is None:
        return
    output.console.print(
        texts.FIRST_OPERATOR.format(email=made.user.email, link=base_url + made.path),
        soft_wrap=True,
    )
