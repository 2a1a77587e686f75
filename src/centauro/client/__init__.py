"""The Python SDK for a Centauro gateway (CentauroSMS v1.2 protocol).

Three ways in::

    from centauro.client import Client, AsyncClient, CentauroSMS

    with Client("https://sms.example.com", "client_id", "client_secret") as client:
        client.balance()                                   # 500
        result = client.send("04141234567,04241234567", "Hola")
        result.message_ids                                 # ["7603178", "7603179"]

``AsyncClient`` is the same with ``await``. ``CentauroSMS`` is the PHP class ported
method for method (``get_sms_disponibles``, ``set_sms_send``,
``set_sms_send_personalizado``), returning the gateway's answers as dicts.

Imports nothing of the server: a site that sends SMS installs only httpx.
"""

from centauro.client._async import AsyncClient
from centauro.client._base import DEFAULT_TIMEOUT
from centauro.client._models import Personalized, SendResult, SentMessage
from centauro.client._sync import Client
from centauro.client.compat import DEFAULT_BASE_URL, CentauroSMS
from centauro.client.errors import (
    APIError,
    CentauroSMSError,
    InsufficientCredits,
    InvalidCredentials,
    InvalidParameters,
    MissingOperation,
    MissingParameters,
    ProtocolError,
    ServiceUnavailable,
    TransportError,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "APIError",
    "AsyncClient",
    "CentauroSMS",
    "CentauroSMSError",
    "Client",
    "InsufficientCredits",
    "InvalidCredentials",
    "InvalidParameters",
    "MissingOperation",
    "MissingParameters",
    "Personalized",
    "ProtocolError",
    "SendResult",
    "SentMessage",
    "ServiceUnavailable",
    "TransportError",
]
