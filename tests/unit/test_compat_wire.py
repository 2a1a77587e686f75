"""Decoding compat requests and encoding their answers, byte for byte."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

import pytest

from centauro.compat.codes import OPERATION_FIELD, Code, StatusText, code_for
from centauro.compat.phpurl import encode_field
from centauro.compat.wire import (
    CompatRequest,
    Envelope,
    Operation,
    Payload,
    Recipient,
    ResultRow,
    decode_get_payload,
    decode_post_payload,
    encode_balance_answer,
    encode_error,
    encode_send_answer,
    parse_recipients,
    read_envelope,
)
from centauro.domain.errors import (
    AuthenticationFailed,
    CentauroError,
    Conflict,
    InsufficientCredits,
    InvalidNumber,
    InvalidRequest,
    InvalidText,
    MissingParameter,
    NotFound,
    NoValidRecipient,
    TextTooLong,
    TooManyRecipients,
    Unavailable,
    UndecodableField,
    UnknownOperation,
)

PEDRO = '{"id":"0","cel":"04140000000","nom":"Pedro Perez"}'
JOSE = '{"id":"0","cel":"584240000000","nom":"Jose Perez"}'
BOTH = [
    Recipient("0", "04140000000", "Pedro Perez", None),
    Recipient("0", "584240000000", "Jose Perez", None),
]

# --- recipients -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"{PEDRO},{JOSE}",
        f"[{PEDRO},{JOSE}]",
        f"  \n[ {PEDRO} , {JOSE} ]\t",
        f"\ufeff{PEDRO},{JOSE}",
    ],
)
def test_recipients_in_comma_and_array_form_parse_the_same(text: str) -> None:
    assert parse_recipients(text) == BOTH


def test_a_single_object_is_one_recipient() -> None:
    assert parse_recipients(PEDRO) == BOTH[:1]
    assert parse_recipients(PEDRO) == parse_recipients(f"[{PEDRO}]")


def test_recipients_keep_their_personal_message_and_ignore_unknown_keys() -> None:
    text = '{"id":"7","cel":"3001234567","nom":"Ana","msg":"Hola Ana","extra":{"x":[1]}}'
    assert parse_recipients(text) == [Recipient("7", "3001234567", "Ana", "Hola Ana")]


def test_numbers_sent_as_json_numbers_become_their_decimal_text() -> None:
    text = (
        '{"id":0,"cel":4140000000,"nom":123,"msg":5},'
        '{"id":-1,"cel":4140000000.0,"nom":1.5,"msg":0},'
        '{"id":1e3,"cel":4.14e9,"nom":1e999999}'
    )
    assert parse_recipients(text) == [
        Recipient("0", "4140000000", "123", "5"),
        Recipient("-1", "4140000000", "1.5", "0"),
        Recipient("1000", "4140000000", "1e999999", None),
    ]


def test_huge_integers_keep_their_digits_instead_of_hitting_the_int_limit() -> None:
    digits = "1" + "9" * 5000  # Python refuses int("…") over 4300 digits
    assert parse_recipients(f'{{"cel":{digits}}}') == [Recipient("", digits, "", None)]


def test_null_or_missing_values_are_empty_and_a_missing_cel_is_kept() -> None:
    text = '{"id":null,"cel":null,"nom":null,"msg":null},{},{"cel":""}'
    assert parse_recipients(text) == [Recipient("", "", "", None)] * 3


@pytest.mark.parametrize("text", ["", "   ", "[]", " [ ] ", "\ufeff"])
def test_no_recipient_at_all_is_a_missing_parameter(text: str) -> None:
    with pytest.raises(MissingParameter) as caught:
        parse_recipients(text)
    assert code_for(caught.value) is Code.MISSING_PARAMETER


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '"04140000000"',
        "04140000000",
        "null",
        "[1]",
        '["04140000000"]',
        "[[]]",
        f"[{PEDRO}],[{JOSE}]",
        f"{PEDRO}]",
        f"{PEDRO},",
        '{"cel":{"n":"04140000000"}}',
        '{"cel":["04140000000"]}',
        '{"cel":true}',
        '{"id":false,"cel":"04140000000"}',
        '{"cel":NaN}',
        '{"cel":Infinity}',
    ],
)
def test_anything_but_a_list_of_flat_objects_is_undecodable(text: str) -> None:
    with pytest.raises(UndecodableField) as caught:
        parse_recipients(text)
    assert caught.value.name == "json"


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 100_000, '{"cel":' + "[" * 100_000],
)
def test_deeply_nested_input_is_undecodable_not_a_recursion_error(text: str) -> None:
    with pytest.raises(UndecodableField):
        parse_recipients(text)


def _recipients_text(count: int) -> str:
    return ",".join(
        f'{{"id":"{i}","cel":"0414{i:07d}","nom":"Recipient number {i}","msg":"Hola {i}"}}'
        for i in range(count)
    )


def _best_parse_seconds(text: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        parse_recipients(text)
        best = min(best, time.perf_counter() - start)
    return best


def test_100000_recipients_parse_in_linear_time() -> None:
    """Speed itself is measured by bench/core_api.py; here only the shape: ten times the
    recipients cost about ten times the time (a ratio in one run, robust to a busy machine),
    never the quadratic blow-up a naive splitter shows."""
    text = _recipients_text(100_000)
    assert len(text) > 7_000_000
    recipients = parse_recipients(text)
    assert len(recipients) == 100_000
    assert recipients[-1] == Recipient(
        "99999", "04140099999", "Recipient number 99999", "Hola 99999"
    )
    ratio = _best_parse_seconds(text) / _best_parse_seconds(_recipients_text(10_000))
    assert ratio < 30, ratio


# --- answers ----------------------------------------------------------------------------


def test_send_answer_is_byte_identical_to_the_protocol_example() -> None:
    rows = [
        ResultRow("Pedro Perez", "4140000000", "7603178", StatusText.ACCEPTED, "Mensaje de prueba"),
        ResultRow("Jose Perez", "4240000000", "7603179", StatusText.ACCEPTED, "Mensaje de prueba"),
    ]
    assert encode_send_answer(rows) == (
        b'{"status":"200","response":[{"datos":['
        b'{"Nom":"Pedro Perez","Cel":"4140000000","Messageid":"7603178",'
        b'"StatusText":"Message accepted for delivery","Msg":"Mensaje de prueba"},'
        b'{"Nom":"Jose Perez","Cel":"4240000000","Messageid":"7603179",'
        b'"StatusText":"Message accepted for delivery","Msg":"Mensaje de prueba"}'
        b"]}]}"
    )


@pytest.mark.parametrize(
    ("text", "php_json"),
    [
        ("José/Ñ", b'"Jos\\u00e9\\/\\u00d1"'),
        ("😀€", b'"\\ud83d\\ude00\\u20ac"'),
        ('"quoted" \\ back', b'"\\"quoted\\" \\\\ back"'),
        ("\n\t\r\x08\x0c\x00\x1f", b'"\\n\\t\\r\\b\\f\\u0000\\u001f"'),
        ("<a href='x'>&</a>", b"\"<a href='x'>&<\\/a>\""),
        ("\x7f", b'"\x7f"'),  # PHP leaves DEL raw; Python's escaper would write \u007f
        ("\x7f\x7f\\\x7f", b'"\x7f\x7f\\\\\x7f"'),
        ("\\u007f", b'"\\\\u007f"'),  # the six characters, not DEL
        ("\u2028", b'"\\u2028"'),
    ],
)
def test_send_answer_escapes_text_as_php_json_encode_does(text: str, php_json: bytes) -> None:
    body = encode_send_answer([ResultRow(text, "", "", StatusText.INVALID_NUMBER, text)])
    assert body == (
        b'{"status":"200","response":[{"datos":[{"Nom":' + php_json + b',"Cel":"","Messageid":"",'
        b'"StatusText":"Rejected: invalid number","Msg":' + php_json + b"}]}]}"
    )
    assert json.loads(body)["response"][0]["datos"][0]["Msg"] == text


def test_send_answer_with_no_rows_has_an_empty_datos() -> None:
    assert encode_send_answer([]) == b'{"status":"200","response":[{"datos":[]}]}'


def test_send_answer_of_10000_rows_is_fast() -> None:
    rows = [
        ResultRow(f"Pérez {i}", f"414{i:07d}", str(7_603_178 + i), StatusText.ACCEPTED, "Hola/ñ")
        for i in range(10_000)
    ]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        body = encode_send_answer(rows)
        best = min(best, time.perf_counter() - start)
    assert len(json.loads(body)["response"][0]["datos"]) == 10_000
    assert best < 0.2  # measured ≈ 10 ms; the bound only catches a pathological rewrite


def test_balance_answer_carries_the_number_as_a_string() -> None:
    assert encode_balance_answer(500) == b'{"status":"200","response":{"sms_disponibles":"500"}}'
    assert encode_balance_answer(0) == b'{"status":"200","response":{"sms_disponibles":"0"}}'


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (Code.MISSING_PARAMETER, b"No se recibieron los parametros necesarios"),
        (Code.BAD_CREDENTIALS, b"Error de credenciales"),
        (Code.OFFLINE, b"Servidores fuera de linea"),
        (Code.NO_OPERATION, b"Error grave no se recibio parametro de la API"),
        (Code.BAD_PARAMETERS, b"Los parametros no son correctos por favor no modifique la API"),
        (Code.NO_CREDITS, b"No tiene SMS disponibles para realizar este envio"),
    ],
)
def test_every_error_code_has_its_exact_body(code: Code, error: bytes) -> None:
    status = code.value.encode()
    assert (
        encode_error(code) == b'{"status":"' + status + b'","response":{"error":"' + error + b'"}}'
    )


def test_the_305_body_is_the_protocols_example() -> None:
    assert encode_error(Code.NO_CREDITS) == (
        b'{"status":"305","response":{"error":"No tiene SMS disponibles para realizar este envio"}}'
    )


def test_200_is_not_an_error_body() -> None:
    with pytest.raises(ValueError):
        encode_error(Code.OK)


def test_status_texts_are_the_protocols() -> None:
    assert [s.value for s in StatusText] == [
        "Message accepted for delivery",
        "Rejected: invalid number",
        "Rejected: duplicate number",
        "Rejected: opted out",
    ]


# --- codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (MissingParameter("json"), "300"),
        (MissingParameter("client_id"), "300"),
        (MissingParameter(), "300"),
        (MissingParameter(OPERATION_FIELD), "303"),
        (AuthenticationFailed(), "301"),
        (Unavailable(), "302"),
        (UnknownOperation(), "304"),
        (UndecodableField("msg"), "304"),
        (InvalidNumber("123"), "304"),
        (InvalidText(), "304"),
        (TextTooLong(5, 3), "304"),
        (NoValidRecipient(), "304"),
        (TooManyRecipients(10, 5), "304"),
        (InvalidRequest(), "304"),
        (InsufficientCredits(10, 3), "305"),
        (NotFound(), "302"),
        (Conflict(), "302"),
        (CentauroError(), "302"),
        (RuntimeError("bug"), "302"),
    ],
)
def test_code_for_maps_the_exception_tree(error: BaseException, code: str) -> None:
    assert code_for(error) == code


# --- request decoding -------------------------------------------------------------------

OK_JSON = encode_field(f"{PEDRO},{JOSE}")
OK_MSG = encode_field("Mensaje de prueba")
PERSONAL = encode_field(
    '{"cel":"04140000000","msg":"Hola Pedro"},{"cel":"3001234567","msg":"Hola"}'
)
CREDS = {"client_id": "id", "client_secret": "s"}


def _answer_code(fields: Mapping[str, str]) -> str:
    """Run the two steps with a stand-in authentication between them."""
    try:
        envelope = read_envelope(fields)
        if envelope.client_secret != "s":
            raise AuthenticationFailed
        decode_post_payload(envelope, fields)
    except CentauroError as exc:
        return code_for(exc).value
    return "200"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({}, "303"),
        ({**CREDS, "client_opcion": ""}, "303"),
        ({"client_opcion": "nope"}, "300"),  # credentials are looked at before the operation
        ({"client_opcion": "send_sms", "client_id": "id"}, "300"),
        ({"client_opcion": "send_sms", "client_id": "", "client_secret": "s"}, "300"),
        ({**CREDS, "client_opcion": "nope"}, "304"),
        ({**CREDS, "client_opcion": "SEND_SMS"}, "304"),
        ({**CREDS, "client_id": "id", "client_secret": "bad", "client_opcion": "send_sms"}, "301"),
        ({**CREDS, "client_opcion": "send_sms", "msg": OK_MSG}, "300"),
        ({**CREDS, "client_opcion": "send_sms", "json": OK_JSON}, "300"),
        ({**CREDS, "client_opcion": "send_sms", "json": OK_JSON, "msg": ""}, "300"),
        ({**CREDS, "client_opcion": "send_sms", "json": "%%bad%%"}, "300"),  # presence first
        ({**CREDS, "client_opcion": "send_sms", "json": "%%bad%%", "msg": OK_MSG}, "304"),
        ({**CREDS, "client_opcion": "send_sms", "json": OK_JSON, "msg": "%%bad%%"}, "304"),
        ({**CREDS, "client_opcion": "send_sms", "json": encode_field("[]"), "msg": "%%"}, "304"),
        ({**CREDS, "client_opcion": "send_sms", "json": encode_field("[]"), "msg": OK_MSG}, "300"),
        ({**CREDS, "client_opcion": "send_sms", "json": encode_field("no"), "msg": OK_MSG}, "304"),
        ({**CREDS, "client_opcion": "send_sms", "json": OK_JSON, "msg": OK_MSG}, "200"),
        ({**CREDS, "client_opcion": "send_sms_personalizado", "json": PERSONAL}, "200"),
        ({**CREDS, "client_opcion": "send_sms_personalizado", "msg": OK_MSG}, "300"),
        ({**CREDS, "client_opcion": "send_sms_personalizado", "json": OK_JSON}, "300"),
        ({**CREDS, "client_opcion": "sms_disponibles"}, "200"),
        ({**CREDS, "client_opcion": "sms_disponibles", "json": "%%bad%%"}, "200"),
    ],
)
def test_checks_run_in_the_documented_order(fields: dict[str, str], code: str) -> None:
    assert _answer_code(fields) == code


def test_post_send_sms_decodes_recipients_and_text() -> None:
    fields = {**CREDS, "client_opcion": "send_sms", "json": OK_JSON, "msg": OK_MSG}
    envelope = read_envelope(fields)
    assert envelope == Envelope("id", "s", Operation.SEND_SMS)
    payload = decode_post_payload(envelope, fields)
    assert payload == Payload(BOTH, "Mensaje de prueba")
    recipients, text = payload
    assert CompatRequest.of(envelope, payload) == CompatRequest(
        "id", "s", Operation.SEND_SMS, recipients, text
    )


def test_post_send_sms_personalizado_has_per_recipient_texts_and_no_text() -> None:
    fields = {**CREDS, "client_opcion": "send_sms_personalizado", "json": PERSONAL}
    payload = decode_post_payload(read_envelope(fields), fields)
    assert payload == Payload(
        [
            Recipient("", "04140000000", "", "Hola Pedro"),
            Recipient("", "3001234567", "", "Hola"),
        ],
        None,
    )


def test_control_characters_pass_through_for_the_domain_to_judge() -> None:
    fields = {
        **CREDS,
        "client_opcion": "send_sms",
        "json": OK_JSON,
        "msg": encode_field("a\x00\x1b"),
    }
    assert decode_post_payload(read_envelope(fields), fields).text == "a\x00\x1b"


def test_the_secret_stays_out_of_reprs() -> None:
    envelope = read_envelope({**CREDS, "client_secret": "hunter2", "client_opcion": "send_sms"})
    assert "hunter2" not in repr(envelope)
    assert "hunter2" not in repr(CompatRequest.of(envelope, Payload([], None)))


def _get(**fields: str) -> Payload:
    query = {**CREDS, **fields}
    return decode_get_payload(read_envelope(query), query)


def test_get_send_sms_takes_plain_numbers_separated_by_commas() -> None:
    payload = _get(client_opcion="send_sms", num="04140000000", msg="MENSAJE DE PRUEBA HTTP")
    assert payload == Payload([Recipient("", "04140000000", "", None)], "MENSAJE DE PRUEBA HTTP")
    several = _get(client_opcion="send_sms", num=",04140000000,, 584240000000 ,", msg="x")
    assert [r.cel for r in several.recipients] == ["04140000000", "584240000000"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"client_opcion": "send_sms", "msg": "x"}, "300"),
        ({"client_opcion": "send_sms", "num": " , ,", "msg": "x"}, "300"),
        ({"client_opcion": "send_sms", "num": "04140000000"}, "300"),
        ({"client_opcion": "send_sms", "num": "04140000000", "msg": ""}, "300"),
        ({"client_opcion": "send_sms_personalizado", "num": "04140000000", "msg": "x"}, "304"),
    ],
)
def test_get_requires_num_and_msg(fields: dict[str, str], code: str) -> None:
    with pytest.raises(CentauroError) as caught:
        _get(**fields)
    assert code_for(caught.value) == code


def test_get_balance_needs_no_payload() -> None:
    assert _get(client_opcion="sms_disponibles") == Payload([], None)
