"""``AsyncClient``: the asyncio SDK, over ``httpx.AsyncClient``; ``Client``'s twin.

Same requests and answers as :mod:`centauro.client._sync` (both go through
:mod:`centauro.client._base`); only the sending awaits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx

from centauro.client import _base, _rest
from centauro.client._models import (
    BatchItem,
    Health,
    InboundMessage,
    LedgerEntry,
    Message,
    Page,
    SendResult,
    Submission,
    Suppression,
    Webhook,
    WebhookDelivery,
)
from centauro.client.errors import map_httpx_errors

T = TypeVar("T")

__all__ = ["AsyncClient"]


class AsyncClient:
    """An asyncio connection to a Centauro gateway for one account.

    Use ``async with AsyncClient(...) as client:`` or call :meth:`aclose`. Methods and
    errors are those of :class:`~centauro.client.Client`; ``iter_*`` are async iterators.
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

    # -- REST API (see Client for each method's documentation) -------------------------

    async def send_message(
        self,
        to: str | Sequence[str],
        text: str,
        *,
        reference: str | None = None,
        schedule_at: datetime | None = None,
        validity_period: int | None = None,
        callback_url: str | None = None,
        category: str | None = None,
        idempotency_key: str | None = None,
        sender: str | None = None,
    ) -> Submission:
        return await self._call(
            _rest.send_message(
                self.base_url, self._creds, to, text, reference=reference,
                schedule_at=schedule_at, validity_period=validity_period,
                callback_url=callback_url, category=category, idempotency_key=idempotency_key,
                sender=sender,
            )
        )  # fmt: skip

    async def send_batch(
        self,
        items: Sequence[BatchItem | tuple[str, str] | Mapping[str, Any]],
        *,
        schedule_at: datetime | None = None,
        validity_period: int | None = None,
        callback_url: str | None = None,
        category: str | None = None,
        idempotency_key: str | None = None,
        sender: str | None = None,
    ) -> Submission:
        return await self._call(
            _rest.send_batch(
                self.base_url, self._creds, items, schedule_at=schedule_at,
                validity_period=validity_period, callback_url=callback_url, category=category,
                idempotency_key=idempotency_key, sender=sender,
            )
        )  # fmt: skip

    async def get_message(self, message_id: str | int) -> Message:
        return await self._call(_rest.get_message(self.base_url, self._creds, message_id))

    async def cancel_message(self, message_id: str | int) -> Message:
        return await self._call(_rest.cancel_message(self.base_url, self._creds, message_id))

    async def list_messages(
        self,
        *,
        status: str | None = None,
        to: str | None = None,
        reference: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Message]:
        return await self._call(
            _rest.list_messages(
                self.base_url, self._creds, status=status, to=to, reference=reference,
                since=since, until=until, limit=limit, cursor=cursor,
            )
        )  # fmt: skip

    def iter_messages(
        self,
        *,
        status: str | None = None,
        to: str | None = None,
        reference: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[Message]:
        return self._pages(
            lambda c: _rest.list_messages(
                self.base_url, self._creds, status=status, to=to, reference=reference,
                since=since, until=until, limit=page_size, cursor=c,
            )
        )  # fmt: skip

    async def get_balance(self) -> int:
        return await self._call(_rest.balance(self.base_url, self._creds))

    async def list_ledger(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[LedgerEntry]:
        return await self._call(
            _rest.ledger(self.base_url, self._creds, limit=limit, cursor=cursor)
        )

    def iter_ledger(self, *, page_size: int = 100) -> AsyncIterator[LedgerEntry]:
        return self._pages(
            lambda c: _rest.ledger(self.base_url, self._creds, limit=page_size, cursor=c)
        )

    async def list_inbound(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[InboundMessage]:
        return await self._call(
            _rest.inbound(self.base_url, self._creds, limit=limit, cursor=cursor)
        )

    def iter_inbound(self, *, page_size: int = 100) -> AsyncIterator[InboundMessage]:
        return self._pages(
            lambda c: _rest.inbound(self.base_url, self._creds, limit=page_size, cursor=c)
        )

    async def health(self) -> Health:
        return await self._call(_rest.health(self.base_url, self._creds))

    async def create_webhook(
        self, url: str, events: Sequence[str] | None = None, *, idempotency_key: str | None = None
    ) -> Webhook:
        return await self._call(
            _rest.create_webhook(
                self.base_url, self._creds, url, events, idempotency_key=idempotency_key
            )
        )

    async def list_webhooks(self) -> list[Webhook]:
        return await self._call(_rest.list_webhooks(self.base_url, self._creds))

    async def delete_webhook(self, webhook_id: str | int) -> None:
        await self._call(_rest.delete_webhook(self.base_url, self._creds, webhook_id))

    async def list_webhook_deliveries(
        self, webhook_id: str | int, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[WebhookDelivery]:
        return await self._call(
            _rest.webhook_deliveries(
                self.base_url, self._creds, webhook_id, limit=limit, cursor=cursor
            )
        )

    def iter_webhook_deliveries(
        self, webhook_id: str | int, *, page_size: int = 100
    ) -> AsyncIterator[WebhookDelivery]:
        return self._pages(
            lambda c: _rest.webhook_deliveries(
                self.base_url, self._creds, webhook_id, limit=page_size, cursor=c
            )
        )

    async def list_suppressions(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[Suppression]:
        return await self._call(
            _rest.list_suppressions(self.base_url, self._creds, limit=limit, cursor=cursor)
        )

    def iter_suppressions(self, *, page_size: int = 100) -> AsyncIterator[Suppression]:
        return self._pages(
            lambda c: _rest.list_suppressions(self.base_url, self._creds, limit=page_size, cursor=c)
        )

    async def add_suppression(
        self, number: str, *, idempotency_key: str | None = None
    ) -> Suppression:
        return await self._call(
            _rest.add_suppression(
                self.base_url, self._creds, number, idempotency_key=idempotency_key
            )
        )

    async def remove_suppression(self, number: str) -> None:
        await self._call(_rest.remove_suppression(self.base_url, self._creds, number))

    async def _call(self, call: _rest.Call[T]) -> T:
        request = call.request
        with map_httpx_errors():
            response = await self._http.request(
                request.method, request.url, headers=request.headers, content=request.body
            )
        return call.read(response.status_code, response.headers, response.content)

    async def _pages(self, page: Callable[[str | None], _rest.Call[Page[T]]]) -> AsyncIterator[T]:
        cursor: str | None = None
        while True:
            found = await self._call(page(cursor))
            for item in found.data:
                yield item
            if found.next_cursor is None:
                return
            cursor = found.next_cursor

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
