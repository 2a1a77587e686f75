"""``domain.ids``: the one parser of numbers that come from outside."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centauro.domain.ids import MAX_ID, parse_ascii_int, parse_id


@pytest.mark.parametrize(
    "text",
    ["", "²", "٣", "１２", "1²", " 7", "7 ", "+7", "-7", "1_000", "0x10", "7\n", "7\x00", "1e3"],
)
def test_parse_ascii_int_refuses_anything_but_ascii_digits(text: str) -> None:
    assert parse_ascii_int(text) is None


def test_parse_ascii_int_reads_ascii_digits_with_leading_zeros() -> None:
    assert parse_ascii_int("0") == 0
    assert parse_ascii_int("007") == 7
    assert parse_ascii_int("1234567890123456789") == 1234567890123456789


def test_parse_ascii_int_bounds_the_length() -> None:
    assert parse_ascii_int("1" * 20) is None
    assert parse_ascii_int("123", max_digits=2) is None
    assert parse_ascii_int("12", max_digits=2) == 12


def test_parse_id_is_a_bigint_above_zero() -> None:
    assert parse_id("0") is None
    assert parse_id(str(MAX_ID)) == MAX_ID
    assert parse_id(str(MAX_ID + 1)) is None
    assert parse_id("²") is None


@given(st.text(max_size=25))
def test_parse_ascii_int_never_raises_and_agrees_with_ascii_digits(text: str) -> None:
    value = parse_ascii_int(text)
    plain = 0 < len(text) <= 19 and all("0" <= c <= "9" for c in text)
    assert (value is not None) == plain
    if value is not None:
        assert value == int(text)


@given(st.integers(min_value=0, max_value=10**19 - 1))
def test_parse_ascii_int_reads_back_every_written_int(value: int) -> None:
    assert parse_ascii_int(str(value)) == value
