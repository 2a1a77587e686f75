"""The CentauroSMS v1.2 PHP client, redone for the acceptance tests, and a harness to run it.

The original ``lib/centaurosms.php`` builds every request the same way::

    $credenciales = http_build_query(array(
        'client_id' => ..., 'client_secret' => ...,
        'json' => base64_encode(urlencode($json)),
        'msg' => base64_encode(urlencode($msg)),
        'client_opcion' => 'send_sms'), "", "&");
    // cURL POST to /controllersms/, headers "Accept: application/json" and
    // "Content-Type: application/x-www-form-urlencoded", body = $credenciales

and ``$json`` is usually ``json_encode($array)``. :class:`PhpClient` does exactly that,
byte for byte, with a PHP ``urlencode`` written here from PHP's own definition
(``ext/standard/url.c``) rather than borrowed from ``centauro.compat.phpurl``: the
server's decoder is then checked against an independent encoder, not against itself.

:class:`Gateway` is one real ``centauro serve`` process over one store (a SQLite file or
a PostgreSQL schema), shared by the tests of a module: accounts are cheap and isolate
tests from each other, server starts are not.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import func, select

from centauro.domain.models import Message
from centauro.service import accounts as account_service
from centauro.service import messages as message_service
from centauro.store import tables
from centauro.store.engine import Database, open_database
from tests.support.server import Account, ServerProcess, free_port, start_server
from tests.support.stores import PG_DSN, store_url

# --- PHP, as the client library runs it ---------------------------------------------------

#: Bytes ``urlencode`` leaves alone: ASCII letters and digits, ``-``, ``_`` and ``.``
#: (php_url_encode: ``!isalnum(c) && strchr("_-.", c) == NULL`` gets ``%XX``). Note that
#: ``~`` IS escaped, unlike RFC 3986 encoders such as Python's ``quote``.
_URLENCODE_KEEPS = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_.")
_HEX = "0123456789ABCDEF"  # php_url_encode writes upper-case hex ("hexchars")
_URLENCODE_BYTE = [
    "+" if b == 0x20 else chr(b) if b in _URLENCODE_KEEPS else f"%{_HEX[b >> 4]}{_HEX[b & 15]}"
    for b in range(256)
]


def urlencode(value: str | bytes) -> str:
    """PHP's ``urlencode()``: on the (UTF-8) bytes, space to ``+``, the rest ``%XX``."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return "".join([_URLENCODE_BYTE[b] for b in data])


def base64_encode(value: str | bytes) -> str:
    """PHP's ``base64_encode()``: standard alphabet, ``=`` padding, no line breaks."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return base64.b64encode(data).decode("ascii")


def php_field(text: str | bytes) -> str:
    """A ``json`` or ``msg`` field as the client sends it: ``base64_encode(urlencode(x))``."""
    return base64_encode(urlencode(text))


def http_build_query(fields: Mapping[str, str] | Sequence[tuple[str, str]]) -> str:
    """PHP's ``http_build_query($fields, "", "&")``: ``urlencode`` on names and values."""
    items = fields.items() if isinstance(fields, Mapping) else fields
    return "&".join(f"{urlencode(k)}={urlencode(v)}" for k, v in items)


