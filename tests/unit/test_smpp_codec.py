"""Text ↔ submit_sm / deliver_sm fields, the settings they depend on, and status codes.

Expected bytes are written out by hand (GSM 03.38 table, UTF-16BE) rather than computed
with the codecs under test.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centauro.connectors.smpp import InvalidSettings, SmppSettings, codec, errors
from centauro.domain import text as sms_text

BASE = SmppSettings(host="127.0.0.1", port=2775, system_id="centauro", password="secret")


def settings(**changes: object) -> SmppSettings:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


# ── outbound: codings ───────────────────────────────────────────────────────


def test_gsm7_text_goes_as_unpacked_septets_with_data_coding_0() -> None:
    [part] = codec.encode("Año nuevo: ñandu €", BASE)
    # ñ is septet 0x7D; € is the escape pair 0x1B 0x65; one septet per octet.
    assert part == codec.SubmitPart(b"A\x7do nuevo: \x7dandu \x1b\x65", 0x00, 0x00, ())


def test_text_with_characters_outside_gsm7_goes_as_ucs2() -> None:
    [part] = codec.encode("Año nuevo: ñandú… €", BASE)  # ú and … are not GSM-7
    assert part.data_coding == 0x08
    assert part.short_message[:6] == b"\x00A\x00\xf1\x00o"
    assert part.short_message.endswith(b"\x20\x26\x00\x20\x20\xac")  # "… €"


def test_latin1_coding_sends_iso_8859_1_bytes() -> None:
    [part] = codec.encode("ñandu [promo] ¿sí?"[:13], settings(gsm7_coding="latin1"))
    assert (part.data_coding, part.short_message) == (0x03, b"\xf1andu [promo]")


def test_ascii_coding_sends_ia5_bytes() -> None:
    [part] = codec.encode("Hola {mundo}", settings(gsm7_coding="ascii"))
    assert (part.data_coding, part.short_message) == (0x01, b"Hola {mundo}")


@pytest.mark.parametrize(
    ("coding", "text"), [("latin1", "Precio: 5 €"), ("ascii", "Año"), ("ascii", "£5")]
)
def test_gsm7_text_the_8bit_coding_cannot_carry_falls_back_to_ucs2(coding: str, text: str) -> None:
    [part] = codec.encode(text, settings(gsm7_coding=coding))
    assert part.data_coding == 0x08
    assert part.short_message.decode("utf-16-be") == text


def test_ucs2_fallback_of_a_long_gsm7_text_uses_ucs2_part_sizes() -> None:
    text = "€" + "a" * 100  # 102 septets: one GSM-7 SMS, but 101 UCS-2 units: two parts
    parts = codec.encode(text, settings(gsm7_coding="latin1"))
    assert [len(p.short_message) for p in parts] == [6 + 67 * 2, 6 + 34 * 2]
    assert "".join(p.short_message[6:].decode("utf-16-be") for p in parts) == text


# ── outbound: multipart ──────────────────────────────────────────────────────


def test_udh_parts_carry_05_00_03_ref_total_seq_and_esm_class_0x40() -> None:
    text = "x" * 153 + "y" * 47
    parts = codec.encode(text, BASE, reference=0x1A7)
    assert [p.short_message[:6] for p in parts] == [
        b"\x05\x00\x03\xa7\x02\x01",
        b"\x05\x00\x03\xa7\x02\x02",
    ]
    assert [p.esm_class for p in parts] == [0x40, 0x40]
    assert parts[0].short_message[6:] == b"x" * 153
    assert parts[1].short_message[6:] == b"y" * 47


def test_sar_parts_carry_the_three_tlvs_and_no_udh() -> None:
    parts = codec.encode("á" * 100, settings(multipart="sar"), reference=0x1234)
    assert [p.tlvs for p in parts] == [
        ((0x020C, b"\x12\x34"), (0x020E, b"\x02"), (0x020F, b"\x01")),
        ((0x020C, b"\x12\x34"), (0x020E, b"\x02"), (0x020F, b"\x02")),
    ]
    assert [p.esm_class for p in parts] == [0, 0]
    assert [len(p.short_message) for p in parts] == [134, 66]


def test_payload_sends_the_whole_long_text_in_one_message_payload_tlv() -> None:
    text = "z" * 400
    [part] = codec.encode(text, settings(multipart="payload"))
    assert part.short_message == b""
    assert part.tlvs == ((0x0424, b"z" * 400),)


def test_payload_mode_sends_a_text_that_fits_one_sms_as_short_message() -> None:
    [part] = codec.encode("hola", settings(multipart="payload"))
    assert (part.short_message, part.tlvs) == (b"hola", ())


def test_escape_pairs_are_never_split_across_parts() -> None:
    parts = codec.encode("a" * 152 + "€" + "b" * 20, BASE)
    assert parts[0].short_message[6:] == b"a" * 152  # € would straddle: it moves on
    assert parts[1].short_message[6:8] == b"\x1b\x65"


def test_surrogate_pairs_are_never_split_across_parts() -> None:
    text = "á" * 66 + "😀" + "b" * 10
    parts = codec.encode(text, BASE)
    decoded = [p.short_message[6:].decode("utf-16-be") for p in parts]  # strict: no halves
    assert decoded == ["á" * 66, "😀" + "b" * 10]


def test_reference_is_only_asked_for_when_the_text_needs_parts() -> None:
    asked: list[int] = []

    def reference() -> int:
        asked.append(1)
        return 9

    codec.encode("short", BASE, reference)
    assert asked == []
    assert codec.encode("q" * 200, BASE, reference)[0].short_message[3] == 9
    assert asked == [1]


SENDABLE = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="\n\r"
)  # what check_sendable lets through to a connector


@given(st.text(alphabet=SENDABLE, max_size=700))
def test_parts_rejoin_to_the_text_and_fit_an_sms(text: str) -> None:
    parts = codec.encode(text, BASE, reference=3)
    assert len(parts) == len(sms_text.split(text))
    bodies = [p.short_message[6:] if p.esm_class else p.short_message for p in parts]
    if parts[0].data_coding == 0x08:
        assert all(len(b) <= 140 for b in bodies)
        assert "".join(b.decode("utf-16-be") for b in bodies) == text
    else:
        assert all(len(b) <= 160 and not b.endswith(b"\x1b") for b in bodies)
        assert b"".join(bodies) == text.encode("gsm03.38")


def test_fast_gsm7_encoder_agrees_with_gsm0338_on_every_character() -> None:
    alphabet = [chr(c) for c in range(0x3000) if sms_text.is_gsm7(chr(c))]
    assert len(alphabet) == 138  # 128 basic (ESC included) + 10 extension (form feed too)
    for char in alphabet:
        assert codec.encode_gsm7(char) == char.encode("gsm03.38"), char


def test_references_differ_for_consecutive_messages_to_one_number() -> None:
    refs = codec.References(lambda: 0.99999, keep=2)
    first = refs.next("584121111111")
    assert refs.next("584121111111") == (first + 1) & 0xFFFF
    refs.next("b")
    refs.next("c")  # evicts the first number: it starts afresh
    assert refs.next("584121111111") == first


# ── inbound ──────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("data", "coding", "expected"),
    [
        (b"A\x7do \x1b\x65", 0x00, "Año €"),
        (b"A\xf1o", 0x00, "Año"),  # not septets: a Latin-1 "default alphabet"
        (b"Hola", 0x01, "Hola"),
        (b"A\xf1o", 0x03, "Año"),
        (b"\x00A\x00\xf1\x00o\xd8\x3d\xde\x00", 0x08, "Año😀"),
        (b"\x00\xff\x10", 0x04, "00ff10"),
        (b"\x00\xff", 0x02, "00ff"),
        (b"Hola", 0xF0, "Hola"),  # GSM class 0 (flash)
        (b"\x01\x02", 0xF4, "0102"),  # 8-bit data, class 0
        (b"\x00A", 0x18, "A"),  # general data coding group, UCS-2 with class
    ],
)
def test_inbound_bytes_decode_per_data_coding(data: bytes, coding: int, expected: str) -> None:
    assert codec.decode_bytes(data, coding) == expected


def test_inbound_udh_is_stripped_and_its_concatenation_read() -> None:
    text, concat = codec.decode_message(b"\x05\x00\x03\x2a\x03\x02Hola", 0x00, 0x40)
    assert (text, concat) == ("Hola", codec.Concatenation(0x2A, 3, 2))
    text, concat = codec.decode_message(b"\x06\x08\x04\x01\x02\x02\x01Hi", 0x00, 0x40)
    assert (text, concat) == ("Hi", codec.Concatenation(0x0102, 2, 1))


def test_inbound_message_payload_is_read_when_short_message_is_empty() -> None:
    assert codec.decode_message(b"", 0x08, 0, "¿Sí?".encode("utf-16-be")) == ("¿Sí?", None)


# ── settings ─────────────────────────────────────────────────────────────────


def test_settings_round_trip_through_their_stored_form() -> None:
    stored = settings(tps=0, multipart="sar", source_addr="Centauro").to_dict()
    assert SmppSettings.from_dict(stored) == settings(
        tps=0, multipart="sar", source_addr="Centauro"
    )
    assert stored["password"] == "secret"


def test_settings_repr_hides_the_password() -> None:
    assert "secret" not in repr(BASE)
    assert "centauro" in repr(BASE)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"port": 0}, "port"),
        ({"port": "2775"}, "port"),
        ({"tls": "yes"}, "tls"),
        ({"window": True}, "window"),
        ({"window": 0}, "window"),
        ({"tps": -1}, "tps"),
        ({"password": "x" * 9}, "password"),
        ({"system_id": ""}, "system_id"),
        ({"bind_mode": "trx"}, "bind_mode"),
        ({"gsm7_coding": "utf8"}, "gsm7_coding"),
        ({"multipart": "split"}, "multipart"),
        ({"reconnect_min": 10.0, "reconnect_max": 5.0}, "reconnect_min"),
        ({"dest_ton": 256}, "dest_ton"),
    ],
)
def test_settings_reject_bad_values_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidSettings, match=field):
        SmppSettings.from_dict({**BASE.to_dict(), **changes})


def test_settings_from_dict_rejects_unknown_and_missing_keys() -> None:
    with pytest.raises(InvalidSettings, match="windw"):
        SmppSettings.from_dict({**BASE.to_dict(), "windw": 10})
    with pytest.raises(InvalidSettings, match="host"):
        SmppSettings.from_dict({"port": 2775, "system_id": "x"})


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("Centauro", (5, 0, "Centauro")),
        ("+584121234567", (1, 1, "584121234567")),
        ("2525", (0, 1, "2525")),
    ],
)
def test_source_ton_npi_follow_the_address_unless_set(
    addr: str, expected: tuple[int, int, str]
) -> None:
    assert settings(source_addr=addr).source_address == expected
    assert settings(source_addr=addr, source_ton=2, source_npi=9).source_address[:2] == (2, 9)


# ── command_status ───────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (0x58, errors.Outcome.THROTTLE),
        (0x14, errors.Outcome.THROTTLE),
        (0x08, errors.Outcome.TEMPORARY),
        (0x45, errors.Outcome.TEMPORARY),
        (0x64, errors.Outcome.TEMPORARY),
        (0x0B, errors.Outcome.PERMANENT),
        (0x0A, errors.Outcome.PERMANENT),
        (0x01, errors.Outcome.PERMANENT),
        (0x66, errors.Outcome.PERMANENT),
        (0x400, errors.Outcome.TEMPORARY),  # vendor-specific: retry rather than lose
        (0x9999, errors.Outcome.TEMPORARY),
    ],
)
def test_each_status_has_an_outcome(status: int, outcome: errors.Outcome) -> None:
    assert errors.classify(status) is outcome


def test_describe_names_the_status_and_its_number() -> None:
    assert errors.describe(0x0B) == "ESME_RINVDSTADR (0x0000000b)"
    assert errors.describe(0x401) == "vendor-specific (0x00000401)"
    assert errors.code(0x0B) == "0x0000000b"


def test_status_is_read_from_smpp34_error_text() -> None:
    assert errors.status_of(Exception("ESME_RTHROTTLED (0x00000058)")) == 0x58
    assert errors.status_of(Exception("bind timed out")) is None


@given(st.text(min_size=1, max_size=80))
def test_single_part_shortcut_equals_the_full_encoder(text: str) -> None:
    """The connector skips re-classifying one-SMS texts; the bytes must not change."""
    info = sms_text.analyze(text)
    if info.segments != 1 or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return
    assert [codec.single_part(text, info.encoding.value)] == codec.encode(text, settings())
