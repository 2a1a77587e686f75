"""``centauro webhooks …``: an account's webhooks through the REST API, from a shell.

Client-side like ``balance`` and ``send``: configured by ``CENTAURO_URL``,
``CENTAURO_CLIENT_ID`` and ``CENTAURO_CLIENT_SECRET`` (never flags: secrets stay out of
shell history), importing nothing of the server. It calls ``/v1/webhooks`` with httpx
directly (loaded only when a command runs) until the SDK has webhook methods.

Exit codes: 0 done; 1 the gateway refused (the problem's ``code`` and ``detail`` are
shown); 2 configuration missing or invalid; 3 the gateway could not be reached.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from centauro import __version__
from centauro.cli import output
from centauro.cli.client_cmds import ENV_NAMES, EXIT_CONFIG, EXIT_REFUSED, EXIT_UNREACHABLE

if TYPE_CHECKING:
    import httpx

app = typer.Typer(help="Webhooks de la cuenta: a dónde se envían sus eventos (API REST).")

JsonFlag = Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")]
EVENTS = ("message.status", "message.inbound")

MISSING_ENV = (
    "Faltan variables de entorno: {names}. Defina CENTAURO_URL, CENTAURO_CLIENT_ID y "
    "CENTAURO_CLIENT_SECRET."
)
BAD_URL = "CENTAURO_URL no es válida: {error}"
CANNOT_CONNECT = "No se pudo conectar con {url}: {error}"
REFUSED = "El gateway rechazó la petición: {detail} (código {code}, HTTP {status})"
BAD_ANSWER = "Respuesta inesperada de {url} (HTTP {status})"
UNKNOWN_EVENT = "Evento desconocido: {event}. Eventos: message.status, message.inbound."
CREATED = "Webhook {id} creado. Guarde el secreto: no se mostrará de nuevo."
REMOVED = "Webhook {id} eliminado."
NO_WEBHOOKS = "No hay webhooks."
NO_DELIVERIES = "No hay entregas."
MORE = "Hay más: --cursor {cursor}"
STATUSES = {"pending": "pendiente", "delivered": "entregado", "failed": "fallido"}
HEADERS = {
    "id": "ID",
    "url": "URL",
    "events": "Eventos",
    "enabled": "Activo",
    "created_at": "Creado",
    "event": "Evento",
    "status": "Estado",
    "attempts": "Intentos",
    "last_status": "Última respuesta",
    "last_error": "Último error",
    "delivered_at": "Entregado",
    "next_attempt_at": "Próximo intento",
}


def _fail(
    message: str, *, kind: str, code: int, as_json: bool, detail: dict[str, Any] | None = None
) -> NoReturn:
    """Spanish on stderr always; with ``--json`` also an error object on stdout."""
    if as_json:
        data = {"error": kind, "message": message, **(detail or {})}
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    output.err_console.print(f"[red]Error:[/red] {output.safe(message)}", soft_wrap=True)
    raise typer.Exit(code)


def _call(method: str, path: str, as_json: bool, **kw: Any) -> Any:
    """One request to the gateway; its JSON (None for 204), or exit with the right code."""
    missing = [name for name in ENV_NAMES if not os.environ.get(name)]
    if missing:
        names = ", ".join(missing)
        _fail(MISSING_ENV.format(names=names), kind="MissingEnvironment", code=EXIT_CONFIG,
              as_json=as_json)  # fmt: skip
    url, client_id, secret = (os.environ[name] for name in ENV_NAMES)
    import httpx

    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        _fail(BAD_URL.format(error="debe empezar por http:// o https://"), kind="InvalidURL",
              code=EXIT_CONFIG, as_json=as_json)  # fmt: skip
    try:
        with httpx.Client(
            auth=(client_id, secret),
            timeout=30,
            headers={"User-Agent": f"centauro-cli/{__version__}"},
        ) as client:
            response = client.request(method, base + path, **kw)
    except httpx.InvalidURL as exc:
        _fail(BAD_URL.format(error=exc), kind="InvalidURL", code=EXIT_CONFIG, as_json=as_json)
    except httpx.HTTPError as exc:
        _fail(CANNOT_CONNECT.format(url=url, error=exc), kind="TransportError",
              code=EXIT_UNREACHABLE, as_json=as_json)  # fmt: skip
    return _answer(response, url, as_json)


def _answer(response: httpx.Response, url: str, as_json: bool) -> Any:
    if response.status_code == 204:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success and body is not None:
        return body
    if isinstance(body, dict) and "code" in body:
        detail = body.get("detail") or body.get("title") or ""
        if body.get("errors"):
            detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in body["errors"])
        message = REFUSED.format(detail=detail, code=body["code"], status=response.status_code)
        _fail(message, kind="APIError", code=EXIT_REFUSED, as_json=as_json,
              detail={"code": body["code"], "status": response.status_code})  # fmt: skip
    _fail(BAD_ANSWER.format(url=url, status=response.status_code), kind="ProtocolError",
          code=EXIT_REFUSED, as_json=as_json)  # fmt: skip


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    t = Table()
    for col in columns:
        t.add_column(HEADERS.get(col, col))
    for row in rows:
        t.add_row(*("—" if row.get(c) is None else output.safe(row[c]) for c in columns))
    output.console.print(t)


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(metavar="URL", help="URL http(s) que recibirá eventos.")],
    events: Annotated[
        str,
        typer.Option("--events", help="Eventos separados por comas."),
    ] = ",".join(EVENTS),
    as_json: JsonFlag = False,
) -> None:
    """Registra un webhook y muestra su secreto (una sola vez)."""
    wanted = [e.strip() for e in events.split(",") if e.strip()]
    for event in wanted:
        if event not in EVENTS:
            _fail(UNKNOWN_EVENT.format(event=event), kind="InvalidEvent", code=EXIT_CONFIG,
                  as_json=as_json)  # fmt: skip
    created = _call("POST", "/v1/webhooks", as_json, json={"url": url, "events": wanted})
    if as_json:
        output.emit_json(created)
        return
    output.console.print(f"[green]{CREATED.format(id=created['id'])}[/green]")
    _table([{**created, "events": ", ".join(created["events"])}], ["id", "url", "events"])
    output.console.print(f"Secreto: [bold]{escape(created['secret'])}[/bold]", soft_wrap=True)


@app.command("list")
def list_(as_json: JsonFlag = False) -> None:
    """Lista los webhooks de la cuenta."""
    hooks = _call("GET", "/v1/webhooks", as_json)["data"]
    if as_json:
        output.emit_json(hooks)
    elif not hooks:
        output.console.print(NO_WEBHOOKS)
    else:
        rows = [{**h, "events": ", ".join(h["events"]), "enabled": "sí" if h["enabled"] else "no"}
                for h in hooks]  # fmt: skip
        _table(rows, ["id", "url", "events", "enabled", "created_at"])


@app.command("remove")
def remove(
    webhook_id: Annotated[str, typer.Argument(metavar="ID", help="El webhook.")],
    as_json: JsonFlag = False,
) -> None:
    """Elimina un webhook: sus entregas pendientes no se envían."""
    _call("DELETE", f"/v1/webhooks/{webhook_id}", as_json)
    if as_json:
        output.emit_json({"removed": webhook_id})
    else:
        output.console.print(REMOVED.format(id=webhook_id))


@app.command("deliveries")
def deliveries(
    webhook_id: Annotated[str, typer.Argument(metavar="ID", help="El webhook.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    cursor: Annotated[str | None, typer.Option("--cursor", help="Página siguiente.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Muestra las entregas de un webhook, las más recientes primero."""
    params: dict[str, Any] = {"limit": limit}
    if cursor:
        params["cursor"] = cursor
    page = _call("GET", f"/v1/webhooks/{webhook_id}/deliveries", as_json, params=params)
    if as_json:
        output.emit_json(page)
        return
    if not page["data"]:
        output.console.print(NO_DELIVERIES)
        return
    rows = [{**d, "status": STATUSES.get(d["status"], d["status"])} for d in page["data"]]
    _table(rows, ["id", "event", "status", "attempts", "last_status", "last_error",
                  "created_at", "next_attempt_at"])  # fmt: skip
    if page.get("next_cursor"):
        output.console.print(MORE.format(cursor=page["next_cursor"]))