def json_encode(value: object) -> str:
    """PHP's ``json_encode()`` with default flags: compact, ``\\uXXXX``, ``/`` as ``\\/``."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


def recipient(cel: str, nom: str = "", id_: str = "0", msg: str | None = None) -> dict[str, str]:
    """One recipient array as the README builds it (keys in the README's order)."""
    item = {"id": id_, "cel": cel, "nom": nom}
    if msg is not None:
        item["msg"] = msg
    return item


def comma_joined(recipients: Sequence[Mapping[str, str]]) -> str:
    """The README's "string JSON": objects joined by commas, no enclosing brackets."""
    return ",".join(json_encode(r) for r in recipients)


# --- the wire -----------------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"

#: The error answers exactly as the README prints them ("JSON Respuesta de error").
ERROR = {
    "300": b'{"status":"300","response":{"error":"No se recibieron los parametros necesarios"}}',
    "301": b'{"status":"301","response":{"error":"Error de credenciales"}}',
    "302": b'{"status":"302","response":{"error":"Servidores fuera de linea"}}',
    "303": b'{"status":"303","response":{"error":"Error grave no se recibio parametro de la API"}}',
    "304": (
        b'{"status":"304","response":{"error":'
        b'"Los parametros no son correctos por favor no modifique la API"}}'
    ),
    "305": (
        b'{"status":"305","response":{"error":"No tiene SMS disponibles para realizar este envio"}}'
    ),
}

ACCEPTED = "Message accepted for delivery"
INVALID_NUMBER = "Rejected: invalid number"
DUPLICATE_NUMBER = "Rejected: duplicate number"
DATOS_KEYS = ["Nom", "Cel", "Messageid", "StatusText", "Msg"]

_MESSAGE_ID = re.compile(rb'"Messageid":"(\d*)"')


def pairs(response: httpx.Response) -> Any:
    """The body parsed with objects as ``[(key, value), ...]``, so key order is visible."""
    return json.loads(response.content, object_pairs_hook=list)


def parsed(response: httpx.Response) -> Any:
    return json.loads(response.content)


def datos(response: httpx.Response) -> list[dict[str, str]]:
    """The rows of a ``200`` send answer, after checking the envelope's exact shape."""
    body = pairs(response)
    assert [k for k, _ in body] == ["status", "response"], response.content
    assert body[0] == ("status", "200"), response.content
    response_value = body[1][1]
    assert isinstance(response_value, list), response.content
    assert len(response_value) == 1, "all rows live in one single datos list"
    assert [k for k, _ in response_value[0]] == ["datos"]
    rows = response_value[0][0][1]
    for row in rows:
        assert [k for k, _ in row] == DATOS_KEYS, row
        assert all(type(v) is str for _, v in row), row
    return [dict(row) for row in rows]


def message_ids(response: httpx.Response) -> list[str]:
    return [m.decode() for m in _MESSAGE_ID.findall(response.content)]


def without_ids(content: bytes) -> bytes:
    """The body with every Messageid blanked, to compare answers of equivalent requests."""
    return _MESSAGE_ID.sub(b'"Messageid":"#"', content)


def assert_protocol_error(response: httpx.Response, code: str) -> None:
    """HTTP 200, JSON content type, and the README's error body byte for byte."""
    assert response.status_code == 200, (response.status_code, response.content)
    assert response.headers["content-type"] == "application/json", response.headers
    assert response.content == ERROR[code], response.content


@dataclass
class PhpClient:
    """``new CentauroSMS($id, $secret)`` pointed at a test server."""

    http: httpx.Client
    client_id: str
    client_secret: str

    def post(self, body: str | bytes, content_type: str = FORM) -> httpx.Response:
        """``cSMSClient::post("/controllersms/", $body, $content_type)``."""
        return self.http.post(
            "/controllersms/",
            content=body.encode("ascii") if isinstance(body, str) else body,
            headers={"Accept": "application/json", "Content-Type": content_type},
        )

    def credentials(self, **fields: str) -> list[tuple[str, str]]:
        return [
            ("client_id", self.client_id),
            ("client_secret", self.client_secret),
            *fields.items(),
        ]

    def get_sms_disponibles(self) -> httpx.Response:
        return self.post(http_build_query(self.credentials(client_opcion="sms_disponibles")))

    def set_sms_send(self, js: str, msg: str) -> httpx.Response:
        return self.post(
            http_build_query(
                self.credentials(json=php_field(js), msg=php_field(msg), client_opcion="send_sms")
            )
        )

    def set_sms_send_personalizado(self, js: str) -> httpx.Response:
        return self.post(
            http_build_query(
                self.credentials(json=php_field(js), client_opcion="send_sms_personalizado")
            )
        )

    def send(self, cels: Sequence[str], msg: str) -> httpx.Response:
        """``set_sms_send`` to these numbers (names empty), the JSON built by json_encode."""
        return self.set_sms_send(json_encode([recipient(c) for c in cels]), msg)

    def http_get(self, query: str) -> httpx.Response:
        """``GET /http/?client_id=…&client_secret=…&`` + ``query`` (already encoded)."""
        credentials = http_build_query(self.credentials())
        return self.http.get(f"/http/?{credentials}&{query}")

    def balance(self) -> int:
        response = self.get_sms_disponibles()
        assert response.status_code == 200, response.content
        [status, (name, [(key, value)])] = pairs(response)
        assert (status, name, key) == (("status", "200"), "response", "sms_disponibles")
        assert type(value) is str, response.content  # "500", never 500
        assert value.isdigit(), response.content
        return int(value)


# --- the harness --------------------------------------------------------------------------


@dataclass
class Gateway:
    """One running server over one store, plus a direct line to the store for set-up."""

    server: ServerProcess
    db: Database
    http: httpx.Client
    env: dict[str, str]
    kind: str  #: "sqlite" or "postgresql"

    def restart(self, env: dict[str, str] | None = None) -> None:
        """``kill -9`` the server and start it again, with ``env`` over the usual settings."""
        self.server.kill()
        self.server.env_extra = {**self.env, **(env or {})}
        self.server.start()

    @property
    def url(self) -> str:
        return self.server.base_url

    def account(self, credits: int = 100, *, country: str = "VE") -> Account:
        """A fresh account, created as ``centauro accounts create`` does, without the
        second of a CLI start-up (tests create many)."""
        with self.db.begin() as conn:
            created = account_service.create(
                conn,
                name=f"t-{uuid.uuid4().hex[:8]}",
                credits=credits,
                country=country,
                now=datetime.now(UTC),
            )
        return Account(created.client_id, created.client_secret, created.account.name)

    def topup(self, client_id: str, amount: int) -> None:
        """What ``centauro accounts topup CID AMOUNT`` does, in-process."""
        with self.db.begin() as conn:
            account_service.topup(
                conn, client_id=client_id, amount=amount, now=datetime.now(UTC), note="recarga"
            )

    def client(self, account: Account) -> PhpClient:
        return PhpClient(self.http, account.client_id, account.client_secret)

    def new_client(self, credits: int = 100, *, country: str = "VE") -> PhpClient:
        return self.client(self.account(credits, country=country))

    def message(self, message_id: str | int) -> dict[str, Any]:
        """``centauro messages show ID --json``."""
        data: dict[str, Any] = self.server.cli_json("messages", "show", str(message_id))
        return data

    def ledger(self, client_id: str) -> list[dict[str, Any]]:
        """``centauro accounts ledger CID --json`` (every row)."""
        rows: list[dict[str, Any]] = self.server.cli_json(
            "accounts", "ledger", client_id, "--limit", "10000"
        )
        return rows

    def messages_cli(self, client_id: str) -> list[dict[str, Any]]:
        """``centauro messages list --account CID --json`` (up to 1000, newest first)."""
        rows: list[dict[str, Any]] = self.server.cli_json(
            "messages", "list", "--account", client_id, "--limit", "1000"
        )
        return rows

    def stored(self, client_id: str) -> dict[int, Message]:
        """The account's messages by id, read straight from the store (no CLI start-up)."""
        with self.db.read() as conn:
            account = account_service.get(conn, client_id)
            found = message_service.find(conn, account_id=account.id, limit=1000)
        return {m.id: m for m in found}

    def count_messages(self, client_id: str) -> int:
        """How many messages the account has in the store, however many."""
        with self.db.read() as conn:
            account = account_service.get(conn, client_id)
            query = select(func.count()).where(tables.messages.c.account_id == account.id)
            return int(conn.execute(query).scalar_one())

    def status(self, message_id: str | int) -> str:
        """A message's state read straight from the store (cheap enough to poll)."""
        with self.db.read() as conn:
            return message_service.get(conn, int(message_id)).status.value

    def wait_for_status(
        self, message_id: str | int, statuses: set[str], timeout: float = 15.0
    ) -> str:
        deadline = time.monotonic() + timeout
        while (status := self.status(message_id)) not in statuses:
            assert time.monotonic() < deadline, f"message {message_id} still {status}"
            time.sleep(0.05)
        return status

    def wait_for_message(
        self, message_id: str | int, statuses: set[str], timeout: float = 15.0
    ) -> dict[str, Any]:
        """Wait until the message is in one of ``statuses``, then ``messages show`` it.

        Polls the store directly (a CLI run costs a second), and confirms through the CLI.
        """
        self.wait_for_status(message_id, statuses, timeout)
        message = self.message(message_id)
        assert message["status"] in statuses, message
        return message

    @contextmanager
    def store_offline(self) -> Iterator[None]:
        """PostgreSQL only: hide the server's schema (renamed) for the ``with`` block."""
        assert self.kind == "postgresql"
        found = re.search(r"search_path%3D(\w+)", self.server.database_url)
        assert found is not None, self.server.database_url
        schema = found[1]
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"ALTER SCHEMA {schema} RENAME TO {schema}_off")
            try:
                yield
            finally:
                conn.execute(f"ALTER SCHEMA {schema}_off RENAME TO {schema}")

    def assert_alive(self) -> None:
        assert self.server.process is not None
        assert self.server.process.poll() is None, self.server.log_path.read_text()
        assert self.http.get("/health").status_code == 200

    def log(self) -> str:
        return self.server.log_path.read_text(errors="replace")


@contextmanager
def running_gateway(
    kind: str, tmp_path_factory: pytest.TempPathFactory, env: dict[str, str] | None = None
) -> Iterator[Gateway]:
    """Start ``centauro serve`` over a new store of ``kind``; stop it and drop the store."""
    workdir = tmp_path_factory.mktemp(f"gw-{kind}")
    with store_url(kind, workdir) as url:
        server = start_server(url, workdir, port=free_port(), env=env)
        db = open_database(url)
        http = httpx.Client(base_url=server.base_url, timeout=60.0)
        try:
            yield Gateway(server, db, http, dict(env or {}), kind)
        finally:
            http.close()
            db.dispose()
            server.stop()
