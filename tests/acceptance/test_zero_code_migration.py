"""A site that cannot edit its PHP client moves by pointing the client's host at us.

The original ``lib/centaurosms.php`` has ``http://api.centaurosms.com.ve/controllersms/``
written in; a hosts entry, a DNS record or a reverse proxy sends those bytes to the
gateway unchanged, ``Host`` header and all, and an ``http_proxy`` setting for PHP's
cURL sends them with the whole URL in the request line. Each arrives here byte for byte
as cURL writes it, and is served like any other request (docs/migration.md).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.support.php import (
    ACCEPTED,
    Gateway,
    http_build_query,
    json_encode,
    php_field,
    recipient,
    running_gateway,
)

ORIGINAL_HOST = "api.centaurosms.com.ve"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with running_gateway("sqlite", tmp_path_factory) as gateway:
        yield gateway


def curl_post(target: str, body: str, *, expect_continue: bool = False) -> bytes:
    """The request PHP's cURL writes for ``cSMSClient::post`` (headers in its order)."""
    head = (
        f"POST {target} HTTP/1.1\r\n"
        f"Host: {ORIGINAL_HOST}\r\n"
        "Accept: application/json\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    if expect_continue:
        head += "Expect: 100-continue\r\n"
    return (head + "\r\n").encode()


def exchange(gw: Gateway, head: bytes, body: bytes, *, expect_continue: bool = False) -> bytes:
    """Send as cURL does (waiting for ``100 Continue`` when it asked) and read the answer."""
    port = gw.server.port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        if expect_continue:
            assert sock.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    return answer


def _length(answer: bytes) -> int:
    head = answer.partition(b"\r\n\r\n")[0].lower()
    return int(head.split(b"content-length: ")[1].split(b"\r\n")[0])


def send_form(cel: str, client_id: str, secret: str, pad: int = 0) -> str:
    """The form ``setSMSSend`` builds for one recipient (text padded to ``pad`` more)."""
    people = [recipient(cel, "Pedro Perez")]
    fields = [
        ("client_id", client_id),
        ("client_secret", secret),
        ("json", php_field(json_encode(people))),
        ("msg", php_field("Su pedido va en camino" + " " * pad)),
        ("client_opcion", "send_sms"),
    ]
    return http_build_query(fields)


def datos(answer: bytes) -> list[dict[str, str]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), answer
    parsed = json.loads(body)
    assert parsed["status"] == "200", parsed
    rows: list[dict[str, str]] = parsed["response"][0]["datos"]
    return rows


@pytest.mark.parametrize(
    "target",
    ["/controllersms/", f"http://{ORIGINAL_HOST}/controllersms/"],
    ids=["hosts-entry-or-reverse-proxy", "http-proxy"],
)
def test_unmodified_php_client_request_for_the_original_host_is_served(
    gw: Gateway, target: str
) -> None:
    # The site's credentials stay as written in its code: the account is created with them,
    # its secret imported however weak (docs/migration.md, step 0).
    client_id = f"tienda-{target.count('/')}"
    # A chosen secret must be 24+ characters, 10+ distinct (accounts create refuses less).
    secret = "secreto-del-sitio-7Kq2Wx9Lm4"
    gw.server.cli("accounts", "create", "Tienda", "--credits", "10", "--client-id", client_id,
                  "--client-secret", secret, "--import-secret")  # fmt: skip
    body = send_form("04141234567", client_id, secret)
    rows = datos(exchange(gw, curl_post(target, body), body.encode()))
    assert [(r["Cel"], r["StatusText"]) for r in rows] == [("4141234567", ACCEPTED)]
    assert gw.count_messages(client_id) == 1


def test_large_php_client_post_with_expect_continue_is_served(gw: Gateway) -> None:
    """cURL asks ``Expect: 100-continue`` before a large body; it gets the 100 and an answer."""
    account = gw.account()
    body = send_form("04241234567", account.client_id, account.client_secret, pad=1000)
    head = curl_post("/controllersms/", body, expect_continue=True)
    rows = datos(exchange(gw, head, body.encode(), expect_continue=True))
    assert [r["StatusText"] for r in rows] == [ACCEPTED]
