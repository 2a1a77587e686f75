"""The shared SMPP PDU layer: framing a byte stream, and every packer and parser.

What we write is also read back with smpplib, an SMPP codec independent of smpp34 and
of us, so a packer and its parser cannot agree on the same mistake.
"""

from __future__ import annotations

import itertools
import struct
from typing import Any

import pytest
import smpp34
from hypothesis import given
from hypothesis import strategies as st
from smpplib import smpp  # type: ignore[import-untyped]

from centauro.connectors.smpp import pdu
from centauro.connectors.smpp.pdu import Status
from centauro.smsc_sim import pdu as sim_pdu


def smpplib_reads(data: bytes) -> Any:
    """smpplib's reading of one PDU (its own checks of length and fields)."""
    assert struct.unpack_from(">I", data)[0] == len(data)
    return smpp.parse_pdu(data, sequence=0)


SAMPLES = [
    pdu.enquire_link(1),
    pdu.submit_sm_resp(2, "a000"),
    pdu.deliver_sm_resp(3),
    smpp34.SubmitSm("Centauro", "584121234567", b"Hola", sequence_number=4).encode(),
    pdu.bind(pdu.BIND_TRANSCEIVER, 5, pdu.Bind("centauro", "secret", "")),
    pdu.generic_nack(6, Status.ESME_RINVCMDID),
]


# ── framing ──────────────────────────────────────────────────────────────────


def test_coalesced_pdus_in_one_read_come_out_one_by_one() -> None:
    framer = pdu.Framer()
    frames, bad = framer.feed(b"".join(SAMPLES))
    assert (frames, bad) == (SAMPLES, None)


def test_a_pdu_split_byte_by_byte_comes_out_once_whole() -> None:
    framer = pdu.Framer()
    data = b"".join(SAMPLES)
    out: list[bytes] = []
    for i in range(len(data)):
        frames, bad = framer.feed(data[i : i + 1])
        assert bad is None
        out += frames
    assert out == SAMPLES


@given(st.lists(st.integers(min_value=0, max_value=sum(map(len, SAMPLES))), max_size=12))
def test_any_split_of_the_stream_gives_the_same_pdus(cuts: list[int]) -> None:
    data = b"".join(SAMPLES)
    bounds = [0, *sorted(cuts), len(data)]
    framer = pdu.Framer()
    out: list[bytes] = []
    for start, end in itertools.pairwise(bounds):
        frames, bad = framer.feed(data[start:end])
        assert bad is None
        out += frames
    assert out == SAMPLES


@pytest.mark.parametrize("length", [0, 4, 15, pdu.MAX_PDU_LENGTH + 1, 0xFFFFFFFF])
def test_a_length_that_cannot_be_framed_is_reported_with_its_sequence(length: int) -> None:
    framer = pdu.Framer()
    junk = struct.pack(">IIII", length, pdu.SUBMIT_SM, 0, 42)
    frames, bad = framer.feed(pdu.enquire_link(1) + junk + pdu.enquire_link(2))
    assert frames == [pdu.enquire_link(1)]  # what came before it is still good
    assert bad == 42
    assert framer.feed(b"") == ([], None)  # the rest was thrown away: it cannot be trusted


def test_a_bad_length_before_the_sequence_arrived_reports_sequence_zero() -> None:
    assert pdu.Framer().feed(struct.pack(">I", 3)) == ([], 0)


def test_max_length_is_configurable() -> None:
    framer = pdu.Framer(max_length=20)
    assert framer.feed(pdu.submit_sm_resp(9, "0123456789"))[1] == 9


def test_a_stray_nul_after_a_bare_error_response_is_skipped_and_counted() -> None:
    """smpp34 1.5.0 wrote its deliver_sm refusals as 17 octets with command_length 16."""
    framer = pdu.Framer()
    refusal = struct.pack(">IIII", 16, pdu.DELIVER_SM_RESP, Status.ESME_RMSGQFUL, 7)
    frames, bad = framer.feed(refusal + b"\0" + pdu.enquire_link(8))
    assert (frames, bad) == ([refusal, pdu.enquire_link(8)], None)
    assert framer.stray_nuls == 1


def test_a_nul_anywhere_else_is_a_bad_length() -> None:
    frames, bad = pdu.Framer().feed(pdu.enquire_link(1) + b"\0" + pdu.enquire_link(2))
    assert frames == [pdu.enquire_link(1)]
    assert bad is not None


# ── packers and parsers ──────────────────────────────────────────────────────


@pytest.mark.parametrize("command", pdu.BINDS)
def test_bind_round_trips_and_smpplib_reads_it(command: int) -> None:
    fields = pdu.Bind("centauro", "secret", "VMA", 0x34, 1, 1, "^58")
    data = pdu.bind(command, 7, fields)
    assert pdu.HEADER.unpack_from(data) == (len(data), command, 0, 7)
    assert pdu.parse_bind(data[pdu.HEADER_SIZE :]) == fields
    theirs = smpplib_reads(data)
    assert (
        theirs.command
        == {1: "bind_receiver", 2: "bind_transmitter", 9: "bind_transceiver"}[command]
    )
    assert (theirs.system_id, theirs.password, theirs.system_type) == (
        b"centauro",
        b"secret",
        b"VMA",
    )
    assert (theirs.interface_version, theirs.sequence) == (0x34, 7)


