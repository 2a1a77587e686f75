"""``centauro smsc-sim``: a real SMPP 3.4 SMSC for tests, demos and benchmarks."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from centauro.smsc_sim.server import Simulator


class IdFormat(StrEnum):
    dec = "dec"
    hex = "hex"


class DlrIdFormat(StrEnum):
    same = "same"
    dec = "dec"
    hex = "hex"
    dec_padded = "dec-padded"


def smsc_sim(
    host: Annotated[
        str, typer.Option("--host", help="Dirección de escucha (por defecto solo loopback).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Puerto SMPP (0: uno libre).")
    ] = 2775,
    system_id: Annotated[
        str, typer.Option("--system-id", help="system_id que aceptan los bind.")
    ] = "centauro",
    password: Annotated[
        str, typer.Option("--password", help="Contraseña que aceptan los bind.")
    ] = "secret",  # noqa: S107  (a test carrier's well-known default)
    dlr_delay: Annotated[
        float,
        typer.Option(
            "--dlr-delay", min=0.0, help="Segundos entre el submit_sm y su recibo de entrega."
        ),
    ] = 1.0,
    dlr_fail_rate: Annotated[
        float,
        typer.Option(
            "--dlr-fail-rate",
            min=0.0,
            max=1.0,
            help="Fracción de recibos UNDELIV (err:001) en lugar de DELIVRD.",
        ),
    ] = 0.0,
    seed: Annotated[
        int, typer.Option("--seed", help="Semilla: qué mensajes fallan es reproducible.")
    ] = 0,
    throttle_tps: Annotated[
        int,
        typer.Option(
            "--throttle-tps",
            min=0,
            help="Máximo de submit_sm por segundo y system_id; el exceso recibe "
            "ESME_RTHROTTLED (0x58). 0: sin límite.",
        ),
    ] = 0,
    queue_full_every: Annotated[
        int,
        typer.Option(
            "--queue-full-every",
            min=0,
            help="Responder ESME_RMSGQFUL (0x14) a cada K-ésimo submit_sm. 0: nunca.",
        ),
    ] = 0,
    reject_prefix: Annotated[
        list[str] | None,
        typer.Option(
            "--reject-prefix",
            help="Rechazar con ESME_RINVDSTADR (0x0B) los destinos que empiezan así. Repetible.",
        ),
    ] = None,
    id_format: Annotated[
        IdFormat,
        typer.Option("--id-format", help="message_id en submit_sm_resp: decimal o hexadecimal."),
    ] = IdFormat.dec,
    dlr_id_format: Annotated[
        DlrIdFormat,
        typer.Option(
            "--dlr-id-format",
            help="Id en los recibos: same (el mismo), dec, hex o dec-padded (decimal, 10 dígitos).",
        ),
    ] = DlrIdFormat.same,
    id_start: Annotated[
        int | None,
        typer.Option(
            "--id-start",
            min=0,
            help="Primer message_id (por defecto sale de la hora: no se repite entre arranques).",
        ),
    ] = None,
    dlr_tlvs: Annotated[
        bool,
        typer.Option(
            "--dlr-tlvs/--no-dlr-tlvs",
            help="Incluir receipted_message_id y message_state en los recibos.",
        ),
    ] = True,
    drop_after: Annotated[
        int,
        typer.Option(
            "--drop-after", min=0, help="Cortar cada conexión tras N submit_sm, sin unbind."
        ),
    ] = 0,
    mo_file: Annotated[
        Path | None,
        typer.Option(
            "--mo-file",
            help="Archivo vigilado: cada línea añadida («DE A TEXTO…» o JSON con from, to, "
            "text y coding gsm7|ucs2) se entrega como SMS entrante (MO).",
        ),
    ] = None,
    stats_file: Annotated[
        Path | None,
        typer.Option(
            "--stats-file",
            help="Contadores en JSON (cada 0,5 s y al salir); los id aceptados van a "
            "ARCHIVO.accepted.",
        ),
    ] = None,
    max_pending: Annotated[
        int,
        typer.Option(
            "--max-pending",
            min=1,
            help="Recibos y MO guardados a la espera de un receptor; después se descartan "
            "los más antiguos.",
        ),
    ] = 100_000,
    log_level: Annotated[str, typer.Option("--log-level", help="Nivel de registro.")] = "INFO",
) -> None:
    """Ejecuta un SMSC SMPP 3.4 simulado: comprueba los bind, responde submit_sm, envía
    recibos, puede limitar el caudal, inyectar MO y cortar conexiones (señal SIGUSR1)."""
    from centauro.logs import configure_logging
    from centauro.smsc_sim.server import Settings, serve

    configure_logging(log_level)
    settings = Settings(
        host=host,
        port=port,
        system_id=system_id,
        password=password,
        dlr_delay=dlr_delay,
        dlr_fail_rate=dlr_fail_rate,
        seed=seed,
        throttle_tps=throttle_tps,
        queue_full_every=queue_full_every,
        reject_prefixes=tuple(reject_prefix or ()),
        id_format=id_format.value,
        dlr_id_format=dlr_id_format.value,
        id_start=id_start,
        dlr_tlvs=dlr_tlvs,
        drop_after=drop_after,
        mo_file=mo_file,
        stats_file=stats_file,
        max_pending=max_pending,
    )

    def ready(simulator: Simulator) -> None:
        typer.echo(
            f"SMSC simulado escuchando en {host}:{simulator.port} "
            f"(system_id {system_id}; Ctrl+C para salir, SIGUSR1 corta las conexiones)"
        )
        sys.stdout.flush()

    try:
        _run(serve(settings, ready))
    except OSError as exc:
        typer.echo(f"No se pudo escuchar en {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None


def _run(main: Coroutine[Any, Any, None]) -> None:
    """uvloop when it is installed (it comes with the server extras), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)
