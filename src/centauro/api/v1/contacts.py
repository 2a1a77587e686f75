"""``/v1/contact-lists``: an account's contact lists (docs/rest.md, "Contact lists").

Lists and their contacts, read and edited one by one, imported from a CSV file (the body
of ``POST …/import``, as a spreadsheet saves it: ``,`` or ``;``, UTF-8 or Latin-1) and
exported to one (``GET …/export``) that imports back to the same list. Another account's
list or contact id answers 404, like one that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, Security
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from centauro.api.guard import checked
from centauro.api.v1 import paging
from centauro.api.v1.auth import CurrentAccount, GatewayDep
from centauro.api.v1.schemas import (
    BASIC_AUTH,
    Page,
    json_body,
    json_response,
    parse_body,
    problems,
    stamp,
)
from centauro.domain.errors import NotFound
from centauro.domain.ids import parse_id
from centauro.service import contacts as service
from centauro.service.contacts import Contact, ContactList

router = APIRouter(tags=["contact-lists"], dependencies=[Security(BASIC_AUTH)])

#: Rejected rows listed in an import's answer at most (``rejected_total`` counts them all).
MAX_REJECTED_SHOWN = 1000
Name = Annotated[str, Field(min_length=1, max_length=service.MAX_NAME)]
Fields = Annotated[
    dict[Annotated[str, Field(max_length=service.MAX_FIELD_NAME)], str],
    Field(description="Extra fields, {column: text}", examples=[{"ciudad": "Maracay"}]),
]


class ListIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: Name


class ListOut(BaseModel):
    id: str
    name: str
    fields: list[str] = Field(description="The list's extra columns, in order")
    contacts: int
    created_at: datetime
    updated_at: datetime


class ListsOut(BaseModel):
    data: list[ListOut]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    number: str = Field(max_length=64, examples=["04141234567"])
    name: str = Field(default="", max_length=service.MAX_NAME)
    fields: Fields = {}


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    number: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=service.MAX_NAME)
    fields: Fields | None = Field(default=None, description="Replaces all extra fields")


class ContactOut(BaseModel):
    id: str
    number: str = Field(description="E.164", examples=["+584141234567"])
    name: str
    fields: dict[str, str]
    opted_out: bool = Field(description="The number is on the account's opt-out list")
    created_at: datetime
    updated_at: datetime


class ContactPage(Page):
    data: list[ContactOut]


class RejectedOut(BaseModel):
    line: int
    value: str
    reason: str


class ImportOut(BaseModel):
    added: int
    updated: int
    rejected_total: int
    rejected: list[RejectedOut] = Field(description=f"The first {MAX_REJECTED_SHOWN} at most")


def _list(item: ContactList) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "name": item.name,
        "fields": item.fields,
        "contacts": item.count,
        "created_at": stamp(item.created_at),
        "updated_at": stamp(item.updated_at),
    }


def _contact(c: Contact) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "number": c.number,
        "name": c.name,
        "fields": c.fields,
        "opted_out": c.opted_out,
        "created_at": stamp(c.created_at),
        "updated_at": stamp(c.updated_at),
    }


def _id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound("No existe ese registro.")
    return value


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/contact-lists", response_model=ListsOut, responses=problems(), summary="Lists")
async def list_lists(account: CurrentAccount, gw: GatewayDep) -> Response:
    found = await gw.read(checked(account, lambda c: service.lists(c, account)))
    return json_response({"data": [_list(x) for x in found]})


@router.post(
    "/contact-lists",
    status_code=201,
    response_model=ListOut,
    responses=problems(409),
    openapi_extra=json_body(ListIn),
    summary="Create a list",
)
async def create_list(request: Request, account: CurrentAccount, gw: GatewayDep) -> Response:
    body = parse_body(ListIn, await request.body())
    now = _now()
    made = await gw.write(
        checked(account, lambda c: service.create_list(c, account, body.name, now=now))
    )
    return json_response(_list(made), 201)


@router.get(
    "/contact-lists/{list_id}", response_model=ListOut, responses=problems(404), summary="A list"
)
async def get_list(list_id: str, account: CurrentAccount, gw: GatewayDep) -> Response:
    lid = _id(list_id)
    found = await gw.read(checked(account, lambda c: service.get_list(c, account, lid)))
    return json_response(_list(found))


@router.patch(
    "/contact-lists/{list_id}",
    response_model=ListOut,
    responses=problems(404, 409),
    openapi_extra=json_body(ListIn),
    summary="Rename a list",
)
async def rename_list(
    list_id: str, request: Request, account: CurrentAccount, gw: GatewayDep
) -> Response:
    lid = _id(list_id)
    body = parse_body(ListIn, await request.body())
    now = _now()
    done = await gw.write(
        checked(account, lambda c: service.rename_list(c, account, lid, body.name, now=now))
    )
    return json_response(_list(done))


@router.delete(
    "/contact-lists/{list_id}",
    status_code=204,
    response_class=Response,
    responses=problems(404),
    summary="Delete a list and its contacts",
)
async def delete_list(list_id: str, account: CurrentAccount, gw: GatewayDep) -> Response:
    lid = _id(list_id)
    await gw.write(checked(account, lambda c: service.delete_list(c, account, lid)))
    return Response(status_code=204)


@router.get(
    "/contact-lists/{list_id}/contacts",
    response_model=ContactPage,
    responses=problems(404),
    summary="A list's contacts, in the order they were added",
)
async def list_contacts(
    list_id: str,
    account: CurrentAccount,
    gw: GatewayDep,
    limit: paging.Limit = 50,
    cursor: paging.Cursor = None,
) -> Response:
    lid = _id(list_id)
    found = await gw.read(
        checked(account, lambda c: service.page(c, account, lid, limit=limit, cursor=cursor))
    )
    data = [_contact(x) for x in found.contacts]
    return json_response({"data": data, "next_cursor": found.next_cursor})


@router.post(
    "/contact-lists/{list_id}/contacts",
    status_code=201,
    response_model=ContactOut,
    responses=problems(404, 409),
    openapi_extra=json_body(ContactIn),
    summary="Add a contact",
)
async def add_contact(
    list_id: str, request: Request, account: CurrentAccount, gw: GatewayDep
) -> Response:
    lid = _id(list_id)
    body = parse_body(ContactIn, await request.body())
    now = _now()

    def work(conn: Connection) -> Contact:
        return service.add_contact(
            conn, account, lid, number=body.number, name=body.name, fields=body.fields, now=now
        )

    return json_response(_contact(await gw.write(checked(account, work))), 201)


@router.get(
    "/contact-lists/{list_id}/contacts/{contact_id}",
    response_model=ContactOut,
    responses=problems(404),
    summary="A contact",
)
async def get_contact(
    list_id: str, contact_id: str, account: CurrentAccount, gw: GatewayDep
) -> Response:
    lid, cid = _id(list_id), _id(contact_id)
    found = await gw.read(checked(account, lambda c: service.get_contact(c, account, lid, cid)))
    return json_response(_contact(found))


@router.patch(
    "/contact-lists/{list_id}/contacts/{contact_id}",
    response_model=ContactOut,
    responses=problems(404, 409),
    openapi_extra=json_body(ContactPatch),
    summary="Edit a contact (what is given)",
)
async def edit_contact(
    list_id: str, contact_id: str, request: Request, account: CurrentAccount, gw: GatewayDep
) -> Response:
    lid, cid = _id(list_id), _id(contact_id)
    body = parse_body(ContactPatch, await request.body())
    now = _now()

    def work(conn: Connection) -> Contact:
        return service.update_contact(
            conn,
            account,
            lid,
            cid,
            number=body.number,
            name=body.name,
            fields=body.fields,
            now=now,
        )

    return json_response(_contact(await gw.write(checked(account, work))))


@router.delete(
    "/contact-lists/{list_id}/contacts/{contact_id}",
    status_code=204,
    response_class=Response,
    responses=problems(404),
    summary="Remove a contact",
)
async def delete_contact(
    list_id: str, contact_id: str, account: CurrentAccount, gw: GatewayDep
) -> Response:
    lid, cid = _id(list_id), _id(contact_id)
    await gw.write(checked(account, lambda c: service.delete_contact(c, account, lid, cid)))
    return Response(status_code=204)


_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/contact-lists/{list_id}/import",
    response_model=ImportOut,
    responses=problems(404, 413),
    openapi_extra=_CSV_BODY,
    summary="Add or update contacts from a CSV file (the body)",
)
async def import_csv(
    list_id: str, request: Request, account: CurrentAccount, gw: GatewayDep
) -> Response:
    """A header row with a `numero` column (or teléfono, celular), maybe `nombre`, and any
    other columns as extra fields. Rows with a bad number are skipped and listed."""
    lid = _id(list_id)
    data = await request.body()
    now = _now()
    report = await service.import_in_chunks(gw.read, gw.write, account, lid, data, now=now)
    rejected = [
        {"line": r.line, "value": r.value, "reason": r.reason}
        for r in report.rejected[:MAX_REJECTED_SHOWN]
    ]
    return json_response(
        {
            "added": report.added,
            "updated": report.updated,
            "rejected_total": len(report.rejected),
            "rejected": rejected,
        }
    )


@router.get(
    "/contact-lists/{list_id}/export",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"},
        **problems(404),
    },
    summary="The list as CSV (UTF-8 with BOM); importing it gives the same list",
)
async def export_csv(list_id: str, account: CurrentAccount, gw: GatewayDep) -> Response:
    lid = _id(list_id)
    data = await gw.read(checked(account, lambda c: service.export_csv(c, account, lid)))
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="lista-{lid}.csv"'},
    )
