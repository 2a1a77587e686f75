"""``centauro serve``: the API and the delivery dispatcher, in one process or by role."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import typer

from centauro.cli import output, texts
from centauro.cli.context import check_reachable, now, settings, transaction, upgrade
from centauro.cli.workers import Parent, StartupFailed, bind, default_workers
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
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            metavar="all|api|delivery",
            help="Qué hace este proceso: all (API y despacho), api (solo las puertas: nunca "
            "abre binds) o delivery (binds y despacho; su puerto HTTP responde /health). "
            "[env: CENTAURO_ROLE]",
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
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=256,
            help="Procesos que comparten el puerto y la base de datos (por defecto: uno por "
            "CPU; 1: un solo proceso). [env: CENTAURO_WORKERS]",
        ),
    ] = None,
) -> None:
    """Ejecuta el gateway: API compatible CentauroSMS v1.2 + despacho de mensajes."""
    metrics_dir = _metrics_dir_for_workers(ctx, workers)
    import uvicorn

    from centauro.api.app import create_app
    from centauro.api.protocol import HttpLimits, protocol_for
    from centauro.config import ROLES
    from centauro.logs import FORMATS, configure_logging
    from centauro.process import limit_malloc_arenas, tune_gc

    limit_malloc_arenas()

    s = settings(ctx, log_format=log_format, workers=workers, role=role)
    if s.log_format not in FORMATS:
        output.fail(texts.BAD_LOG_FORMAT.format(value=s.log_format), code=2)
    if s.role not in ROLES:
        output.fail(texts.BAD_ROLE.format(value=s.role), code=2)
    configure_logging(s.log_level, s.log_format)
    check_reachable(ctx)
    if demo:
        _ensure_demo(ctx)
        _ensure_operator(ctx, f"http://{host}:{port}")
    serving = texts.SERVING.format(host=host, port=port, db=masked_url(s.database_url))
    if s.workers < 0:
        output.fail(texts.BAD_WORKERS.format(value=s.workers), code=2)
    count = s.workers or default_workers()
    if count > 1:
        try:
            _serve_workers(
                ctx, s, (host, port, serving), count, (access_log, migrate_db), smpp_port
            )
        finally:
            if metrics_dir is not None:
                from centauro.metrics import remove_multiprocess_dir

                remove_multiprocess_dir(metrics_dir)
        return
    output.console.print(serving, soft_wrap=True)
    output.console.print(texts.ROLE_NOTE[s.role if s.delivers else "api"], soft_wrap=True)
    try:
        app = create_app(s, migrate=migrate_db, doors=_smpp_door(s, host, smpp_port))
    except CentauroError as exc:  # a setting the app refuses (CENTAURO_SECRET_KEY too short)
        output.fail(exc, code=2)
    tune_gc()
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


def _serve_workers(
    ctx: typer.Context,
    s: Settings,
    where: tuple[str, int, str],
    count: int,
    flags: tuple[bool, bool],
    smpp_port: int | None,
) -> None:
    """Run ``count`` worker processes behind one port (cli/workers.py)."""
    from centauro.runtime import SERVE_LOCK_WAIT, sqlite_serve_lock
    from centauro.service.sealing import Sealer

    try:
        Sealer(s.secret_key)  # refused here, once, rather than by every worker
    except CentauroError as exc:
        output.fail(exc, code=2)
    access_log, migrate_db = flags
    if migrate_db:  # once here; the workers only check the schema is current
        upgrade(ctx)
    lock = None
    if s.database_url.startswith("sqlite"):
        try:
            lock = sqlite_serve_lock(s.database_url, wait=SERVE_LOCK_WAIT)
        except CentauroError:
            path = s.database_url.split(":///", 1)[-1]
            output.fail(texts.SQLITE_IN_USE.format(path=path))
    host, port, serving = where
    try:
        sock = bind(host, port, wait=SERVE_LOCK_WAIT)
    except OSError as exc:
        output.fail(texts.CANNOT_LISTEN.format(host=host, port=port, error=exc.strerror))
    smpp = s.smpp_port if smpp_port is None else smpp_port
    smpp_host = s.smpp_host or host
    smpp_sock = None
    if smpp:  # bound here, once, like the HTTP port: a port in use is refused before a fork
        try:
            smpp_sock = bind(smpp_host, smpp, wait=SERVE_LOCK_WAIT)
        except OSError as exc:
            sock.close()
            output.fail(texts.CANNOT_LISTEN.format(host=smpp_host, port=smpp, error=exc.strerror))
    output.console.print(serving, soft_wrap=True)
    output.console.print(texts.ROLE_NOTE[s.role if s.delivers else "api"], soft_wrap=True)
    if smpp:
        output.console.print(texts.SMPP_SERVING.format(host=smpp_host, port=smpp), soft_wrap=True)
    shape = texts.WORKERS if s.delivers else texts.WORKERS_NO_DELIVERY
    output.console.print(shape.format(workers=count))
    parent = Parent(
        sock,
        workers=count,
        settings=s,
        lock=lock,
        access_log=access_log,
        smpp_host=smpp_host,
        smpp=smpp_sock,
    )
    try:
        parent.run()
    except StartupFailed:
        output.fail(texts.WORKER_START_FAILED)


def _metrics_dir_for_workers(ctx: typer.Context, workers: int | None) -> str | None:
    """With several workers, /metrics sums every process's files (prometheus-client's
    multiprocess mode). The library picks its mode when it is first imported, and the
    workers are forked from this process after it imports the server: so the directory
    is made and ``PROMETHEUS_MULTIPROC_DIR`` set before anything imports it. A directory
    the operator set is used as it is (emptied first). Returns the one we made."""
    import os
    import tempfile

    from centauro.cli.workers import default_workers

    try:
        count = settings(ctx, workers=workers).workers
    except Exception:  # noqa: BLE001 - a bad setting is reported by serve itself, in Spanish
        return None
    if count < 0 or (count or default_workers()) <= 1:
        return None
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        import shutil

        shutil.rmtree(given, ignore_errors=True)
        os.makedirs(given, mode=0o700)
        return None
    made = tempfile.mkdtemp(prefix="centauro-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    return made


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
