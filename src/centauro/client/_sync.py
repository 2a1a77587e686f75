"""``Client``: the blocking SDK, over ``httpx.Client``.

It only moves bytes: requests come ready-made from :mod:`centauro.client._base` and
answers go back there to be read, so ``AsyncClient`` behaves identically.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

import httpx

from centauro.client import _base
from centauro.client._models import SendResult
from centauro.client.errors import map_httpx_errors

__all__ = ["Client"]


class Client:
    """A connection to a Centauro gateway for one account.

    Protocol error codes raise :class:`~centauro.client.errors.APIError` subclasses; see
    :mod:`centauro.client.errors` for the rest. Reuse one client: it keeps connections
    open. Use it as a context manager, or call :meth:`close`.

    *transport* is passed to httpx (e.g. ``httpx.MockTransport`` in your own tests).
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = _base.DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = _base.normalize_base_url(base_url)
        self._creds = _base.Credentials(client_id, client_secret)
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"<Client {self.base_url} client_id={self._creds.client_id!r}>"

    def balance(self) -> int:
        """The SMS credits the account has left."""
        answer = self._exchange(_base.balance_request(self.base_url, self._creds))
        return _base.parse_balance(answer)

    def send(self, to: str | Sequence[str], text: str) -> SendResult:
        """Send *text* to one number, several separated by commas, or a sequence of them.

        Invalid and duplicate numbers come back as rejected rows; if no number is valid
        the gateway answers ``304`` (``InvalidParameters``). Credits are all or nothing:
        ``InsufficientCredits`` means nothing was sent.
        """
        recipients = _base.php_json_encode(_base.recipients_for(to))
        answer = self._exchange(_base.send_request(self.base_url, self._creds, recipients, text))
        return _base.parse_send(answer)

    def send_personalized(self, items: Sequence[_base.PersonalizedItem]) -> SendResult:
        """Send each recipient its own text: ``(number, text)`` tuples, ``Personalized``
        values, or dicts with the protocol's ``cel``/``msg``/``nom``/``id`` keys."""
        recipients = _base.php_json_encode(_base.personalized_recipients(items))
        answer = self._exchange(_base.personalized_request(self.base_url, self._creds, recipients))
        return _base.parse_send(answer)

    def _exchange(
        self, request: _base.PreparedRequest, *, any_http_status: bool = False
    ) -> dict[str, Any]:
        """Send *request* and decode the answer (``CentauroSMS`` shares this)."""
        with map_httpx_errors():
            response = self._http.request(
                request.method, request.url, headers=request.headers, content=request.body
            )
        return _base.decode_answer(
            response.status_code, response.content, any_http_status=any_http_status
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
