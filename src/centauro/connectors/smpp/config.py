"""The settings of one SMPP carrier account, as stored (JSON) in the database.

Validated once, at construction: a typo in a stored setting fails when the connector is
configured, with the field's name, not at 3 a.m. when the first message goes out.
The password is part of the stored settings but never of ``repr`` (logs, tracebacks).

Codings, for text that is GSM-7 (text that is not goes as UCS-2, data_coding 8):

* ``gsm7`` (default): data_coding 0, GSM 03.38 septets one per octet (unpacked).
* ``latin1``: data_coding 3, ISO-8859-1 bytes; ``ascii``: data_coding 1, IA5 bytes.
  For carriers whose "default alphabet" (data_coding 0) is not GSM 03.38. A GSM-7 text
  the 8-bit coding cannot carry (``€`` in latin1, ``ñ`` in ascii) goes as UCS-2: the
  operator chose the 8-bit coding because data_coding 0 is not trustworthy on this
  carrier, and UCS-2 is the one coding every SMSC reads the same way. It costs more
  parts than were billed (70/67 characters instead of 160/153); never garbled text.

Multipart: ``udh`` (esm_class 0x40, 6-byte UDH ``05 00 03 ref total seq``), ``sar``
(the sar_* TLVs), ``payload`` (the whole text in one submit_sm, message_payload TLV; a
text that fits one SMS still goes in short_message, which every SMSC takes).

system_id, password, system_type and source_addr are held to SMPP 3.4's lengths (15,
8, 12 and 20 characters): an SMSC would truncate or refuse longer ones at bind time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

BindMode = Literal["transceiver", "transmitter_receiver"]
Gsm7Coding = Literal["gsm7", "latin1", "ascii"]
Multipart = Literal["udh", "sar", "payload"]

# SMPP 3.4 §5.2: C-Octet String maxima, counting the terminating NUL.
_MAX_LENGTH = {"system_id": 15, "password": 8, "system_type": 12, "source_addr": 20}


class InvalidSettings(ValueError):
    """A stored or typed SMPP setting is not acceptable."""


@dataclass(frozen=True, slots=True)
class SmppSettings:
    host: str
    port: int
    system_id: str
    password: str = field(default="", repr=False)
    system_type: str = ""
    bind_mode: BindMode = "transceiver"  #: or two binds: TX for submits, RX for receipts/MO
    source_addr: str = ""
    source_ton: int | None = None  #: None: 5 (alphanumeric), 1 (11+ digits), else 0
    source_npi: int | None = None  #: None: 0 for alphanumeric, else 1 (E.164)
    dest_ton: int = 1
    dest_npi: int = 1
    window: int = 64  #: submits awaiting their response at once
    tps: float = 100.0  #: submits per second; 0 = unlimited
    #: Keep-alive: enquire_link after this many seconds without a PDU from the SMSC; a
    #: session whose enquire_link stays unanswered as long again is dropped and rebound.
    enquire_link: float = 30.0
    reconnect_min: float = 1.0  #: seconds before the first reconnect attempt
    reconnect_max: float = 60.0  #: longest wait between reconnect attempts
    gsm7_coding: Gsm7Coding = "gsm7"
    multipart: Multipart = "udh"
    tls: bool = False
    registered_delivery: bool = True  #: ask for a delivery receipt on every part

    def __post_init__(self) -> None:
        _check_types(self)
        _check_values(self)

    @property
    def source_address(self) -> tuple[int, int, str]:
        """(ton, npi, addr) of the sender, TON/NPI guessed from the address when unset."""
        addr = self.source_addr
        alphanumeric = bool(addr) and not addr.lstrip("+").isdigit()
        if alphanumeric:
            ton, npi = 5, 0
        else:
            ton, npi = (1, 1) if len(addr.lstrip("+")) > 10 else (0, 1)
        ton = ton if self.source_ton is None else self.source_ton
        npi = npi if self.source_npi is None else self.source_npi
        return ton, npi, addr.lstrip("+") if not alphanumeric else addr

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SmppSettings:
        """Settings from their stored JSON form; unknown keys are an error (typos)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidSettings(f"unknown setting(s): {', '.join(unknown)}")
        missing = [name for name in ("host", "port", "system_id") if name not in data]
        if missing:
            raise InvalidSettings(f"missing setting(s): {', '.join(missing)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form to store (password included: the store is where it lives)."""
        return dataclasses.asdict(self)


def _check_types(settings: SmppSettings) -> None:
    """Reject wrong JSON types by name (``"port": "2775"``, ``"tls": "yes"``)."""
    expected: dict[str, tuple[type, ...]] = {
        "str": (str,),
        "int": (int,),
        "float": (int, float),
        "bool": (bool,),
    }
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        kind = cast(str, f.type)
        if kind == "int | None":
            if value is None:
                continue
            kind = "int"
        allowed = expected.get(kind, (str,))
        # bool is an int in Python, but "window": true is a mistake, not a window of 1.
        if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, allowed):
            raise InvalidSettings(f"{f.name}: expected {kind}, got {type(value).__name__}")


def _check_values(settings: SmppSettings) -> None:
    for name in ("host", "system_id"):
        if not getattr(settings, name):
            raise InvalidSettings(f"{name}: must not be empty")
    for name, limit in _MAX_LENGTH.items():
        value: str = getattr(settings, name)
        if len(value) > limit or not value.isascii():
            raise InvalidSettings(f"{name}: at most {limit} ASCII characters (SMPP 3.4)")
    for name, choices in (
        ("bind_mode", BindMode),
        ("gsm7_coding", Gsm7Coding),
        ("multipart", Multipart),
    ):
        if getattr(settings, name) not in get_args(choices):
            raise InvalidSettings(f"{name}: one of {', '.join(get_args(choices))}")
    _check_numbers(settings)


def _check_numbers(settings: SmppSettings) -> None:
    if not 0 < settings.port < 65536:
        raise InvalidSettings(f"port: {settings.port} is not a TCP port")
    for name in ("source_ton", "source_npi", "dest_ton", "dest_npi"):
        number = getattr(settings, name)
        if number is not None and not 0 <= number <= 255:
            raise InvalidSettings(f"{name}: must be 0-255")
    if not 1 <= settings.window <= 10_000:
        raise InvalidSettings("window: must be 1-10000")
    if settings.tps < 0:
        raise InvalidSettings("tps: must be >= 0 (0 means unlimited)")
    if settings.enquire_link <= 0:
        raise InvalidSettings("enquire_link: must be > 0 seconds")
    if not 0 < settings.reconnect_min <= settings.reconnect_max:
        raise InvalidSettings("reconnect_min/reconnect_max: need 0 < min <= max")
