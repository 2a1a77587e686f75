"""A customer's contact lists: create, import and export CSV, edit and remove contacts.

Customers only (the account is the session user's); another account's list or contact
id is a 404 page, like an id that does not exist. Every change goes through
``service/contacts.py``, the same calls the REST API makes.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from centauro.domain.errors import Conflict, InvalidRequest, NotFound
from centauro.domain.ids import parse_id
from centauro.service import contacts as service
from centauro.web import forms
from centauro.web.customer import _account
from centauro.web.render import page, redirect
from centauro.web.session import Visitor, form, gateway, now, path_text, require
from centauro.web.texts import NOT_FOUND
from centauro.web.uploads import upload

PAGE = 50
REJECTED_SHOWN = 50
#: Form fields of the edit page at most: number, name, csrf, one per column, a new one.
MAX_FIELDS = service.MAX_FIELDS + 6


def _id(request: Request, name: str) -> int:
    value = parse_id(path_text(request, name))
    if value is None:
        raise NotFound(NOT_FOUND)
    return value


async def lists_page(request: Request, *, status: int = 200, **extra: object) -> Response:
    v = await require(request, operator=False)
    account = await _account(request, v)
    found = await gateway(request).read(lambda c: service.lists(c, account))
    extra.setdefault("name", "")
    return page(
        request, "contact_lists.html", status=status, visitor=v, lists=found,
        zone=account.timezone, **extra,
    )  # fmt: skip


async def create(request: Request) -> Response:
    v = await require(request, operator=False)
    data = await form(request, "s:" + v.token)
    account = await _account(request, v)
    name = forms.text(data, "name", limit=service.MAX_NAME + 1)
    at = now()
    try:
        made = await gateway(request).write(lambda c: service.create_list(c, account, name, now=at))
    except (InvalidRequest, Conflict) as exc:
        return await lists_page(request, status=422, error=str(exc), name=name)
    return redirect(f"/panel/contacts/{made.id}")


async def _list_page(
    request: Request, v: Visitor, list_id: int, *, status: int = 200, **extra: object
) -> Response:
    account = await _account(request, v)
    cursor = forms.text(request.query_params, "desde", limit=20) or None
    gw = gateway(request)
    listed = await gw.read(lambda c: service.get_list(c, account, list_id))
    try:
        found = await gw.read(
            lambda c: service.page(c, account, list_id, limit=PAGE, cursor=cursor)
        )
    except InvalidRequest:
        found = await gw.read(lambda c: service.page(c, account, list_id, limit=PAGE))
    return page(
        request,
        "contact_list.html",
        status=status,
        visitor=v,
        listed=listed,
        contacts=found.contacts,
        next_cursor=found.next_cursor,
        **extra,
    )


async def list_page(request: Request) -> Response:
    v = await require(request, operator=False)
    return await _list_page(request, v, _id(request, "list_id"))


async def rename(request: Request) -> Response:
    v = await require(request, operator=False)
    data = await form(request, "s:" + v.token)
    list_id = _id(request, "list_id")
    account = await _account(request, v)
    name = forms.text(data, "name", limit=service.MAX_NAME + 1)
    at = now()
    try:
        await gateway(request).write(
            lambda c: service.rename_list(c, account, list_id, name, now=at)
        )
    except (InvalidRequest, Conflict) as exc:
        return await _list_page(request, v, list_id, status=422, error=str(exc))
    return redirect(f"/panel/contacts/{list_id}")


async def delete(request: Request) -> Response:
    v = await require(request, operator=False)
    await form(request, "s:" + v.token)
    list_id = _id(request, "list_id")
    account = await _account(request, v)
    await gateway(request).write(lambda c: service.delete_list(c, account, list_id))
    return redirect("/panel/contacts")


async def import_file(request: Request) -> Response:
    v = await require(request, operator=False)
    list_id = _id(request, "list_id")
    account = await _account(request, v)
    await gateway(request).read(lambda c: service.get_list(c, account, list_id))  # 404 first
    try:
        sent = await upload(request, "s:" + v.token)
        at = now()
        gw = gateway(request)
        report = await service.import_in_chunks(
            gw.read, gw.write, account, list_id, sent.data, now=at
        )
    except (forms.FormError, InvalidRequest) as exc:
        return await _list_page(request, v, list_id, status=422, error=str(exc))
    notice = (
        f"Importación terminada: {report.added} nuevos, {report.updated} actualizados, "
        f"{len(report.rejected)} rechazados."
    )
    return await _list_page(
        request, v, list_id, notice=notice, rejected=report.rejected[:REJECTED_SHOWN]
    )


async def export(request: Request) -> Response:
    v = await require(request, operator=False)
    list_id = _id(request, "list_id")
    account = await _account(request, v)
    data = await gateway(request).read(lambda c: service.export_csv(c, account, list_id))
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="lista-{list_id}.csv"'},
    )


def _extra_fields(data: FormData, columns: list[str]) -> dict[str, str]:
    """The list's columns (``v0``, ``v1``…), plus one new ``k_new``/``v_new`` pair."""
    values = {name: _raw(data, f"v{i}") for i, name in enumerate(columns)}
    new_key = forms.text(data, "k_new", limit=service.MAX_FIELD_NAME + 1)
    if new_key:
        values[new_key] = _raw(data, "v_new")
    return {k: val for k, val in values.items() if val}


