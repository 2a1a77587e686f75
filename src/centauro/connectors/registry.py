"""The kinds of connector, in one place: how each checks its settings and is built.

The CLI validates an operator's options with it before they are stored; the delivery
supervisor builds running connectors with it from the stored rows. A new kind is one
entry here (and its module), not a branch in each of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from centauro.connectors.base import Connector
from centauro.connectors.sandbox import SandboxConnector

#: Seconds the sandbox waits before its receipt, when neither the connector nor the
#: server's ``CENTAURO_SANDBOX_DLR_DELAY`` says otherwise.
SANDBOX_DLR_DELAY = 0.2


@dataclass(frozen=True, slots=True)
class ConnectorKind:
    #: The settings to store for the given options; ValueError/TypeError says what is wrong.
    validate: Callable[[Mapping[str, Any]], dict[str, Any]]
    #: A connector for a name and its stored settings; ``sandbox_dlr_delay`` is the server's.
    build: Callable[[str, Mapping[str, Any], float], Connector]


def _sandbox_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    delay = float(values.get("dlr_delay", SANDBOX_DLR_DELAY))
    if not 0 <= delay <= 3600:
        raise ValueError("dlr_delay must be between 0 and 3600 seconds")
    return {"dlr_delay": delay}


def _sandbox(name: str, settings: Mapping[str, Any], sandbox_dlr_delay: float) -> Connector:
    return SandboxConnector(name, dlr_delay=float(settings.get("dlr_delay", sandbox_dlr_delay)))


# smpp34 is imported only when an SMPP connector is configured or started.
def _smpp_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    from centauro.connectors.smpp import SmppSettings  # noqa: PLC0415

    return SmppSettings.from_dict(dict(values)).to_dict()


def _smpp(name: str, settings: Mapping[str, Any], _sandbox_dlr_delay: float) -> Connector:
    from centauro.connectors.smpp import SmppConnector, SmppSettings  # noqa: PLC0415

    return SmppConnector(name, SmppSettings.from_dict(dict(settings)))


KINDS: dict[str, ConnectorKind] = {
    "smpp": ConnectorKind(_smpp_settings, _smpp),
    "sandbox": ConnectorKind(_sandbox_settings, _sandbox),
}


def kind_of(kind: str) -> ConnectorKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown connector type {kind!r}: {' or '.join(KINDS)}") from None


def validate(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Settings checked by the kind's own code, as they are to be stored."""
    return kind_of(kind).validate(values)


def build(
    kind: str, name: str, settings: Mapping[str, Any], *, sandbox_dlr_delay: float = 0.2
) -> Connector:
    """A connector object for a stored connector (its settings validated by its kind)."""
    return kind_of(kind).build(name, settings, sandbox_dlr_delay)
