"""``centauro connectors …``: carrier connections (SMPP binds), and their health."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from centauro.cli import output, texts
from centauro.cli.context import now, store
from centauro.domain.errors import CentauroError

app = typer.Typer(help="Conectores con operadoras (SMPP) y su estado.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")]
SECRET_FIELDS = ("password",)


def _public(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as shown to people and machines: passwords are never printed back."""
    return {k: (texts.HIDDEN if k in SECRET_FIELDS and v else v) for k, v in settings.items()}


def _validated(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """Settings checked by the connector kind's own code; ValueError says what is wrong."""
    if kind == "smpp":
        from centauro.connectors.smpp import SmppSettings

        return SmppSettings.from_dict(values).to_dict()
    if kind == "sandbox":
        delay = float(values.get("dlr_delay", 0.2))
        if not 0 <= delay <= 3600:
            raise ValueError("dlr_delay must be between 0 and 3600 seconds")
        return {"dlr_delay": delay}
    raise ValueError(f"unknown connector type {kind!r}: smpp or sandbox")


def _given(**options: Any) -> dict[str, Any]:
    return {k: v for k, v in options.items() if v is not None}


Host = Annotated[str | None, typer.Option("--host", help="Servidor SMSC.")]
Port = Annotated[int | None, typer.Option("--port", min=1, max=65535, help="Puerto SMPP.")]
SystemId = Annotated[str | None, typer.Option("--system-id", help="Usuario del bind.")]
Password = Annotated[str | None, typer.Option("--password", help="Clave del bind.")]
SystemType = Annotated[str | None, typer.Option("--system-type", help="system_type del bind.")]
BindMode = Annotated[
    str | None,
    typer.Option("--bind-mode", help="transceiver, o transmitter_receiver (dos binds)."),
]
SourceAddr = Annotated[str | None, typer.Option("--source-addr", help="Remitente (source_addr).")]
SourceTon = Annotated[int | None, typer.Option("--source-ton", help="TON del remitente.")]
SourceNpi = Annotated[int | None, typer.Option("--source-npi", help="NPI del remitente.")]
Window = Annotated[int | None, typer.Option("--window", help="Ventana: envíos sin respuesta.")]
Tps = Annotated[float | None, typer.Option("--tps", help="Máximo de envíos por segundo.")]
EnquireLink = Annotated[
    float | None, typer.Option("--enquire-link", help="Segundos entre enquire_link.")
]
ReconnectMin = Annotated[
    float | None, typer.Option("--reconnect-min", help="Espera mínima antes de reconectar (s).")
]
ReconnectMax = Annotated[
    float | None, typer.Option("--reconnect-max", help="Espera máxima antes de reconectar (s).")
]
Coding = Annotated[
    str | None, typer.Option("--coding", help="Texto GSM-7 como gsm7, latin1 o ascii.")
]
Multipart = Annotated[
    str | None, typer.Option("--multipart", help="Mensajes largos: udh, sar o payload.")
]
Tls = Annotated[bool | None, typer.Option("--tls/--no-tls", help="Conexión TLS.")]
Dlr = Annotated[
    bool | None, typer.Option("--dlr/--no-dlr", help="Pedir confirmaciones de entrega.")
]
DlrDelay = Annotated[
    float | None, typer.Option("--dlr-delay", help="Sandbox: segundos hasta la confirmación.")
]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Nombre del conector (p. ej. movistar).")],
    kind: Annotated[str, typer.Option("--type", help="smpp o sandbox.")] = "smpp",
    host: Host = None,
    port: Port = None,
    system_id: SystemId = None,
    password: Password = None,
    system_type: SystemType = None,
    bind_mode: BindMode = None,
    source_addr: SourceAddr = None,
    source_ton: SourceTon = None,
    source_npi: SourceNpi = None,
    window: Window = None,
    tps: Tps = None,
    enquire_link: EnquireLink = None,
    reconnect_min: ReconnectMin = None,
    reconnect_max: ReconnectMax = None,
    coding: Coding = None,
    multipart: Multipart = None,
    tls: Tls = None,
    dlr: Dlr = None,
    dlr_delay: DlrDelay = None,
    as_json: JsonFlag = False,
) -> None:
    """Añade un conector. Los servidores en marcha lo inician en segundos."""
    from centauro.service import carriers

    values = _given(
        host=host,
        port=port,
        system_id=system_id,
        password=password,
        system_type=system_type,
        bind_mode=bind_mode,
        source_addr=source_addr,
        source_ton=source_ton,
        source_npi=source_npi,
        window=window,
        tps=tps,
        enquire_link=enquire_link,
        reconnect_min=reconnect_min,
        reconnect_max=reconnect_max,
        gsm7_coding=coding,
        multipart=multipart,
        tls=tls,
        registered_delivery=dlr,
        dlr_delay=dlr_delay,
    )
    try:
        settings = _validated(kind, values)
    except (TypeError, ValueError) as exc:
        output.fail(f"{texts.INVALID_SETTINGS}: {exc}", as_json=as_json, code=2)
    with store(ctx, as_json=as_json) as db:
        try:
            with db.begin() as conn:
                row = carriers.add_connector(
                    conn, name=name, kind=kind, settings=settings, now=now()
                )
        except CentauroError as exc:
            output.fail(exc, as_json=as_json)
    _print_connector(row, as_json, texts.CONNECTOR_ADDED.format(name=name))


