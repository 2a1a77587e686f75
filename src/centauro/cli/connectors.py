"""``centauro connectors …``: carrier connections (SMPP binds), and their health."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar, cast

import typer

from centauro.cli import output, texts
from centauro.cli.context import now, snapshot, transaction

app = typer.Typer(help="Conectores con operadoras (SMPP) y su estado.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")]
SECRET_FIELDS = ("password",)


def _public(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as shown to people and machines: passwords are never printed back."""
    return {k: (texts.HIDDEN if k in SECRET_FIELDS and v else v) for k, v in settings.items()}


def _validated(kind: str, values: dict[str, Any], as_json: bool) -> dict[str, Any]:
    """Settings checked by the connector kind's own code (connectors/registry.py)."""
    from centauro.connectors import registry

    try:
        return registry.validate(kind, values)
    except (TypeError, ValueError) as exc:
        output.fail(f"{texts.INVALID_SETTINGS}: {exc}", as_json=as_json, code=2)


#: The connector options ``add`` and ``update`` share: (parameter, stored setting, option).
OPTIONS: tuple[tuple[str, str, Any], ...] = (
    ("host", "host", Annotated[str | None, typer.Option("--host", help="Servidor SMSC.")]),
    ("port", "port", Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Puerto SMPP.")
    ]),
    ("system_id", "system_id", Annotated[
        str | None, typer.Option("--system-id", help="Usuario del bind.")
    ]),
    ("password", "password", Annotated[
        str | None, typer.Option("--password", help="Clave del bind.")
    ]),
    ("system_type", "system_type", Annotated[
        str | None, typer.Option("--system-type", help="system_type del bind.")
    ]),
    ("bind_mode", "bind_mode", Annotated[
        str | None,
        typer.Option("--bind-mode", help="transceiver, o transmitter_receiver (dos binds)."),
    ]),
    ("source_addr", "source_addr", Annotated[
        str | None, typer.Option("--source-addr", help="Remitente (source_addr).")
    ]),
    ("source_ton", "source_ton", Annotated[
        int | None, typer.Option("--source-ton", help="TON del remitente.")
    ]),
    ("source_npi", "source_npi", Annotated[
        int | None, typer.Option("--source-npi", help="NPI del remitente.")
    ]),
    ("window", "window", Annotated[
        int | None, typer.Option("--window", help="Ventana: envíos sin respuesta.")
    ]),
    ("tps", "tps", Annotated[
        float | None, typer.Option("--tps", help="Máximo de envíos por segundo.")
    ]),
    ("enquire_link", "enquire_link", Annotated[
        float | None, typer.Option("--enquire-link", help="Segundos entre enquire_link.")
    ]),
    ("reconnect_min", "reconnect_min", Annotated[
        float | None,
        typer.Option("--reconnect-min", help="Espera mínima antes de reconectar (s)."),
    ]),
    ("reconnect_max", "reconnect_max", Annotated[
        float | None,
        typer.Option("--reconnect-max", help="Espera máxima antes de reconectar (s)."),
    ]),
    ("coding", "gsm7_coding", Annotated[
        str | None, typer.Option("--coding", help="Texto GSM-7 como gsm7, latin1 o ascii.")
    ]),
    ("multipart", "multipart", Annotated[
        str | None, typer.Option("--multipart", help="Mensajes largos: udh, sar o payload.")
    ]),
    ("tls", "tls", Annotated[bool | None, typer.Option("--tls/--no-tls", help="Conexión TLS.")]),
    ("dlr", "registered_delivery", Annotated[
        bool | None, typer.Option("--dlr/--no-dlr", help="Pedir confirmaciones de entrega.")
    ]),
    ("dlr_delay", "dlr_delay", Annotated[
        float | None,
        typer.Option("--dlr-delay", help="Sandbox: segundos hasta la confirmación."),
    ]),
)  # fmt: skip

F = TypeVar("F", bound=Callable[..., None])


def with_options(command: F) -> F:
    """Give ``command`` the :data:`OPTIONS` (before ``--json``); it receives the ones the
    operator gave as ``values``, keyed by stored setting name. Typer reads the signature."""
    own = inspect.signature(command, eval_str=True).parameters.values()
    given = [p for p in own if p.name not in ("values", "as_json")]
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, _, kind in OPTIONS
    ]
    tail = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own if p.name == "as_json"]
    params = [*given, *extra, *tail]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        options = {setting: kwargs.pop(name) for name, setting, _ in OPTIONS}
        command(**kwargs, values={k: v for k, v in options.items() if v is not None})

    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return cast(F, wrapper)


@app.command("add")
@with_options
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Nombre del conector (p. ej. movistar).")],
    kind: Annotated[str, typer.Option("--type", help="smpp o sandbox.")] = "smpp",
    *,
    values: dict[str, Any],
    as_json: JsonFlag = False,
) -> None:
    """Añade un conector. Los servidores en marcha lo inician en segundos."""
    from centauro.service import carriers

    settings = _validated(kind, values, as_json)
    with transaction(ctx, as_json=as_json) as conn:
        row = carriers.add_connector(conn, name=name, kind=kind, settings=settings, now=now())
    _print_connector(row, as_json, texts.CONNECTOR_ADDED.format(name=name))


@app.command("update")
@with_options
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Nombre del conector.")],
    *,
    values: dict[str, Any],
    as_json: JsonFlag = False,
) -> None:
    """Cambia opciones de un conector; los servidores lo reinician con ellas."""
    from centauro.service import carriers

    with transaction(ctx, as_json=as_json) as conn:
        current = carriers.get_connector(conn, name)
        settings = _validated(current.kind, {**current.settings, **values}, as_json)
        row = carriers.update_connector(conn, name, settings=settings, now=now())
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

    with snapshot(ctx, as_json=as_json) as conn:
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

    with snapshot(ctx, as_json=as_json) as conn:
        row = carriers.get_connector(conn, name)
    _print_connector(row, as_json, name)


def _set_enabled(ctx: typer.Context, name: str, enabled: bool, as_json: bool) -> None:
    from centauro.service import carriers

    with transaction(ctx, as_json=as_json) as conn:
        row = carriers.set_enabled(conn, name, enabled=enabled, now=now())
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

    with transaction(ctx, as_json=as_json) as conn:
        routes = carriers.remove_connector(conn, name)
    if as_json:
        output.emit_json({"removed": name, "routes_removed": routes})
    else:
        output.console.print(texts.CONNECTOR_REMOVED.format(name=output.safe(name), routes=routes))


@app.command("status")
def status(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Estado de cada bind: conexión, ventana en vuelo, TPS, en espera, proceso dueño
    (host/pid), último error."""
    from centauro.service import carriers

    with snapshot(ctx, as_json=as_json) as conn:
        rows = carriers.live_status(conn)
        queue = carriers.queued_counts(conn)
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
            r["owner_text"] = f"{r['owner']['host']}/{r['owner']['pid']}"
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
                "owner_text",
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
