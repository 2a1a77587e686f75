"""Cursor paging for list endpoints: ``limit`` + ``cursor`` in, ``next_cursor`` out.

Lists run newest first by id, so a page is "the ``limit`` rows below this id". The cursor
is that id, tagged with the list it belongs to and base64url-encoded: opaque to callers
(we may change what is inside), and a cursor of one list is refused by another. One row
more than asked is read to know whether a next page exists, so the last page says
``null`` instead of leading to an empty one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import Query

from centauro.domain.errors import InvalidRequest
from centauro.domain.ids import parse_id

T = TypeVar("T")

MAX_LIMIT = 1000

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1–1000)")]
Cursor = Annotated[
    str | None,
    Query(max_length=100, description="`next_cursor` of the previous page"),
]


def encode(kind: str, last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{last_id}".encode()).decode().rstrip("=")


def decode(kind: str, cursor: str | None) -> int | None:
    """The id to page below, or None for the first page; :class:`InvalidRequest` if the
    cursor is not one this list gave out."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    tag, _, number = raw.partition(":")
    last_id = parse_id(number)
    if tag != kind or last_id is None:
        raise InvalidRequest("cursor is not valid for this list")
    return last_id


def page(
    kind: str, rows: Sequence[T], limit: int, key: Callable[[T], int]
) -> tuple[Sequence[T], str | None]:
    """The page and its ``next_cursor`` from ``limit + 1`` rows read."""
    if len(rows) <= limit:
        return rows, None
    shown = rows[:limit]
    return shown, encode(kind, key(shown[-1]))
