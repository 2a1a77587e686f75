"""Sealing stored secrets under the server key."""

from __future__ import annotations

import pytest

from centauro.domain.errors import InvalidRequest, Unavailable
from centauro.service.sealing import CLEAR, Sealer

KEY = "unit-test-server-key-0123456789abcdef"


def test_sealed_values_hide_the_secret_and_open_back() -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal("whsec_abc")
    assert sealed.startswith("enc:v1:")
    assert "whsec_abc" not in sealed
    assert sealer.open(sealed) == "whsec_abc"
    assert sealer.seal("whsec_abc") != sealed  # a fresh IV each time


def test_clear_rows_written_before_the_key_still_open() -> None:
    assert Sealer(KEY).open("whsec_old") == "whsec_old"
    assert CLEAR.seal("whsec_x") == "whsec_x"


def test_a_sealed_value_needs_the_same_key() -> None:
    sealed = Sealer(KEY).seal("whsec_abc")
    with pytest.raises(Unavailable):
        Sealer(KEY + "-other").open(sealed)
    with pytest.raises(Unavailable):
        CLEAR.open(sealed)


def test_a_short_server_key_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        Sealer("short")
