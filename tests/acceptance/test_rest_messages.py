"""``/v1/messages`` end to end: a real ``centauro serve`` per store, raw HTTP (httpx).

Shapes and codes are docs/rest.md's. Each test opens its own accounts (directly in the
store, as ``centauro accounts create`` does) so tests share the server but not data.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest

from centauro.service import accounts as account_service
from tests.support.php import Gateway, running_gateway
from tests.support.server import Account

T = TypeVar("T")
FAST = {"CENTAURO_SANDBOX_DLR_DELAY": "0.1", "CENTAURO_RELOAD_SECONDS": "0.2"}
_numbers = itertools.count(1_000_000)


def fresh(prefix: str = "0414") -> str:
    return f"{prefix}{next(_numbers):07d}"


def e164(national: str) -> str:
    return "+58" + national.removeprefix("0")


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 15.0) -> T:
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return found


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory, env=FAST) as gateway:
        yield gateway


def call(gw: Gateway, account: Account | None, method: str, path: str, **kw: Any) -> httpx.Response:
    auth = (account.client_id, account.client_secret) if account else None
    return gw.http.request(method, path, auth=auth, **kw)


def send(gw: Gateway, account: Account, body: dict[str, Any], status: int = 202) -> dict[str, Any]:
    response = call(gw, account, "POST", "/v1/messages", json=body)
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


def get(gw: Gateway, account: Account, path: str, **params: Any) -> dict[str, Any]:
    response = call(gw, account, "GET", path, params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def balance(gw: Gateway, account: Account) -> int:
    with gw.db.read() as conn:
        return account_service.get(conn, account.client_id).balance


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"] == f"https://centauro.dev/problems/{code}"
    assert body["title"]
    return body


# --- sending ------------------------------------------------------------------------------


def test_send_to_one_number_answers_202_with_the_queued_message(gw: Gateway) -> None:
    account = gw.account(10)
    number = fresh()
    answer = send(gw, account, {"to": number, "text": "Su codigo es 4521", "reference": "p-42"})
    [message] = answer["messages"]
    assert message["id"].isdecimal()
    assert message == {
        "id": message["id"],
        "to": e164(number),
        "status": "queued",
        "error": None,
        "segments": 1,
        "encoding": "gsm7",
        "cost": 1,
        "reference": "p-42",
    }
    assert (answer["cost"], answer["balance"]) == (1, 9)
    assert balance(gw, account) == 9


def test_invalid_and_duplicate_recipients_are_rejected_at_no_cost(gw: Gateway) -> None:
    account = gw.account(10)
    number = fresh()
    answer = send(
        gw, account, {"to": [number, "0212123", e164(number), "+573001234567"], "text": "Hola"}
    )
    rows = [(m["to"], m["status"], m["error"], m["cost"]) for m in answer["messages"]]
    assert rows == [
        (e164(number), "queued", None, 1),
        ("0212123", "rejected", "invalid_number", 0),
        (e164(number), "rejected", "duplicate", 0),
        ("+573001234567", "queued", None, 1),
    ]
    assert [m["id"] is None for m in answer["messages"]] == [False, True, True, False]
    assert (answer["cost"], answer["balance"]) == (2, 8)


def test_a_long_unicode_text_costs_its_segments(gw: Gateway) -> None:
    account = gw.account(10)
    answer = send(gw, account, {"to": fresh(), "text": "á" * 71})
    [message] = answer["messages"]
    assert (message["encoding"], message["segments"], message["cost"]) == ("ucs2", 2, 2)


def test_no_valid_recipient_is_422(gw: Gateway) -> None:
    account = gw.account(10)
    response = call(gw, account, "POST", "/v1/messages", json={"to": ["0212123"], "text": "x"})
    assert_problem(response, 422, "no_valid_recipient")
    assert balance(gw, account) == 10


def test_credits_short_is_402_and_nothing_is_sent(gw: Gateway) -> None:
    account = gw.account(1)
    body = {"to": [fresh(), fresh()], "text": "Hola", "reference": "short-402"}
    problem = assert_problem(
        call(gw, account, "POST", "/v1/messages", json=body), 402, "insufficient_credits"
    )
    assert (problem["needed"], problem["available"]) == (2, 1)
    assert balance(gw, account) == 1
    assert get(gw, account, "/v1/messages", reference="short-402")["data"] == []


@pytest.mark.parametrize(
    "auth",
    [None, ("nobody", "nothing"), "wrong-secret", "Bearer abc", "Basic !!!"],
    ids=["missing", "unknown", "wrong-secret", "bearer", "malformed"],
)
def test_missing_or_wrong_credentials_are_401(gw: Gateway, auth: Any) -> None:
    account = gw.account(10)
    headers = {}
    basic: tuple[str, str] | None = None
    if auth == "wrong-secret":
        basic = (account.client_id, account.client_secret + "x")
    elif isinstance(auth, tuple):
        basic = auth
    elif isinstance(auth, str):
        headers["Authorization"] = auth
    response = gw.http.post(
        "/v1/messages", json={"to": fresh(), "text": "x"}, auth=basic, headers=headers
    )
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Basic realm="centauro"'
    assert balance(gw, account) == 10


BAD_BODIES: dict[str, Any] = {
    "to-number": {"to": 4141234567, "text": "x"},
    "to-empty-list": {"to": [], "text": "x"},
    "to-list-of-numbers": {"to": [4141234567], "text": "x"},
    "text-missing": {"to": "04141234567"},
    "text-empty": {"to": "04141234567", "text": ""},
    "text-number": {"to": "04141234567", "text": 42},
    "naive-schedule": {"to": "04141234567", "text": "x", "schedule_at": "2030-01-01T09:00:00"},
    "schedule-number": {"to": "04141234567", "text": "x", "schedule_at": 1893488400},
    "validity-low": {"to": "04141234567", "text": "x", "validity_period": 59},
    "validity-high": {"to": "04141234567", "text": "x", "validity_period": 604801},
    "validity-string": {"to": "04141234567", "text": "x", "validity_period": "3600"},
    "category": {"to": "04141234567", "text": "x", "category": "promo"},
    "callback-ftp": {"to": "04141234567", "text": "x", "callback_url": "ftp://example.com/x"},
    "callback-long": {
        "to": "04141234567",
        "text": "x",
        "callback_url": "https://example.com/" + "a" * 2000,
    },
    "reference-long": {"to": "04141234567", "text": "x", "reference": "r" * 201},
    "unknown-field": {"to": "04141234567", "text": "x", "schedule": "2030-01-01T09:00:00Z"},
    "not-an-object": ["04141234567"],
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_bodies_are_422_validation_errors(gw: Gateway, body: Any) -> None:
    account = gw.account(10)
    problem = assert_problem(
        call(gw, account, "POST", "/v1/messages", json=body), 422, "validation_error"
    )
    assert problem["errors"]
    assert all(issue["loc"][0] == "body" and issue["msg"] for issue in problem["errors"])
    assert balance(gw, account) == 10


@pytest.mark.parametrize("content", [b"{not json", b""], ids=["invalid-json", "empty"])
def test_a_body_that_is_not_json_is_422(gw: Gateway, content: bytes) -> None:
    account = gw.account(10)
    headers = {"Content-Type": "application/json"}
    response = call(gw, account, "POST", "/v1/messages", content=content, headers=headers)
    assert_problem(response, 422, "validation_error")


def test_text_with_control_characters_is_422_invalid_text(gw: Gateway) -> None:
    account = gw.account(10)
    response = call(gw, account, "POST", "/v1/messages", json={"to": fresh(), "text": "a\x07b"})
    assert_problem(response, 422, "invalid_text")


def test_batch_sends_each_recipient_its_own_text(gw: Gateway) -> None:
    account = gw.account(10)
    a, b = fresh(), fresh()
    body = {
        "messages": [
            {"to": a, "text": "Hola Ana", "reference": "ana"},
            {"to": a, "text": "Otra cosa, Ana"},
            {"to": b, "text": "Hola Beto"},
            {"to": a, "text": "Hola Ana"},
            {"to": "123", "text": "Hola"},
        ],
        "validity_period": 600,
    }
    response = call(gw, account, "POST", "/v1/messages/batch", json=body)
    assert response.status_code == 202, response.text
    answer = response.json()
    rows = [(m["to"], m["status"], m["error"], m["reference"]) for m in answer["messages"]]
    assert rows == [
        (e164(a), "queued", None, "ana"),
        (e164(a), "queued", None, None),
        (e164(b), "queued", None, None),
        (e164(a), "rejected", "duplicate", None),
        ("123", "rejected", "invalid_number", None),
    ]
    first = get(gw, account, f"/v1/messages/{answer['messages'][1]['id']}")
    assert first["text"] == "Otra cosa, Ana"
    assert answer["cost"] == 3


@pytest.mark.parametrize(
    "body",
    [{"messages": []}, {"messages": [{"to": "04141234567"}]}, {"messages": "x"}, {}],
    ids=["empty", "no-text", "not-a-list", "no-messages"],
)
def test_bad_batches_are_422(gw: Gateway, body: dict[str, Any]) -> None:
    account = gw.account(10)
    response = call(gw, account, "POST", "/v1/messages/batch", json=body)
    assert_problem(response, 422, "validation_error")


# --- reading ------------------------------------------------------------------------------


def test_get_returns_the_message_and_another_account_gets_404(gw: Gateway) -> None:
    owner, stranger = gw.account(10), gw.account(10)
    number = fresh()
    [sent] = send(gw, owner, {"to": number, "text": "Privado", "reference": "r-1"})["messages"]
    message = get(gw, owner, f"/v1/messages/{sent['id']}")
    assert {k: message[k] for k in ("id", "to", "text", "reference", "category", "cost")} == {
        "id": sent["id"],
        "to": e164(number),
        "text": "Privado",
        "reference": "r-1",
        "category": "transactional",
        "cost": 1,
    }
    assert datetime.fromisoformat(message["created_at"]).utcoffset() == timedelta(0)
    assert datetime.fromisoformat(message["expires_at"]) > datetime.fromisoformat(
        message["created_at"]
    )
    response = call(gw, stranger, "GET", f"/v1/messages/{sent['id']}")
    assert_problem(response, 404, "not_found")
    assert_problem(call(gw, stranger, "DELETE", f"/v1/messages/{sent['id']}"), 404, "not_found")
    assert get(gw, stranger, "/v1/messages", reference="r-1")["data"] == []


@pytest.mark.parametrize("message_id", ["0", "abc", "99999999999", "9" * 30, "-1", "1.5"])
def test_a_message_id_that_is_no_message_is_404(gw: Gateway, message_id: str) -> None:
    account = gw.account(1)
    assert_problem(call(gw, account, "GET", f"/v1/messages/{message_id}"), 404, "not_found")


def test_delivery_shows_in_the_message(gw: Gateway) -> None:
    account = gw.account(10)
    [sent] = send(gw, account, {"to": fresh(), "text": "Hola"})["messages"]
    done = eventually(
        lambda: (
            (m := get(gw, account, f"/v1/messages/{sent['id']}"))["status"] == "delivered" and m
        ),
        "delivered",
    )
    assert done["connector"] == "sandbox"
    assert done["sent_at"]
    assert done["done_at"]


# --- listing and paging -------------------------------------------------------------------


def _all_pages(gw: Gateway, account: Account, limit: int, **filters: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        params = {**filters, "limit": limit, **({"cursor": cursor} if cursor else {})}
        page = get(gw, account, "/v1/messages", **params)
        pages.append([m["id"] for m in page["data"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50


@pytest.fixture(scope="module")
def listed(gw: Gateway) -> dict[str, Any]:
    """120 messages of one account: 60 sent now, then 60 scheduled for an hour ahead; 40
    numbers with three texts each; the first 30 of each half carry reference "grupo-a"."""
    account = gw.account(1000)
    numbers = [fresh() for _ in range(40)]
    ids: list[str] = []
    times: list[datetime] = []
    for half in range(2):
        times.append(datetime.now(UTC))
        items = [
            {
                "to": numbers[(half * 60 + i) % 40],
                "text": f"mensaje {half * 60 + i}",
                "reference": "grupo-a" if i < 30 else f"ref-{half * 60 + i}",
            }
            for i in range(60)
        ]
        extra = (
            {"schedule_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()} if half else {}
        )
        response = call(
            gw, account, "POST", "/v1/messages/batch", json={"messages": items, **extra}
        )
        assert response.status_code == 202, response.text
        ids.extend(m["id"] for m in response.json()["messages"])
        time.sleep(0.05)
    return {"account": account, "ids": ids, "numbers": numbers, "times": times}


def test_paging_walks_all_120_messages_newest_first(gw: Gateway, listed: dict[str, Any]) -> None:
    pages = _all_pages(gw, listed["account"], 50)
    assert [len(p) for p in pages] == [50, 50, 20]
    flat = [i for p in pages for i in p]
    assert flat == sorted(listed["ids"], key=int, reverse=True)
    assert _all_pages(gw, listed["account"], 1000) == [flat]
    assert [len(p) for p in _all_pages(gw, listed["account"], 120)] == [120]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "scheduled"}, lambda ids, n: ids[60:]),
        ({"reference": "grupo-a"}, lambda ids, n: ids[:30] + ids[60:90]),
        ({"to": "NUMBER"}, lambda ids, n: [ids[i] for i in range(120) if i % 40 == 7]),
        ({"since": "T1"}, lambda ids, n: ids[60:]),
        ({"until": "T1"}, lambda ids, n: ids[:60]),
        ({"status": "scheduled", "reference": "grupo-a"}, lambda ids, n: ids[60:90]),
    ],
    ids=["status", "reference", "to", "since", "until", "status+reference"],
)
def test_each_filter_pages_through_its_messages(
    gw: Gateway, listed: dict[str, Any], filters: dict[str, str], expected: Any
) -> None:
    resolved = dict(filters)
    if resolved.get("to") == "NUMBER":  # the national form, as a user types it
        resolved["to"] = listed["numbers"][7]
    for name in ("since", "until"):
        if resolved.get(name) == "T1":
            resolved[name] = listed["times"][1].isoformat()
    want = sorted(expected(listed["ids"], listed["numbers"]), key=int, reverse=True)
    pages = _all_pages(gw, listed["account"], 7, **resolved)
    assert [i for p in pages for i in p] == want
    assert all(len(p) == 7 for p in pages[:-1])


def test_the_to_filter_takes_the_number_in_any_form(gw: Gateway, listed: dict[str, Any]) -> None:
    number = listed["numbers"][3]
    forms = [
        number,
        e164(number),
        number.removeprefix("0"),
        "+58 " + number[1:4] + "-" + number[4:],
    ]
    found = [
        [m["id"] for m in get(gw, listed["account"], "/v1/messages", to=f)["data"]] for f in forms
    ]
    assert all(f == found[0] for f in found)
    assert len(found[0]) == 3


@pytest.mark.parametrize(
    "params",
    [
        {"status": "lost"},
        {"limit": 0},
        {"limit": 1001},
        {"since": "2026-01-01T00:00:00"},
        {"cursor": "garbage"},
        {"to": "hello"},
    ],
    ids=["status", "limit-0", "limit-1001", "naive-since", "cursor", "to"],
)
def test_bad_list_parameters_are_422(gw: Gateway, params: dict[str, Any]) -> None:
    account = gw.account(1)
    response = call(gw, account, "GET", "/v1/messages", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["code"] in {"validation_error", "invalid_request", "invalid_number"}


def test_a_cursor_of_another_list_is_refused(gw: Gateway, listed: dict[str, Any]) -> None:
    account = listed["account"]
    ledger_cursor = get(gw, account, "/v1/ledger", limit=1)["next_cursor"]
    assert ledger_cursor
    response = call(gw, account, "GET", "/v1/messages", params={"cursor": ledger_cursor})
    assert_problem(response, 422, "invalid_request")


# --- scheduling and cancelling ------------------------------------------------------------


def test_a_scheduled_message_is_scheduled_then_sent(gw: Gateway) -> None:
    account = gw.account(10)
    when = datetime.now(UTC) + timedelta(seconds=2)
    answer = send(gw, account, {"to": fresh(), "text": "Luego", "schedule_at": when.isoformat()})
    [sent] = answer["messages"]
    assert sent["status"] == "scheduled"
    waiting = get(gw, account, f"/v1/messages/{sent['id']}")
    assert waiting["status"] == "scheduled"
    assert datetime.fromisoformat(waiting["scheduled_for"]) == when
    done = eventually(
        lambda: (
            (m := get(gw, account, f"/v1/messages/{sent['id']}"))["status"]
            in {"queued", "sent", "delivered"}
            and m
        ),
        "released",
        timeout=10,
    )
    assert datetime.now(UTC) >= when
    assert done["scheduled_for"] is None


def test_cancelling_a_scheduled_message_refunds_it(gw: Gateway) -> None:
    account = gw.account(10)
    when = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    [sent] = send(gw, account, {"to": fresh(), "text": "Cancelable", "schedule_at": when})[
        "messages"
    ]
    assert balance(gw, account) == 9
    response = call(gw, account, "DELETE", f"/v1/messages/{sent['id']}")
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert (cancelled["id"], cancelled["status"]) == (sent["id"], "cancelled")
    assert balance(gw, account) == 10
    assert get(gw, account, "/v1/balance") == {"balance": 10}
    refund = get(gw, account, "/v1/ledger", limit=1)["data"][0]
    assert (refund["kind"], refund["amount"], refund["message_id"], refund["balance_after"]) == (
        "refund",
        1,
        sent["id"],
        10,
    )
    again = call(gw, account, "DELETE", f"/v1/messages/{sent['id']}")
    assert_problem(again, 409, "conflict")
    assert balance(gw, account) == 10


def test_cancelling_a_delivered_message_is_409(gw: Gateway) -> None:
    account = gw.account(10)
    [sent] = send(gw, account, {"to": fresh(), "text": "Ya se fue"})["messages"]
    eventually(
        lambda: get(gw, account, f"/v1/messages/{sent['id']}")["status"] == "delivered",
        "delivered",
    )
    assert_problem(call(gw, account, "DELETE", f"/v1/messages/{sent['id']}"), 409, "conflict")
    assert balance(gw, account) == 9


def test_a_schedule_more_than_a_year_ahead_is_refused(gw: Gateway) -> None:
    account = gw.account(10)
    when = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    response = call(
        gw, account, "POST", "/v1/messages", json={"to": fresh(), "text": "x", "schedule_at": when}
    )
    assert_problem(response, 422, "invalid_request")
