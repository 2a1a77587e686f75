"""One registry of connector kinds for the CLI (validation) and the supervisor (building)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from centauro.connectors import registry
from centauro.connectors.sandbox import SandboxConnector
from centauro.connectors.smpp import SmppConnector
from centauro.delivery.supervisor import build_connector
from centauro.store.carriers import ConnectorRow

SMPP = {"host": "127.0.0.1", "port": 2775, "system_id": "c", "password": "p"}


def test_every_kind_validates_what_it_builds() -> None:
    for kind, values in (("smpp", SMPP), ("sandbox", {"dlr_delay": 0})):
        settings = registry.validate(kind, values)
        row = ConnectorRow("c", kind, True, settings, datetime(2026, 1, 1, tzinfo=UTC))
        connector = build_connector(row)
        assert connector.name == "c"
        assert isinstance(connector, SmppConnector if kind == "smpp" else SandboxConnector)


def test_unknown_kinds_and_bad_settings_are_value_errors() -> None:
    with pytest.raises(ValueError, match="unknown connector type 'pigeon': smpp or sandbox"):
        registry.validate("pigeon", {})
    with pytest.raises(ValueError, match="unknown connector type"):
        registry.build("pigeon", "x", {})
    with pytest.raises(ValueError, match="dlr_delay"):
        registry.validate("sandbox", {"dlr_delay": -1})
