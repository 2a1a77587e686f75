"""``centauro suppressions list|add|remove``: an account's opt-out list, from a shell.

A client command like ``balance`` and ``send``: it talks to a gateway's REST API
(``/v1/suppressions``) as the account in ``CENTAURO_URL``, ``CENTAURO_CLIENT_ID`` and
``CENTAURO_CLIENT_SECRET``, so the customer can run it anywhere and the secret stays out
of shell history. It uses httpx directly until the SDK grows these calls; httpx is
imported only when a command runs, so other commands do not pay for it.

Exit codes, as for ``send``: 0 done; 1 the gateway refused (an error answer, or an
answer that is not the API's); 2 configuration missing or invalid; 3 the gateway could
not be reached.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar
from urllib.parse import quote

import typer

from centauro import __version__
from centauro.cli import output, texts
from centauro.cli.client_cmds import ENV_NAMES, EXIT_CONFIG, EXIT_REFUSED, EXIT_UNREACHABLE

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")

app = typer.Typer(help="Lista de exclusión (bajas): números a los que la cuenta no envía.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")]
Number = Annotated[
    str, typer.Argument(metavar="NUMERO", help="Número en cualquier formato (04141234567).")
]

#: The REST API records what this command adds with source "cli" (api/v1/suppressions.py).
USER_AGENT = f"centauro-cli/{__version__}"
TIMEOUT = 30.0
PAGE = 1000


def _fail(message: str, *, kind: str, code: int, as_json: bool, **extra: Any) -> NoReturn:
    """Spanish on stderr always; with ``--json`` also an error object on stdout."""
    if as_json:
        data = {"error": kind, "message": message, **extra}
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    output.err_console.print(f"[red]Error:[/red] {output.safe(message)}", soft_wrap=True)
    raise typer.Exit(code)


def _refused(
    response: httpx.Response,
    as_json: bool,
    problems: dict[str, str] = texts.SUPPRESSION_PROBLEMS,
) -> NoReturn:
    """An error answer: the problem's code in Spanish (``problems``), the server's detail
    kept. The REST client commands (suppressions, contacts) share it."""
    try:
        problem = response.json()
        code, detail = str(problem["code"]), str(problem.get("detail") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        code, detail = "", ""
    if not code:
        message = texts.SUPPRESSIONS_BAD_ANSWER.format(status=response.status_code)
        _fail(message, kind="ProtocolError", code=EXIT_REFUSED, as_json=as_json)
    headline = problems.get(code, code)
    message = f"{headline}: {detail}" if detail else headline
    _fail(
        message,
        kind=code,
        code=EXIT_REFUSED,
        as_json=as_json,
        status=response.status_code,
        detail=detail,
    )


def _call(as_json: bool, call: Callable[[httpx.Client], T]) -> T:
    """Run ``call`` with a client set up from the environment; failures become exit codes."""
    missing = [name for name in ENV_NAMES if not os.environ.get(name)]
    if missing:
        message = texts.MISSING_CLIENT_ENV.format(names=", ".join(missing))
        _fail(message, kind="MissingEnvironment", code=EXIT_CONFIG, as_json=as_json)
    url, client_id, secret = (os.environ[name] for name in ENV_NAMES)
    if not url.startswith(("http://", "https://")):
        message = texts.BAD_URL.format(error=texts.URL_SCHEME)
        _fail(message, kind="InvalidURL", code=EXIT_CONFIG, as_json=as_json)

    import httpx

    try:
        client = httpx.Client(
            base_url=url.rstrip("/") + "/v1",
            auth=(client_id, secret),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=TIMEOUT,
        )
    except (httpx.InvalidURL, ValueError) as exc:
        _fail(texts.BAD_URL.format(error=exc), kind="InvalidURL", code=EXIT_CONFIG, as_json=as_json)
    try:
        with client:
            return call(client)
    except httpx.InvalidURL as exc:
        _fail(texts.BAD_URL.format(error=exc), kind="InvalidURL", code=EXIT_CONFIG, as_json=as_json)
    except httpx.TransportError as exc:
        message = texts.CANNOT_CONNECT.format(url=url, error=exc)
        _fail(message, kind="TransportError", code=EXIT_UNREACHABLE, as_json=as_json)


def _json(response: httpx.Response, as_json: bool) -> Any:
    try:
        return response.json()
    except ValueError:
        message = texts.SUPPRESSIONS_BAD_ANSWER.format(status=response.status_code)
        _fail(message, kind="ProtocolError", code=EXIT_REFUSED, as_json=as_json)


@app.command("list")
def list_(as_json: JsonFlag = False) -> None:
    """Lista los números dados de baja para la cuenta (por BAJA/STOP, la API o esta orden).

    Usa las variables de entorno CENTAURO_URL, CENTAURO_CLIENT_ID y CENTAURO_CLIENT_SECRET.
    """

    def fetch(client: httpx.Client) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
            response = client.get("/suppressions", params=params)
            if response.status_code != 200:
                _refused(response, as_json)
            page = _json(response, as_json)
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                message = texts.SUPPRESSIONS_BAD_ANSWER.format(status=response.status_code)
                _fail(message, kind="ProtocolError", code=EXIT_REFUSED, as_json=as_json)
            rows += page["data"]
            cursor = page.get("next_cursor")
            if not cursor:
                return rows

    rows = _call(as_json, fetch)
    if as_json:
        output.emit_json(rows)
    elif not rows:
        output.console.print(texts.NO_SUPPRESSIONS)
    else:
        for row in rows:
            row["source"] = texts.SUPPRESSION_SOURCES.get(row["source"], row["source"])
        output.table(rows, ["number", "source", "created_at"])


@app.command("add")
def add(number: Number, as_json: JsonFlag = False) -> None:
    """Da de baja un número: la cuenta deja de enviarle mensajes (sin cobro).

    Usa las variables de entorno CENTAURO_URL, CENTAURO_CLIENT_ID y CENTAURO_CLIENT_SECRET.
    """

    def post(client: httpx.Client) -> tuple[dict[str, Any], bool]:
        response = client.post("/suppressions", json={"number": number})
        if response.status_code not in (200, 201):
            _refused(response, as_json)
        return _json(response, as_json), response.status_code == 201

    entry, created = _call(as_json, post)
    if as_json:
        output.emit_json({**entry, "created": created})
    else:
        template = texts.SUPPRESSION_ADDED if created else texts.SUPPRESSION_EXISTS
        output.console.print(template.format(number=output.safe(entry["number"])))


@app.command("remove")
def remove(number: Number, as_json: JsonFlag = False) -> None:
    """Quita un número de la lista: la cuenta puede volver a enviarle mensajes.

    Usa las variables de entorno CENTAURO_URL, CENTAURO_CLIENT_ID y CENTAURO_CLIENT_SECRET.
    """

    def delete(client: httpx.Client) -> None:
        response = client.delete(f"/suppressions/{quote(number.strip(), safe='')}")
        if response.status_code != 204:
            _refused(response, as_json)

    _call(as_json, delete)
    if as_json:
        output.emit_json({"number": number, "removed": True})
    else:
        output.console.print(texts.SUPPRESSION_REMOVED.format(number=output.safe(number)))
