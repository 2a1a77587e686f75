"""Hostile and broken input: every answer is a protocol answer, and the server stays up.

Whatever arrives — bodies over the size limit, broken form data, control characters,
100,000 recipients, bytes that are not UTF-8, unexpected methods — the compat doors
answer in the protocol's shape (never a 500, never a traceback), charge nothing, and
the server goes on serving and keeps what it accepted before.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.php import (
    ACCEPTED,
    ERROR,
    FORM,
    INVALID_NUMBER,
    Gateway,
    PhpClient,
    assert_protocol_error,
    base64_encode,
    datos,
    http_build_query,
    json_encode,
    message_ids,
    pairs,
    php_field,
    recipient,
    running_gateway,
    urlencode,
    without_ids,
)

SMALL_LIMIT = 100_000
DEFAULT_LIMIT = 10 * 1024 * 1024


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A server with the default limits (10 MB bodies, 10,000 recipients)."""
    with running_gateway(request.param, tmp_path_factory) as gateway:
        yield gateway


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def small(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A server that takes bodies of at most 100,000 bytes."""
    env = {"CENTAURO_MAX_BODY_BYTES": str(SMALL_LIMIT)}
    with running_gateway(request.param, tmp_path_factory, env=env) as gateway:
        yield gateway


def assert_clean(response: httpx.Response) -> None:
    """No 500, no traceback or exception text, and a JSON body whatever the status."""
    assert response.status_code < 500, (response.status_code, response.content[:500])
    assert b"Traceback" not in response.content
    assert b"Error:" not in response.content  # "ValueError:", "KeyError:"…
    assert response.headers["content-type"].startswith("application/"), response.headers


def assert_error_shape(response: httpx.Response) -> None:
    """A JSON body of the protocol's error shape (used with 4xx transport answers)."""
    assert_clean(response)
    assert response.headers["content-type"] == "application/json", response.headers
    assert response.content in ERROR.values(), response.content


def sends_nothing(c: PhpClient, gw: Gateway, credits: int) -> None:
    assert c.balance() == credits
    assert gw.stored(c.client_id) == {}


def send_body(c: PhpClient, cels: list[str], msg: str, *, pad: str = "") -> str:
    fields = c.credentials(
        json=php_field(json_encode([recipient(cel) for cel in cels])),
        msg=php_field(msg),
        client_opcion="send_sms",
    )
    if pad:
        fields.append(("relleno", pad))
    return http_build_query(fields)


# --- the size limit -----------------------------------------------------------------------


def test_a_body_over_the_limit_with_content_length_is_413_in_protocol_shape(
    small: Gateway,
) -> None:
    c = small.new_client(10)
    body = send_body(c, ["04140000000"], "Hola", pad="x" * SMALL_LIMIT)
    assert len(body) > SMALL_LIMIT
    for path in ("/controllersms/", "/controllersms", "/http/"):
        response = small.http.post(path, content=body, headers={"Content-Type": FORM})
        assert response.status_code == 413, (path, response.status_code)
        assert_error_shape(response)
    sends_nothing(c, small, 10)
    small.assert_alive()


def test_a_chunked_body_over_the_limit_is_413_in_protocol_shape(small: Gateway) -> None:
    c = small.new_client(10)
    head = send_body(c, ["04140000000"], "Hola").encode() + b"&relleno="

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(30):  # 300 kB in all, sent without a Content-Length
            yield b"x" * 10_000

    response = small.http.post("/controllersms/", content=chunks(), headers={"Content-Type": FORM})
    assert response.status_code == 413
    assert_error_shape(response)

    def multipart_chunks() -> Iterator[bytes]:
        yield b'--B\r\nContent-Disposition: form-data; name="relleno"\r\n\r\n'
        for _ in range(30):
            yield b"x" * 10_000
        yield b"\r\n--B--\r\n"

    response = small.http.post(
        "/controllersms/",
        content=multipart_chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=B"},
    )
    assert response.status_code == 413
    assert_error_shape(response)
    sends_nothing(c, small, 10)
    small.assert_alive()


def test_a_body_of_exactly_the_limit_is_served_and_one_byte_more_is_not(small: Gateway) -> None:
    c = small.new_client(10)

    def body_of(size: int) -> bytes:
        unpadded = send_body(c, ["04140000000"], "Hola", pad="-")
        body = send_body(c, ["04140000000"], "Hola", pad="x" * (size - len(unpadded) + 1))
        assert len(body) == size
        return body.encode()

    at_limit = body_of(SMALL_LIMIT)
    for content in (at_limit, iter([at_limit[:50_000], at_limit[50_000:]])):
        response = small.http.post(
            "/controllersms/", content=content, headers={"Content-Type": FORM}
        )
        assert datos(response)[0]["StatusText"] == ACCEPTED
    over = body_of(SMALL_LIMIT + 1)
    for content in (over, iter([over[:50_000], over[50_000:]])):
        response = small.http.post(
            "/controllersms/", content=content, headers={"Content-Type": FORM}
        )
        assert response.status_code == 413
        assert_error_shape(response)
    assert c.balance() == 8


# --- broken form data ---------------------------------------------------------------------


def test_malformed_form_data_answers_a_protocol_error(gw: Gateway) -> None:
    c = gw.new_client(10)
    valid = send_body(c, ["04140000000"], "Hola")
    cases = {
        "bad escape in a value": (valid.replace("client_id=", "client_id=%G1", 1), "304"),
        "truncated escape at the end": (valid + "&x=%4", "304"),
        "bad escape in a name": ("%ZZ=1&" + valid, "304"),
        "invalid UTF-8 escape in a value": (valid + "&nom=%C3%28", "304"),
        "%FF in the msg form value": (valid.replace("msg=", "msg=%FF", 1), "304"),
        "over 1000 fields": ("a=1&" * 1001 + valid, "304"),
        "only separators": ("&&&", "303"),
        "names without values": ("client_id&client_secret&client_opcion", "303"),
        "empty names": ("=&=x&==", "303"),
        "a JSON body": ('{"client_id":"x","client_opcion":"send_sms"}', "303"),
    }
    for name, (body, code) in cases.items():
        response = c.post(body)
        assert_clean(response)
        assert response.content == ERROR[code], (name, response.content)
        assert_protocol_error(response, code)
    sends_nothing(c, gw, 10)
    gw.assert_alive()


def test_a_body_that_is_not_utf8_answers_304(gw: Gateway) -> None:
    c = gw.new_client(10)
    valid = send_body(c, ["04140000000"], "Hola").encode()
    for body in (
        b"\xff\xfe" + valid,
        valid + b"&nom=\xc3\x28",
        valid.replace(b"client_opcion=send_sms", b"client_opcion=send_sms\xe9"),
        "client_opcion=sms_disponibles&client_id=ñ".encode("latin-1"),
    ):
        assert_protocol_error(c.post(body), "304")
    sends_nothing(c, gw, 10)
    gw.assert_alive()


def test_a_form_without_content_type_is_read_as_urlencoded(gw: Gateway) -> None:
    c = gw.new_client(10)
    body = send_body(c, ["04140000000"], "Hola").encode()
    response = gw.http.post("/controllersms/", content=body)
    assert datos(response)[0]["StatusText"] == ACCEPTED


# --- multipart ----------------------------------------------------------------------------


def multipart(fields: list[tuple[str, str]], boundary: str = "----centauro") -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


def test_multipart_form_data_posts_are_served_like_urlencoded_ones(gw: Gateway) -> None:
    c = gw.new_client(10)
    fields = c.credentials(
        json=php_field(json_encode(recipient("04140000000", "Pedro Perez"))),
        msg=php_field("Mensaje de prueba"),
        client_opcion="send_sms",
    )
    as_multipart = c.post(multipart(fields), "multipart/form-data; boundary=----centauro")
    as_form = c.post(http_build_query(fields))
    assert datos(as_multipart)[0]["StatusText"] == ACCEPTED
    assert without_ids(as_multipart.content) == without_ids(as_form.content)
    balance = c.post(
        multipart(c.credentials(client_opcion="sms_disponibles")),
        "multipart/form-data; boundary=----centauro",
    )
    assert balance.content == b'{"status":"200","response":{"sms_disponibles":"8"}}'


def test_malformed_multipart_answers_a_protocol_error_not_offline(gw: Gateway) -> None:
    c = gw.new_client(10)
    fields = c.credentials(
        json=php_field(json_encode(recipient("04140000000"))),
        msg=php_field("Hola"),
        client_opcion="send_sms",
    )
    upload = (
        b'--B\r\nContent-Disposition: form-data; name="json"; filename="a.json"\r\n'
        b"Content-Type: application/json\r\n\r\n[]\r\n--B--\r\n"
    )
    cases = {
        "no boundary parameter": (multipart(fields), "multipart/form-data", "304"),
        "a file upload": (upload, "multipart/form-data; boundary=B", "304"),
        "part without a name": (
            b"--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--\r\n",
            "multipart/form-data; boundary=B",
            None,
        ),
        "truncated": (multipart(fields)[:40], "multipart/form-data; boundary=----centauro", None),
        "garbage": (b"\x00\xff" * 100, "multipart/form-data; boundary=B", None),
    }
    for name, (body, content_type, code) in cases.items():
        response = c.post(body, content_type)
        assert_clean(response)
        assert response.status_code == 200, name
        if code is None:  # any answer that blames the request
            assert response.content in (ERROR["300"], ERROR["303"], ERROR["304"]), name
        else:
            assert response.content == ERROR[code], (name, response.content)
    sends_nothing(c, gw, 10)
    gw.assert_alive()


# --- text and values ----------------------------------------------------------------------


def test_control_characters_in_the_text_answer_304(gw: Gateway) -> None:
    c = gw.new_client(10)
    for bad in ("nul\x00", "\x1b[31mrojo", "campana\x07", "del\x7f", "c1\x85"):
        assert_protocol_error(c.send(["04140000000"], bad), "304")
        personal = json_encode(recipient("04140000000", msg=bad))
        assert_protocol_error(c.set_sms_send_personalizado(personal), "304")
        query = f"client_opcion=send_sms&num=04140000000&msg={urlencode(bad)}"
        assert_protocol_error(c.http_get(query), "304")
    sends_nothing(c, gw, 10)
    # Line breaks are text, not control characters to refuse.
    rows = datos(c.send(["04140000000"], "linea 1\nlinea 2\r\nfin"))
    assert rows[0]["Msg"] == "linea 1\nlinea 2\r\nfin"
    gw.assert_alive()


def test_empty_values_are_missing_parameters_or_invalid_recipients(gw: Gateway) -> None:
    c = gw.new_client(10)

    def send(js: str, msg: str = "Hola") -> httpx.Response:
        body = http_build_query(
            c.credentials(json=php_field(js), msg=php_field(msg), client_opcion="send_sms")
        )
        return c.post(body)

    assert_protocol_error(send(" "), "300")  # recipients that decode to blank
    assert_protocol_error(send("[]"), "300")  # no recipient at all
    assert_protocol_error(send(json_encode(recipient("04140000000")), msg=""), "300")
    assert_protocol_error(send("{}"), "304")  # a recipient without a number
    assert_protocol_error(send('{"cel":""}'), "304")
    assert_protocol_error(send('{"cel":null}'), "304")
    sends_nothing(c, gw, 10)
    rows = datos(send('{"cel":"04140000000"},{"cel":""},{"id":"","cel":"584140000001","nom":""}'))
    assert [(r["Nom"], r["Cel"], r["StatusText"]) for r in rows] == [
        ("", "4140000000", ACCEPTED),
        ("", "", INVALID_NUMBER),
        ("", "4140000001", ACCEPTED),
    ]
    assert c.balance() == 8


def test_pathological_json_answers_304_quickly(gw: Gateway) -> None:
    c = gw.new_client(10)
    for js in (
        "[" * 100_000 + "]" * 100_000,  # nesting deeper than any parser's stack
        '{"cel":' * 50_000 + "1" + "}" * 50_000,
        '{"cel":1e999999999}',
        '{"cel":"04140000000"' + ',"x":"y"' * 20_000 + "}",  # one huge object
    ):
        started = time.monotonic()
        response = c.set_sms_send(js, "Hola")
        assert time.monotonic() - started < 5
        assert_clean(response)
        assert response.status_code == 200
        assert response.content in (ERROR["304"],) or datos(response), response.content
    gw.assert_alive()


def test_lone_surrogates_in_json_escapes_answer_304(gw: Gateway) -> None:
    # "\ud800" is well-formed JSON text but no Unicode text: PHP's json_decode refuses it
    # (JSON_ERROR_UTF16), so it is undecodable JSON (304), and nothing can store it.
    c = gw.new_client(10)
    cases = {
        "cel": '{"cel":"\\ud800"}',
        "nom": '{"cel":"04140000000","nom":"\\udc00"}',
        "id": '{"id":"\\ud83d","cel":"04140000000"}',
    }
    answers = {name: c.set_sms_send(js, "Hola") for name, js in cases.items()}
    personal = '{"cel":"04140000000","msg":"hola \\ud800"}'
    answers["msg"] = c.set_sms_send_personalizado(personal)
    for answer in answers.values():
        assert_clean(answer)
    assert {name: r.content for name, r in answers.items() if r.content != ERROR["304"]} == {}
    sends_nothing(c, gw, 10)
    # A proper surrogate pair is an ordinary character (U+1F600).
    rows = datos(c.set_sms_send('{"cel":"04140000000","nom":"\\ud83d\\ude00"}', "Hola"))
    assert rows[0]["Nom"] == "😀"
    gw.assert_alive()


def test_oversized_values_are_refused_without_harm(gw: Gateway) -> None:
    c = gw.new_client(10)
    huge_id = PhpClient(gw.http, "i" * 1_000_000, c.client_secret)
    assert_protocol_error(huge_id.get_sms_disponibles(), "301")
    huge_secret = PhpClient(gw.http, c.client_id, "s" * 1_000_000)
    assert_protocol_error(huge_secret.get_sms_disponibles(), "301")
    long_number = json_encode(recipient("0" * 100_000 + "4140000000"))
    assert_protocol_error(c.set_sms_send(long_number, "Hola"), "304")
    assert_protocol_error(c.send(["04140000000"], "a" * 1_000_000), "304")
    sends_nothing(c, gw, 10)
    gw.assert_alive()


# --- doors and methods --------------------------------------------------------------------


def test_get_on_controllersms_sends_nothing(gw: Gateway) -> None:
    c = gw.new_client(10)
    query = http_build_query(
        c.credentials(
            json=php_field(json_encode(recipient("04140000000"))),
            msg=php_field("Hola"),
            client_opcion="send_sms",
        )
    )
    for url in ("/controllersms/", f"/controllersms/?{query}"):
        response = gw.http.get(url)
        assert_clean(response)
        assert_protocol_error(response, "303")  # the POST form it reads is empty
    sends_nothing(c, gw, 10)


def test_wrong_methods_answer_in_protocol_shape(gw: Gateway) -> None:
    # PROTOCOL.md, "Transport": transport-level failures may use 4xx, "but still with a
    # JSON body of the error shape".
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        for path in ("/controllersms/", "/http/"):
            response = gw.http.request(method, path, content=b"client_opcion=sms_disponibles")
            assert response.status_code == 405, (method, path, response.status_code)
            assert_clean(response)
            assert response.content in ERROR.values(), (method, path, pairs(response))
    gw.assert_alive()


# --- big requests ---------------------------------------------------------------------------


@functools.cache
def many_recipients_json(count: int) -> str:
    return json_encode([{"cel": f"0414{i:07d}", "nom": ""} for i in range(count)])


def test_100000_recipients_answer_304_quickly_and_the_server_still_serves(gw: Gateway) -> None:
    c = gw.new_client(200_000)
    js = many_recipients_json(100_000)
    body = http_build_query(
        c.credentials(json=php_field(js), msg=php_field("Hola"), client_opcion="send_sms")
    )
    assert 5_000_000 < len(body) < DEFAULT_LIMIT  # under the body limit: the count decides
    started = time.monotonic()
    response = c.post(body)
    elapsed = time.monotonic() - started
    assert_protocol_error(response, "304")
    assert elapsed < 10, elapsed
    assert c.balance() == 200_000
    other = gw.new_client(1)
    assert datos(other.send(["04140000000"], "sigo aqui"))[0]["StatusText"] == ACCEPTED
    gw.assert_alive()


def test_server_survives_every_bad_request_and_keeps_what_it_accepted(gw: Gateway) -> None:
    c = gw.new_client(10)
    [kept] = message_ids(c.send(["04140000000"], "guardado"))
    valid = send_body(c, ["04140000000"], "Hola")
    barrage: list[tuple[str, bytes, str]] = [
        ("POST", b"\xff" * 1000, FORM),
        ("POST", b"%" * 1000, FORM),
        ("POST", valid.encode() + b"&json=" + b"A" * 200_001, FORM),
        ("POST", base64_encode(valid).encode(), FORM),
        ("POST", b"--x\r\n\r\n", "multipart/form-data; boundary=x"),
        ("POST", b"", "multipart/form-data; boundary="),
        ("POST", valid.encode("utf-16"), "text/plain; charset=utf-16"),
        ("GET", b"", FORM),
        ("PUT", valid.encode(), FORM),
    ]
    for method, body, content_type in barrage:
        for path in ("/controllersms/", "/http/"):
            response = gw.http.request(
                method, path, content=body, headers={"Content-Type": content_type}
            )
            assert_clean(response)
    for query in ("%", "num=%ZZ", "client_opcion=send_sms&" * 2000, "msg=%00"):
        assert_clean(gw.http.get(f"/http/?{query}"))
    gw.assert_alive()
    message = gw.message(kept)
    assert (message["text"], message["to"]) == ("guardado", "+584140000000")
    assert c.balance() == 9


def test_10000_recipients_are_accepted_in_full(gw: Gateway) -> None:
    # Last in the module: the dispatcher is still sending these when the module ends.
    c = gw.new_client(10_000)
    js = many_recipients_json(10_000)
    response = c.set_sms_send(js, "Hola a todos")
    rows = datos(response)
    assert len(rows) == 10_000
    assert all(r["StatusText"] == ACCEPTED for r in rows)
    assert [r["Cel"] for r in rows] == [f"414{i:07d}" for i in range(10_000)]
    assert len({r["Messageid"] for r in rows}) == 10_000
    assert c.balance() == 0
    assert gw.count_messages(c.client_id) == 10_000
    gw.assert_alive()