def _raw(data: FormData, name: str) -> str:
    """A field's value as typed (spaces kept: a field is data, not a command)."""
    value = data.get(name)
    return value[: service.MAX_VALUE + 1] if isinstance(value, str) else ""


async def add(request: Request) -> Response:
    v = await require(request, operator=False)
    data = await form(request, "s:" + v.token, max_fields=MAX_FIELDS)
    list_id = _id(request, "list_id")
    account = await _account(request, v)
    gw = gateway(request)
    listed = await gw.read(lambda c: service.get_list(c, account, list_id))
    number = forms.text(data, "number", limit=64)
    name = forms.text(data, "name", limit=service.MAX_NAME + 1)
    at = now()
    try:
        values = _extra_fields(data, listed.fields)
        await gw.write(
            lambda c: service.add_contact(
                c, account, list_id, number=number, name=name, fields=values, now=at
            )
        )
    except (InvalidRequest, Conflict) as exc:
        return await _list_page(request, v, list_id, status=422, error=str(exc))
    return redirect(f"/panel/contacts/{list_id}")


async def edit_page(request: Request, *, status: int = 200, **extra: object) -> Response:
    v = await require(request, operator=False)
    list_id, contact_id = _id(request, "list_id"), _id(request, "contact_id")
    account = await _account(request, v)
    gw = gateway(request)
    listed = await gw.read(lambda c: service.get_list(c, account, list_id))
    contact = await gw.read(lambda c: service.get_contact(c, account, list_id, contact_id))
    return page(
        request, "contact_edit.html", status=status, visitor=v, listed=listed, contact=contact,
        **extra,
    )  # fmt: skip


async def save(request: Request) -> Response:
    v = await require(request, operator=False)
    data = await form(request, "s:" + v.token, max_fields=MAX_FIELDS)
    list_id, contact_id = _id(request, "list_id"), _id(request, "contact_id")
    account = await _account(request, v)
    gw = gateway(request)
    listed = await gw.read(lambda c: service.get_list(c, account, list_id))
    number = forms.text(data, "number", limit=64)
    name = forms.text(data, "name", limit=service.MAX_NAME + 1)
    at = now()
    try:
        values = _extra_fields(data, listed.fields)
        await gw.write(
            lambda c: service.update_contact(
                c, account, list_id, contact_id, number=number, name=name, fields=values, now=at
            )
        )
    except (InvalidRequest, Conflict) as exc:
        return await edit_page(request, status=422, error=str(exc))
    return redirect(f"/panel/contacts/{list_id}")


async def remove(request: Request) -> Response:
    v = await require(request, operator=False)
    await form(request, "s:" + v.token)
    list_id, contact_id = _id(request, "list_id"), _id(request, "contact_id")
    account = await _account(request, v)
    await gateway(request).write(lambda c: service.delete_contact(c, account, list_id, contact_id))
    return redirect(f"/panel/contacts/{list_id}")


routes = [
    Route("/contacts", lists_page, methods=["GET"]),
    Route("/contacts", create, methods=["POST"]),
    Route("/contacts/{list_id}", list_page, methods=["GET"]),
    Route("/contacts/{list_id}/rename", rename, methods=["POST"]),
    Route("/contacts/{list_id}/delete", delete, methods=["POST"]),
    Route("/contacts/{list_id}/import", import_file, methods=["POST"]),
    Route("/contacts/{list_id}/export", export, methods=["GET"]),
    Route("/contacts/{list_id}/add", add, methods=["POST"]),
    Route("/contacts/{list_id}/c/{contact_id}", edit_page, methods=["GET"]),
    Route("/contacts/{list_id}/c/{contact_id}", save, methods=["POST"]),
    Route("/contacts/{list_id}/c/{contact_id}/delete", remove, methods=["POST"]),
]
