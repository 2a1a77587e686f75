"""PHP urlencode and the base64 field encoding of the compat API."""

from __future__ import annotations

import base64
import json
import re
import time
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from centauro.compat.phpurl import (
    decode_field,
    encode_field,
    php_urldecode_strict,
    php_urlencode,
)
from centauro.domain.errors import UndecodableField


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mensaje de prueba ñ/~*", "Mensaje+de+prueba+%C3%B1%2F%7E%2A"),
        ("", ""),
        ("AZaz09-_.", "AZaz09-_."),
        ("!*'();:@&=+$,/?#[]", "%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D"),
        ("100% ~ok", "100%25+%7Eok"),
        ("á é", "%C3%A1+%C3%A9"),
        ("€😀", "%E2%82%AC%F0%9F%98%80"),
        ("\x00\n\t\x7f", "%00%0A%09%7F"),
        (
            '{"id":"0","cel":"04140000000","nom":"Pedro Perez"}',
            "%7B%22id%22%3A%220%22%2C%22cel%22%3A%2204140000000%22%2C%22nom%22%3A%22Pedro+Perez%22%7D",
        ),
    ],
)
def test_php_urlencode_matches_php_output(text: str, expected: str) -> None:
    assert php_urlencode(text) == expected


def test_php_urlencode_rejects_lone_surrogates() -> None:
    with pytest.raises(ValueError):
        php_urlencode("a\ud800b")


def test_encode_field_is_base64_of_php_urlencode() -> None:
    assert encode_field("Mensaje de prueba") == "TWVuc2FqZStkZStwcnVlYmE="
    assert encode_field('{"id":"0","cel":"04140000000","nom":"Pedro Perez"}') == (
        "JTdCJTIyaWQlMjIlM0ElMjIwJTIyJTJDJTIyY2VsJTIyJTNBJTIyMDQxNDAwMDAwMDAlMjIlMkMlMjJub20l"
        "MjIlM0ElMjJQZWRybytQZXJleiUyMiU3RA=="
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mensaje+de+prueba", "Mensaje de prueba"),
        ("a%2Bb", "a+b"),
        ("%c3%b1%C3%B1", "ññ"),
        ("é%20x", "é x"),  # unescaped characters are kept as their UTF-8 bytes
        ("%00%01", "\x00\x01"),
        ("a\\b%5Cn", "a\\b\\n"),
        ("\\x41%5Cx41\\%41", "\\x41\\x41\\A"),
        ("%25%32%30", "%20"),  # decoded once, never twice
        ("", ""),
    ],
)
def test_php_urldecode_strict_decodes(text: str, expected: str) -> None:
    assert php_urldecode_strict(text) == expected


@pytest.mark.parametrize(
    "text",
    ["%G1", "%4", "%", "abc%", "%%41", "%4G", "%C3%28", "%FF", "%C3", "%ED%A0%80", "%C0%AF"],
)
def test_php_urldecode_strict_rejects_bad_escapes_and_bad_utf8(text: str) -> None:
    with pytest.raises(ValueError):
        php_urldecode_strict(text)


@given(st.text())
@example("~*/+ %")
@example("\\x41\\\\%")
def test_php_urldecode_strict_inverts_php_urlencode(text: str) -> None:
    assert php_urldecode_strict(php_urlencode(text)) == text


_ESCAPE_SOUP = st.text(alphabet="%+\\x0123456789abcdefABCDEFGzé ", max_size=40)


@given(_ESCAPE_SOUP)
def test_php_urldecode_strict_agrees_with_a_reference_decoder(text: str) -> None:
    try:
        if re.search("%(?![0-9A-Fa-f]{2})", text):
            raise ValueError
        expected: str | type[ValueError] = unquote_to_bytes(text.replace("+", " ")).decode()
    except ValueError:
        expected = ValueError
    if expected is ValueError:
        with pytest.raises(ValueError):
            php_urldecode_strict(text)
    else:
        assert php_urldecode_strict(text) == expected


@given(st.text())
@example("")
@example("Mensaje de prueba ñ/~*")
def test_decode_field_inverts_encode_field(text: str) -> None:
    assert decode_field(encode_field(text), "msg") == text


@given(st.text(min_size=1))
def test_decode_field_tolerates_form_mangling_of_base64(text: str) -> None:
    value = encode_field(text)
    wrapped = "\r\n".join(value[i : i + 76] for i in range(0, len(value), 76))
    assert decode_field(value.replace("+", " "), "json") == text
    assert decode_field(value.rstrip("="), "json") == text
    assert decode_field(wrapped, "json") == text


def test_decode_field_reads_spaces_as_plus_and_keeps_slash() -> None:
    assert decode_field("Pj4+", "msg") == ">>>"
    assert decode_field("Pj4 ", "msg") == ">>>"  # the '+' lost to form decoding
    assert decode_field("Pz8/", "msg") == "???"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    "value",
    [
        "abc$",
        "ab-_",  # URL-safe alphabet: the PHP client never sends it
        "a",  # no padding can complete one character
        "=abc",
        "ab=c",
        "TWVu\tc2Fq",
        "TWVuc2Fq====",  # surplus padding
        "TWVuc2Fq==",
        "TWVuc2E==",
        "éé==",
        _b64(b"%G1"),
        _b64(b"100%"),
        _b64(b"%C3%28"),
        _b64(b"\xff"),  # raw bytes that are not UTF-8
    ],
)
def test_decode_field_refuses_what_is_not_in_the_wire_encoding(value: str) -> None:
    with pytest.raises(UndecodableField) as caught:
        decode_field(value, "json")
    assert caught.value.name == "json"


def test_decode_field_of_a_10000_recipient_json_is_fast() -> None:
    recipients = ",".join(
        json.dumps({"id": str(i), "cel": f"0414{i:07d}", "nom": f"Pérez Ñ {i}"})
        for i in range(10_000)
    )
    value = encode_field(recipients)
    assert len(value) > 1_000_000
    best = min(_elapsed(decode_field, value, "json") for _ in range(3))
    assert decode_field(value, "json") == recipients
    assert best < 0.2  # measured ≈ 10 ms; the bound only catches a slow (per-byte) rewrite


def _elapsed(func: object, *args: str) -> float:
    assert callable(func)
    start = time.perf_counter()
    func(*args)
    return time.perf_counter() - start
