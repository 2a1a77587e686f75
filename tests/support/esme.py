"""A customer's ESME for tests of the SMPP server: smpplib (a codec and client nobody here
wrote), with every answer recorded instead of raised.

    esme = Esme.bound(port, client_id, password)           # bind_transceiver
    seq = esme.submit("584141234567", "hola", registered_delivery=1)
    status, message_id = esme.answer(seq)                   # waits for submit_sm_resp
    receipt = esme.wait_deliver(lambda d: d.receipted_message_id == message_id)
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions

from tests.support.server import Account, ServerProcess, free_port, start_server

TIMEOUT = 15.0


@dataclass(frozen=True)
class Deliver:
    """One deliver_sm the server sent us."""

    source: str
    destination: str
    text: bytes
    esm_class: int
    data_coding: int
    receipted_message_id: str | None
    message_state: int | None


class Esme:
    def __init__(
        self, port: int, *, ack_delivers: bool = True, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.client = smpplib.client.Client(
            "127.0.0.1",
            port,
            timeout=TIMEOUT,
            allow_unknown_opt_params=True,
            ssl_context=ssl_context,
        )
        self.answers: dict[int, tuple[int, str]] = {}
        self.delivers: list[Deliver] = []
        self.others: list[Any] = []
        self.ack_delivers = ack_delivers
        self.client.set_message_sent_handler(self._sent)
        self.client.set_message_received_handler(self._received)
        self.client.set_error_pdu_handler(self._error)
        self.client.set_query_resp_handler(self._other)
        self.client.connect()

    @classmethod
    def bound(cls, port: int, system_id: str, password: str, kind: str = "transceiver") -> Esme:
        esme = cls(port)
        getattr(esme.client, f"bind_{kind}")(system_id=system_id, password=password)
        return esme

    def bind(self, system_id: str, password: str, kind: str = "transceiver") -> int:
        """The bind's command_status (0: bound)."""
        try:
            getattr(self.client, f"bind_{kind}")(system_id=system_id, password=password)
        except smpplib.exceptions.PDUError as exc:
            self.client.disconnect()
            return int(exc.args[1])
        return 0

    def _sent(self, pdu: Any) -> None:
        message_id = (
            pdu.message_id.decode() if isinstance(pdu.message_id, bytes) else pdu.message_id
        )
        self.answers[pdu.sequence] = (int(pdu.status), message_id or "")

    def _error(self, pdu: Any) -> None:
        if pdu.command != "submit_sm_resp":
            self.others.append(pdu)

    def _other(self, pdu: Any) -> None:
        self.others.append(pdu)

    def _received(self, pdu: Any) -> int:
        receipted = getattr(pdu, "receipted_message_id", None)
        if isinstance(receipted, bytes):
            receipted = receipted.decode().rstrip("\0")
        self.delivers.append(
            Deliver(
                source=_text(pdu.source_addr),
                destination=_text(pdu.destination_addr),
                text=pdu.short_message or getattr(pdu, "message_payload", b"") or b"",
                esm_class=pdu.esm_class,
                data_coding=pdu.data_coding,
                receipted_message_id=receipted,
                message_state=getattr(pdu, "message_state", None),
            )
        )
        return smpplib.consts.SMPP_ESME_ROK if self.ack_delivers else 0x08  # RSYSERR

    def submit(self, destination: str, text: bytes | str = b"hola", **kw: Any) -> int:
        """Send a submit_sm; its sequence number."""
        body = text.encode() if isinstance(text, str) else text
        kw.setdefault("source_addr_ton", 5)
        kw.setdefault("source_addr", "CENTAURO")
        kw.setdefault("dest_addr_ton", 1)
        kw.setdefault("dest_addr_npi", 1)
        pdu = self.client.send_message(destination_addr=destination, short_message=body, **kw)
        return int(pdu.sequence)

    def pump(self, seconds: float = 0.0) -> None:
        """Read whatever arrives for ``seconds`` (at least one read)."""
        deadline = time.monotonic() + seconds
        self.client._socket.settimeout(0.2)
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    self.client.read_once(auto_send_enquire_link=False)
                if time.monotonic() >= deadline:
                    return
        finally:
            self.client._socket.settimeout(TIMEOUT)

    def answer(self, sequence: int, timeout: float = TIMEOUT) -> tuple[int, str]:
        """(command_status, message_id) of the submit_sm with this sequence number."""
        deadline = time.monotonic() + timeout
        while sequence not in self.answers:
            if time.monotonic() > deadline:
                raise AssertionError(f"no submit_sm_resp for sequence {sequence}")
            self.pump()
        return self.answers[sequence]

    def wait_deliver(self, match: Callable[[Deliver], bool], timeout: float = TIMEOUT) -> Deliver:
        deadline = time.monotonic() + timeout
        while True:
            for d in self.delivers:
                if match(d):
                    return d
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching deliver_sm; got {self.delivers}")
            self.pump()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a test's cleanup: the peer may be gone
            self.client.unbind()
        self.client.disconnect()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def receipt_fields(text: bytes) -> dict[str, str]:
    """``id:… sub:… stat:…`` as a dict (``submit date`` and ``done date`` as such)."""
    fields: dict[str, str] = {}
    body = text.decode("ascii")
    head, _, fields["text"] = body.partition(" text:")
    for key in ("id", "sub", "dlvrd", "submit date", "done date", "stat", "err"):
        start = head.index(key + ":") + len(key) + 1
        end = head.find(" ", start)
        if key.endswith("date"):
            end = start + 10
        fields[key] = head[start : end if end >= 0 else None]
    return fields


