"""SMPP 3.4 carriers: ``SmppConnector`` configured by ``SmppSettings``.

``client.py`` decides what to submit and what answers mean; ``bind.py`` keeps the binds
up; ``session.py`` is our asyncio ESME session (smpp34 is used for its codec only);
``pdu.py`` frames the byte stream and packs the small PDUs (shared with the simulator);
``codec.py`` turns text into submit_sm fields and deliver_sm fields into text; ``dlr.py``
reads receipts; ``throttle.py`` paces submits; ``errors.py`` says what each
command_status means for the message.
"""

from centauro.connectors.smpp.client import SmppConnector
from centauro.connectors.smpp.config import InvalidSettings, SmppSettings

__all__ = ["InvalidSettings", "SmppConnector", "SmppSettings"]
