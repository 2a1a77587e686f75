"""``centauro accounts …``: the operator's commands for customer accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from centauro.cli import output, texts
from centauro.cli.context import now, settings, snapshot, transaction
from centauro.domain import inputs
from centauro.domain.errors import CentauroError
from centauro.domain.models import Account

if TYPE_CHECKING:
    from centauro.service.accounts import NewCredentials
    from centauro.service.sealing import Sealer

app = typer.Typer(
    help="Cuentas de clientes: crear, recargar, ajustar límites, deshabilitar, renovar secreto."
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")]

CONTROL_CHARACTER = (
    "{option} no puede contener caracteres de control (U+{code:04X} en la posición {position})."
)


def _printable(option: str, value: str | None, as_json: bool) -> None:
    """Refuse a value with a control character in Spanish (domain.inputs has the rule)."""
    found = inputs.first_forbidden(value) if value is not None else None
    if found is not None:
        position, char = found
        message = CONTROL_CHARACTER.format(option=option, code=ord(char), position=position)
        output.fail(message, as_json=as_json)


def _row(a: Account) -> dict[str, Any]:
    from centauro.service.credentials import secret_kind

    return {
        "id": a.id,
        "name": a.name,
        "client_id": a.client_id,
        "enabled": a.enabled,
        "country": a.country,
        "balance": a.balance,
        "created_at": a.created_at,
        "timezone": a.timezone,
        "quiet_hours": a.quiet_hours,
        "rate_limit": a.rate_limit,
        "max_recipients": a.max_recipients,
        "secret_kind": secret_kind(a.secret_hash),
    }


def _credentials(created: NewCredentials, as_json: bool, headline: str) -> None:
    data = {
        **_row(created.account),
        "client_id": created.client_id,
        "client_secret": created.client_secret,
    }
    if created.signing_key is not None:
        data["signing_key"] = created.signing_key
    if as_json:
        output.emit_json(data)
        return
    output.console.print(f"[green]{headline}[/green]")
    output.fields(data)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Nombre de la cuenta (cliente).")],
    credits: Annotated[int, typer.Option("--credits", min=0, help="SMS iniciales.")] = 0,
    country: Annotated[
        str, typer.Option("--country", help="País por defecto de los números: VE o CO.")
    ] = "VE",
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="client_id fijo (por defecto, aleatorio).")
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            "--client-secret",
            help="Secreto fijo (solo pruebas): al menos 24 caracteres y 10 distintos. "
            "Por defecto, aleatorio.",
        ),
    ] = None,
    import_secret: Annotated[
        bool,
        typer.Option(
            "--import-secret",
            help="Migración: acepta el --client-secret que el sitio ya tiene escrito, "
            "aunque sea débil, y lo guarda con un hash lento (scrypt). Renuévelo con "
            "rotate-secret en cuanto el sitio pueda cambiarlo.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Crea una cuenta y muestra su client_id y client_secret (una sola vez)."""
    from centauro.service import accounts as service

    _printable("El nombre", name, as_json)
    _printable("--client-id", client_id, as_json)
    if import_secret:
        _check_imported(client_secret, as_json)

    with transaction(ctx, as_json=as_json) as conn:
        created = service.create(
            conn,
            name=name,
            credits=credits,
            country=country,
            now=now(),
            client_id=client_id,
            client_secret=client_secret,
            import_secret=import_secret,
            sealer=sealer(ctx, as_json),
        )
    if import_secret:
        output.err_console.print(f"[yellow]{texts.IMPORT_WARNING}[/yellow]")
    _credentials(created, as_json, texts.ACCOUNT_CREATED)


