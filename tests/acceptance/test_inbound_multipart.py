"""Concatenated MO end to end: a real ``centauro smsc-sim`` sends a handset's long answer
in parts (UDH with 8- or 16-bit reference, or SAR TLVs; in order or not; one part never
sent), ``centauro serve`` joins them into one inbound message before the keywords, the
store and the ``message.inbound`` webhook, and keeps the parts.

One gateway per store serves the module; the reassembly wait is short (2 s) so a missing
part is given up on within the test.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from centauro.store import sql
from tests.acceptance.test_optout import (
    FAST,
    SHORT_CODE,
    Setup,
    connect,
    e164,
    eventually,
    send_one,
    suppressed,
    wait_suppressed,
)
from tests.support.php import ACCEPTED, running_gateway
from tests.support.smsc import start_smsc
from tests.support.webhook_receiver import Receiver, receiving

ENV = {
    **FAST,
    "CENTAURO_MO_REASSEMBLY_SECONDS": "2",
    "CENTAURO_WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver is on 127.0.0.1
    "CENTAURO_WEBHOOK_POLL_SECONDS": "0.1",
}
#: GSM-7, 153 < length <= 306: two parts.
LONG = (
    "Buenas tardes, quisiera saber si todavia tienen disponible la oferta de neveras que "
    "me enviaron ayer, y si hacen envios a San Cristobal o solo a Caracas. Muchas gracias, "
    "espero su respuesta!"
)
_numbers = itertools.count(2_000_000)
_refs = itertools.count(7)


def fresh_number() -> str:
    return f"0414{next(_numbers):07d}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    smsc = start_smsc(tmp_path_factory.mktemp("smsc"), dlr_delay=0)
    try:
        with running_gateway(request.param, tmp_path_factory, env=ENV) as gw:
            connect(gw, smsc)
            yield Setup(gw, smsc)
    finally:
        smsc.stop()


def _answer(setup: Setup, number: str, text: str, **concat: Any) -> None:
    concat.setdefault("ref", next(_refs) % 256)
    setup.smsc.inject_mo(e164(number).lstrip("+"), SHORT_CODE, text, **concat)


def _inbound(setup: Setup, number: str, count: int = 1) -> list[Any]:
    return eventually(
        lambda: rows if len(rows := setup.inbound_from(number)) >= count else None,
        f"{count} inbound message(s) from {number}",
    )


def _parts(setup: Setup, inbound_id: int) -> list[tuple[int, int]]:
    with setup.gw.db.read() as conn:
        rows = sql.fetchall(
            conn,
            "SELECT seq, total FROM inbound_parts WHERE inbound_id = :id ORDER BY seq",
            {"id": inbound_id},
        )
    return [(r[0], r[1]) for r in rows]


@pytest.mark.parametrize(
    ("concat", "order"),
    [("udh8", [1, 2]), ("udh16", [2, 1]), ("sar", [2, 1])],
)
def test_a_long_answer_in_parts_is_stored_once_joined(
    setup: Setup, concat: str, order: list[int]
) -> None:
    number = fresh_number()
    _answer(setup, number, LONG, concat=concat, order=order)
    [mo] = _inbound(setup, number)
    assert (mo.text, mo.parts, mo.complete) == (LONG, 2, True)
    assert _parts(setup, mo.id) == [(1, 2), (2, 2)]


def test_an_emoji_cut_between_two_ucs2_parts_comes_out_whole(setup: Setup) -> None:
    number = fresh_number()
    text = "¿Llegó mi pedido? 😀 gracias"
    # 38 octets: the cut falls between the two halves of the emoji's surrogate pair.
    assert len("¿Llegó mi pedido? ".encode("utf-16-be")) == 36
    _answer(setup, number, text, concat="udh8", coding="ucs2", part_octets=38, order=[2, 1])
    [mo] = _inbound(setup, number)
    assert (mo.text, mo.parts, mo.complete) == (text, 2, True)


def test_an_opt_out_spread_over_two_parts_suppresses_the_sender(setup: Setup) -> None:
    _shop, shop_php, shop_rest = setup.account()
    number = fresh_number()
    assert send_one(shop_php, number)["StatusText"] == ACCEPTED
    _answer(setup, number, "BAJA", concat="udh8", parts=["BA", "JA"], order=[2, 1])
    wait_suppressed(shop_rest, number)
    assert suppressed(shop_rest)[e164(number)]["source"] == "inbound"
    [mo] = _inbound(setup, number)
    assert (mo.text, mo.parts) == ("BAJA", 2)


def test_a_missing_part_is_given_up_on_and_what_arrived_is_stored(setup: Setup) -> None:
    _shop, shop_php, shop_rest = setup.account()
    number = fresh_number()
    send_one(shop_php, number)
    _answer(setup, number, "BAJA ya", concat="sar", parts=["BA", "JA", " ya"], order=[3, 1])
    [mo] = _inbound(setup, number)  # after the 2 s wait
    assert (mo.text, mo.parts, mo.complete) == ("BA ya", 2, False)
    assert _parts(setup, mo.id) == [(1, 3), (3, 3)]
    assert e164(number) not in suppressed(shop_rest)  # an incomplete text is not a keyword
    listed = shop_rest.get("/inbound").json()["data"]
    assert [(m["text"], m["parts"], m["complete"]) for m in listed] == [("BA ya", 2, False)]


def test_the_webhook_event_carries_the_joined_text(setup: Setup) -> None:
    _shop, shop_php, shop_rest = setup.account()
    number = fresh_number()
    send_one(shop_php, number)
    rx: Receiver
    with receiving() as rx:
        hook = shop_rest.post("/webhooks", json={"url": rx.url(), "events": ["message.inbound"]})
        assert hook.status_code == 201, hook.text
        _answer(setup, number, LONG, concat="udh16", order=[2, 1])
        rx.wait_for(lambda r: len(r.on("/hook")) == 1, 20, "the inbound event")
        [request] = rx.on("/hook")
    data = request.json["data"]
    assert (data["from"], data["text"], data["parts"], data["complete"]) == (
        e164(number),
        LONG,
        2,
        True,
    )
