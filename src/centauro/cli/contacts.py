"""``centauro contacts …``: an account's contact lists, from a shell.

A client command like ``suppressions``: it talks to the REST API
(``/v1/contact-lists``) as the account in ``CENTAURO_URL``, ``CENTAURO_CLIENT_ID`` and
``CENTAURO_CLIENT_SECRET``. Exit codes as there: 0 done; 1 the gateway refused; 2
configuration missing or invalid (or a file that cannot be read or written); 3 the
gateway could not be reached.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from centauro.cli import output, suppressions, texts
from centauro.cli.client_cmds import EXIT_CONFIG
from centauro.cli.suppressions import _call, _fail, _json

if TYPE_CHECKING:
    import httpx

app = typer.Typer(help="Listas de contactos: crear, importar y exportar CSV, editar.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Salida JSON para máquinas.")]
ListId = Annotated[int, typer.Argument(metavar="LISTA", help="Id de la lista.")]
ContactId = Annotated[int, typer.Argument(metavar="CONTACTO", help="Id del contacto.")]
Fields = Annotated[
    list[str] | None,
    typer.Option("--campo", help="Campo extra CLAVE=VALOR; se puede repetir."),
]
PAGE = 1000
ENV_NOTE = "Usa CENTAURO_URL, CENTAURO_CLIENT_ID y CENTAURO_CLIENT_SECRET."


def _refused(response: httpx.Response, as_json: bool) -> NoReturn:
    suppressions._refused(response, as_json, texts.CONTACT_PROBLEMS)


def _request(
    as_json: bool, method: str, path: str, *, expect: int = 200, **kw: Any
) -> httpx.Response:
    def run(client: httpx.Client) -> httpx.Response:
        response = client.request(method, path, **kw)
        if response.status_code != expect:
            _refused(response, as_json)
        return response

    return _call(as_json, run)


def _fields(pairs: list[str] | None, as_json: bool) -> dict[str, str] | None:
    if pairs is None:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            message = texts.CONTACT_FIELD_FORMAT.format(value=pair)
            _fail(message, kind="InvalidOption", code=EXIT_CONFIG, as_json=as_json)
        out[key.strip()] = value
    return out


@app.command("lists")
def lists(as_json: JsonFlag = False) -> None:
    """Muestra las listas de contactos de la cuenta. Usa CENTAURO_URL, CENTAURO_CLIENT_ID
    y CENTAURO_CLIENT_SECRET."""
    rows = _json(_request(as_json, "GET", "/contact-lists"), as_json)["data"]
    if as_json:
        output.emit_json(rows)
    elif not rows:
        output.console.print(texts.NO_CONTACT_LISTS)
    else:
        output.table(rows, ["id", "name", "contacts", "updated_at"])


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(metavar="NOMBRE", help="Nombre de la lista.")],
    as_json: JsonFlag = False,
) -> None:
    """Crea una lista vacía. Usa CENTAURO_URL, CENTAURO_CLIENT_ID y CENTAURO_CLIENT_SECRET."""
    made = _json(
        _request(as_json, "POST", "/contact-lists", expect=201, json={"name": name}), as_json
    )
    if as_json:
        output.emit_json(made)
    else:
        output.console.print(
            texts.CONTACT_LIST_CREATED.format(name=output.safe(made["name"]), id=made["id"])
        )


@app.command("rename")
def rename(
    list_id: ListId,
    name: Annotated[str, typer.Argument(metavar="NOMBRE", help="Nombre nuevo.")],
    as_json: JsonFlag = False,
) -> None:
    """Cambia el nombre de una lista."""
    done = _json(
        _request(as_json, "PATCH", f"/contact-lists/{list_id}", json={"name": name}), as_json
    )
    if as_json:
        output.emit_json(done)
    else:
        output.console.print(
            texts.CONTACT_LIST_RENAMED.format(id=list_id, name=output.safe(done["name"]))
        )


@app.command("delete")
def delete(list_id: ListId, as_json: JsonFlag = False) -> None:
    """Borra una lista con todos sus contactos."""
    _request(as_json, "DELETE", f"/contact-lists/{list_id}", expect=204)
    if as_json:
        output.emit_json({"id": str(list_id), "deleted": True})
    else:
        output.console.print(texts.CONTACT_LIST_DELETED.format(id=list_id))


@app.command("show")
def show(list_id: ListId, as_json: JsonFlag = False) -> None:
    """Muestra los contactos de una lista (los dados de baja, marcados)."""

    def fetch(client: httpx.Client) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(10_000):
            params: dict[str, Any] = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
            response = client.get(f"/contact-lists/{list_id}/contacts", params=params)
            if response.status_code != 200:
                _refused(response, as_json)
            page = _json(response, as_json)
            rows += page["data"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return rows

    rows = _call(as_json, fetch)
    if as_json:
        output.emit_json(rows)
    elif not rows:
        output.console.print(texts.NO_CONTACTS)
    else:
        shown = [
            {
                "id": r["id"],
                "number": r["number"],
                "name": r["name"],
                "fields": ", ".join(f"{k}={v}" for k, v in r["fields"].items()),
                "opted_out": "baja" if r["opted_out"] else "",
            }
            for r in rows
        ]
        output.table(shown, ["id", "number", "name", "fields", "opted_out"])


@app.command("add")
def add(
    list_id: ListId,
    number: Annotated[str, typer.Argument(metavar="NUMERO", help="Número en cualquier formato.")],
    name: Annotated[str, typer.Option("--nombre", help="Nombre del contacto.")] = "",
    fields: Fields = None,
    as_json: JsonFlag = False,
) -> None:
    """Agrega un contacto a la lista."""
    body = {"number": number, "name": name, "fields": _fields(fields, as_json) or {}}
    path = f"/contact-lists/{list_id}/contacts"
    made = _json(_request(as_json, "POST", path, expect=201, json=body), as_json)
    if as_json:
        output.emit_json(made)
    else:
        output.console.print(texts.CONTACT_ADDED.format(number=made["number"], id=made["id"]))


@app.command("edit")
def edit(
    list_id: ListId,
    contact_id: ContactId,
    number: Annotated[str | None, typer.Option("--numero", help="Número nuevo.")] = None,
    name: Annotated[str | None, typer.Option("--nombre", help="Nombre nuevo.")] = None,
    fields: Fields = None,
    as_json: JsonFlag = False,
) -> None:
    """Edita un contacto; --campo reemplaza todos sus campos extra."""
    body: dict[str, Any] = {"number": number, "name": name, "fields": _fields(fields, as_json)}
    body = {k: v for k, v in body.items() if v is not None}
    path = f"/contact-lists/{list_id}/contacts/{contact_id}"
    done = _json(_request(as_json, "PATCH", path, json=body), as_json)
    if as_json:
        output.emit_json(done)
    else:
        output.console.print(texts.CONTACT_EDITED.format(id=contact_id))


@app.command("remove")
def remove(list_id: ListId, contact_id: ContactId, as_json: JsonFlag = False) -> None:
    """Quita un contacto de la lista."""
    _request(as_json, "DELETE", f"/contact-lists/{list_id}/contacts/{contact_id}", expect=204)
    if as_json:
        output.emit_json({"id": str(contact_id), "removed": True})
    else:
        output.console.print(texts.CONTACT_REMOVED.format(id=contact_id))


@app.command("import")
def import_(
    list_id: ListId,
    path: Annotated[Path, typer.Argument(metavar="ARCHIVO", help="CSV con columna numero.")],
    as_json: JsonFlag = False,
) -> None:
    """Importa un CSV (separado por , o ;, UTF-8 o Latin-1) con una columna «numero» y,
    si quiere, «nombre» y otras columnas como campos extra. Los números que ya estén en la
    lista se actualizan."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        message = texts.CANNOT_READ_FILE.format(path=path, error=exc.strerror or exc)
        _fail(message, kind="FileError", code=EXIT_CONFIG, as_json=as_json)
    headers = {"content-type": "text/csv"}
    path_ = f"/contact-lists/{list_id}/import"
    report = _json(_request(as_json, "POST", path_, content=data, headers=headers), as_json)
    if as_json:
        output.emit_json(report)
        return
    output.console.print(
        texts.CONTACTS_IMPORTED.format(
            added=report["added"], updated=report["updated"], rejected=report["rejected_total"]
        )
    )
    for r in report["rejected"]:
        output.console.print(
            texts.CONTACT_REJECTED.format(line=r["line"], reason=output.safe(r["reason"]))
        )


@app.command("export")
def export(
    list_id: ListId,
    path: Annotated[
        str, typer.Argument(metavar="ARCHIVO", help="Archivo de salida; «-» para la salida.")
    ] = "-",
) -> None:
    """Exporta la lista a CSV (UTF-8); importarlo de nuevo da la misma lista."""
    data = _request(False, "GET", f"/contact-lists/{list_id}/export").content
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        message = texts.CANNOT_WRITE_FILE.format(path=path, error=exc.strerror or exc)
        _fail(message, kind="FileError", code=EXIT_CONFIG, as_json=False)
    output.err_console.print(texts.CONTACTS_EXPORTED.format(path=path))
