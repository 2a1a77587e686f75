"""One bind (TRX, TX or RX) kept up: open a session, wait for its end, reconnect.

Reconnects back off exponentially with equal jitter between ``reconnect_min`` and
``reconnect_max`` while binds fail; a session that was up and ended is retried after
``reconnect_min``. A refused bind says why at once (its command_status), so the backoff
is the only wait between attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from centauro.connectors.smpp import pdu
from centauro.connectors.smpp.session import BindRefused, EsmeSession, open_session

if TYPE_CHECKING:
    from centauro.connectors.smpp.client import SmppConnector


class Bind:
    """A bind of ``owner``'s account; ``session`` is the bound session while ``up``."""

    def __init__(self, owner: SmppConnector, bind_type: str) -> None:
        self.owner = owner
        self.bind_type = bind_type
        self.state = "stopped"
        self.session: EsmeSession | None = None
        self.up = asyncio.Event()
        self.retry_at = 0.0  # monotonic time of the next bind attempt while down
        self.task: asyncio.Task[None] | None = None
        self.closing = False

    def _set(self, state: str, error: str | None = None) -> None:
        self.state = state
        if error is not None:
            self.owner.last_error = f"{self.bind_type}: {error}"
        self.owner.refresh_state()

    def _log(self, level: int, action: str, **extra: object) -> None:
        self.owner.log_event(level, action, bind=self.bind_type, **extra)

    def backoff(self, failures: int) -> float:
        """Exponential in the failures so far, with equal jitter, within min and max."""
        s = self.owner.settings
        ceiling = min(s.reconnect_max, s.reconnect_min * 2.0 ** max(0, failures - 1))
        return max(s.reconnect_min, ceiling * (0.5 + self.owner.rng() / 2))

    async def _open(self) -> EsmeSession | str:
        """A bound session, or why there is none."""
        s, owner = self.owner.settings, self.owner
        fields = pdu.Bind(s.system_id, s.password, s.system_type)
        try:
            return await open_session(
                s.host, s.port, self.bind_type, fields, owner.received, tls=s.tls,
                timeout=owner.bind_timeout, enquire_link=s.enquire_link,
                response_timeout=owner.response_timeout, name=owner.name,
            )  # fmt: skip
        except BindRefused as exc:
            return f"bind refused: {exc}"
        except (OSError, TimeoutError) as exc:  # ssl.SSLError and SessionLost are OSErrors
            return f"bind failed: {exc or 'no answer'}"

    async def run(self) -> None:
        s, failures = self.owner.settings, 0
        while not self.closing:
            self._set("connecting")
            session = await self._open()
            if isinstance(session, str):
                failures += 1
                delay = self.backoff(failures)
                self.retry_at = time.monotonic() + delay
                self._set("down", session)
                self._log(logging.WARNING, "smpp_bind_failed", error=session, retry_in=delay)
                await asyncio.sleep(delay)
                continue
            failures, self.session = 0, session
            self.up.set()
            self._set("up")
            self._log(logging.INFO, "smpp_bound", host=s.host, port=s.port)
            reason = await asyncio.shield(session.closed)
            if self.closing:
                return
            self.mark_down(session, reason)
            self._log(logging.WARNING, "smpp_session_lost", error=reason)
            self.retry_at = time.monotonic() + s.reconnect_min
            await asyncio.sleep(s.reconnect_min)

    def mark_down(self, session: EsmeSession, reason: str) -> None:
        """Forget ``session`` if it is still the current one (first one to notice wins)."""
        if self.session is session:
            self.session = None
            self.up.clear()
            self.retry_at = time.monotonic() + self.owner.settings.reconnect_min
            self._set("down", reason)

    async def close(self) -> None:
        """Unbind (pending receipts stored and acked first), then end the loop."""
        self.closing = True
        session, task = self.session, self.task
        if session is not None:
            await session.close()
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.session = None
        self.up.clear()
        self.state = "stopped"
