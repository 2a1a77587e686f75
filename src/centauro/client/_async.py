"""``AsyncClient``: the asyncio SDK, over ``httpx.AsyncClient``; ``Client``'s twin.

Same requests and answers as :mod:`centauro.client._sync` (both go through
:mod:`centauro.client._base`); only the sending awaits.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

import httpx

from centauro.client import _base
from centauro.client._models import SendResult
from centauro.client.errors import map_httpx_errors

__all__ = ["AsyncClient"]


class AsyncClient:
    """An asyncio connection to a Centauro gateway for one account.

    Use ``async with AsyncClient(...) as client:`` or call :meth:`aclose`. Errors are those
    of :class:`~centauro.client.Client`.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = _base.DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = _base.normalize_base_url(base_url)
        self._creds = _base.Credentials(client_id, client_secret)
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"<AsyncClient {self.base_url} client_id={self._creds.client_id!r}>"

    async def balance(self) -> int:
        """The SMS credits the account has left."""
        answer = await self._exchange(_base.balance_request(self.base_url, self._creds))
        return _base.parse_balance(answer)

    async def send(self, to: str | Sequence[str], text: str) -> SendResult:
        """Send *text* to one or more numbers (see :meth:`Client.send`)."""
        recipients = _base.php_json_encode(_base.recipients_for(to))
        answer = await self._exchange(
            _base.send_request(self.base_url, self._creds, recipients, text)
        )
        return _base.parse_send(answer)

    async def send_personalized(self, items: Sequence[_base.PersonalizedItem]) -> SendResult:
        """Send each recipient its own text (see :meth:`Client.send_personalized`)."""
        recipients = _base.php_json_encode(_base.personalized_recipients(items))
        answer = await self._exchange(
            _base.personalized_request(self.base_url, self._creds, recipients)
        )
        return _base.parse_send(answer)

    async def _exchange(self, request: _base.PreparedRequest) -> dict[str, Any]:
        with map_httpx_errors():
            response = await self._http.request(
                request.method, request.url, headers=request.headers, content=request.body
            )
        return _base.decode_answer(response.status_code, response.content)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
