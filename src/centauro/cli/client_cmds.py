"""``centauro balance`` and ``centauro send``: the SDK from a shell, for any gateway.

``send`` uses the CentauroSMS compat API, which any CentauroSMS-compatible gateway
speaks; ``send --schedule`` needs scheduling, so it goes through Centauro's REST API.

Configured from ``CENTAURO_URL``, ``CENTAURO_CLIENT_ID`` and ``CENTAURO_CLIENT_SECRET`` —
not flags, so the secret stays out of shell history and process lists. This module
imports nothing of the server (these commands run where only the SDK is installed), and
loads the SDK itself only when a command runs, so other commands do not pay for httpx.

Exit codes, for scripts: 0 done; 1 the gateway refused (codes 300–305, an answer outside
the protocol, or no recipient accepted); 2 configuration missing or invalid; 3 the
gateway could not be reached.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from centauro.cli import output, texts

if TYPE_CHECKING:
    from centauro.client import Client, SendResult, Submission

T = TypeVar("T")

ENV_NAMES = ("CENTAURO_URL", "CENTAURO_CLIENT_ID", "CENTAURO_CLIENT_SECRET")
EXIT_REFUSED = 1
EXIT_CONFIG = 2
EXIT_UNREACHABLE = 3

JsonFlag = Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")]
#: REST statuses and rejection reasons of ``send --schedule``, for people.
REST_STATUS = {
    "queued": "En cola",
    "scheduled": "Programado",
    "invalid_number": "Rechazado: número no válido",
    "duplicate": "Rechazado: número repetido",
    "opted_out": "Rechazado: el destinatario se dio de baja",
}
BAD_SCHEDULE = (
    "--schedule debe ser una fecha y hora ISO 8601 con zona horaria, "
    "p. ej. 2026-11-26T09:00:00-04:00 (recibido: {value})"
)


def _fail(
    message: str, *, kind: str, code: int, as_json: bool, detail: dict[str, Any] | None = None
) -> NoReturn:
    """Spanish message on stderr always; with ``--json`` also an error object on stdout.

    *detail* replaces the message's fields in the JSON object (e.g. the bare protocol
    code and text, without the Spanish framing).
    """
    if as_json:
        data = {"error": kind, "message": message, **(detail or {})}
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    output.err_console.print(f"[red]Error:[/red] {output.safe(message)}", soft_wrap=True)
    raise typer.Exit(code)


def _with_client(as_json: bool, call: Callable[[Client], T]) -> T:
    """Build a client from the environment, run *call*, turn SDK errors into exit codes."""
    missing = [name for name in ENV_NAMES if not os.environ.get(name)]
    if missing:
        names = ", ".join(missing)
        _fail(
            texts.MISSING_CLIENT_ENV.format(names=names),
            kind="MissingEnvironment",
            code=EXIT_CONFIG,
            as_json=as_json,
        )
    url, client_id, secret = (os.environ[name] for name in ENV_NAMES)

    from centauro import client as sdk

    try:
        client = sdk.Client(url, client_id, secret)
    except ValueError as exc:
        _fail(texts.BAD_URL.format(error=exc), kind="InvalidURL", code=EXIT_CONFIG, as_json=as_json)
    try:
        with client:
            return call(client)
    except sdk.APIError as exc:
        message = texts.API_ERROR.format(message=exc.message, code=exc.code)
        detail = {"code": exc.code, "message": exc.message}
        _fail(message, kind=type(exc).__name__, code=EXIT_REFUSED, as_json=as_json, detail=detail)
    except sdk.TransportError as exc:
        message = texts.CANNOT_CONNECT.format(url=url, error=exc)
        _fail(message, kind="TransportError", code=EXIT_UNREACHABLE, as_json=as_json)
    except sdk.ProtocolError as exc:
        message = texts.BAD_ANSWER.format(url=url, error=exc)
        _fail(message, kind="ProtocolError", code=EXIT_REFUSED, as_json=as_json)


def balance(as_json: JsonFlag = False) -> None:
    """Muestra los SMS disponibles de la cuenta.

    Usa las variables de entorno CENTAURO_URL, CENTAURO_CLIENT_ID y CENTAURO_CLIENT_SECRET.
    """
    credits = _with_client(as_json, lambda client: client.balance())
    if as_json:
        output.emit_json({"sms_disponibles": credits})
    else:
        output.console.print(texts.BALANCE.format(credits=credits))


def _rows(result: SendResult) -> list[dict[str, Any]]:
    return [
        {
            "number": m.number,
            "message_id": m.message_id,
            "status_text": m.status_text,
            "accepted": m.accepted,
            "text": m.text,
        }
        for m in result.messages
    ]


def _schedule(value: str, as_json: bool) -> datetime:
    """An aware datetime from ``--schedule``; exit 2 (configuration) otherwise."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        _fail(
            BAD_SCHEDULE.format(value=value),
            kind="InvalidSchedule",
            code=EXIT_CONFIG,
            as_json=as_json,
        )
    return when


