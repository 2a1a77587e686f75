"""SMPP ``command_status`` values and what each means for the message that got it.

One table decides, for every status a ``submit_sm_resp`` (or ``generic_nack``) can carry,
whether the connector retries the part itself, hands the message back for later, or
gives up on it. Kept apart from the session code so the policy reads as one list.

* :attr:`Outcome.THROTTLE` — the carrier is asking us to slow down (ESME_RTHROTTLED,
  ESME_RMSGQFUL). Never a failure: the connector slows down and resubmits.
* :attr:`Outcome.TEMPORARY` — the same PDU may succeed later (system error, submit
  failed, bind problems, unknown and vendor-specific codes). The message goes back to
  the queue; retrying an error that turns out permanent costs a few attempts, while
  rejecting a transient one would lose a message.
* :attr:`Outcome.PERMANENT` — the PDU itself is refused (bad address, bad length, bad
  parameter): sending it again cannot succeed.
"""

from __future__ import annotations

import enum
import re


class Outcome(enum.Enum):
    THROTTLE = "throttle"  #: slow down and resubmit the part
    TEMPORARY = "temporary"  #: the message goes back to the queue
    PERMANENT = "permanent"  #: the message is rejected for good


ESME_ROK = 0x00
ESME_RSYSERR = 0x08
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58

_T, _P, _X = Outcome.TEMPORARY, Outcome.PERMANENT, Outcome.THROTTLE

#: SMPP 3.4 §5.1.3, every defined command_status: (name, outcome for a submit).
STATUSES: dict[int, tuple[str, Outcome]] = {
    0x00: ("ESME_ROK", _T),
    0x01: ("ESME_RINVMSGLEN", _P),
    0x02: ("ESME_RINVCMDLEN", _P),
    0x03: ("ESME_RINVCMDID", _P),
    0x04: ("ESME_RINVBNDSTS", _T),
    0x05: ("ESME_RALYBND", _T),
    0x06: ("ESME_RINVPRTFLG", _P),
    0x07: ("ESME_RINVREGDLVFLG", _P),
    0x08: ("ESME_RSYSERR", _T),
    0x0A: ("ESME_RINVSRCADR", _P),
    0x0B: ("ESME_RINVDSTADR", _P),
    0x0C: ("ESME_RINVMSGID", _P),
    0x0D: ("ESME_RBINDFAIL", _T),
    0x0E: ("ESME_RINVPASWD", _T),
    0x0F: ("ESME_RINVSYSID", _T),
    0x11: ("ESME_RCANCELFAIL", _T),
    0x13: ("ESME_RREPLACEFAIL", _T),
    0x14: ("ESME_RMSGQFUL", _X),
    0x15: ("ESME_RINVSERTYP", _P),
    0x33: ("ESME_RINVNUMDESTS", _P),
    0x34: ("ESME_RINVDLNAME", _P),
    0x40: ("ESME_RINVDESTFLAG", _P),
    0x42: ("ESME_RINVSUBREP", _P),
    0x43: ("ESME_RINVESMCLASS", _P),
    0x44: ("ESME_RCNTSUBDL", _P),
    0x45: ("ESME_RSUBMITFAIL", _T),
    0x48: ("ESME_RINVSRCTON", _P),
    0x49: ("ESME_RINVSRCNPI", _P),
    0x50: ("ESME_RINVDSTTON", _P),
    0x51: ("ESME_RINVDSTNPI", _P),
    0x53: ("ESME_RINVSYSTYP", _P),
    0x54: ("ESME_RINVREPFLAG", _P),
    0x55: ("ESME_RINVNUMMSGS", _P),
    0x58: ("ESME_RTHROTTLED", _X),
    0x61: ("ESME_RINVSCHED", _P),
    0x62: ("ESME_RINVEXPIRY", _P),
    0x63: ("ESME_RINVDFTMSGID", _P),
    0x64: ("ESME_RX_T_APPN", _T),
    0x65: ("ESME_RX_P_APPN", _P),
    0x66: ("ESME_RX_R_APPN", _P),
    0x67: ("ESME_RQUERYFAIL", _P),
    0xC0: ("ESME_RINVOPTPARSTREAM", _P),
    0xC1: ("ESME_ROPTPARNOTALLWD", _P),
    0xC2: ("ESME_RINVPARLEN", _P),
    0xC3: ("ESME_RMISSINGOPTPARAM", _P),
    0xC4: ("ESME_RINVOPTPARAMVAL", _P),
    0xFE: ("ESME_RDELIVERYFAILURE", _T),
    0xFF: ("ESME_RUNKNOWNERR", _T),
}

_STATUS_IN_TEXT = re.compile(r"\(0x([0-9A-Fa-f]{1,8})\)")


def classify(status: int) -> Outcome:
    """What to do with a part the carrier answered ``status`` (non-zero) to.

    Codes outside the table (reserved, or 0x400–0x4FF vendor-specific) are temporary.
    """
    entry = STATUSES.get(status)
    return entry[1] if entry is not None else Outcome.TEMPORARY


def name(status: int) -> str:
    entry = STATUSES.get(status)
    if entry is not None:
        return entry[0]
    return "vendor-specific" if 0x400 <= status <= 0x4FF else "unknown"


def code(status: int) -> str:
    """The status as :attr:`Rejected.code` carries it: ``"0x0000000b"``."""
    return f"0x{status:08x}"


def describe(status: int) -> str:
    """``"ESME_RINVDSTADR (0x0000000b)"``: the name operators search for, and the number."""
    return f"{name(status)} ({code(status)})"


def status_of(error: BaseException) -> int | None:
    """The command_status an ``smpp34.SmppError`` carries in its text, if any.

    smpp34 raises ``SmppError("ESME_RTHROTTLED (0x00000058)")`` for a generic_nack and
    ``SmppError("ESME_RSYSERR (0x00000008)")`` when the session dies under a pending
    submit or its response times out; connect failures carry free text and no status.
    """
    found = _STATUS_IN_TEXT.search(str(error))
    return int(found.group(1), 16) if found else None
