"""The SDK's values: what you pass to a personalised send and what a send returns.

Frozen dataclasses, so a result can be shared, cached or logged without anyone changing it
under you; built from the wire answer only in :mod:`centauro.client._base`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Personalized", "SendResult", "SentMessage"]


@dataclass(frozen=True, slots=True)
class Personalized:
    """One recipient of a personalised send: its own number and text.

    ``reference`` is your own id for the recipient (the protocol's ``id``); the gateway
    stores it but does not echo it in the answer, so match results by position.
    """

    number: str
    text: str
    name: str = ""
    reference: str = ""


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One recipient's row of a send answer (one entry of the protocol's ``datos``)."""

    #: The answer's ``Cel``: the national number without country code or trunk zero
    #: (``584140000000`` → ``4140000000``) when valid, as you wrote it when rejected.
    number: str
    #: The gateway's id for this message, ``None`` when the recipient was rejected.
    message_id: str | None
    #: The answer's ``StatusText``, e.g. ``Message accepted for delivery`` or
    #: ``Rejected: invalid number`` (see ``centauro.compat.codes.StatusText``).
    status_text: str
    #: Whether the gateway took the message; rejected rows cost no credit.
    accepted: bool
    #: The answer's ``Nom`` (empty unless given).
    name: str
    #: The answer's ``Msg``: the text as it will be sent.
    text: str


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one send request: a row per recipient, in request order."""

    messages: list[SentMessage]

    @property
    def accepted(self) -> list[SentMessage]:
        """The rows the gateway took for delivery."""
        return [m for m in self.messages if m.accepted]

    @property
    def rejected(self) -> list[SentMessage]:
        """The rows it refused (invalid or duplicate numbers); they cost nothing."""
        return [m for m in self.messages if not m.accepted]

    @property
    def message_ids(self) -> list[str]:
        """The ids of the accepted messages, in request order."""
        return [m.message_id for m in self.messages if m.message_id is not None]
