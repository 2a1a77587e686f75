"""``accounts create --client-secret``: a chosen secret must look random, since the store
keeps it as one fast SHA-256. The real CLI as a subprocess, on a SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.server import cli_json, run_cli

STRONG = "Zb7-qT2mW9xL4kP8sR3vN6yC"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'centauro.sqlite3'}"


@pytest.mark.parametrize(
    "secret",
    ["bench-secret", "a" * 40, "abababababababababababab", "Zb7-qT2mW9xL4kP8sR3vN6y"],
    ids=["short", "one letter", "two letters", "23 characters"],
)
def test_weak_chosen_secrets_are_refused_in_spanish(url: str, secret: str) -> None:
    refused = run_cli(url, "accounts", "create", "Bench", "--client-secret", secret, check=False)
    assert refused.returncode == 1
    said = " ".join((refused.stdout + refused.stderr).split())
    assert "al menos 24 caracteres y 10 distintos" in said
    assert secret not in said
    assert cli_json(url, "accounts", "list") == []


def test_a_strong_chosen_secret_is_taken(url: str) -> None:
    created = cli_json(url, "accounts", "create", "Bench", "--client-secret", STRONG)
    assert created["client_secret"] == STRONG
