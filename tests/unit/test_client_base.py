"""The SDK's pure core: requests byte-exact with the PHP client, answers read strictly."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from centauro.client import _base, _rest
from centauro.client._models import BatchItem, Personalized, SendResult, SentMessage
from centauro.client.errors import (
    APIError,
    CentauroSMSError,
    Conflict,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidCredentials,
    InvalidParameters,
    MissingOperation,
    MissingParameters,
    NotFound,
    PayloadTooLarge,
    ProtocolError,
    RateLimited,
    ServiceUnavailable,
    TransportError,
    api_error,
    map_httpx_errors,
)
from centauro.compat import form, wire

BASE = "https://sms.example.com"
CREDS = _base.Credentials("id_credencial", "codigo_secreto_credencial")
README_JSON = '{"id":"0","cel":"04140000000","nom":"Pedro Perez"}'

# Expected bodies written out by hand from PHP's rules, independently of our encoder:
# urlencode() of the JSON, `base64 -w0` of that, then http_build_query's urlencode of the
# base64 (only '=' padding needs escaping: base64 of urlencoded ASCII never has '+' or '/').
README_JSON_FIELD = (
    "JTdCJTIyaWQlMjIlM0ElMjIwJTIyJTJDJTIyY2VsJTIyJTNBJTIyMDQxNDAwMDAwMDAlMjIlMkMlMjJub20l"
    "MjIlM0ElMjJQZWRybytQZXJleiUyMiU3RA%3D%3D"
)
README_MSG_FIELD = "TWVuc2FqZStkZStwcnVlYmE%3D"  # "Mensaje de prueba"
PERSONALIZED_JSON_FIELD = (
    "JTdCJTIyaWQlMjIlM0ElMjIwJTIyJTJDJTIyY2VsJTIyJTNBJTIyMDQxNDAwMDAwMDAlMjIlMkMlMjJub20l"
    "MjIlM0ElMjJQZWRybytQZXJleiUyMiUyQyUyMm1zZyUyMiUzQSUyMk1lbnNhamUrUGVyc29uYWxpemFkbyUy"
    "MiU3RA%3D%3D"
)
EXPECTED_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/x-www-form-urlencoded",
}


# --- requests ---------------------------------------------------------------------------


def test_balance_request_is_the_php_clients_post() -> None:
    request = _base.balance_request(BASE, CREDS)
    assert request.method == "POST"
    assert request.url == "https://sms.example.com/controllersms/"
    assert EXPECTED_HEADERS.items() <= dict(request.headers).items()
    assert request.body == (
        b"client_id=id_credencial&client_secret=codigo_secreto_credencial"
        b"&client_opcion=sms_disponibles"
    )


def test_send_request_matches_the_php_client_byte_for_byte() -> None:
    request = _base.send_request(BASE, CREDS, README_JSON, "Mensaje de prueba")
    assert (
        request.body
        == (
            "client_id=id_credencial&client_secret=codigo_secreto_credencial"
            f"&json={README_JSON_FIELD}&msg={README_MSG_FIELD}&client_opcion=send_sms"
        ).encode()
    )


def test_send_request_escapes_the_text_as_php_urlencode() -> None:
    # urlencode('Mensaje de prueba ñ/~*') = Mensaje+de+prueba+%C3%B1%2F%7E%2A (note ~).
    request = _base.send_request(BASE, CREDS, README_JSON, "Mensaje de prueba ñ/~*")
    assert b"&msg=TWVuc2FqZStkZStwcnVlYmErJUMzJUIxJTJGJTdFJTJB&" in request.body


def test_personalized_request_matches_the_php_client_byte_for_byte() -> None:
    recipients = '{"id":"0","cel":"04140000000","nom":"Pedro Perez","msg":"Mensaje Personalizado"}'
    request = _base.personalized_request(BASE, CREDS, recipients)
    assert (
        request.body
        == (
            "client_id=id_credencial&client_secret=codigo_secreto_credencial"
            f"&json={PERSONALIZED_JSON_FIELD}&client_opcion=send_sms_personalizado"
        ).encode()
    )


def test_credentials_are_form_encoded_as_http_build_query_does() -> None:
    request = _base.balance_request(BASE, _base.Credentials("a b", "x+y/z=é~"))
    assert request.body.startswith(b"client_id=a+b&client_secret=x%2By%2Fz%3D%C3%A9%7E&")


def test_secret_is_not_in_the_credentials_repr() -> None:
    assert "codigo_secreto" not in repr(CREDS)


@given(
    numbers=st.lists(st.text(min_size=1), min_size=1, max_size=5),
    text=st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1),
)
def test_the_gateways_decoder_reads_back_what_the_sdk_sends(numbers: list[str], text: str) -> None:
    recipients = _base.php_json_encode(
        [{"id": "0", "cel": n, "nom": "", "msg": text} for n in numbers]
    )
    for request in (
        _base.send_request(BASE, CREDS, recipients, text),
        _base.personalized_request(BASE, CREDS, recipients),
    ):
        fields = form.parse_urlencoded(request.body)
        envelope = wire.read_envelope(fields)
        assert (envelope.client_id, envelope.client_secret) == (
            CREDS.client_id,
            CREDS.client_secret,
        )
        payload = wire.decode_post_payload(envelope, fields)
        assert [r.cel for r in payload.recipients] == numbers
        assert [r.msg for r in payload.recipients] == [text] * len(numbers)
        assert payload.text in (text, None)


@pytest.mark.parametrize(
    ("given_url", "expected"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/controllersms/"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/controllersms/"),
        ("https://example.com/sms/", "https://example.com/sms/controllersms/"),
    ],
)
def test_base_url_may_carry_a_path_prefix_and_a_trailing_slash(
    given_url: str, expected: str
) -> None:
    assert _base.balance_request(_base.normalize_base_url(given_url), CREDS).url == expected


@pytest.mark.parametrize(
    "bad", ["", "127.0.0.1:8000", "ftp://example.com", "http://", "http://h/?a=1", "http://h/#x"]
)
def test_base_url_that_is_not_http_is_refused_early(bad: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        _base.normalize_base_url(bad)


def test_php_json_encode_matches_php_defaults() -> None:
    # json_encode(array("id"=>"0","cel"=>"04140000000","nom"=>"Pedro Perez"))
    assert _base.php_json_encode({"id": "0", "cel": "04140000000", "nom": "Pedro Perez"}) == (
        README_JSON
    )
    # '/' escaped, non-ASCII as lower-case \u, DEL raw, an escaped backslash left alone.
    assert _base.php_json_encode({"nom": "José 1/2 \x7f \\u007f"}) == (
        '{"nom":"Jos\\u00e9 1\\/2 \x7f \\\\u007f"}'
    )


def test_destinatarios_in_the_three_php_forms() -> None:
    joined = README_JSON + ',{"id":"0","cel":"584240000000","nom":"Jose Perez"}'
    assert _base.destinatarios_text(joined) == joined  # PHP text goes as written
    assert _base.destinatarios_text({"id": "0", "cel": "04140000000", "nom": "Pedro Perez"}) == (
        README_JSON
    )
    assert _base.destinatarios_text([{"cel": "1"}, {"cel": "2"}]) == '[{"cel":"1"},{"cel":"2"}]'


@pytest.mark.parametrize("bad", [42, [1, 2], ["04140000000"], None])
def test_destinatarios_of_another_type_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        _base.destinatarios_text(bad)


def test_send_numbers_may_be_comma_separated_or_a_sequence() -> None:
    expected = [
        {"id": "0", "cel": "04140000000", "nom": ""},
        {"id": "0", "cel": "+58 424-000-0000", "nom": ""},
    ]
    assert _base.recipients_for("04140000000, +58 424-000-0000,") == expected
    assert _base.recipients_for(["04140000000", " +58 424-000-0000 "]) == expected
    assert _base.recipients_for(("04140000000,+58 424-000-0000",)) == expected
    assert _base.recipients_for(" , ") == []  # the gateway answers 300 for no recipient


def test_send_numbers_must_be_strings() -> None:
    with pytest.raises(TypeError):
        _base.recipients_for([4140000000])  # type: ignore[list-item]


def test_personalized_items_in_every_accepted_form() -> None:
    items: list[_base.PersonalizedItem] = [
        ("04140000000", "Hola Pedro"),
        Personalized("04240000000", "Hola Ana", name="Ana", reference="cliente-7"),
        Personalized("3001234567", "Hola"),
        {"cel": 4140000001, "msg": "dict", "nom": None, "otro": "x"},
    ]
    assert _base.personalized_recipients(items) == [
        {"id": "0", "cel": "04140000000", "nom": "", "msg": "Hola Pedro"},
        {"id": "cliente-7", "cel": "04240000000", "nom": "Ana", "msg": "Hola Ana"},
        {"id": "0", "cel": "3001234567", "nom": "", "msg": "Hola"},
        {"cel": "4140000001", "msg": "dict"},
    ]


@pytest.mark.parametrize("bad", ["04140000000", ("a", "b", "c"), 7])
def test_personalized_item_of_another_shape_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        _base.personalized_recipients([bad])


# --- answers ----------------------------------------------------------------------------

BALANCE = b'{"status":"200","response":{"sms_disponibles":"500"}}'
SEND = (
    b'{"status":"200","response":[{"datos":['
    b'{"Nom":"Pedro Perez","Cel":"4140000000","Messageid":"7603178",'
    b'"StatusText":"Message accepted for delivery","Msg":"Mensaje de prueba"},'
    b'{"Nom":"","Cel":"123","Messageid":"","StatusText":"Rejected: invalid number",'
    b'"Msg":"Mensaje de prueba"},'
    b'{"Nom":"Jose Perez","Cel":"4240000000","Messageid":"7603179",'
    b'"StatusText":"Message accepted for delivery","Msg":"Mensaje de prueba"}]}]}'
)
ERRORS = {
    300: (MissingParameters, "No se recibieron los parametros necesarios"),
    301: (InvalidCredentials, "Error de credenciales"),
    302: (ServiceUnavailable, "Servidores fuera de linea"),
    303: (MissingOperation, "Error grave no se recibio parametro de la API"),
    304: (InvalidParameters, "Los parametros no son correctos por favor no modifique la API"),
    305: (InsufficientCredits, "No tiene SMS disponibles para realizar este envio"),
}


def _error_body(code: int) -> bytes:
    return json.dumps({"status": str(code), "response": {"error": ERRORS[code][1]}}).encode()


@pytest.mark.parametrize("body", [BALANCE, SEND, *(_error_body(c) for c in ERRORS)])
def test_decode_answer_returns_every_protocol_shape_as_sent(body: bytes) -> None:
    assert _base.decode_answer(200, body) == json.loads(body)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b"",
        b'{"detail":"Not Found"}',
        b'["status", "200"]',
        b'{"status": null}',
        b"\xff\xfe\x00",
    ],
)
def test_decode_answer_refuses_what_is_not_a_protocol_answer(body: bytes) -> None:
    for lenient in (False, True):
        with pytest.raises(ProtocolError) as caught:
            _base.decode_answer(200, body, any_http_status=lenient)
        assert caught.value.status_code == 200
        assert caught.value.body == body


def test_http_status_other_than_200_is_a_protocol_error_but_php_style_reads_the_body() -> None:
    body = _error_body(304)  # what the gateway answers with HTTP 413 on a compat path
    with pytest.raises(ProtocolError, match=r"HTTP 413 \(304: Los parametros") as caught:
        _base.decode_answer(413, body)
    assert caught.value.status_code == 413
    assert _base.decode_answer(413, body, any_http_status=True) == json.loads(body)
    with pytest.raises(ProtocolError, match="HTTP 502"):
        _base.decode_answer(502, b"<html>Bad Gateway</html>", any_http_status=True)


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_each_error_code_raises_its_own_class(code: int) -> None:
    cls, text = ERRORS[code]
    answer = json.loads(_error_body(code))
    for parse in (_base.check_code, _base.parse_balance, _base.parse_send):
        with pytest.raises(cls) as caught:
            parse(answer)
        error = caught.value
        assert isinstance(error, APIError)
        assert isinstance(error, CentauroSMSError)
        assert (error.code, error.message, error.answer) == (code, text, answer)
        assert str(error) == f"{code}: {text}"


def test_unknown_error_code_is_a_plain_api_error() -> None:
    with pytest.raises(APIError) as caught:
        _base.check_code({"status": "399", "response": {"error": "Otro"}})
    assert type(caught.value) is APIError
    assert (caught.value.code, caught.value.message) == (399, "Otro")


def test_error_without_text_falls_back_to_the_protocols_text() -> None:
    with pytest.raises(InsufficientCredits, match="No tiene SMS disponibles"):
        _base.check_code({"status": 305, "response": []})


def test_status_that_is_not_a_number_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        _base.check_code({"status": "OK"})


def test_parse_balance_reads_the_string_number() -> None:
    assert _base.parse_balance(json.loads(BALANCE)) == 500
    assert _base.parse_balance({"status": "200", "response": {"sms_disponibles": 7}}) == 7


@pytest.mark.parametrize(
    "response", [{}, {"sms_disponibles": "-1"}, {"sms_disponibles": "5.0"}, [], "500"]
)
def test_parse_balance_refuses_a_malformed_answer(response: Any) -> None:
    with pytest.raises(ProtocolError):
        _base.parse_balance({"status": "200", "response": response})


def test_parse_send_reads_every_row_in_order() -> None:
    result = _base.parse_send(json.loads(SEND))
    assert result.messages[0] == SentMessage(
        number="4140000000",
        message_id="7603178",
        status_text="Message accepted for delivery",
        accepted=True,
        name="Pedro Perez",
        text="Mensaje de prueba",
    )
    assert [m.number for m in result.messages] == ["4140000000", "123", "4240000000"]
    assert [m.number for m in result.accepted] == ["4140000000", "4240000000"]
    assert [(m.number, m.message_id, m.accepted) for m in result.rejected] == [("123", None, False)]
    assert result.message_ids == ["7603178", "7603179"]


def test_parse_send_reads_the_one_block_per_recipient_form_of_the_original_readme() -> None:
    row = {"Nom": "", "Cel": "4140000000", "StatusText": "Message accepted for delivery"}
    answer = {
        "status": "200",
        "response": [
            {"datos": [{**row, "Messageid": "1", "Msg": "a"}]},
            {"datos": [{**row, "Messageid": 2, "Msg": "b"}]},
        ],
    }
    assert _base.parse_send(answer).message_ids == ["1", "2"]


@pytest.mark.parametrize(
    "response",
    [
        {"datos": []},
        [{"datos": {}}],
        [{"nope": []}],
        ["datos"],
        [{"datos": ["row"]}],
        [{"datos": [{"Cel": "1", "StatusText": "x"}]}],
        [{"datos": [{"Cel": 1, "Messageid": "1", "StatusText": "x"}]}],
    ],
)
def test_parse_send_refuses_a_malformed_answer(response: Any) -> None:
    with pytest.raises(ProtocolError):
        _base.parse_send({"status": "200", "response": response})


def test_send_result_is_frozen() -> None:
    result = SendResult([])
    with pytest.raises(AttributeError):
        result.messages = []  # type: ignore[misc]
    assert (result.accepted, result.rejected, result.message_ids) == ([], [], [])


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [*sorted(ERRORS), 399])
def test_api_errors_survive_pickling(code: int) -> None:
    error = api_error(code, "texto", {"status": str(code)})
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (copy.code, copy.message, copy.answer) == (code, "texto", {"status": str(code)})


def test_coded_errors_can_be_raised_without_arguments() -> None:
    assert str(InvalidCredentials()) == "301: Error de credenciales"


def test_httpx_errors_become_sdk_errors_with_their_cause() -> None:
    request = httpx.Request("POST", "http://127.0.0.1:1/controllersms/")
    cases: list[tuple[Exception, type[CentauroSMSError]]] = [
        (httpx.ConnectError("refused", request=request), TransportError),
        (httpx.ReadTimeout("", request=request), TransportError),
        (httpx.DecodingError("bad gzip", request=request), ProtocolError),
    ]
    for original, expected in cases:
        with pytest.raises(expected) as caught, map_httpx_errors():
            raise original
        assert caught.value.__cause__ is original
    with pytest.raises(TransportError, match=r"^ReadTimeout$"), map_httpx_errors():
        raise httpx.ReadTimeout("", request=request)


# --- REST: requests and answers ---------------------------------------------------------

REST_AUTH = "Basic aWRfY3JlZGVuY2lhbDpjb2RpZ29fc2VjcmV0b19jcmVkZW5jaWFs"  # base64 by hand


def test_rest_send_builds_a_json_post_with_basic_auth_and_the_key() -> None:
    when = datetime(2026, 11, 26, 9, 0, tzinfo=timezone(timedelta(hours=-4)))
    call = _rest.send_message(
        BASE, CREDS, ["04141234567", "+573001234567"], "Hola ñ", reference="p-42",
        schedule_at=when, validity_period=3600, idempotency_key="order-42",
    )  # fmt: skip
    request = call.request
    assert (request.method, request.url) == ("POST", "https://sms.example.com/v1/messages")
    headers = dict(request.headers)
    assert headers["Authorization"] == REST_AUTH
    assert headers["Content-Type"] == "application/json"
    assert headers["Idempotency-Key"] == "order-42"
    assert json.loads(request.body) == {
        "to": ["04141234567", "+573001234567"],
        "text": "Hola ñ",
        "reference": "p-42",
        "schedule_at": "2026-11-26T09:00:00-04:00",
        "validity_period": 3600,
    }


def test_rest_naive_times_are_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _rest.send_message(BASE, CREDS, "1", "x", schedule_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        _rest.list_messages(BASE, CREDS, since=datetime(2026, 1, 1))


def test_rest_batch_takes_items_in_three_forms() -> None:
    call = _rest.send_batch(
        BASE, CREDS,
        [BatchItem("1", "a", "r"), ("2", "b"), {"to": "3", "text": "c", "reference": None}],
        category="marketing",
    )  # fmt: skip
    assert json.loads(call.request.body) == {
        "messages": [
            {"to": "1", "text": "a", "reference": "r"},
            {"to": "2", "text": "b"},
            {"to": "3", "text": "c"},
        ],
        "category": "marketing",
    }
    with pytest.raises(TypeError):
        _rest.send_batch(BASE, CREDS, ["04141234567"])  # type: ignore[list-item]


def test_rest_list_query_drops_unset_filters_and_escapes_times() -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    call = _rest.list_messages(BASE, CREDS, status="sent", since=since, limit=10, cursor="bTo5")
    assert call.request.url == (
        "https://sms.example.com/v1/messages?status=sent&since=2026-01-01T00%3A00%3A00%2B00%3A00"
        "&limit=10&cursor=bTo5"
    )
    assert call.request.body == b""
    assert "Content-Type" not in dict(call.request.headers)


def test_rest_path_values_are_escaped() -> None:
    assert _rest.remove_suppression(BASE, CREDS, "+58 414/1").request.url == (
        "https://sms.example.com/v1/suppressions/%2B58%20414%2F1"
    )


def test_rest_health_sends_credentials_only_when_given() -> None:
    assert "Authorization" not in dict(_rest.health(BASE).request.headers)
    assert dict(_rest.health(BASE, CREDS).request.headers)["Authorization"].startswith("Basic ")


def test_rest_health_reads_the_anonymous_answer() -> None:
    health = _rest.health(BASE).read(200, httpx.Headers({}), b'{"status":"ok"}')
    assert (health.ok, health.version, health.store, health.connectors) == (True, None, None, [])


SUBMITTED = {
    "messages": [
        {"id": "7", "to": "+584141234567", "status": "queued", "error": None, "segments": 1,
         "encoding": "gsm7", "cost": 1, "reference": "p"},
        {"id": None, "to": "0212", "status": "rejected", "error": "invalid_number",
         "segments": 1, "encoding": "gsm7", "cost": 0, "reference": "p"},
    ],
    "cost": 1,
    "balance": 9,
}  # fmt: skip


def test_rest_submission_is_read_with_its_replay_flag() -> None:
    read = _rest.send_message(BASE, CREDS, "1", "x").read
    body = json.dumps(SUBMITTED).encode()
    first = read(202, httpx.Headers({}), body)
    assert (first.message_ids, first.cost, first.balance, first.replayed) == (["7"], 1, 9, False)
    assert [m.error for m in first.rejected] == ["invalid_number"]
    again = read(202, httpx.Headers({"Idempotent-Replayed": "true"}), body)
    assert again.replayed


def _problem(status: int, code: str, **extra: Any) -> bytes:
    return json.dumps(
        {"type": f"https://centauro.dev/problems/{code}", "title": "T", "status": status,
         "code": code, "detail": f"detail of {code}", **extra}
    ).encode()  # fmt: skip


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (401, "unauthorized", InvalidCredentials),
        (402, "insufficient_credits", InsufficientCredits),
        (404, "not_found", NotFound),
        (409, "conflict", Conflict),
        (409, "idempotency_conflict", IdempotencyConflict),
        (413, "too_many_recipients", PayloadTooLarge),
        (422, "validation_error", InvalidParameters),
        (422, "no_valid_recipient", InvalidParameters),
        (422, "missing_parameter", MissingParameters),
        (429, "rate_limited", RateLimited),
        (503, "unavailable", ServiceUnavailable),
        (503, "store_unavailable", ServiceUnavailable),
        (500, "internal_error", ServiceUnavailable),
        (418, "teapot", APIError),
    ],
)
def test_rest_problems_raise_their_class(status: int, code: str, cls: type[APIError]) -> None:
    read = _rest.get_message(BASE, CREDS, "7").read
    with pytest.raises(cls) as caught:
        read(status, httpx.Headers({"Retry-After": "3"}), _problem(status, code))
    error = caught.value
    assert (error.code, error.problem_code, error.message) == (status, code, f"detail of {code}")
    assert error.answer["status"] == status
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (copy.code, copy.problem_code, copy.message) == (status, code, f"detail of {code}")


def test_rest_402_and_429_carry_their_numbers() -> None:
    read = _rest.balance(BASE, CREDS).read
    with pytest.raises(InsufficientCredits) as short:
        read(402, httpx.Headers({}), _problem(402, "insufficient_credits", needed=5, available=2))
    assert (short.value.needed, short.value.available) == (5, 2)
    with pytest.raises(RateLimited) as limited:
        read(429, httpx.Headers({"Retry-After": "2"}), _problem(429, "rate_limited"))
    assert limited.value.retry_after == 2.0
    assert pickle.loads(pickle.dumps(limited.value)).retry_after == 2.0


def test_compat_errors_have_no_problem_code() -> None:
    assert api_error(305).problem_code == ""
    assert InsufficientCredits().needed is None


@pytest.mark.parametrize(
    ("status", "body"),
    [(502, b"<html>Bad Gateway</html>"), (200, b"<html>"), (200, b'{"balance": "x"}'),
     (200, b"[]"), (404, b'{"detail": "Not Found"}')],
)  # fmt: skip
def test_rest_answers_outside_the_contract_are_protocol_errors(status: int, body: bytes) -> None:
    with pytest.raises(ProtocolError) as caught:
        _rest.balance(BASE, CREDS).read(status, httpx.Headers({}), body)
    assert caught.value.status_code == status


def test_rest_health_reads_a_503_as_an_answer() -> None:
    body = b'{"status":"degraded","version":"1","store":"unavailable","connectors":[]}'
    health = _rest.health(BASE).read(503, httpx.Headers({}), body)
    assert (health.ok, health.store) == (False, "unavailable")


def test_rest_message_times_are_aware_datetimes() -> None:
    body = json.dumps(
        {"id": "1", "to": "+584141234567", "text": "x", "status": "sent", "error": None,
         "segments": 1, "encoding": "gsm7", "cost": 1, "reference": None,
         "category": "transactional", "connector": "sandbox",
         "created_at": "2026-11-25T12:00:00+00:00", "scheduled_for": None,
         "sent_at": "2026-11-25T12:00:01.5+00:00", "done_at": None,
         "expires_at": "2026-11-26T12:00:00+00:00"}
    ).encode()  # fmt: skip
    message = _rest.get_message(BASE, CREDS, 1).read(200, httpx.Headers({}), body)
    assert message.sent_at == datetime(2026, 11, 25, 12, 0, 1, 500000, tzinfo=UTC)
    assert message.scheduled_for is None


def test_a_rest_problem_is_not_a_compat_answer_even_for_the_php_dropin() -> None:
    problem = b'{"type":"https://centauro.dev/problems/not_found","title":"Not found","status":404}'
    with pytest.raises(ProtocolError):
        _base.decode_answer(404, problem, any_http_status=True)
