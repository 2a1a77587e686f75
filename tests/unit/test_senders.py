"""Sender IDs: which shapes are short codes, long numbers or names, and their SMPP address."""

from __future__ import annotations

import pytest

from centauro.domain import senders
from centauro.domain.errors import InvalidSender
from centauro.domain.senders import SenderKind


@pytest.mark.parametrize(
    ("raw", "value", "kind"),
    [
        ("Centauro", "Centauro", SenderKind.ALPHANUMERIC),
        ("Banco XYZ", "Banco XYZ", SenderKind.ALPHANUMERIC),
        ("Ñapa2x1", "Ñapa2x1", SenderKind.ALPHANUMERIC),  # Ñ is in the GSM-7 basic set
        ("ABCDEFGHIJK", "ABCDEFGHIJK", SenderKind.ALPHANUMERIC),  # 11: the longest
        ("  Centauro ", "Centauro", SenderKind.ALPHANUMERIC),
        ("2020", "2020", SenderKind.SHORTCODE),
        ("123", "123", SenderKind.SHORTCODE),
        ("12345678", "12345678", SenderKind.SHORTCODE),
        ("+584141234567", "+584141234567", SenderKind.LONG),
        ("0414-123 4567", "+584141234567", SenderKind.LONG),  # national, read in VE
        ("+57 300 123 4567", "+573001234567", SenderKind.LONG),
    ],
)
def test_valid_senders_are_normalised_and_classified(raw: str, value: str, kind: str) -> None:
    assert senders.parse(raw) == senders.Sender(value, SenderKind(kind))
    assert senders.kind_of(value) is SenderKind(kind)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "ABCDEFGHIJKL",  # 12 characters
        "Pagá",  # á is not GSM-7: it would turn the sender field into UCS-2
        "Pago{x}",  # { is an escaped GSM-7 character (two septets)
        "Línea\nDos",
        "12",  # too short for a short code
        "123456789",  # too long for a short code, not a valid number either
        "+5811",
        "+999123456789",
        "!!!",  # no letter
    ],
)
def test_invalid_senders_are_refused_in_spanish(raw: str) -> None:
    with pytest.raises(InvalidSender) as caught:
        senders.parse(raw)
    assert "remitente" in str(caught.value) or "número" in str(caught.value)


def test_national_long_numbers_are_read_in_the_accounts_country() -> None:
    assert senders.parse("3001234567", "CO").value == "+573001234567"


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("Centauro", (5, 0, "Centauro")),
        ("2020", (3, 0, "2020")),
        ("+584141234567", (1, 1, "584141234567")),
    ],
)
def test_smpp_address_follows_the_kind(value: str, address: tuple[int, int, str]) -> None:
    assert senders.smpp_address(value) == address
