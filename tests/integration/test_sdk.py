"""The SDK against a real ``centauro serve`` process, over SQLite and over PostgreSQL.

One server per store for the whole module (starting one and creating accounts through the
CLI takes seconds); tests stay independent by using their own numbers and by checking
balances as differences. ``poor`` has one credit and never spends it: every send from it
needs two.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from centauro.client import (
    AsyncClient,
    CentauroSMS,
    Client,
    InsufficientCredits,
    InvalidCredentials,
    InvalidParameters,
    MissingParameters,
    Personalized,
    ProtocolError,
    SendResult,
    TransportError,
)
from tests.support.server import Account, ServerProcess, free_port, start_server
from tests.support.stores import store_url

#: Small, so a long text gets the gateway's 413 without a megabyte of test data.
MAX_BODY = 4096
ACCEPTED = "Message accepted for delivery"
INVALID = "Rejected: invalid number"
DUPLICATE = "Rejected: duplicate number"


@dataclass
class Gateway:
    server: ServerProcess
    rich: Account
    poor: Account

    @property
    def url(self) -> str:
        return self.server.base_url

    def client(self, account: Account | None = None, **kw: Any) -> Client:
        a = account or self.rich
        return Client(self.url, a.client_id, a.client_secret, **kw)

    def aclient(self, account: Account | None = None) -> AsyncClient:
        a = account or self.rich
        return AsyncClient(self.url, a.client_id, a.client_secret)

    def compat(self, account: Account | None = None) -> CentauroSMS:
        a = account or self.rich
        return CentauroSMS(a.client_id, a.client_secret, base_url=self.url)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp(f"sdk-{request.param}")
    with store_url(request.param, workdir) as url:
        proc = start_server(
            url, workdir, port=free_port(), env={"CENTAURO_MAX_BODY_BYTES": str(MAX_BODY)}
        )
        try:
            yield Gateway(proc, proc.create_account(credits=10_000), proc.create_account(credits=1))
        finally:
            proc.stop()


def _table(result: SendResult) -> list[tuple[str, bool, str, str]]:
    return [(m.number, m.accepted, m.status_text, m.text) for m in result.messages]


def _check_ids(result: SendResult) -> None:
    ids = result.message_ids
    assert len(ids) == len(set(ids)) == len(result.accepted)
    assert all(i.isdecimal() for i in ids)
    assert all(m.message_id is None for m in result.rejected)


# --- Client and AsyncClient -------------------------------------------------------------


def test_balance_is_the_accounts_credits(gateway: Gateway) -> None:
    with gateway.client(gateway.poor) as client:
        assert client.balance() == 1

    async def main() -> int:
        async with gateway.aclient(gateway.poor) as client:
            return await client.balance()

    assert asyncio.run(main()) == 1


def test_send_reports_each_recipient_and_charges_only_the_accepted(gateway: Gateway) -> None:
    text = "Hola ñ / prueba ~ 100%"
    with gateway.client() as client:
        before = client.balance()
        result = client.send("04141000001, 584241000001,123,+58 414-100-0001,3001000001", text)
        assert client.balance() == before - 3
    assert _table(result) == [
        ("4141000001", True, ACCEPTED, text),
        ("4241000001", True, ACCEPTED, text),
        ("123", False, INVALID, text),
        ("4141000001", False, DUPLICATE, text),
        ("3001000001", True, ACCEPTED, text),
    ]
    _check_ids(result)


def test_async_send_takes_a_list_of_numbers(gateway: Gateway) -> None:
    async def main() -> tuple[int, SendResult, int]:
        async with gateway.aclient() as client:
            before = await client.balance()
            result = await client.send(["04141000002", "0414-100-0002", "junk"], "async")
            return before, result, await client.balance()

    before, result, after = asyncio.run(main())
    assert after == before - 1
    assert [(m.number, m.status_text) for m in result.messages] == [
        ("4141000002", ACCEPTED),
        ("4141000002", DUPLICATE),
        ("junk", INVALID),
    ]
    _check_ids(result)


PERSONALIZED_ITEMS: list[Any] = [
    ("04141000003", "Hola Pedro"),
    Personalized("04241000003", "Hola Ana", name="Ana", reference="c-7"),
    {"cel": "573001000003", "msg": "Hola José", "nom": "José", "id": "c-8"},
    ("999", "nadie"),
]
PERSONALIZED_ROWS = [
    ("4141000003", "", "Hola Pedro", True),
    ("4241000003", "Ana", "Hola Ana", True),
    ("3001000003", "José", "Hola José", True),
    ("999", "", "nadie", False),
]


def test_send_personalized_gives_each_recipient_its_text(gateway: Gateway) -> None:
    with gateway.client() as client:
        before = client.balance()
        result = client.send_personalized(PERSONALIZED_ITEMS)
        assert client.balance() == before - 3
    assert [(m.number, m.name, m.text, m.accepted) for m in result.messages] == PERSONALIZED_ROWS
    _check_ids(result)


def test_async_send_personalized_gives_each_recipient_its_text(gateway: Gateway) -> None:
    async def main() -> SendResult:
        async with gateway.aclient() as client:
            return await client.send_personalized(PERSONALIZED_ITEMS)

    result = asyncio.run(main())
    assert [(m.number, m.name, m.text, m.accepted) for m in result.messages] == PERSONALIZED_ROWS


def test_wrong_secret_is_invalid_credentials(gateway: Gateway) -> None:
    wrong = Account(gateway.rich.client_id, "not-the-secret")
    with gateway.client(wrong) as client:
        for call in (
            client.balance,
            lambda: client.send("04141000004", "x"),
            lambda: client.send_personalized([("04141000004", "x")]),
        ):
            with pytest.raises(InvalidCredentials) as caught:
                call()
            assert (caught.value.code, caught.value.message) == (301, "Error de credenciales")

    async def main() -> None:
        async with gateway.aclient(wrong) as client:
            with pytest.raises(InvalidCredentials):
                await client.send("04141000004", "x")

    asyncio.run(main())


def test_credits_that_do_not_cover_every_recipient_send_nothing(gateway: Gateway) -> None:
    with gateway.client(gateway.poor) as client:
        with pytest.raises(InsufficientCredits) as caught:
            client.send("04141000005,04241000005", "dos")
        assert caught.value.message == "No tiene SMS disponibles para realizar este envio"
        with pytest.raises(InsufficientCredits):
            client.send_personalized([("04141000005", "a"), ("04241000005", "b")])
        with pytest.raises(InsufficientCredits):
            client.send("04141000005", "x" * 200)  # one number, two segments

        async def main() -> None:
            async with gateway.aclient(gateway.poor) as aclient:
                with pytest.raises(InsufficientCredits):
                    await aclient.send(["04141000005", "04241000005"], "dos")

        asyncio.run(main())
        assert client.balance() == 1


def test_only_junk_numbers_is_invalid_parameters(gateway: Gateway) -> None:
    with gateway.client() as client:
        before = client.balance()
        with pytest.raises(InvalidParameters) as caught:
            client.send("123, abc,0212-555-0000", "x")
        assert caught.value.code == 304
        with pytest.raises(InvalidParameters):
            client.send_personalized([("123", "x")])
        assert client.balance() == before


def test_no_recipient_at_all_is_missing_parameters(gateway: Gateway) -> None:
    with gateway.client() as client:
        with pytest.raises(MissingParameters):
            client.send(" , ", "x")
        with pytest.raises(MissingParameters):
            client.send_personalized([])
        with pytest.raises(MissingParameters):  # a personalised recipient without text
            client.send_personalized([("04141000006", "")])


def test_body_over_the_gateways_limit_is_a_protocol_error(gateway: Gateway) -> None:
    with gateway.client() as client, pytest.raises(ProtocolError) as caught:
        client.send("04141000007", "x" * MAX_BODY)
    assert caught.value.status_code == 413

    async def main() -> None:
        async with gateway.aclient() as aclient:
            with pytest.raises(ProtocolError, match="HTTP 413"):
                await aclient.send("04141000007", "x" * MAX_BODY)

    asyncio.run(main())


def test_base_url_of_something_else_is_a_protocol_error(gateway: Gateway) -> None:
    a = gateway.rich
    with Client(gateway.url + "/nope", a.client_id, a.client_secret) as client:
        with pytest.raises(ProtocolError) as caught:
            client.balance()
        assert caught.value.status_code == 404
    with (
        CentauroSMS(a.client_id, a.client_secret, base_url=gateway.url + "/nope") as sms,
        pytest.raises(ProtocolError),
    ):
        sms.get_sms_disponibles()


# --- CentauroSMS, the PHP drop-in -------------------------------------------------------


def test_php_dropin_returns_the_balance_answer_as_sent(gateway: Gateway) -> None:
    with gateway.compat(gateway.poor) as sms:
        assert sms.get_sms_disponibles() == {"status": "200", "response": {"sms_disponibles": "1"}}


def test_php_dropin_takes_destinatarios_in_the_three_forms(gateway: Gateway) -> None:
    joined = (
        '{"id":"0","cel":"04141000010","nom":"Pedro Perez"},'
        '{"id":"0","cel":"584241000010","nom":"Jose Perez"}'
    )
    with gateway.compat() as sms:
        answer = sms.set_sms_send(joined, "Mensaje de prueba 2")
        as_dict = sms.set_sms_send(
            {"id": "0", "cel": "04141000011", "nom": "Pedro Perez"}, "Mensaje de prueba"
        )
        as_list = sms.set_sms_send(
            [{"id": "0", "cel": "04141000012", "nom": "A"}, {"id": "1", "cel": "123", "nom": "B"}],
            "lista",
        )
    assert answer["status"] == "200"
    datos = answer["response"][0]["datos"]
    assert [list(row) for row in datos] == [["Nom", "Cel", "Messageid", "StatusText", "Msg"]] * 2
    assert [(r["Nom"], r["Cel"], r["StatusText"], r["Msg"]) for r in datos] == [
        ("Pedro Perez", "4141000010", ACCEPTED, "Mensaje de prueba 2"),
        ("Jose Perez", "4241000010", ACCEPTED, "Mensaje de prueba 2"),
    ]
    assert as_dict["response"][0]["datos"][0]["Cel"] == "4141000011"
    assert [r["StatusText"] for r in as_list["response"][0]["datos"]] == [ACCEPTED, INVALID]
    assert as_list["response"][0]["datos"][1]["Messageid"] == ""


def test_php_dropin_sends_personalised_messages(gateway: Gateway) -> None:
    text_form = (
        '{"id":"0","cel":"04141000013","nom":"Pedro Perez","msg":"Mensaje para Pedro"},'
        '{"id":"0","cel":"584241000013","nom":"Jose Perez","msg":"Mensaje para Jose"}'
    )
    with gateway.compat() as sms:
        answers = [
            sms.set_sms_send_personalizado(text_form),
            sms.set_sms_send_personalizado(
                [
                    {
                        "id": "0",
                        "cel": "04141000013",
                        "nom": "Pedro Perez",
                        "msg": "Mensaje para Pedro",
                    },
                    {
                        "id": "0",
                        "cel": "584241000013",
                        "nom": "Jose Perez",
                        "msg": "Mensaje para Jose",
                    },
                ]
            ),
        ]
    for answer in answers:
        assert [(r["Cel"], r["Msg"]) for r in answer["response"][0]["datos"]] == [
            ("4141000013", "Mensaje para Pedro"),
            ("4241000013", "Mensaje para Jose"),
        ]


def test_php_dropin_returns_error_codes_as_answers(gateway: Gateway) -> None:
    def error(code: str, text: str) -> dict[str, Any]:
        return {"status": code, "response": {"error": text}}

    wrong = Account(gateway.rich.client_id, "not-the-secret")
    with gateway.compat(wrong) as sms:
        assert sms.get_sms_disponibles() == error("301", "Error de credenciales")
    with gateway.compat() as sms:
        assert sms.set_sms_send("", "hola") == error(
            "300", "No se recibieron los parametros necesarios"
        )
        assert sms.set_sms_send('{"cel":"123"}', "hola") == error(
            "304", "Los parametros no son correctos por favor no modifique la API"
        )
        assert sms.set_sms_send_personalizado('{"cel":"04141000014"}') == error(
            "300", "No se recibieron los parametros necesarios"
        )
        # Like PHP, the HTTP status (413 here) is not looked at: the body is the answer.
        assert sms.set_sms_send('{"cel":"04141000014"}', "x" * MAX_BODY)["status"] == "304"
    with gateway.compat(gateway.poor) as sms:
        assert sms.set_sms_send('{"cel":"04141000014"},{"cel":"04241000014"}', "dos") == error(
            "305", "No tiene SMS disponibles para realizar este envio"
        )


# --- no gateway to talk to --------------------------------------------------------------


def _closed_port() -> int:
    return free_port()  # bound and released: nothing listens there


def test_closed_port_is_a_transport_error() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with Client(url, "id", "secret") as client, pytest.raises(TransportError) as caught:
        client.balance()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    with CentauroSMS("id", "secret", base_url=url) as sms, pytest.raises(TransportError):
        sms.set_sms_send('{"cel":"04140000000"}', "x")

    async def main() -> None:
        async with AsyncClient(url, "id", "secret") as client:
            with pytest.raises(TransportError):
                await client.send("04140000000", "x")

    asyncio.run(main())


def test_silent_server_is_a_transport_error_after_the_timeout() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # connections complete in the kernel; nobody ever answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with Client(url, "id", "secret", timeout=0.2) as client:
            with pytest.raises(TransportError, match="Timeout") as caught:
                client.balance()
            assert isinstance(caught.value.__cause__, httpx.TimeoutException)


class _HtmlHandler(BaseHTTPRequestHandler):
    """A proxy's error page: what a wrong base URL or a broken gateway answers."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status = 502 if self.path.startswith("/down") else 200
        body = b"<html><body>Bad Gateway</body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def html_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlHandler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize(("path", "status"), [("/down", 502), ("/ok", 200)])
def test_an_answer_that_is_not_json_is_a_protocol_error(
    html_server: str, path: str, status: int
) -> None:
    url = html_server + path
    with Client(url, "id", "secret") as client, pytest.raises(ProtocolError) as caught:
        client.balance()
    assert caught.value.status_code == status
    assert caught.value.body.startswith(b"<html>")
    with CentauroSMS("id", "secret", base_url=url) as sms, pytest.raises(ProtocolError):
        sms.get_sms_disponibles()
