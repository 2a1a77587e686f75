"""``Client``: the blocking SDK, over ``httpx.Client``.

It only moves bytes: requests come ready-made from :mod:`centauro.client._base` (compat)
and :mod:`centauro.client._rest` (REST), and answers go back there to be read, so
``AsyncClient`` behaves identically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
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

__all__ = ["Client"]


class Client:
    """A connection to a Centauro gateway for one account.

    ``balance``, ``send`` and ``send_personalized`` speak the CentauroSMS compat API;
    every other method is the REST API (``/v1``), named verb_noun. Refusals raise
    :class:`~centauro.client.errors.APIError` subclasses; see :mod:`centauro.client.errors`
    for the rest. Reuse one client: it keeps connections open. Use it as a context
    manager, or call :meth:`close`.

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

    # -- REST API (docs/rest.md) -------------------------------------------------------

    def send_message(
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
        """``POST /v1/messages``: *text* to one number or a list. *schedule_at* must be
        timezone-aware; with *idempotency_key* a retry gets the first answer (``replayed``);
        *sender* is a sender ID granted to the account (the REST ``from``; None: its default)."""
        return self._call(
            _rest.send_message(
                self.base_url, self._creds, to, text, reference=reference,
                schedule_at=schedule_at, validity_period=validity_period,
                callback_url=callback_url, category=category, idempotency_key=idempotency_key,
                sender=sender,
            )
        )  # fmt: skip

    def send_batch(
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
        """``POST /v1/messages/batch``: each item its own text (``BatchItem``, ``(to,
        text)`` or a dict with ``to``/``text``/``reference``)."""
        return self._call(
            _rest.send_batch(
                self.base_url, self._creds, items, schedule_at=schedule_at,
                validity_period=validity_period, callback_url=callback_url, category=category,
                idempotency_key=idempotency_key, sender=sender,
            )
        )  # fmt: skip

    def get_message(self, message_id: str | int) -> Message:
        """``GET /v1/messages/{id}``; ``NotFound`` if it is not this account's."""
        return self._call(_rest.get_message(self.base_url, self._creds, message_id))

    def cancel_message(self, message_id: str | int) -> Message:
        """``DELETE /v1/messages/{id}``: withdraw and refund a message not yet sent;
        ``Conflict`` once it is too late."""
        return self._call(_rest.cancel_message(self.base_url, self._creds, message_id))

    def list_messages(
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
        """One page, newest first; ``since``/``until`` bound ``created_at`` (aware times)
        and ``to`` takes a number in any usual form."""
        return self._call(
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
    ) -> Iterator[Message]:
        """Every message matching the filters of :meth:`list_messages`, page by page."""
        return self._pages(
            lambda c: _rest.list_messages(
                self.base_url, self._creds, status=status, to=to, reference=reference,
                since=since, until=until, limit=page_size, cursor=c,
            )
        )  # fmt: skip

    def get_balance(self) -> int:
        """``GET /v1/balance``: the same credits as :meth:`balance`, over the REST API."""
        return self._call(_rest.balance(self.base_url, self._creds))

    def list_ledger(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[LedgerEntry]:
        """Charges, top-ups and refunds, newest first."""
        return self._call(_rest.ledger(self.base_url, self._creds, limit=limit, cursor=cursor))

    def iter_ledger(self, *, page_size: int = 100) -> Iterator[LedgerEntry]:
        return self._pages(
            lambda c: _rest.ledger(self.base_url, self._creds, limit=page_size, cursor=c)
        )

    def list_inbound(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[InboundMessage]:
        """Messages handsets sent in answer to this account, newest first."""
        return self._call(_rest.inbound(self.base_url, self._creds, limit=limit, cursor=cursor))

    def iter_inbound(self, *, page_size: int = 100) -> Iterator[InboundMessage]:
        return self._pages(
            lambda c: _rest.inbound(self.base_url, self._creds, limit=page_size, cursor=c)
        )

    def health(self) -> Health:
        """``GET /v1/health`` as this account; ``ok`` is False when the store is down."""
        return self._call(_rest.health(self.base_url, self._creds))

    def create_webhook(
        self, url: str, events: Sequence[str] | None = None, *, idempotency_key: str | None = None
    ) -> Webhook:
        """Register *url* for *events* (all when None); the answer alone has the ``secret``."""
        return self._call(
            _rest.create_webhook(
                self.base_url, self._creds, url, events, idempotency_key=idempotency_key
            )
        )

    def list_webhooks(self) -> list[Webhook]:
        return self._call(_rest.list_webhooks(self.base_url, self._creds))

    def delete_webhook(self, webhook_id: str | int) -> None:
        self._call(_rest.delete_webhook(self.base_url, self._creds, webhook_id))

    def list_webhook_deliveries(
        self, webhook_id: str | int, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[WebhookDelivery]:
        return self._call(
            _rest.webhook_deliveries(
                self.base_url, self._creds, webhook_id, limit=limit, cursor=cursor
            )
        )

    def iter_webhook_deliveries(
        self, webhook_id: str | int, *, page_size: int = 100
    ) -> Iterator[WebhookDelivery]:
        return self._pages(
            lambda c: _rest.webhook_deliveries(
                self.base_url, self._creds, webhook_id, limit=page_size, cursor=c
            )
        )

    def list_suppressions(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[Suppression]:
        return self._call(
            _rest.list_suppressions(self.base_url, self._creds, limit=limit, cursor=cursor)
        )

    def iter_suppressions(self, *, page_size: int = 100) -> Iterator[Suppression]:
        return self._pages(
            lambda c: _rest.list_suppressions(self.base_url, self._creds, limit=page_size, cursor=c)
        )

    def add_suppression(self, number: str, *, idempotency_key: str | None = None) -> Suppression:
        """Stop every send from this account to *number* (the entry, new or existing)."""
        return self._call(
            _rest.add_suppression(
                self.base_url, self._creds, number, idempotency_key=idempotency_key
            )
        )

    def remove_suppression(self, number: str) -> None:
        """Lift a suppression; ``NotFound`` if the number was not suppressed."""
        self._call(_rest.remove_suppression(self.base_url, self._creds, number))

    def _call(self, call: _rest.Call[T]) -> T:
        request = call.request
        with map_httpx_errors():
            response = self._http.request(
                request.method, request.url, headers=request.headers, content=request.body
            )
        return call.read(response.status_code, response.headers, response.content)

    def _pages(self, page: Callable[[str | None], _rest.Call[Page[T]]]) -> Iterator[T]:
        cursor: str | None = None
        while True:
            found = self._call(page(cursor))
            yield from found.data
            if found.next_cursor is None:
                return
            cursor = found.next_cursor

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