@app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Nombre del conector.")],
    host: Host = None,
    port: Port = None,
    system_id: SystemId = None,
    password: Password = None,
    system_type: SystemType = None,
    bind_mode: BindMode = None,
    source_addr: SourceAddr = None,
    source_ton: SourceTon = None,
    source_npi: SourceNpi = None,
    window: Window = None,
    tps: Tps = None,
    enquire_link: EnquireLink = None,
    reconnect_min: ReconnectMin = None,
    reconnect_max: ReconnectMax = None,
    coding: Coding = None,
    multipart: Multipart = None,
    tls: Tls = None,
    dlr: Dlr = None,
    dlr_delay: DlrDelay = None,
    as_json: JsonFlag = False,
) -> None:
    """Cambia opciones de un conector; los servidores lo reinician con ellas."""
    from centauro.service import carriers

    changes = _given(
        host=host,
        port=port,
        system_id=system_id,
        password=password,
        system_type=system_type,
        bind_mode=bind_mode,
        source_addr=source_addr,
        source_ton=source_ton,
        source_npi=source_npi,
        window=window,
        tps=tps,
        enquire_link=enquire_link,
        reconnect_min=reconnect_min,
        reconnect_max=reconnect_max,
        gsm7_coding=coding,
        multipart=multipart,
        tls=tls,
        registered_delivery=dlr,
        dlr_delay=dlr_delay,
    )
    with store(ctx, as_json=as_json) as db:
        try:
            with db.begin() as conn:
                current = carriers.get_connector(conn, name)
                try:
                    settings = _validated(current.kind, {**current.settings, **changes})
                except (TypeError, ValueError) as exc:
                    output.fail(f"{texts.INVALID_SETTINGS}: {exc}", as_json=as_json, code=2)
                row = carriers.update_connector(conn, name, settings=settings, now=now())
        except CentauroError as exc:
            output.fail(exc, as_json=as_json)
    _print_connector(row, as_json, texts.CONNECTOR_UPDATED.format(name=name))


def _row(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "kind": row.kind,
        "enabled": row.enabled,
        "settings": _public(row.settings),
        "updated_at": row.updated_at,
    }