class Raw:
    """A bare socket speaking hand-made PDUs: for what no client library would send."""

    def __init__(self, port: int, ssl_context: ssl.SSLContext | None = None) -> None:
        plain = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock = ssl_context.wrap_socket(plain) if ssl_context else plain

    def send(
        self, command_id: int, body: bytes = b"", *, sequence: int = 1, length: int | None = None
    ) -> None:
        size = 16 + len(body) if length is None else length
        self.sock.sendall(struct.pack(">IIII", size, command_id, 0, sequence) + body)

    def read(self) -> tuple[int, int, int, bytes]:
        """(command_id, command_status, sequence, body) of the next PDU."""
        head = self._exact(16)
        length, command_id, status, sequence = struct.unpack(">IIII", head)
        return command_id, status, sequence, self._exact(length - 16)

    def read_until(self, command_id: int) -> tuple[int, int, int, bytes]:
        while True:
            pdu = self.read()
            if pdu[0] == command_id:
                return pdu

    def _exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def is_closed(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except (ConnectionError, TimeoutError):
            return True

    def bind(self, system_id: str, password: str, command_id: int = 0x09) -> int:
        body = system_id.encode() + b"\0" + password.encode() + b"\0" + b"\0" + b"\x34\0\0" + b"\0"
        self.send(command_id, body)
        return self.read()[1]

    def close(self) -> None:
        self.sock.close()


def bind_status(port: int, system_id: str, password: str) -> int:
    """Bind once and leave: the command_status the bind got."""
    esme = Esme(port)
    status = esme.bind(system_id, password)
    if status == 0:
        esme.close()
    return status


@dataclass
class Smpp:
    """A real ``centauro serve --smpp-port`` and one customer account with its SMPP login."""

    gw: ServerProcess
    port: int
    account: Account
    system_id: str
    password: str

    def esme(self, kind: str = "transceiver") -> Esme:
        return Esme.bound(self.port, self.system_id, self.password, kind)


#: The operator's health token of the SMPP test gateways (the SMPP figures are hers only).
OPERATOR_TOKEN = "op-smpp-tests-5b1e9c0d7a3f"


def smpp_gateway(
    store: str, tmp_path: Path, *, credits: int = 1000, env: dict[str, str] | None = None
) -> Iterator[Smpp]:
    port = free_port()
    gw = start_server(
        store,
        tmp_path,
        port=free_port(),
        env={
            "CENTAURO_SMPP_PORT": str(port),
            "CENTAURO_SANDBOX_DLR_DELAY": "0.1",
            "CENTAURO_OPERATOR_TOKEN": OPERATOR_TOKEN,
            **(env or {}),
        },
    )
    try:
        account = gw.create_account(credits=credits)
        login = gw.cli_json("accounts", "smpp-password", account.client_id)
        yield Smpp(gw, port, account, login["system_id"], login["password"])
    finally:
        gw.stop()


def new_customer(smpp: Smpp, *, credits: int = 1000, name: str = "Cliente SMPP") -> Smpp:
    """Another account with its SMPP login, on the same server."""
    account = smpp.gw.create_account(credits=credits, name=name)
    login = smpp.gw.cli_json("accounts", "smpp-password", account.client_id)
    return Smpp(smpp.gw, smpp.port, account, login["system_id"], login["password"])
