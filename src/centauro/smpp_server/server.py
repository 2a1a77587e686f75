"""The SMPP server: customers' ESMEs bind to Centauro as to a carrier.

:class:`SmppServer` is the carrier behind each connection's SMSC-side session
(``connectors/smpp/smsc.py``, shared with ``centauro smsc-sim``): it checks binds against
the store (``system_id`` = client_id, the account's SMPP password), holds the per-account
bind limit, throttles wrong passwords, hands submits and other commands to
``handling.py`` and receipts / MO to the bind through ``deliveries.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from centauro.connectors.smpp import smsc
from centauro.connectors.smpp.pdu import Bind, Status
from centauro.connectors.smpp.smsc import Session, State
from centauro.domain.rates import RateLimiter
from centauro.runtime import Gateway
from centauro.service import smpp
from centauro.smpp_server.deliveries import Pump
from centauro.smpp_server.handling import Handler
from centauro.smpp_server.submits import Reassembly

log = logging.getLogger("centauro.smpp_server")

SYSTEM_ID = "centauro"
#: Wrong passwords for one system_id within a minute before its binds are refused
#: unchecked (ESME_RBINDFAIL) until the minute is over.
MAX_BIND_FAILURES = 5
FAILURE_WINDOW = 60.0
TICK = 1.0
REPORT_EVERY = 2.0
_KINDS = {State.BOUND_TX: "tx", State.BOUND_RX: "rx", State.BOUND_TRX: "trx"}


@dataclass(eq=False)  # hashed by identity: kept in sets of binds
class Client:
    """One bound (or binding) connection and what the server keeps about it."""

    session: Session
    account_id: int = 0
    client_id: str = ""
    login: smpp.Login | None = None
    pending: int = 0  #: submits read but not yet answered
    paused: bool = False
    reassembly: Reassembly = field(default_factory=Reassembly)
    submits: deque[float] = field(default_factory=deque)  #: monotonic stamps, last second
    out: list[bytes] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return _KINDS.get(self.session.state, "")


class SmppServer:
    """Listens for customers' binds; started and stopped with the gateway (``door``)."""

    def __init__(
        self, gateway: Gateway, *, host: str, port: int, sock: socket.socket | None = None
    ) -> None:
        self.gateway = gateway
        self.settings = gateway.settings
        self.host = host
        self.port = port
        #: A listening socket bound by ``serve``'s parent (``--workers N``): used as is.
        self._sock = sock
        self.clients: dict[Session, Client] = {}
        self.binds: dict[int, set[Client]] = defaultdict(set)
        self.handler = Handler(self)
        self.pump = Pump(self)
        self.rates = RateLimiter()  #: submits per second, per account
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._failure_log: dict[str, tuple[float, int]] = {}
        self._server: asyncio.AbstractServer | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._flush_scheduled: set[Session] = set()
        presence = gateway.presence
        self.worker_id = presence.worker_id if presence else f"smpp-{uuid.uuid4().hex[:12]}"

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        loop = asyncio.get_running_loop()

        def session() -> Session:
            return Session(
                self,
                window=s.smpp_window,
                enquire_link=s.smpp_enquire_link_seconds,
                smsc_system_id=SYSTEM_ID,
                log_refusals=False,
            )

        tls = _tls(s.smpp_tls_cert, s.smpp_tls_key)
        if self._sock is not None:
            self._server = await loop.create_server(session, sock=self._sock, ssl=tls)
        else:
            self._server = await loop.create_server(session, self.host, self.port, ssl=tls)
        self.port = int(self._server.sockets[0].getsockname()[1])
        self.pump.start()
        self._ticker = asyncio.create_task(self._tick(), name="smpp-server ticker")
        self.gateway.reports["smpp_server"] = self.status
        self.gateway.delivery_listeners.append(self.pump.wake)
        log.info(
            "smpp server listening on %s:%d", self.host, self.port, extra={"action": "smpp_listen"}
        )

    async def stop(self) -> None:
        """Stop listening, answer what is being committed, unbind every customer."""
        if self._server is not None:
            self._server.close()
        await self.handler.drain()
        for client in list(self.clients.values()):
            self._flush(client.session)
            client.session.unbind_and_close()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        await self.pump.stop()
        self.gateway.reports.pop("smpp_server", None)
        with contextlib.suppress(ValueError):
            self.gateway.delivery_listeners.remove(self.pump.wake)
        with contextlib.suppress(Exception):
            await self.gateway.write(lambda conn: smpp.withdraw_report(conn, self.worker_id))

    # -- carrier hooks (called by sessions) -------------------------------------------------

    def opened(self, session: Session) -> None:
        self.clients[session] = Client(session)

    def closed(self, session: Session) -> None:
        client = self.clients.pop(session, None)
        if client is None:
            return
        if client.account_id:
            self.binds[client.account_id].discard(client)
            if not self.binds[client.account_id]:
                del self.binds[client.account_id]
        self.pump.closed(session)

    def authenticate(self, session: Session, bind: Bind) -> Status | None:
        now = time.monotonic()
        failures = self._failures[bind.system_id]
        while failures and now - failures[0] > FAILURE_WINDOW:
            failures.popleft()
        if len(failures) >= MAX_BIND_FAILURES:
            self._refused(bind.system_id, session.peer, "too many wrong passwords")
            return Status.ESME_RBINDFAIL
        asyncio.get_running_loop().create_task(self._check(session, bind))
        return None

    async def _check(self, session: Session, bind: Bind) -> None:
        try:
            status = await self._verify(session, bind)
        except Exception:
            log.exception("bind check failed", extra={"action": "smpp_bind_error"})
            status = Status.ESME_RBINDFAIL
        session.finish_bind(status)

    async def _verify(self, session: Session, bind: Bind) -> Status:
        login = await self.gateway.read(lambda conn: smpp.login(conn, bind.system_id))
        if login is None or not login.account.enabled:
            self._failed(bind.system_id, session.peer, "unknown system_id")
            return Status.ESME_RINVSYSID
        ok = await asyncio.to_thread(smpp.verify_password, bind.password, login.password_hash)
        if not ok:
            self._failed(bind.system_id, session.peer, "wrong password")
            return Status.ESME_RINVPASWD
        limit = login.max_binds if login.max_binds is not None else self.settings.smpp_max_binds
        if len(self.binds.get(login.account.id, ())) >= limit:
            self._refused(bind.system_id, session.peer, f"bind limit {limit} reached")
            return Status.ESME_RBINDFAIL
        client = self.clients.get(session)
        if client is None:  # the connection closed while we looked
            return Status.ESME_RBINDFAIL
        client.login = login
        client.account_id = login.account.id
        client.client_id = login.account.client_id
        self.binds[login.account.id].add(client)
        return Status.ESME_ROK

    def bound(self, session: Session) -> None:
        if session.can_receive:
            asyncio.get_running_loop().call_soon(self.pump.wake)

    def submit(self, session: Session, frame: bytes, sequence: int) -> bytes | None:
        return self.handler.submit(self.clients[session], frame, sequence)

    def command(
        self, session: Session, command_id: int, sequence: int, frame: bytes
    ) -> bytes | None:
        return self.handler.command(self.clients[session], command_id, sequence, frame)

    def answered(self, session: Session, item: smsc.Outbound, status: int) -> None:
        self.pump.answered(item, status)

    def ready(self, session: Session) -> None:
        self.pump.wake()

    # -- answers written later ---------------------------------------------------------------

    def answer(self, client: Client, data: bytes) -> None:
        """Queue an answer; all answers ready in one loop turn go out in one write."""
        client.out.append(data)
        session = client.session
        if session not in self._flush_scheduled:
            self._flush_scheduled.add(session)
            asyncio.get_running_loop().call_soon(self._flush, session)

    def _flush(self, session: Session) -> None:
        self._flush_scheduled.discard(session)
        client = self.clients.get(session)
        if client is None or not client.out:
            return
        data = b"".join(client.out)
        client.out.clear()
        session.send(data)

    def submitted(self, client: Client, count: int) -> None:
        """Count submits for the operator's submits/s."""
        now = time.monotonic()
        client.submits.extend([now] * count)
        while client.submits and now - client.submits[0] > 1.0:
            client.submits.popleft()

    # -- failures, logged once a minute per system_id -------------------------------------------

    def _failed(self, system_id: str, peer: str, reason: str) -> None:
        self._failures[system_id].append(time.monotonic())
        self._refused(system_id, peer, reason)

    def _refused(self, system_id: str, peer: str, reason: str) -> None:
        now = time.monotonic()
        since, count = self._failure_log.get(system_id, (0.0, 0))
        if now - since >= FAILURE_WINDOW:
            log.warning(
                "smpp bind refused: %s (%d more in the last minute)",
                reason,
                count,
                extra={"action": "smpp_bind_refused", "system_id": system_id, "peer": peer},
            )
            self._failure_log[system_id] = (now, 0)
        else:
            self._failure_log[system_id] = (since, count + 1)

    async def _tick(self) -> None:
        next_report = 0.0
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            if now >= next_report:
                next_report = now + REPORT_EVERY
                await self._report()
            for client in list(self.clients.values()):
                for sequences in client.reassembly.expired(now):
                    self.handler.refuse_parts(client, sequences)
            for system_id in [
                k for k, v in self._failures.items() if not v or now - v[-1] > FAILURE_WINDOW
            ]:
                del self._failures[system_id]

    # -- the operator's view -------------------------------------------------------------------

    async def _report(self) -> None:
        """Write our view of the binds where ``centauro smpp-clients status`` reads it."""
        snapshot, stamp = self.status(), datetime.now(UTC)
        try:
            await self.gateway.write(
                lambda conn: smpp.report(conn, self.worker_id, snapshot, stamp)
            )
        except Exception:  # noqa: BLE001 - a missed report is shown as no binds, no more
            log.warning("smpp status report failed", extra={"action": "smpp_report_failed"})

    def status(self) -> dict[str, Any]:
        """Binds per account, window use, submits/s, receipts waiting (as last counted)."""
        now = time.monotonic()
        accounts = []
        for account_id, clients in sorted(self.binds.items()):
            kinds: dict[str, int] = defaultdict(int)
            for c in clients:
                kinds[c.kind or "binding"] += 1
            accounts.append(
                {
                    "client_id": next(iter(clients)).client_id,
                    "binds": dict(kinds),
                    "window_used": sum(c.pending + len(c.session.in_flight) for c in clients),
                    "window": self.settings.smpp_window * len(clients),
                    "submits_per_s": sum(
                        sum(1 for t in c.submits if now - t <= 1.0) for c in clients
                    ),
                    "waiting": self.pump.waiting.get(account_id, 0),
                }
            )
        return {"port": self.port, "connections": len(self.clients), "accounts": accounts}


def _tls(cert: str, key: str) -> ssl.SSLContext | None:
    """A server TLS context from the certificate (and key) files the environment names."""
    if not cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key or None)
    return context
