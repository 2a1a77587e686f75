"""The ``centauro`` command. Thin: parse, call the service or the SDK, print."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from centauro import __version__
from centauro.cli import (
    accounts,
    admins,
    campaigns,
    client_cmds,
    connectors,
    contacts,
    db,
    inbound,
    messages,
    routes,
    senders,
    smpp,
    suppressions,
    webhooks,
)
from centauro.cli.context import SERVER_COMMANDS, State, database_url, require_server
from centauro.cli.serve import serve
from centauro.cli.smsc_sim import smsc_sim

app = typer.Typer(
    name="centauro",
    help="Centauro: gateway de SMS masivos compatible con CentauroSMS v1.2.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
accounts.app.command("smpp-password")(smpp.smpp_password)
app.add_typer(accounts.app, name="accounts")
app.add_typer(messages.app, name="messages")
app.add_typer(campaigns.app, name="campaigns")
app.add_typer(db.app, name="db")
app.add_typer(connectors.app, name="connectors")
app.add_typer(routes.app, name="routes")
app.add_typer(inbound.app, name="inbound")
app.add_typer(suppressions.app, name="suppressions")
app.add_typer(senders.app, name="senders")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(contacts.app, name="contacts")
app.add_typer(smpp.clients_app, name="smpp-clients")
app.add_typer(admins.app, name="admins")
app.command("serve")(serve)
app.command("balance")(client_cmds.balance)
app.command("send")(client_cmds.send)
app.command("smsc-sim")(smsc_sim)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"centauro {__version__}")
        raise typer.Exit


@app.callback()
def main(
    ctx: typer.Context,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="CENTAURO_DATABASE_URL",
            help="Base de datos: URL de SQLAlchemy o ruta de un archivo SQLite "
            "(por defecto ./centauro.sqlite3).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Versión.")
    ] = False,
) -> None:
    ctx.obj = State(database_url=database_url(db_url))
    command = ctx.invoked_subcommand
    if command in SERVER_COMMANDS and not _asks_for_help():
        require_server(command)


def _asks_for_help() -> bool:
    """``centauro db --help`` works without the server: help needs none of it. (Click has
    consumed the subcommand's arguments from the context by the time this callback runs.)"""
    return "--help" in sys.argv[1:]


def run() -> None:
    app()
