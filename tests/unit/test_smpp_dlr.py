"""Delivery receipts: the free-form text, the TLVs, and which of them wins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from centauro.connectors.base import Receipt
from centauro.connectors.smpp import dlr
from centauro.domain.states import MessageState

STANDARD = (
    "id:0012345678 sub:001 dlvrd:001 submit date:2601151200 done date:2601151201 "
    "stat:DELIVRD err:000 text:Hola mundo"
)


def parse(text: str, tlvs: dict[int, bytes] | None = None) -> Receipt | None:
    return dlr.parse_receipt("movil", text, tlvs or {})


def test_standard_receipt_text_becomes_a_receipt() -> None:
    assert parse(STANDARD) == Receipt(
        "movil",
        "0012345678",  # leading zeros kept: matching is delivery's job
        MessageState.DELIVERED,
        None,  # err:000 is "no error"
        datetime(2026, 1, 15, 12, 1, tzinfo=UTC),
    )


def test_keys_match_in_any_case_and_any_order_with_fields_missing() -> None:
    receipt = parse("STAT:UNDELIV ERR:034 Id:ab12cd")
    assert receipt == Receipt("movil", "ab12cd", MessageState.UNDELIVERED, "034", None)


def test_text_field_may_contain_anything_including_other_keys() -> None:
    receipt = parse("id:77 stat:DELIVRD err:000 text:stat:UNDELIV id:99 err:1 done date:0")
    assert receipt is not None
    assert (receipt.carrier_id, receipt.state, receipt.error) == (
        "77",
        MessageState.DELIVERED,
        None,
    )


def test_keys_after_a_leading_text_field_are_still_read() -> None:
    receipt = parse("text:Hola id:5 stat:EXPIRED")
    assert receipt is not None
    assert (receipt.carrier_id, receipt.state) == ("5", MessageState.EXPIRED)


def test_underscored_date_keys_and_seconds_are_understood() -> None:
    receipt = parse("id:1 submit_date:2601151200 done_date:260115120159 stat:DELIVRD")
    assert receipt is not None
    assert receipt.done_at == datetime(2026, 1, 15, 12, 1, 59, tzinfo=UTC)


@pytest.mark.parametrize("done", ["", "26011512", "2613151201", "abcdefghij"])
def test_malformed_done_dates_are_tolerated(done: str) -> None:
    receipt = parse(f"id:1 done date:{done} stat:DELIVRD")
    assert receipt is not None
    assert receipt.done_at is None


@pytest.mark.parametrize(
    ("stat", "state"),
    [
        ("DELIVRD", MessageState.DELIVERED),
        ("UNDELIV", MessageState.UNDELIVERED),
        ("EXPIRED", MessageState.EXPIRED),
        ("REJECTD", MessageState.REJECTED),
        ("DELETED", MessageState.UNDELIVERED),
        ("UNKNOWN", MessageState.UNDELIVERED),
        ("delivrd", MessageState.DELIVERED),
    ],
)
def test_final_stat_words_map_to_states(stat: str, state: MessageState) -> None:
    receipt = parse(f"id:1 stat:{stat}")
    assert receipt is not None
    assert receipt.state is state


@pytest.mark.parametrize("stat", ["ENROUTE", "ACCEPTD"])
def test_intermediate_reports_are_not_receipts(stat: str) -> None:
    assert parse(f"id:1 stat:{stat} err:000") is None


def test_tlvs_win_over_the_text() -> None:
    tlvs = {dlr.TLV_RECEIPTED_MESSAGE_ID: b"ABC123\x00", dlr.TLV_MESSAGE_STATE: b"\x05"}
    receipt = parse("id:999 stat:DELIVRD err:000", tlvs)
    assert receipt is not None
    assert (receipt.carrier_id, receipt.state) == ("ABC123", MessageState.UNDELIVERED)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (2, MessageState.DELIVERED),
        (3, MessageState.EXPIRED),
        (4, MessageState.UNDELIVERED),
        (5, MessageState.UNDELIVERED),
        (7, MessageState.UNDELIVERED),
        (8, MessageState.REJECTED),
        (1, None),
        (6, None),
    ],
)
def test_message_state_tlv_alone_is_enough(state: int, expected: MessageState | None) -> None:
    tlvs = {dlr.TLV_RECEIPTED_MESSAGE_ID: b"42\x00", dlr.TLV_MESSAGE_STATE: bytes([state])}
    receipt = parse("", tlvs)
    assert (receipt.state if receipt else None) is expected


def test_network_error_tlv_is_the_error_when_the_text_has_none() -> None:
    tlvs = {dlr.TLV_MESSAGE_STATE: b"\x05", dlr.TLV_NETWORK_ERROR_CODE: b"\x03\x00\x22"}
    receipt = parse("id:9", tlvs)
    assert receipt is not None
    assert receipt.error == "network:3:34"


def test_receipt_without_an_id_or_with_an_unknown_state_is_refused() -> None:
    with pytest.raises(dlr.BadReceipt, match="id"):
        parse("stat:DELIVRD")
    with pytest.raises(dlr.BadReceipt, match="SENT"):
        parse("id:1 stat:SENT")


@pytest.mark.parametrize(
    ("esm_class", "tags", "expected"),
    [
        (0x04, [], True),
        (0x20, [], True),  # intermediate notification: parsed, then dropped as not final
        (0x00, [dlr.TLV_RECEIPTED_MESSAGE_ID], True),
        (0x00, [], False),
        (0x40, [], False),  # an MO with a UDH
    ],
)
def test_receipts_are_told_from_mo_messages(
    esm_class: int, tags: list[int], expected: bool
) -> None:
    assert dlr.is_receipt(esm_class, tags) is expected
