"""The operator's carrier pages: connectors (live state, add, edit, enable, remove) and
routes (list, add, remove) — through ``service/carriers.py`` and the connector registry,
exactly as ``centauro connectors`` and ``centauro routes`` do.

A connector's password is never sent back to the browser: the edit form shows an empty
password field, and an empty field keeps the stored password. Running servers pick a
change up within seconds (``delivery/supervisor.py``); the list shows what they report.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from centauro.connectors import registry
from centauro.domain.errors import Conflict, InvalidRequest, NotFound
from centauro.domain.ids import parse_id
from centauro.service import carriers
from centauro.web import forms
from centauro.web.render import page, redirect
from centauro.web.session import form, gateway, now, path_text, require
from centauro.web.texts import NOT_FOUND

KINDS = ("smpp", "sandbox")
#: Form fields of an SMPP connector: (field, label, type). Booleans are checkboxes.
SMPP_FIELDS: tuple[tuple[str, str, type], ...] = (
    ("host", "Servidor SMSC", str),
    ("port", "Puerto", int),
    ("system_id", "Usuario (system_id)", str),
    ("system_type", "system_type", str),
    ("source_addr", "Remitente (source_addr)", str),
    ("window", "Ventana (envíos sin respuesta)", int),
    ("tps", "Envíos por segundo (0: sin límite)", float),
    ("enquire_link", "Segundos entre enquire_link", float),
)
CHOICES = {
    "bind_mode": ("transceiver", "transmitter_receiver"),
    "gsm7_coding": ("gsm7", "latin1", "ascii"),
    "multipart": ("udh", "sar", "payload"),
}
CHECKS = ("tls", "registered_delivery")
SECRET = "password"  # noqa: S105 - the name of the setting, not a password


def _number(data: FormData, name: str, label: str, kind: type) -> Any:
    raw = forms.text(data, name, limit=30).replace(",", ".")
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise forms.FormError(f"{label}: escriba un número.") from None


def _values(data: FormData, kind: str, *, editing: bool) -> dict[str, Any]:
    """The settings the form gives; when editing, an empty number or password keeps the
    stored one (an empty text clears it)."""
    if kind == "sandbox":
        delay = _number(data, "dlr_delay", "Segundos hasta la confirmación", float)
        return {} if delay is None else {"dlr_delay": delay}
    values: dict[str, Any] = {}
    for name, label, typ in SMPP_FIELDS:
        if typ is str:
            text = forms.text(data, name)
            if text or editing:
                values[name] = text
        else:
            number = _number(data, name, label, typ)
            if number is not None:
                values[name] = number
    for name, allowed in CHOICES.items():
        choice = forms.text(data, name, limit=40)
        if choice in allowed:
            values[name] = choice
    for name in CHECKS:
        values[name] = data.get(name) == "1"
    password = data.get(SECRET)
    if isinstance(password, str) and password:
        values[SECRET] = password[:200]
    return values


def _validated(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    try:
        return registry.validate(kind, values)
    except (TypeError, ValueError) as exc:
        raise forms.FormError(f"Opciones de conector no válidas: {exc}") from None


async def _list(request: Request, *, status: int = 200, **extra: Any) -> Response:
    v = await require(request, operator=True)
    gw = gateway(request)
    rows = await gw.read(carriers.list_connectors)
    states = await gw.read(carriers.live_status)
    routes = await gw.read(carriers.list_routes)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for s in states:
        by_name.setdefault(s["name"], []).append(s)
    extra.setdefault("draft", {})
    return page(
        request,
        "connectors.html",
        status=status,
        visitor=v,
        connectors=rows,
        states=by_name,
        routes=routes,
        kinds=KINDS,
        fields=SMPP_FIELDS,
        choices=CHOICES,
        **extra,
    )


async def connectors_page(request: Request) -> Response:
    return await _list(request)


async def add_connector(request: Request) -> Response:
    v = await require(request, operator=True)
    data = await form(request, "s:" + v.token)
    name, kind = forms.text(data, "name", limit=64), forms.text(data, "kind", limit=10)
    draft = {k: val for k, val in data.items() if k not in (SECRET, "csrf")}
    try:
        if kind not in KINDS:
            raise forms.FormError("Elija el tipo de conector: smpp o sandbox.")
        settings = _validated(kind, _values(data, kind, editing=False))
        at = now()
        await gateway(request).write(
            lambda c: carriers.add_connector(c, name=name, kind=kind, settings=settings, now=at)
        )
    except forms.FormError as exc:
        return await _list(request, status=422, error=str(exc), draft=draft)
    except Conflict:
        return await _list(
            request, status=409, error=f"Ya existe un conector «{name}».", draft=draft
        )
    except InvalidRequest:
        message = "Nombre: de 1 a 64 caracteres a-z 0-9 _ . - (empezando por letra o número)."
        return await _list(request, status=422, error=message, draft=draft)
    return redirect(f"/panel/connectors/{name}")


async def _edit(request: Request, name: str, *, status: int = 200, **extra: Any) -> Response:
    v = await require(request, operator=True)
    gw = gateway(request)
    row = await gw.read(lambda c: carriers.get_connector(c, name))
    states = [s for s in await gw.read(carriers.live_status) if s["name"] == name]
    shown = {k: val for k, val in row.settings.items() if k != SECRET}
    return page(
        request,
        "connector.html",
        status=status,
        visitor=v,
        row=row,
        settings=shown,
        has_password=bool(row.settings.get(SECRET)),
        states=states,
        fields=SMPP_FIELDS,
        choices=CHOICES,
        **extra,
    )


async def connector_page(request: Request) -> Response:
    return await _edit(request, path_text(request, "name"))


async def update_connector(request: Request) -> Response:
    v = await require(request, operator=True)
    data = await form(request, "s:" + v.token)
    name = path_text(request, "name")
    gw = gateway(request)
    current = await gw.read(lambda c: carriers.get_connector(c, name))
    try:
        values = _values(data, current.kind, editing=True)
        settings = _validated(current.kind, {**current.settings, **values})
    except forms.FormError as exc:
        return await _edit(request, name, status=422, error=str(exc))
    at = now()
    await gw.write(lambda c: carriers.update_connector(c, name, settings=settings, now=at))
    return await _edit(request, name, notice="Conector actualizado: los servidores lo reinician.")


async def connector_enabled(request: Request) -> Response:
    v = await require(request, operator=True)
    data = await form(request, "s:" + v.token)
    name = path_text(request, "name")
    enabled = forms.text(data, "enabled", limit=1) == "1"
    at = now()
    await gateway(request).write(lambda c: carriers.set_enabled(c, name, enabled=enabled, now=at))
    return redirect(f"/panel/connectors/{name}")


async def remove_connector(request: Request) -> Response:
    v = await require(request, operator=True)
    await form(request, "s:" + v.token)
    name = path_text(request, "name")
    await gateway(request).write(lambda c: carriers.remove_connector(c, name))
    return redirect("/panel/connectors")


async def add_route(request: Request) -> Response:
    v = await require(request, operator=True)
    data = await form(request, "s:" + v.token)
    prefix = forms.text(data, "prefix", limit=30)
    connector = forms.text(data, "connector", limit=64)
    try:
        priority = forms.integer(data, "priority", "Prioridad", low=0, high=1000)
        at = now()
        await gateway(request).write(
            lambda c: carriers.add_route(
                c, prefix=prefix, connector=connector, priority=priority, now=at
            )
        )
    except forms.FormError as exc:
        return await _list(request, status=422, error=str(exc))
    except Conflict:
        return await _list(request, status=409, error="Esa ruta ya existe.")
    except NotFound:
        return await _list(request, status=422, error=f"No existe el conector «{connector}».")
    except InvalidRequest:
        message = "Prefijo: hasta 15 dígitos de un número E.164 (vacío: ruta por defecto)."
        return await _list(request, status=422, error=message)
    return redirect("/panel/connectors")


async def remove_route(request: Request) -> Response:
    v = await require(request, operator=True)
    await form(request, "s:" + v.token)
    route_id = parse_id(path_text(request, "route_id"))
    if route_id is None:
        return page(request, "error.html", status=404, visitor=v, message=NOT_FOUND)
    await gateway(request).write(lambda c: carriers.remove_route(c, route_id))
    return redirect("/panel/connectors")


routes = [
    Route("/connectors", connectors_page, methods=["GET"]),
    Route("/connectors", add_connector, methods=["POST"]),
    Route("/connectors/{name}", connector_page, methods=["GET"]),
    Route("/connectors/{name}", update_connector, methods=["POST"]),
    Route("/connectors/{name}/enabled", connector_enabled, methods=["POST"]),
    Route("/connectors/{name}/remove", remove_connector, methods=["POST"]),
    Route("/routes", add_route, methods=["POST"]),
    Route("/routes/{route_id}/remove", remove_route, methods=["POST"]),
]