def _print_connector(row: Any, as_json: bool, headline: str) -> None:
    data = _row(row)
    if as_json:
        output.emit_json(data)
        return
    output.console.print(output.safe(headline))
    output.fields({k: v for k, v in data.items() if k != "settings"} | data["settings"])


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Lista los conectores configurados."""
    from centauro.service import carriers

    with store(ctx, as_json=as_json) as db, db.read() as conn:
        rows = [_row(r) for r in carriers.list_connectors(conn)]
    if as_json:
        output.emit_json(rows)
    elif not rows:
        output.console.print(texts.NO_CONNECTORS)
    else:
        for r in rows:
            s = r["settings"]
            r["host"] = f"{s.get('host', '')}:{s.get('port', '')}" if "host" in s else "—"
            r["tps"] = s.get("tps", "—")
            r["window"] = s.get("window", "—")
        output.table(rows, ["name", "kind", "enabled", "host", "window", "tps"])


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Nombre del conector.")],
    as_json: JsonFlag = False,
) -> None:
    """Muestra la configuración de un conector (sin la clave)."""
    from centauro.service import carriers

    with store(ctx, as_json=as_json) as db:
        try:
            with db.read() as conn:
                row = carriers.get_connector(conn, name)
        except CentauroError as exc:
            output.fail(exc, as_json=as_json)
    _print_connector(row, as_json, name)


def _set_enabled(ctx: typer.Context, name: str, enabled: bool, as_json: bool) -> None:
    from centauro.service import carriers

    with store(ctx, as_json=as_json) as db:
        try:
            with db.begin() as conn:
                row = carriers.set_enabled(conn, name, enabled=enabled, now=now())
        except CentauroError as exc:
            output.fail(exc, as_json=as_json)
    headline = texts.CONNECTOR_ENABLED if enabled else texts.CONNECTOR_DISABLED
    _print_connector(row, as_json, headline.format(name=name))


@app.command("enable")
def enable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Nombre del conector.")],
    as_json: JsonFlag = False,
) -> None:
    """Habilita un conector."""
    _set_enabled(ctx, name, True, as_json)


@app.command("disable")
def disable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Nombre del conector.")],
    as_json: JsonFlag = False,
) -> None:
    """Deshabilita un conector: deja de enviar; sus rutas pasan al siguiente."""
    _set_enabled(ctx, name, False, as_json)


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Nombre del conector.")],
    as_json: JsonFlag = False,
) -> None:
    """Elimina un conector y sus rutas."""
    from centauro.service import carriers

    with store(ctx, as_json=as_json) as db:
        try:
            with db.begin() as conn:
                routes = carriers.remove_connector(conn, name)
        except CentauroError as exc:
            output.fail(exc, as_json=as_json)
    if as_json:
        output.emit_json({"removed": name, "routes_removed": routes})
    else:
        output.console.print(texts.CONNECTOR_REMOVED.format(name=output.safe(name), routes=routes))


@app.command("status")
def status(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Estado de cada bind: conexión, ventana en vuelo, TPS, en espera, último error."""
    from centauro.store import carriers as store_carriers

    with store(ctx, as_json=as_json) as db, db.read() as conn:
        rows = store_carriers.live_status(conn)
        queue = store_carriers.queued_counts(conn)
    current = datetime.now(UTC)
    for r in rows:
        r["worker"] = r.pop("worker_id")
        since = r.get("since")
        r["uptime_seconds"] = (
            round((current - since).total_seconds()) if since and r["state"] == "up" else None
        )
    if as_json:
        output.emit_json(
            {
                "connectors": rows,
                "queued": queue.get("queued", 0),
                "awaiting_receipt": queue.get("sent", 0),
            }
        )
        return
    if not rows:
        output.console.print(texts.NO_STATUS)
    else:
        for r in rows:
            r["tps"] = f"{r['tps']:.0f}"
            seconds = r["uptime_seconds"]
            r["uptime"] = _duration(seconds) if seconds is not None else "—"
        output.table(
            rows,
            [
                "name",
                "kind",
                "state",
                "in_flight",
                "queued",
                "tps",
                "submitted",
                "uptime",
                "last_error",
            ],
        )
    output.console.print(
        texts.QUEUE_SUMMARY.format(queued=queue.get("queued", 0), sent=queue.get("sent", 0))
    )


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
