"""Opt-out keywords: however a handset writes BAJA, it is BAJA; anything more is a message.

People answer with their keyboard's habits: capitals, an accent their phone added
(``Bája``), ``No  Más`` with two spaces, a final period. None of that may change whether
an answer suppresses its sender; only the words do.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centauro.service.inbound import OPT_IN, OPT_OUT, keyword


def verdict(text: str) -> str:
    word = keyword(text)
    return "out" if word in OPT_OUT else "in" if word in OPT_IN else "none"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BAJA", "out"),
        (" baja ", "out"),
        ("No Más", "out"),
        ("Stop.", "out"),
        ("¡BAJA!", "out"),
        ("NO  MAS", "out"),
        ("no\tmás\n", "out"),
        ("Salir", "out"),
        ("CANCELAR", "out"),
        ("ＢＡＪＡ", "out"),  # fullwidth letters (compatibility forms)
        ("alta", "in"),
        ("START", "in"),
        ("Alta.", "in"),
        ("nomas", "none"),
        ("BAJA por favor", "none"),
        ("bajar", "none"),
        ("no", "none"),
        ("¿Tienen envío a Maracaibo?", "none"),
        ("", "none"),
        ("...", "none"),
    ],
)
def test_keyword_verdicts(text: str, expected: str) -> None:
    assert verdict(text) == expected


WORDS = [*sorted(OPT_OUT | OPT_IN), "hola", "no", "bajar", "stopp", "alto", "gracias", "si"]
ACCENTS = ["\u0301", "\u0300", "\u0308", "\u0303", "\u0302", "\u030c", "\u0327"]
SPACES = [" ", "\t", "\n", "\r", "\u00a0", "\u2003", "\u3000", "  "]


@st.composite
def written(draw: st.DrawFn) -> tuple[str, str]:
    """(a word, the word as some handset might write it)."""
    word = draw(st.sampled_from(WORDS))
    out = []
    for letter in word:
        if letter == " ":
            out.append("".join(draw(st.lists(st.sampled_from(SPACES), min_size=1, max_size=3))))
            continue
        written_letter = letter.upper() if draw(st.booleans()) else letter
        if draw(st.integers(0, 3)) == 0:
            written_letter += draw(st.sampled_from(ACCENTS))
        out.append(written_letter)
    text = "".join(out)
    if draw(st.booleans()):
        text = unicodedata.normalize("NFC", text)  # precomposed á, as most keyboards send
    left = "".join(draw(st.lists(st.sampled_from(SPACES), max_size=3)))
    right = "".join(draw(st.lists(st.sampled_from(SPACES), max_size=3)))
    return word, left + text + right


@given(written())
def test_accents_case_and_spaces_never_change_the_verdict(case: tuple[str, str]) -> None:
    word, text = case
    assert verdict(text) == verdict(word)