def _check_imported(secret: str | None, as_json: bool) -> None:
    """Refuse in Spanish what no service could have issued (service.credentials has the rule)."""
    from centauro.service.credentials import MAX_IMPORTED_LENGTH

    if not secret:
        output.fail(texts.IMPORT_NEEDS_VALUE, as_json=as_json, code=2)
    if len(secret) > MAX_IMPORTED_LENGTH:
        output.fail(texts.IMPORT_TOO_LONG.format(limit=MAX_IMPORTED_LENGTH), as_json=as_json)
    _printable("--client-secret", secret, as_json)


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Lista las cuentas con su saldo."""
    from centauro.service import accounts as service

    with snapshot(ctx, as_json=as_json) as conn:
        rows = [_row(a) for a in service.list_all(conn)]
    if as_json:
        output.emit_json(rows)
    elif not rows:
        output.console.print(texts.NO_ACCOUNTS)
    else:
        output.table(
            rows, ["id", "name", "client_id", "enabled", "country", "balance", "created_at"]
        )


@app.command("topup")
def topup(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Argument(help="client_id de la cuenta.")],
    amount: Annotated[int, typer.Argument(help="SMS a sumar (negativo para corregir).")],
    note: Annotated[str, typer.Option("--note", help="Nota para el libro de saldo.")] = "recarga",
    as_json: JsonFlag = False,
) -> None:
    """Suma (o resta) SMS al saldo de una cuenta; queda anotado en su libro."""
    from centauro.service import accounts as service

    with transaction(ctx, as_json=as_json) as conn:
        balance = service.topup(conn, client_id=client_id, amount=amount, now=now(), note=note)
    if as_json:
        output.emit_json({"client_id": client_id, "amount": amount, "balance": balance})
    else:
        output.console.print(f"{texts.TOPPED_UP}: {output.safe(client_id)} → {balance} SMS")


_KEEP: Any = object()


def _limit(option: str, value: str | None, kind: type[float], as_json: bool) -> Any:
    """A limit as typed: a number, "default" (None: the server's setting), or not given."""
    if value is None:
        return _KEEP
    if value.strip().lower() == "default":
        return None
    try:
        return kind(value)
    except ValueError:
        expected = texts.EXPECTED_NUMBER_OR_DEFAULT
        message = texts.BAD_SETTING.format(option=option, value=value, expected=expected)
        output.fail(message, as_json=as_json, code=2)


@app.command("update")
def update(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Argument(help="client_id de la cuenta.")],
    name: Annotated[str | None, typer.Option(help="Nuevo nombre.")] = None,
    country: Annotated[str | None, typer.Option(help="País por defecto: VE o CO.")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="Zona horaria IANA, p. ej. America/Caracas.")
    ] = None,
    quiet_hours: Annotated[
        str | None,
        typer.Option(
            metavar="HH:MM-HH:MM|none",
            help="Horas de silencio (hora local): el marketing espera a que terminen.",
        ),
    ] = None,
    rate_limit: Annotated[
        str | None,
        typer.Option(metavar="N|default", help="Peticiones/s por servidor (0: sin límite)."),
    ] = None,
    max_recipients: Annotated[
        str | None, typer.Option(metavar="N|default", help="Destinatarios por petición.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Cambia nombre, país, zona horaria, horas de silencio y límites de una cuenta.

    «default» devuelve un límite al valor del servidor.

    Los servidores en marcha aplican los cambios en unos segundos.
    """
    from centauro.service import accounts as service

    _printable("--name", name, as_json)
    changes: dict[str, Any] = {"name": name, "country": country, "timezone": timezone}
    if quiet_hours is not None:
        changes["quiet_hours"] = quiet_hours
    for key, value, kind in (
        ("rate_limit", rate_limit, float),
        ("max_recipients", max_recipients, int),
    ):
        parsed = _limit("--" + key.replace("_", "-"), value, kind, as_json)
        if parsed is not _KEEP:
            changes[key] = parsed
    with transaction(ctx, as_json=as_json) as conn:
        account = service.update(conn, client_id=client_id, now=now(), **changes)
    row = _row(account)
    if as_json:
        output.emit_json(row)
        return
    output.console.print(
        f"[green]{texts.ACCOUNT_UPDATED.format(client_id=output.safe(client_id))}[/green]"
    )
    rate = account.rate_limit
    row["rate_limit"] = (
        texts.SERVER_DEFAULT if rate is None else f"{rate:g}" if rate else texts.NO_LIMIT
    )
    row["max_recipients"] = account.max_recipients or texts.SERVER_DEFAULT
    output.fields(row)


def _set_enabled(ctx: typer.Context, client_id: str, enabled: bool, as_json: bool) -> None:
    from centauro.service import accounts as service

    with transaction(ctx, as_json=as_json) as conn:
        account = service.set_enabled(conn, client_id=client_id, enabled=enabled, now=now())
    if as_json:
        output.emit_json(_row(account))
    else:
        output.console.print(
            f"{texts.ENABLED if enabled else texts.DISABLED}: {output.safe(client_id)}"
        )


@app.command("disable")
def disable(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Argument(help="client_id de la cuenta.")],
    as_json: JsonFlag = False,
) -> None:
    """Deshabilita una cuenta: sus peticiones reciben el código 301."""
    _set_enabled(ctx, client_id, False, as_json)


@app.command("enable")
def enable(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Argument(help="client_id de la cuenta.")],
    as_json: JsonFlag = False,
) -> None:
    """Vuelve a habilitar una cuenta."""
    _set_enabled(ctx, client_id, True, as_json)


@app.command("rotate-secret")
def rotate_secret(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Argument(help="client_id de la cuenta.")],
    as_json: JsonFlag = False,
) -> None:
    """Genera un nuevo client_secret; el anterior deja de funcionar de inmediato."""
    from centauro.service import accounts as service

    with transaction(ctx, as_json=as_json) as conn:
        created = service.rotate_secret(conn, client_id=client_id, now=now())
    _credentials(created, as_json, texts.ROTATED_NOTICE)


@app.command("rotate-signing-key")
def rotate_signing_key(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Argument(help="client_id de la cuenta.")],
    as_json: JsonFlag = False,
) -> None:
    """Genera una nueva clave de firma de callback_url; la anterior deja de firmar ya."""
    from centauro.service import accounts as service

    keys = sealer(ctx, as_json)
    with transaction(ctx, as_json=as_json) as conn:
        key = service.rotate_signing_key(conn, client_id=client_id, now=now(), sealer=keys)
    data = {"client_id": client_id, "signing_key": key}
    if as_json:
        output.emit_json(data)
        return
    output.console.print(f"[green]{texts.SIGNING_KEY_ROTATED}[/green]")
    output.fields(data)


def sealer(ctx: typer.Context, as_json: bool) -> Sealer:
    """The server key's sealer (``CENTAURO_SECRET_KEY``), as ``serve`` builds it."""
    from centauro.service.sealing import Sealer

    try:
        return Sealer(settings(ctx).secret_key)
    except CentauroError as exc:
        output.fail(exc, as_json=as_json, code=2)


@app.command("ledger")
def ledger(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Argument(help="client_id de la cuenta.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Muestra los últimos movimientos de saldo (cargos, recargas, reembolsos)."""
    from centauro.service import accounts as service

    with snapshot(ctx, as_json=as_json) as conn:
        entries = service.ledger(conn, client_id, limit=limit)
    rows = [
        {
            "id": e.id,
            "kind": e.kind,
            "amount": e.amount,
            "balance_after": e.balance_after,
            "message_id": e.message_id,
            "messages": e.messages,
            "note": e.note,
            "created_at": e.created_at,
        }
        for e in entries
    ]
    if as_json:
        output.emit_json(rows)
    else:
        output.table(
            rows, ["id", "kind", "amount", "balance_after", "message_id", "note", "created_at"]
        )
