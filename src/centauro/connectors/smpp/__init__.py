"""SMPP 3.4 carriers, through smpp34: ``SmppConnector`` configured by ``SmppSettings``.

``client.py`` keeps the binds and submits; ``codec.py`` turns text into submit_sm fields
and deliver_sm fields into text; ``dlr.py`` reads receipts; ``throttle.py`` paces
submits; ``errors.py`` says what each command_status means for the message.
"""

from centauro.connectors.smpp.client import SmppConnector
from centauro.connectors.smpp.config import InvalidSettings, SmppSettings

__all__ = ["InvalidSettings", "SmppConnector", "SmppSettings"]
