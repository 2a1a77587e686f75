"""The Python SDK for a Centauro gateway: the CentauroSMS v1.2 protocol and the REST API.

Three ways in::

    from centauro.client import Client, AsyncClient, CentauroSMS

    with Client("https://sms.example.com", "client_id", "client_secret") as client:
        client.balance()                                   # 500 (compat API)
        result = client.send("04141234567,04241234567", "Hola")
        result.message_ids                                 # ["7603178", "7603179"]

        sent = client.send_message("04141234567", "Hola", idempotency_key="pedido-42")
        client.get_message(sent.message_ids[0]).status     # "queued", later "delivered"
        for m in client.iter_messages(status="delivered"): ...

``Client`` methods named verb_noun (``send_message``, ``send_batch``, ``get_message``,
``list_messages``/``iter_messages``, ``cancel_message``, ``get_balance``, ``list_ledger``,
``list_inbound``, ``health``, ``create_webhook``…, ``add_suppression``…) speak the REST
API (``/v1``, docs/rest.md); ``balance``, ``send`` and ``send_personalized`` speak the
compat API, as before. ``AsyncClient`` is the same with ``await`` (``iter_*`` are async
iterators). ``CentauroSMS`` is the PHP class ported method for method
(``get_sms_disponibles``, ``set_sms_send``, ``set_sms_send_personalizado``), returning the
gateway's answers as dicts. :func:`verify_signature` checks webhook deliveries.

Imports nothing of the server: a site that sends SMS installs only httpx.
"""

from centauro.client._async import AsyncClient
from centauro.client._base import DEFAULT_TIMEOUT
from centauro.client._models import (
    BatchItem,
    ConnectorHealth,
    Health,
    InboundMessage,
    LedgerEntry,
    Message,
    Page,
    Personalized,
    SendResult,
    SentMessage,
    Submission,
    SubmittedMessage,
    Suppression,
    Webhook,
    WebhookDelivery,
)
from centauro.client._sync import Client
from centauro.client.compat import DEFAULT_BASE_URL, CentauroSMS
from centauro.client.errors import (
    APIError,
    CentauroSMSError,
    Conflict,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidCredentials,
    InvalidParameters,
    MissingOperation,
    MissingParameters,
    NotFound,
    PayloadTooLarge,
    ProtocolError,
    RateLimited,
    ServiceUnavailable,
    TransportError,
)
from centauro.client.webhooks import verify_signature

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "APIError",
    "AsyncClient",
    "BatchItem",
    "CentauroSMS",
    "CentauroSMSError",
    "Client",
    "Conflict",
    "ConnectorHealth",
    "Health",
    "IdempotencyConflict",
    "InboundMessage",
    "InsufficientCredits",
    "InvalidCredentials",
    "InvalidParameters",
    "LedgerEntry",
    "Message",
    "MissingOperation",
    "MissingParameters",
    "NotFound",
    "Page",
    "PayloadTooLarge",
    "Personalized",
    "ProtocolError",
    "RateLimited",
    "SendResult",
    "SentMessage",
    "ServiceUnavailable",
    "Submission",
    "SubmittedMessage",
    "Suppression",
    "TransportError",
    "Webhook",
    "WebhookDelivery",
    "verify_signature",
]