def test_bind_fields_default_to_an_smpp_34_bind_with_no_address_range() -> None:
    fields = pdu.parse_bind(pdu.bind(pdu.BIND_TRANSMITTER, 1, pdu.Bind("a", "b", ""))[16:])
    assert fields == pdu.Bind("a", "b", "", 0x34, 0, 0, "")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"x" * 16 + b"\0pw\0\0\x34\0\0\0", Status.ESME_RINVSYSID),
        (b"id\0" + b"p" * 9 + b"\0\0\x34\0\0\0", Status.ESME_RINVPASWD),
        (b"id\0pw\0" + b"t" * 13 + b"\0\x34\0\0\0", Status.ESME_RINVCMDLEN),
        (b"id\0pw\0\0\x34", Status.ESME_RINVCMDLEN),
        (b"id\0pw\0\0\x34\0\0", Status.ESME_RINVCMDLEN),
    ],
)
def test_a_bind_body_that_overruns_a_field_says_which(body: bytes, status: Status) -> None:
    with pytest.raises(pdu.BadPdu) as caught:
        pdu.parse_bind(body)
    assert caught.value.status == status


def test_bind_resp_carries_the_system_id_and_interface_version_or_no_body() -> None:
    ok = pdu.bind_resp(pdu.BIND_TRANSCEIVER, Status.ESME_ROK, 3, "centauro-sim")
    assert pdu.HEADER.unpack_from(ok)[1:] == (pdu.BIND_TRANSCEIVER_RESP, 0, 3)
    assert pdu.leading_cstring(ok) == "centauro-sim"
    assert ok.endswith(struct.pack(">HHB", pdu.TLV_SC_INTERFACE_VERSION, 1, 0x34))
    assert smpplib_reads(ok).system_id == b"centauro-sim"
    refused = pdu.bind_resp(pdu.BIND_RECEIVER, Status.ESME_RINVPASWD, 4, "ignored")
    assert refused == struct.pack(">IIII", 16, pdu.BIND_RECEIVER_RESP, 0x0E, 4)
    assert pdu.leading_cstring(refused) == ""


def test_submit_sm_resp_and_its_error_form() -> None:
    ok = pdu.submit_sm_resp(11, "6b3a9f")
    assert pdu.HEADER.unpack_from(ok) == (len(ok), pdu.SUBMIT_SM_RESP, 0, 11)
    assert pdu.leading_cstring(ok) == "6b3a9f"
    assert smpplib_reads(ok).message_id == b"6b3a9f"
    error = pdu.submit_sm_error(12, Status.ESME_RTHROTTLED)
    assert error == struct.pack(">IIII", 16, pdu.SUBMIT_SM_RESP, 0x58, 12)
    assert smpplib_reads(error).status == 0x58


def test_leading_cstring_is_lenient_about_what_real_smscs_send() -> None:
    head = struct.pack(">IIII", 0, pdu.SUBMIT_SM_RESP, 0, 1)
    assert pdu.leading_cstring(head + b"12ab") == "12ab"  # no NUL
    assert pdu.leading_cstring(head + b"\0") == ""
    assert pdu.leading_cstring(head + b"12\0junk") == "12"
    assert pdu.leading_cstring(head + b"\xff\0") == "\ufffd"


@pytest.mark.parametrize("status", [Status.ESME_ROK, Status.ESME_RX_T_APPN])
def test_deliver_sm_resp_is_17_octets_and_says_so(status: Status) -> None:
    data = pdu.deliver_sm_resp(21, status)
    assert data == struct.pack(">IIII", 17, pdu.DELIVER_SM_RESP, status, 21) + b"\0"
    theirs = smpplib_reads(data)
    assert (theirs.command, theirs.status, theirs.sequence) == ("deliver_sm_resp", status, 21)
    assert pdu.Framer().feed(data) == ([data], None)


def test_the_body_less_pdus() -> None:
    assert pdu.enquire_link(5) == struct.pack(">IIII", 16, pdu.ENQUIRE_LINK, 0, 5)
    assert pdu.unbind(6) == struct.pack(">IIII", 16, pdu.UNBIND, 0, 6)
    assert pdu.response(pdu.ENQUIRE_LINK, 5) == struct.pack(
        ">IIII", 16, pdu.ENQUIRE_LINK_RESP, 0, 5
    )
    assert pdu.response(pdu.UNBIND, 6) == struct.pack(">IIII", 16, pdu.UNBIND_RESP, 0, 6)
    assert pdu.generic_nack(7, 3) == struct.pack(">IIII", 16, pdu.GENERIC_NACK, 3, 7)
    assert pdu.header(pdu.ENQUIRE_LINK, 0, 5) == pdu.enquire_link(5)
    for data, command in [
        (pdu.enquire_link(5), "enquire_link"),
        (pdu.unbind(6), "unbind"),
        (pdu.response(pdu.ENQUIRE_LINK, 5), "enquire_link_resp"),
        (pdu.response(pdu.UNBIND, 6), "unbind_resp"),
        (pdu.generic_nack(7, 3), "generic_nack"),
    ]:
        assert smpplib_reads(data).command == command


def test_the_simulator_sees_the_same_module() -> None:
    assert sim_pdu.Framer is pdu.Framer
    assert sim_pdu.Status is pdu.Status
