"""Driving the web panel over HTTP like a browser without JavaScript: cookies, CSRF
tokens read from the page, forms posted as forms."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime

import httpx

from centauro.service import panel_auth
from centauro.store.engine import Database

PASSWORD = "una clave bastante larga"
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, f"no CSRF field in the page:\n{html[:2000]}"
    return match.group(1)


def shown(html: str, element_id: str) -> str:
    """The text of the element with this id (values shown once: secrets, links)."""
    match = re.search(rf'id="{element_id}">([^<]+)<', html)
    assert match, f"no #{element_id} in the page:\n{html[:2000]}"
    return match.group(1)


class Panel:
    """A visitor with their own cookie jar (and, optionally, their own source address)."""

    def __init__(self, base_url: str, *, source: str = "127.0.0.1") -> None:
        transport = httpx.HTTPTransport(local_address=source)
        self.http = httpx.Client(
            base_url=base_url, transport=transport, timeout=30.0, follow_redirects=False
        )

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **kw: object) -> httpx.Response:
        return self.http.get(path, **kw)  # type: ignore[arg-type]

    def post_form(
        self, page: str, data: dict[str, str], *, action: str | None = None
    ) -> httpx.Response:
        """GET ``page`` for its CSRF token, then POST ``data`` to ``action`` (or the page)."""
        shown = self.http.get(page)
        assert shown.status_code == 200, shown.text
        return self.http.post(action or page, data={"csrf": csrf_of(shown.text), **data})

    def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return self.post_form("/panel/sign-in", {"email": email, "password": password})

    def signed_in(self, email: str, password: str = PASSWORD) -> Panel:
        answer = self.sign_in(email, password)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/panel/"
        return self

    def set_password(self, path: str, password: str = PASSWORD) -> httpx.Response:
        return self.post_form(path, {"password": password, "confirm": password})


def make_user(
    db: Database,
    *,
    role: str = panel_auth.OPERATOR,
    client_id: str | None = None,
    email: str | None = None,
) -> tuple[str, str]:
    """A panel user straight in the store (as the CLI does); (e-mail, set-password path)."""
    email = email or f"u-{uuid.uuid4().hex[:10]}@example.com"
    with db.begin() as conn:
        made = panel_auth.create_user(
            conn, email=email, role=role, client_id=client_id, now=datetime.now(UTC)
        )
    return made.user.email, made.path


def ready_user(base_url: str, db: Database, **kw: object) -> str:
    """A user with :data:`PASSWORD` set through its link; their e-mail."""
    email, path = make_user(db, **kw)  # type: ignore[arg-type]
    visitor = Panel(base_url)
    try:
        answer = visitor.set_password(path)
        assert answer.status_code == 200, answer.text
    finally:
        visitor.close()
    return email


def report_row(html: str, table: str, marker: str) -> list[str]:
    """The numbers shown in the row of ``table`` (its id) that holds ``marker``."""
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    [row] = [r for r in body.split("<tr>") if marker in r]
    return re.findall(r'<td class="num">([^<]*)</td>', row)


def report_csv(panel: Panel, **params: str) -> list[list[str]]:
    answer = panel.get("/panel/reports.csv", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
