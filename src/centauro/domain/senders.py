"""Sender IDs: what a message says it comes from, and how SMPP writes that address.

Three kinds, told apart by their shape:

* ``shortcode``: 3 to 8 ASCII digits, no ``+`` ("2020", "88555"); SMPP TON 3, NPI 0.
* ``long``: an international number, kept in E.164 ("+584141234567"); read in the
  account's country when written nationally; libphonenumber decides validity. TON 1, NPI 1.
* ``alnum``: 1 to 11 characters of the GSM 03.38 basic alphabet with at least one letter
  ("Centauro", "Banco XYZ"); no escaped characters (they take two septets and handsets
  show them badly in the sender field). TON 5, NPI 0.

Pure: no I/O, so the CLI, the panel, REST and the SMPP server all validate alike.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

import phonenumbers

from centauro.domain.errors import InvalidSender
from centauro.domain.text import is_gsm7_basic

MAX_ALPHANUMERIC: Final = 11
SHORTCODE_DIGITS: Final = (3, 8)
_FORBIDDEN: Final = frozenset("\n\r\x1b\x0c")


class SenderKind(enum.StrEnum):
    ALPHANUMERIC = "alnum"
    SHORTCODE = "shortcode"
    LONG = "long"


@dataclass(frozen=True, slots=True)
class Sender:
    value: str  #: as stored and compared: the name, the short code's digits, or E.164
    kind: SenderKind

    @property
    def alphanumeric(self) -> bool:
        return self.kind is SenderKind.ALPHANUMERIC


def parse(raw: str, country: str = "VE") -> Sender:
    """``raw`` as a :class:`Sender`; :class:`InvalidSender` (its detail in Spanish) if not."""
    value = raw.strip()
    if not value:
        raise InvalidSender("el remitente está vacío")
    plain = value.replace(" ", "").replace("-", "")
    digits = plain.removeprefix("+")
    if digits.isascii() and digits.isdigit():
        low, high = SHORTCODE_DIGITS
        if not plain.startswith("+") and low <= len(digits) <= high:
            return Sender(digits, SenderKind.SHORTCODE)
        return Sender(_international(plain, country), SenderKind.LONG)
    if len(value) > MAX_ALPHANUMERIC:
        raise InvalidSender(
            f"un remitente alfanumérico tiene como máximo {MAX_ALPHANUMERIC} caracteres"
        )
    if not is_gsm7_basic(value) or any(c in _FORBIDDEN for c in value):
        raise InvalidSender(
            "un remitente alfanumérico solo admite letras, dígitos y signos del alfabeto GSM-7"
        )
    if not any(c.isalpha() for c in value):
        raise InvalidSender("un remitente alfanumérico necesita al menos una letra")
    return Sender(value, SenderKind.ALPHANUMERIC)


def _international(plain: str, country: str) -> str:
    try:
        number = phonenumbers.parse(plain, None if plain.startswith("+") else country)
    except phonenumbers.NumberParseException:
        raise InvalidSender(
            f"no es un código corto (3 a 8 dígitos) ni un número internacional válido: {plain}"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidSender(
            f"no es un código corto (3 a 8 dígitos) ni un número internacional válido: {plain}"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def kind_of(value: str) -> SenderKind:
    """The kind of a stored value (already validated): no parsing, no library."""
    digits = value.removeprefix("+")
    if digits.isascii() and digits.isdigit():
        return SenderKind.LONG if value.startswith("+") else SenderKind.SHORTCODE
    return SenderKind.ALPHANUMERIC


def smpp_address(value: str) -> tuple[int, int, str]:
    """(TON, NPI, source_addr) of a stored sender: alnum 5/0, short code 3/0, number 1/1."""
    kind = kind_of(value)
    if kind is SenderKind.ALPHANUMERIC:
        return 5, 0, value
    if kind is SenderKind.SHORTCODE:
        return 3, 0, value
    return 1, 1, value.removeprefix("+")
