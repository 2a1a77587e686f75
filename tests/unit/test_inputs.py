"""``domain.inputs``: the one rule for control characters in fields from outside."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centauro.domain.errors import InvalidRequest
from centauro.domain.inputs import LINE_FORBIDDEN, TEXT_FORBIDDEN, check_line, first_forbidden

CONTROLS = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]]


@pytest.mark.parametrize("char", CONTROLS)
def test_a_line_refuses_every_c0_c1_and_del(char: str) -> None:
    with pytest.raises(
        InvalidRequest,
        match=rf"name contains a control character \(U\+{ord(char):04X}\) at position 3",
    ):
        check_line("name", "abc" + char)


def test_a_line_refuses_a_lone_surrogate() -> None:
    with pytest.raises(InvalidRequest, match="lone surrogate"):
        check_line("reference", "x\ud800")


def test_a_line_keeps_every_printable_character() -> None:
    value = "Tienda Ñoño — café ¿sí? 😀 +58 (414) 123-4567 https://ex.com/a?b=c&d"
    assert check_line("name", value) is value


def test_text_allows_lf_and_cr_only() -> None:
    assert first_forbidden("a\nb\r\nc", TEXT_FORBIDDEN) is None
    assert first_forbidden("a\tb", TEXT_FORBIDDEN) == (1, "\t")
    assert first_forbidden("a\nb", LINE_FORBIDDEN) == (1, "\n")


@given(st.text(max_size=40))
def test_first_forbidden_agrees_with_the_documented_ranges(value: str) -> None:
    bad = [
        (i, c)
        for i, c in enumerate(value)
        if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or 0xD800 <= ord(c) <= 0xDFFF
    ]
    assert first_forbidden(value) == (bad[0] if bad else None)
