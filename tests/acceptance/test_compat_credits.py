"""Credits: one per segment per recipient, all or nothing, and the ledger that explains them.

PROTOCOL.md, "Decisions" / "Credits", checked through the compat API of a real server:
the balance is read back with ``sms_disponibles``, the ledger with the CLI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.support.php import (
    ACCEPTED,
    DUPLICATE_NUMBER,
    ERROR,
    FORM,
    INVALID_NUMBER,
    Gateway,
    PhpClient,
    assert_protocol_error,
    datos,
    http_build_query,
    json_encode,
    message_ids,
    php_field,
    recipient,
    running_gateway,
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory) as gateway:
        yield gateway


SPANISH_GSM7 = "éñü¿¡ÉÑÜ"  # in the GSM 03.38 alphabet: they do not force UCS-2

SEGMENTS = [
    pytest.param("a" * 160, "gsm7", 1, id="160 GSM-7 chars = 1"),
    pytest.param("a" * 161, "gsm7", 2, id="161 GSM-7 chars = 2"),
    pytest.param("a" * 306, "gsm7", 2, id="306 GSM-7 chars = 2"),
    pytest.param("a" * 307, "gsm7", 3, id="307 GSM-7 chars = 3"),
    pytest.param("a" * 1530, "gsm7", 10, id="1530 GSM-7 chars = 10"),
    pytest.param("á" + "a" * 69, "ucs2", 1, id="70 chars with á = 1"),
    pytest.param("í" + "a" * 70, "ucs2", 2, id="71 chars with í = 2"),
    pytest.param("ó" * 134, "ucs2", 2, id="134 UCS-2 chars = 2"),
    pytest.param("ú" * 135, "ucs2", 3, id="135 UCS-2 chars = 3"),
    pytest.param((SPANISH_GSM7 * 20)[:160], "gsm7", 1, id="160 of é ñ ü ¿ ¡ = 1"),
    pytest.param((SPANISH_GSM7 * 21)[:161], "gsm7", 2, id="161 of é ñ ü ¿ ¡ = 2"),
    pytest.param("a" * 158 + "€", "gsm7", 1, id="158 a + euro = 160 septets = 1"),
    pytest.param("a" * 159 + "€", "gsm7", 2, id="159 a + euro = 161 septets = 2"),
    pytest.param("[" * 80, "gsm7", 1, id="80 brackets = 160 septets = 1"),
    # Parts hold 153 septets and an escape pair is never cut: the euro sign that would
    # straddle the first cut moves whole to part 2, so 306 septets need 3 parts.
    pytest.param("a" * 152 + "€" + "a" * 152, "gsm7", 3, id="euro at a part boundary = 3"),
    pytest.param("😀" * 35, "ucs2", 1, id="35 emoji = 70 UTF-16 units = 1"),
    pytest.param("😀" * 36, "ucs2", 2, id="36 emoji = 72 UTF-16 units = 2"),
]


@pytest.mark.parametrize(("text", "encoding", "segments"), SEGMENTS)
def test_a_message_costs_one_credit_per_segment(
    gw: Gateway, text: str, encoding: str, segments: int
) -> None:
    c = gw.new_client(20)
    response = c.send(["04140000000"], text)
    [row] = datos(response)
    assert row["StatusText"] == ACCEPTED
    assert row["Msg"] == text
    assert c.balance() == 20 - segments
    message = gw.stored(c.client_id)[int(row["Messageid"])]
    assert (message.encoding, message.segments, message.cost) == (encoding, segments, segments)


def test_a_request_costs_recipients_times_segments(gw: Gateway) -> None:
    c = gw.new_client(100)
    rows = datos(c.send(["04140000001", "04140000002", "04240000003", "3001234567"], "a" * 307))
    assert [r["StatusText"] for r in rows] == [ACCEPTED] * 4
    assert c.balance() == 100 - 4 * 3


def test_send_rejects_whole_request_when_credits_do_not_cover_all(gw: Gateway) -> None:
    c = gw.new_client(5)
    two_segments = "b" * 200
    response = c.send(["04140000001", "04140000002", "04140000003"], two_segments)
    assert_protocol_error(response, "305")
    assert c.balance() == 5
    assert gw.stored(c.client_id) == {}
    # One recipient fewer fits, and is then charged in full.
    rows = datos(c.send(["04140000001", "04140000002"], two_segments))
    assert [r["StatusText"] for r in rows] == [ACCEPTED] * 2
    assert c.balance() == 1


def test_personalizado_is_all_or_nothing_over_every_text(gw: Gateway) -> None:
    c = gw.new_client(4)
    js = json_encode(
        [
            recipient("04140000001", msg="corto"),  # 1
            recipient("04140000002", msg="c" * 161),  # 2
            recipient("04140000003", msg="á" * 71),  # 2
        ]
    )
    assert_protocol_error(c.set_sms_send_personalizado(js), "305")
    assert c.balance() == 4
    assert gw.stored(c.client_id) == {}
    gw.topup(c.client_id, 1)
    rows = datos(c.set_sms_send_personalizado(js))
    assert [r["StatusText"] for r in rows] == [ACCEPTED] * 3
    assert c.balance() == 0


def test_credits_exactly_covering_the_request_are_all_spent(gw: Gateway) -> None:
    c = gw.new_client(6)
    rows = datos(c.send(["04140000001", "04140000002", "04140000003"], "d" * 200))
    assert len(rows) == 3
    assert c.balance() == 0
    assert_protocol_error(c.send(["04140000001"], "uno mas"), "305")
    assert c.balance() == 0


def test_invalid_and_duplicate_recipients_cost_nothing(gw: Gateway) -> None:
    # 4 credits pay for the 2 valid recipients of a 2-segment text; the 3 invalid and 2
    # duplicate entries must not be counted, or this request would be refused with 305.
    c = gw.new_client(4)
    given = ["04140000001", "123", "584140000001", "04140000002", "", "+58 414 000 0002", "x"]
    rows = datos(c.send(given, "e" * 161))
    assert [r["StatusText"] for r in rows] == [
        ACCEPTED,
        INVALID_NUMBER,
        DUPLICATE_NUMBER,
        ACCEPTED,
        INVALID_NUMBER,
        DUPLICATE_NUMBER,
        INVALID_NUMBER,
    ]
    assert c.balance() == 0
    assert len(gw.stored(c.client_id)) == 2


def test_get_http_charges_like_post(gw: Gateway) -> None:
    c = gw.new_client(10)
    datos(c.http_get("client_opcion=send_sms&num=04140000001,04140000002&msg=" + "f" * 161))
    assert c.balance() == 10 - 2 * 2


def test_balance_after_is_balance_before_minus_cost_and_the_ledger_adds_up(gw: Gateway) -> None:
    c = gw.new_client(100)
    costs = []
    for cels, text in [
        (["04140000001"], "uno"),
        (["04140000001", "04140000002", "123"], "g" * 161),
        (["04140000001", "04140000001"], "á" * 71),
    ]:
        before = c.balance()
        ids = [i for i in message_ids(c.send(cels, text)) if i]
        cost = before - c.balance()
        costs.append((cost, ids))
    assert [cost for cost, _ in costs] == [1, 4, 2]
    ten_numbers = [f"041400000{i:02d}" for i in range(10)]
    assert_protocol_error(c.send(ten_numbers, "h" * 1530), "305")  # 100 credits > 93
    gw.topup(c.client_id, 15)
    assert c.balance() == 100 - 7 + 15

    ledger = sorted(gw.ledger(c.client_id), key=lambda row: row["id"])
    assert sum(row["amount"] for row in ledger) == c.balance() == 108
    assert [(row["kind"], row["amount"]) for row in ledger] == [
        ("topup", 100),
        ("charge", -1),
        ("charge", -4),
        ("charge", -2),
        ("topup", 15),
    ]
    assert [row["balance_after"] for row in ledger] == [100, 99, 95, 93, 108]
    charges = [row for row in ledger if row["kind"] == "charge"]
    assert [row["messages"] for row in charges] == [len(ids) for _, ids in costs]
    assert [str(row["message_id"]) for row in charges] == [ids[0] for _, ids in costs]


def test_concurrent_sends_never_overspend(gw: Gateway) -> None:
    c = gw.new_client(50)
    body = http_build_query(
        c.credentials(
            json=php_field(json_encode(recipient("04140000000"))),
            msg=php_field("carrera"),
            client_opcion="send_sms",
        )
    )

    async def race() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=gw.url, timeout=60, limits=limits) as http:
            return await asyncio.gather(
                *(
                    http.post("/controllersms/", content=body, headers={"Content-Type": FORM})
                    for _ in range(100)
                )
            )

    responses = asyncio.run(race())
    assert {r.status_code for r in responses} == {200}
    rejected = [r for r in responses if r.content == ERROR["305"]]
    accepted = [r for r in responses if r.content != ERROR["305"]]
    assert (len(accepted), len(rejected)) == (50, 50)
    ids = [datos(r)[0]["Messageid"] for r in accepted]
    assert len(set(ids)) == 50
    assert c.balance() == 0
    listed = gw.messages_cli(c.client_id)
    assert sorted(str(m["id"]) for m in listed) == sorted(ids)


def test_a_message_the_carrier_refuses_fails_and_is_refunded(gw: Gateway) -> None:
    c = gw.new_client(10)
    [ok, refused] = message_ids(c.send(["04140000001", "04149999999"], "i" * 200))
    gw.wait_for_status(refused, {"failed"})
    gw.wait_for_status(ok, {"delivered"})
    assert c.balance() == 8
    ledger = sorted(gw.ledger(c.client_id), key=lambda row: row["id"])
    assert [(row["kind"], row["amount"]) for row in ledger] == [
        ("topup", 10),
        ("charge", -4),
        ("refund", 2),
    ]
    assert str(ledger[-1]["message_id"]) == refused
    assert ledger[-1]["balance_after"] == 8
    assert sum(row["amount"] for row in ledger) == 8


def test_an_undelivered_message_is_not_refunded(gw: Gateway) -> None:
    c = gw.new_client(10)
    [mid] = message_ids(c.send(["04149999998"], "sin entrega"))
    message = gw.wait_for_message(mid, {"undelivered", "delivered", "failed"})
    assert message["status"] == "undelivered"
    assert message["sent_at"] is not None
    assert message["done_at"] is not None
    assert c.balance() == 9


def test_every_rejection_leaves_the_balance_alone(gw: Gateway) -> None:
    c = gw.new_client(3)
    wrong = PhpClient(gw.http, c.client_id, "wrong")
    assert_protocol_error(wrong.send(["04140000000"], "x"), "301")
    assert_protocol_error(c.send(["123"], "x"), "304")
    assert_protocol_error(c.send(["04140000000"], "x\x00"), "304")
    assert_protocol_error(c.send(["04140000000"], "x" * 1531), "304")
    assert_protocol_error(c.send(["04140000000", "04140000001"], "x" * 200), "305")
    assert c.balance() == 3
    assert gw.stored(c.client_id) == {}
