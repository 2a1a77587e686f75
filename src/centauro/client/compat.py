"""``CentauroSMS``: the PHP class of CentauroSMS v1.2, method for method, in Python.

For ports of PHP sites: the same constructor arguments (plus the gateway's URL), the same
method names, and the same return values — the decoded answer exactly as the gateway sent
it, error codes included::

    sms = CentauroSMS("id_credencial", "codigo_secreto", base_url="https://sms.example.com")
    result = sms.set_sms_send('{"id":"0","cel":"04140000000","nom":"Pedro Perez"}', "Hola")
    if result["status"] == "200":
        messageid = result["response"][0]["datos"][0]["Messageid"]

One deliberate difference: where PHP's ``json_decode`` returned ``null`` (no connection, a
timeout, an answer that is not the protocol's JSON), this class raises
:class:`~centauro.client.errors.TransportError` or
:class:`~centauro.client.errors.ProtocolError`, so a failure cannot pass for an answer.
Like PHP, the HTTP status is not looked at when the body is in the protocol's shape.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from centauro.client import _base
from centauro.client._sync import Client

__all__ = ["DEFAULT_BASE_URL", "CentauroSMS"]

#: Where ``centauro serve`` listens unless told otherwise.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class CentauroSMS:
    """Drop-in for the PHP ``CentauroSMS`` class; returns the gateway's answers as dicts.

    ``destinatarios`` may be the JSON text a PHP site builds (one object, or objects joined
    by commas without brackets), a dict, or a list of dicts (encoded as PHP's
    ``json_encode`` would). Answers keep the wire's types: ``status`` and every number in
    ``response`` are strings (``"200"``, ``"500"``).
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = _base.DEFAULT_TIMEOUT,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = Client(
            base_url, client_id, client_secret, timeout=timeout, transport=transport
        )
        self._creds = _base.Credentials(client_id, client_secret)

    @property
    def base_url(self) -> str:
        return self._client.base_url

    def __repr__(self) -> str:
        return f"<CentauroSMS {self.base_url} client_id={self._creds.client_id!r}>"

    def get_sms_disponibles(self) -> dict[str, Any]:
        """Credits left: ``{"status":"200","response":{"sms_disponibles":"500"}}``."""
        return self._call(_base.balance_request(self.base_url, self._creds))

    def set_sms_send(self, destinatarios: _base.Destinatarios, msg: str) -> dict[str, Any]:
        """One message to one or many recipients; one ``datos`` row per recipient."""
        recipients = _base.destinatarios_text(destinatarios)
        return self._call(_base.send_request(self.base_url, self._creds, recipients, msg))

    def set_sms_send_personalizado(self, destinatarios: _base.Destinatarios) -> dict[str, Any]:
        """A message per recipient, each in its recipient's ``msg`` key."""
        recipients = _base.destinatarios_text(destinatarios)
        return self._call(_base.personalized_request(self.base_url, self._creds, recipients))

    def _call(self, request: _base.PreparedRequest) -> dict[str, Any]:
        # Codes 300–305 are answers here, as in PHP: no check_code().
        return self._client._exchange(request, any_http_status=True)

    def close(self) -> None:
        """Close the pooled connections (PHP opened one per call; we keep them)."""
        self._client.close()

    def __enter__(self) -> CentauroSMS:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
