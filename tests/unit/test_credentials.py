"""Stored secret hashes: ``sha256:`` for strong secrets, ``scrypt:`` for imported ones,
and :func:`verify_secret` choosing by the prefix (pure code, no store)."""

from __future__ import annotations

import hashlib

import pytest

from centauro.domain.errors import InvalidRequest, WeakSecret
from centauro.service import credentials


def test_an_imported_secret_is_stored_salted_and_slow_and_verifies() -> None:
    stored = credentials.hash_imported("abc123")
    assert stored.startswith("scrypt:14:8:1:")
    assert len(stored) <= 100  # accounts.secret_hash is VARCHAR(100)
    assert hashlib.sha256(b"abc123").hexdigest() not in stored
    assert "abc123" not in stored
    assert credentials.hash_imported("abc123") != stored  # a fresh salt each time
    assert credentials.verify_secret("abc123", stored)
    assert not credentials.verify_secret("abc124", stored)
    assert not credentials.verify_secret("", stored)
    assert credentials.secret_kind(stored) == credentials.IMPORTED
    assert credentials.is_slow(stored)


def test_a_strong_secret_keeps_the_fast_hash() -> None:
    secret = credentials.new_secret()
    stored = credentials.hash_secret(secret)
    assert stored == "sha256:" + hashlib.sha256(secret.encode()).hexdigest()
    assert credentials.verify_secret(secret, stored)
    assert not credentials.verify_secret(secret + "x", stored)
    assert credentials.secret_kind(stored) == credentials.STRONG
    assert not credentials.is_slow(stored)


@pytest.mark.parametrize(
    "stored",
    [
        "scrypt:30:8:1:AAAAAAAAAAAAAAAAAAAAAA:AAAA",  # asks for 2**30 * 1 KiB of memory
        "scrypt:16:32:1:AAAAAAAAAAAAAAAAAAAAAA:AAAA",  # 256 MiB
        "scrypt:14:8:4:AAAAAAAAAAAAAAAAAAAAAA:AAAA",
        "scrypt:14:8:1:not base64!:AAAA",
        "scrypt:14:8:1",
        "scrypt:x:8:1:AAAA:AAAA",
        "md5:0cc175b9c0f1b6a831c399e269772661",
        "",
    ],
    ids=[
        "huge n",
        "huge r",
        "p above 1",
        "bad salt",
        "too few fields",
        "n not a number",
        "md5",
        "empty",
    ],
)
def test_a_stored_hash_it_cannot_trust_never_verifies(stored: str) -> None:
    assert not credentials.verify_secret("abc123", stored)


def test_imported_secrets_are_refused_only_when_no_service_could_have_issued_them() -> None:
    for weak in ("abc123", "a", "codigo_secreto_credencial", "con espacios y ñ"):
        credentials.check_imported(weak)
    for bad in ("", "abc\x00", "abc\n", "tab\there", "x" * 256):
        with pytest.raises(InvalidRequest):
            credentials.check_imported(bad)
    with pytest.raises(WeakSecret):
        credentials.check_chosen("abc123")