def _submission_rows(result: Submission) -> list[dict[str, Any]]:
    return [
        {
            "number": m.to,
            "message_id": m.id,
            "status": m.status,
            "error": m.error,
            "accepted": m.accepted,
        }
        for m in result.messages
    ]


def send(
    numbers: Annotated[
        str,
        typer.Argument(
            metavar="NUMERO[,NUMERO…]", help="Uno o varios números separados por comas."
        ),
    ],
    text: Annotated[str, typer.Argument(metavar="TEXTO", help="El mensaje.")],
    schedule: Annotated[
        str | None,
        typer.Option(
            "--schedule",
            metavar="ISO8601",
            help=(
                "Programa el envío para esa fecha y hora, con zona horaria "
                "(p. ej. 2026-11-26T09:00:00-04:00). Usa la API REST del gateway."
            ),
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Envía un SMS a uno o varios números y muestra el resultado de cada uno.

    Usa las variables de entorno CENTAURO_URL, CENTAURO_CLIENT_ID y CENTAURO_CLIENT_SECRET.

    Salida: 0 al menos uno aceptado, 1 rechazado, 2 falta configuración, 3 sin conexión.
    """
    if schedule is not None:
        _send_scheduled(numbers, text, _schedule(schedule, as_json), as_json)
        return
    result = _with_client(as_json, lambda client: client.send(numbers, text))
    rows = _rows(result)
    accepted, rejected = len(result.accepted), len(result.rejected)
    if as_json:
        output.emit_json(
            {"messages": rows, "summary": {"accepted": accepted, "rejected": rejected}}
        )
    else:
        for row in rows:
            row["status"] = texts.STATUS_TEXTS.get(row["status_text"], row["status_text"])
        output.table(rows, ["number", "message_id", "status"])
        output.console.print(texts.SENT_SUMMARY.format(accepted=accepted, rejected=rejected))
    _exit_if_none_accepted(accepted)


def _send_scheduled(numbers: str, text: str, when: datetime, as_json: bool) -> None:
    """``send --schedule``: ``POST /v1/messages`` with ``schedule_at``."""
    to = [n.strip() for n in numbers.split(",") if n.strip()]
    result = _with_client(as_json, lambda client: client.send_message(to, text, schedule_at=when))
    rows = _submission_rows(result)
    accepted, rejected = len(result.accepted), len(result.rejected)
    if as_json:
        output.emit_json(
            {"messages": rows, "summary": {"accepted": accepted, "rejected": rejected}}
        )
    else:
        for row in rows:
            row["status"] = REST_STATUS.get(row["error"] or row["status"], row["status"])
        output.table(rows, ["number", "message_id", "status"])
        output.console.print(texts.SENT_SUMMARY.format(accepted=accepted, rejected=rejected))
    _exit_if_none_accepted(accepted)


def _exit_if_none_accepted(accepted: int) -> None:
    if not accepted:
        output.err_console.print(f"[red]Error:[/red] {texts.NONE_ACCEPTED}", soft_wrap=True)
        raise typer.Exit(EXIT_REFUSED)
