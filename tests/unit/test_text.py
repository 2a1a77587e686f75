"""SMS text rules: detection, counting, splitting, encoding, sendability.

Sizes are checked against independent oracles (the gsm0338 codec and Python's
UTF-16 codec), not against the module's own counting.

Timing (timeit, best of 7, CPython 3.11, shared dev machine) of analyze() on 160
characters: GSM-7 single segment 2.1 µs (2.7 µs with € and [ ]); UCS-2 without emoji
1.3 µs; texts that need the greedy cut (GSM-7 with € over 160 septets, UCS-2 with
emoji over 70 units) about 5 µs. A 1530-character text with 384 extension characters
(13 parts) takes about 60 µs.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centauro.domain.errors import InvalidText
from centauro.domain.text import (
    MAX_SEGMENTS_DEFAULT,
    Encoding,
    TextInfo,
    analyze,
    check_sendable,
    encode_gsm7,
    encode_ucs2,
    is_gsm7,
    split,
)

GSM7, UCS2 = Encoding.GSM7, Encoding.UCS2
EMOJI = "😀"
SPANISH_UCS2 = "Hola, ¿cómo estás? Año nuevo: ñandú, acción, camión, pingüino €10 [promo]"
SPANISH_GSM7 = "Hola, ¿como estas? Año nuevo: ñandu, accion, camion, pingüino €10 [promo] é Ñ Ü ¡ à"
EXTENSION = "€[]{}\\^~|"


def gsm_encodes(text: str) -> bool:
    try:
        text.encode("gsm03.38")
    except UnicodeError:
        return False
    return True


def reference_split(text: str) -> list[str]:
    """Character-by-character greedy split: slow and obviously right."""
    encoding = GSM7 if gsm_encodes(text) else UCS2
    single, part_limit = (160, 153) if encoding is GSM7 else (70, 67)
    if on_air_units(text, encoding) <= single:
        return [text]
    parts, current, used = [], "", 0
    for char in text:
        width = on_air_units(char, encoding)
        if used + width > part_limit:
            parts.append(current)
            current, used = "", 0
        current += char
        used += width
    return [*parts, current]


def on_air_units(part: str, encoding: Encoding) -> int:
    """Septets or UTF-16 units of one part, measured by the codecs themselves."""
    if encoding is GSM7:
        return len(part.encode("gsm03.38"))
    return len(part.encode("utf-16-be")) // 2


CASES = [
    # The 14 cases of the research notes.
    pytest.param(SPANISH_UCS2, UCS2, 73, [67, 6], id="spanish-with-accents"),
    pytest.param(SPANISH_GSM7, GSM7, 86, [86], id="spanish-gsm-only"),
    pytest.param("a" * 160, GSM7, 160, [160], id="160-plain"),
    pytest.param("a" * 161, GSM7, 161, [153, 8], id="161-plain"),
    pytest.param("a" * 158 + "€", GSM7, 160, [160], id="158+euro"),
    pytest.param("a" * 159 + "€", GSM7, 161, [153, 8], id="159+euro"),
    pytest.param("a" * 152 + "€" + "b" * 20, GSM7, 174, [152, 22], id="euro-at-153-boundary"),
    pytest.param("[" * 153, GSM7, 306, [152, 152, 2], id="153-brackets"),
    pytest.param("á" * 70, UCS2, 70, [70], id="70-a-acute"),
    pytest.param("á" * 71, UCS2, 71, [67, 4], id="71-a-acute"),
    pytest.param(EMOJI * 35, UCS2, 70, [70], id="35-emoji"),
    pytest.param(EMOJI * 36, UCS2, 72, [66, 6], id="36-emoji"),
    pytest.param("á" * 66 + EMOJI + "b" * 10, UCS2, 78, [66, 12], id="emoji-at-67-boundary"),
    pytest.param("price ` and § sign", UCS2, 18, [18], id="backtick-not-gsm"),
    # Spanish letters one by one.
    *(pytest.param(f"Hola {c}", UCS2, 6, [6], id=f"ucs2-{c}") for c in "áíóúÁÍÓÚ"),
    *(pytest.param(f"Hola {c}", GSM7, 6, [6], id=f"gsm7-{c}") for c in "éñÑüÜ¿¡àèùìòÉÇ"),
    pytest.param("§ ¤ @ £ ¥", GSM7, 9, [9], id="section-sign-is-gsm"),
    pytest.param("ç", UCS2, 1, [1], id="small-c-cedilla-is-not-gsm"),
    # Empty-ish texts.
    pytest.param("", GSM7, 0, [0], id="empty"),
    pytest.param(" ", GSM7, 1, [1], id="space"),
    pytest.param("\n", GSM7, 1, [1], id="newline"),
    pytest.param("€", GSM7, 2, [2], id="one-euro"),
    pytest.param(EMOJI, UCS2, 2, [2], id="one-emoji"),
    # Exact multiples of the part size, and one more.
    pytest.param("a" * 306, GSM7, 306, [153, 153], id="306-septets"),
    pytest.param("a" * 307, GSM7, 307, [153, 153, 1], id="307-septets"),
    pytest.param("€" * 80, GSM7, 160, [160], id="80-euros-fit-one"),
    pytest.param("€" * 81, GSM7, 162, [152, 10], id="81-euros"),
    pytest.param("á" * 134, UCS2, 134, [67, 67], id="134-units"),
    pytest.param("á" * 135, UCS2, 135, [67, 67, 1], id="135-units"),
    pytest.param(EMOJI * 67, UCS2, 134, [66, 66, 2], id="67-emoji"),
]


@pytest.mark.parametrize(("text", "encoding", "units", "part_units"), CASES)
def test_analyze_and_split_match_the_expected_table(
    text: str, encoding: Encoding, units: int, part_units: list[int]
) -> None:
    assert analyze(text) == TextInfo(encoding, units, len(part_units))
    assert is_gsm7(text) is (encoding is GSM7)
    parts = split(text)
    assert "".join(parts) == text
    assert [on_air_units(p, encoding) for p in parts] == part_units


def test_escape_pair_is_never_split_across_parts() -> None:
    parts = split("a" * 152 + "€" + "b" * 20)
    assert parts[0] == "a" * 152
    assert parts[1].startswith("€")
    assert not encode_gsm7(parts[0]).endswith(b"\x1b")


def test_escape_pairs_can_need_more_parts_than_septets_divided_by_153() -> None:
    info = analyze("[" * 153)
    assert info.units == 306
    assert info.segments == 3


def test_surrogate_pair_is_never_split_across_parts() -> None:
    parts = split("á" * 66 + EMOJI + "b" * 10)
    assert parts[0] == "á" * 66
    assert parts[1].startswith(EMOJI)
    for part in parts:
        assert encode_ucs2(part).decode("utf-16-be") == part


def test_is_gsm7_agrees_with_the_gsm0338_codec_on_every_bmp_character() -> None:
    chars = [chr(cp) for cp in range(0x10000)] + [EMOJI, "\U0001f44d", "\U00010000"]
    disagree = [c for c in chars if is_gsm7(c) != gsm_encodes(c)]
    assert disagree == []
    assert sum(map(is_gsm7, chars)) == 138  # 128 basic + 10 extension (incl. form feed)


def test_extension_characters_count_two_septets() -> None:
    for char in EXTENSION:
        assert analyze(char) == TextInfo(GSM7, 2, 1)
        assert encode_gsm7(char)[0] == 0x1B


def test_encode_gsm7_gives_unpacked_septets_with_escapes() -> None:
    assert encode_gsm7("@a€") == b"\x00a\x1b\x65"
    assert encode_gsm7("ñ¿") == bytes([0x7D, 0x60])


def test_encode_gsm7_refuses_text_outside_the_alphabet() -> None:
    with pytest.raises(UnicodeEncodeError):
        encode_gsm7("á")


def test_encode_ucs2_gives_utf16_big_endian_with_surrogate_pairs() -> None:
    assert encode_ucs2("á") == b"\x00\xe1"
    assert encode_ucs2(EMOJI) == b"\xd8\x3d\xde\x00"


def test_counting_does_not_fail_on_a_lone_surrogate() -> None:
    assert analyze("a\ud800") == TextInfo(UCS2, 2, 1)
    assert split("\ud800" * 71) == ["\ud800" * 67, "\ud800" * 4]


def test_max_segments_default_is_ten() -> None:
    assert MAX_SEGMENTS_DEFAULT == 10


def test_encoding_values_are_the_wire_names() -> None:
    assert [str(e) for e in Encoding] == ["gsm7", "ucs2"]


# -- check_sendable ------------------------------------------------------------------


def test_empty_text_is_not_sendable() -> None:
    with pytest.raises(InvalidText, match="empty"):
        check_sendable("")


@pytest.mark.parametrize("char", ["\x00", "\t", "\x0c", "\x1b", "\x1f", "\x7f", "\x80", "\x85"])
def test_control_characters_other_than_lf_and_cr_are_not_sendable(char: str) -> None:
    with pytest.raises(
        InvalidText, match=rf"control character \(U\+{ord(char):04X}\) at position 2"
    ):
        check_sendable(f"ab{char}c")


def test_lone_surrogate_is_not_sendable() -> None:
    with pytest.raises(InvalidText, match=r"lone surrogate \(U\+D83D\) at position 1"):
        check_sendable("a\ud83dz")


@pytest.mark.parametrize("text", ["a\nb\r\n", "ñandú", "¿Qué? ¡Sí! €5", EMOJI, " ", "\xa0"])
def test_ordinary_text_is_sendable(text: str) -> None:
    check_sendable(text)


# -- properties ------------------------------------------------------------------------

_SENDABLE_GSM = sorted(c for c in map(chr, range(0x10000)) if gsm_encodes(c))
_SENDABLE_GSM = [c for c in _SENDABLE_GSM if c in "\n\r" or not (c < " " or "\x7f" <= c <= "\x9f")]
_GSM_BASIC = [c for c in _SENDABLE_GSM if c not in EXTENSION]

# Hypothesis draws short texts, so each text is a filler of random length (often just
# short of a part boundary) and a drawn snippet repeated: that puts characters, many of
# them double-width, on the cuts at every phase.
gsm_chars = st.one_of(
    st.sampled_from(EXTENSION), st.sampled_from("a ñ€"), st.sampled_from(_GSM_BASIC)
)
gsm_texts = st.builds(
    lambda fill, snippet, times: "a" * fill + snippet * times,
    st.one_of(st.integers(0, 480), st.integers(110, 153), st.integers(260, 306)),
    st.text(gsm_chars, max_size=8),
    st.integers(1, 40),
)
real_chars = st.characters(exclude_categories=["Cs"])  # no surrogate code points
ucs2_chars = st.one_of(st.sampled_from(["é", "ó", EMOJI, "\U0001f44d", "€"]), real_chars)
ucs2_texts = st.builds(
    lambda fill, snippet, times: "á" * fill + snippet * times,
    st.one_of(st.integers(1, 220), st.integers(40, 67), st.integers(100, 134)),
    st.text(ucs2_chars, max_size=8),
    st.integers(1, 30),
)
any_texts = st.one_of(gsm_texts, ucs2_texts, st.text(max_size=400))


@given(any_texts)
def test_parts_rejoin_to_the_text(text: str) -> None:
    assert "".join(split(text)) == text


@given(any_texts)
def test_split_matches_a_character_by_character_greedy_split(text: str) -> None:
    assert split(text) == reference_split(text)


@given(any_texts)
def test_segments_is_the_number_of_parts(text: str) -> None:
    assert analyze(text).segments == len(split(text))


@given(any_texts)
def test_every_part_fits_its_sms(text: str) -> None:
    info = analyze(text)
    parts = split(text)
    single, part_limit = (160, 153) if info.encoding is GSM7 else (70, 67)
    limit = single if len(parts) == 1 else part_limit
    assert all(on_air_units(p, info.encoding) <= limit for p in parts)
    assert sum(on_air_units(p, info.encoding) for p in parts) == info.units


@given(gsm_texts)
def test_every_gsm7_part_encodes_on_its_own(text: str) -> None:
    assert analyze(text).encoding is GSM7
    encoded = [encode_gsm7(p) for p in split(text)]
    assert b"".join(encoded) == encode_gsm7(text)
    for part, data in zip(split(text), encoded, strict=True):
        assert not data.endswith(b"\x1b")
        assert data.decode("gsm03.38") == part


@given(gsm_texts)
def test_gsm7_byte_length_is_the_septet_count(text: str) -> None:
    assert len(encode_gsm7(text)) == analyze(text).units


@given(ucs2_texts)
def test_no_ucs2_part_ends_in_a_high_surrogate(text: str) -> None:
    assert analyze(text).encoding is UCS2
    for part in split(text):
        data = encode_ucs2(part)
        if data:
            assert not 0xD8 <= data[-2] <= 0xDB
        assert data.decode("utf-16-be") == part


@given(ucs2_texts)
def test_ucs2_byte_length_is_twice_the_unit_count(text: str) -> None:
    assert len(encode_ucs2(text)) == 2 * analyze(text).units
