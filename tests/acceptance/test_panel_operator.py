"""The operator's pages against real ``centauro serve`` processes: the dashboard, accounts
(create, top up, disable, rotate, limits, invite), message search, detail and CSV."""

from __future__ import annotations

import csv
import io
import itertools
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from centauro.service import messages as message_service
from centauro.store import summaries as summary_store
from tests.support.panel import Panel, csrf_of, ready_user, report_csv, report_row, shown
from tests.support.php import Gateway, running_gateway
from tests.support.server import Account

_numbers = itertools.count(5_000_000)


def fresh() -> str:
    return f"0414{next(_numbers):07d}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def op(gw: Gateway) -> Iterator[Panel]:
    panel = Panel(gw.url).signed_in(ready_user(gw.url, gw.db))
    yield panel
    panel.close()


def send(gw: Gateway, account: Account, to: str, text: str = "Hola") -> int:
    answer = gw.http.post(
        "/v1/messages",
        json={"to": to, "text": text},
        auth=(account.client_id, account.client_secret),
    )
    assert answer.status_code == 202, answer.text
    return int(answer.json()["messages"][0]["id"])


def stat(html: str, name: str) -> int:
    found = re.search(rf'id="stat-{name}">([\d.]+)<', html)
    assert found, html
    return int(found.group(1).replace(".", ""))


def balance_of(gw: Gateway, account: Account) -> int:
    answer = gw.http.get("/v1/balance", auth=(account.client_id, account.client_secret))
    assert answer.status_code == 200, answer.text
    return int(answer.json()["balance"])


def test_dashboard_counts_today_and_draws_the_last_30_days(gw: Gateway, op: Panel) -> None:
    before = op.get("/panel/")
    assert before.status_code == 200
    account = gw.account(100)
    for _ in range(3):
        send(gw, account, fresh())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        after = op.get("/panel/").text
        if stat(after, "delivered") >= stat(before.text, "delivered") + 3:
            break
        time.sleep(0.2)
    assert stat(after, "accepted") == stat(before.text, "accepted") + 3
    assert stat(after, "delivered") == stat(before.text, "delivered") + 3
    assert stat(after, "sold") >= 100  # the new account's initial credits, sold today
    assert after.count("<g><title>") == 30
    assert '<svg class="chart"' in after
    assert "sandbox" in after  # the connector, from the same status as /health
    assert "conectada" in after


def test_operator_creates_an_account_and_sees_its_secret_once(gw: Gateway, op: Panel) -> None:
    made = op.post_form(
        "/panel/accounts/new",
        {"name": "Panadería La Espiga", "credits": "1.500", "country": "CO"},
        action="/panel/accounts",
    )
    assert made.status_code == 200, made.text
    client_id = shown(made.text, "client-id")
    secret = shown(made.text, "client-secret")
    account = Account(client_id, secret)
    assert balance_of(gw, account) == 1500
    page = op.get(f"/panel/accounts/{client_id}")
    assert page.status_code == 200
    assert "Panadería La Espiga" in page.text
    assert "1.500" in page.text
    assert secret not in page.text
    assert "Panadería La Espiga" in op.get("/panel/accounts").text


def test_account_form_errors_are_spanish_sentences(op: Panel) -> None:
    for data, words in (
        ({"name": "", "credits": "0", "country": "VE"}, "Escriba el nombre"),
        ({"name": "X", "credits": "muchos", "country": "VE"}, "escriba un número entero"),
        ({"name": "X", "credits": "-5", "country": "VE"}, "debe estar entre 0 y"),
        ({"name": "X", "credits": "1", "country": "AR"}, "Elija el país"),
    ):
        answer = op.post_form("/panel/accounts/new", data, action="/panel/accounts")
        assert answer.status_code == 422, data
        assert words in answer.text


def test_top_up_writes_a_ledger_row_with_the_note(gw: Gateway, op: Panel) -> None:
    account = gw.account(10)
    page = f"/panel/accounts/{account.client_id}"
    answer = op.post_form(
        page, {"amount": "2.000", "note": "pago transferencia 123"}, action=page + "/topup"
    )
    assert answer.status_code == 303
    assert balance_of(gw, account) == 2010
    view = op.get(page).text
    assert "pago transferencia 123" in view
    assert "2.010" in view
    ledger = gw.ledger(account.client_id)
    assert ledger[0]["amount"] == 2000
    assert ledger[0]["note"] == "pago transferencia 123"
    zero = op.post_form(page, {"amount": "0"}, action=page + "/topup")
    assert zero.status_code == 422
    assert "distinta de cero" in zero.text
    below = op.post_form(page, {"amount": "-999999"}, action=page + "/topup")
    assert below.status_code == 422
    assert "por debajo de cero" in below.text


def test_disable_enable_and_rotate_take_effect_on_the_api(gw: Gateway, op: Panel) -> None:
    account = gw.account(10)
    page = f"/panel/accounts/{account.client_id}"
    assert op.post_form(page, {"enabled": "0"}, action=page + "/enabled").status_code == 303
    assert "deshabilitada" in op.get(page).text
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = gw.http.get("/v1/balance", auth=(account.client_id, account.client_secret))
        if status.status_code == 401:
            break
        time.sleep(0.2)  # the API trusts a checked credential for 2 s
    assert status.status_code == 401
    assert op.post_form(page, {"enabled": "1"}, action=page + "/enabled").status_code == 303
    rotated = op.post_form(page, {}, action=page + "/rotate")
    assert rotated.status_code == 200
    secret = shown(rotated.text, "client-secret")
    assert balance_of(gw, Account(account.client_id, secret)) == 10
    old = gw.http.get("/v1/balance", auth=(account.client_id, account.client_secret))
    assert old.status_code == 401


def test_limits_and_quiet_hours_are_saved_or_refused_in_spanish(gw: Gateway, op: Panel) -> None:
    account = gw.account(10)
    page = f"/panel/accounts/{account.client_id}"
    data = {
        "rate_limit": "5,5",
        "max_recipients": "100",
        "quiet_hours": "21:00-08:00",
        "timezone": "America/Bogota",
    }
    assert op.post_form(page, data, action=page + "/limits").status_code == 303
    view = op.get(page).text
    assert 'value="21:00-08:00"' in view
    assert 'value="5.5"' in view
    assert '<option value="America/Bogota" selected>' in view
    for bad, words in (
        ({**data, "quiet_hours": "25:00-08:00"}, "HH:MM-HH:MM"),
        ({**data, "rate_limit": "rápido"}, "escriba un número"),
        ({**data, "max_recipients": "0"}, "debe estar entre 1"),
        ({**data, "timezone": "Europe/Madrid"}, "zona horaria de la lista"),
    ):
        answer = op.post_form(page, bad, action=page + "/limits")
        assert answer.status_code == 422, bad
        assert words in answer.text


def test_an_unknown_account_or_action_is_a_404_page(op: Panel) -> None:
    assert op.get("/panel/accounts/no-such-id").status_code == 404
    page = op.get("/panel/accounts")
    csrf = csrf_of(page.text)
    assert op.http.post("/panel/accounts/no-such-id/topup", data={"csrf": csrf}).status_code == 404


def test_operator_invites_a_customer_who_signs_in_to_their_account(gw: Gateway, op: Panel) -> None:
    account = gw.account(77)
    page = f"/panel/accounts/{account.client_id}"
    invited = op.post_form(page, {"email": "Cliente@Tienda.com"}, action=page + "/users")
    assert invited.status_code == 200
    link = shown(invited.text, "invite-link")
    customer = Panel(gw.url)
    try:
        assert customer.set_password(link.removeprefix(gw.url)).status_code == 200
        customer.signed_in("cliente@tienda.com")
        home = customer.get("/panel/")
        assert account.name in home.text
        assert 'id="balance">77<' in home.text
    finally:
        customer.close()
    again = op.post_form(page, {"email": "cliente@tienda.com"}, action=page + "/users")
    assert again.status_code == 409
    assert "Ya existe un usuario con ese correo" in again.text
    bad = op.post_form(page, {"email": "sin-arroba"}, action=page + "/users")
    assert bad.status_code == 422
    assert "correo electrónico válido" in bad.text


def test_message_search_filters_pages_and_downloads_csv(gw: Gateway, op: Panel) -> None:
    account, other = gw.account(100), gw.account(100)
    number = fresh()
    ids = [send(gw, account, number, f"texto {n}") for n in range(3)]
    send(gw, other, number)
    by_number = op.get("/panel/messages", params={"numero": number, "cuenta": account.client_id})
    assert by_number.status_code == 200
    for mid in ids:
        assert f'href="/panel/messages/{mid}"' in by_number.text
    assert by_number.text.count('href="/panel/messages/') == 3
    everyone = op.get("/panel/messages", params={"numero": number}).text
    assert everyone.count('href="/panel/messages/') == 4
    first_page = op.get("/panel/messages", params={"cuenta": account.client_id})
    assert first_page.status_code == 200
    no_match = op.get(
        "/panel/messages",
        params={"cuenta": account.client_id, "desde": "2001-01-01", "hasta": "2001-01-02"},
    )
    assert "No hay mensajes con esos filtros" in no_match.text
    download = op.get("/panel/messages.csv", params={"numero": number})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert sorted(int(r["id"]) for r in rows)[:3] == sorted(ids)
    assert len(rows) == 4
    assert {r["numero"] for r in rows} == {"+58" + number[1:]}


def test_message_search_refuses_bad_filters_in_spanish(op: Panel) -> None:
    for params, words in (
        ({"numero": "12"}, "celular de Venezuela o Colombia"),
        ({"cuenta": "no-existe"}, "ninguna cuenta"),
        ({"estado": "perdido"}, "estado de la lista"),
        ({"desde": "2026-13-45"}, "fecha válida"),
        ({"desde": "2026-02-02", "hasta": "2026-02-01"}, "anterior"),
    ):
        answer = op.get("/panel/messages", params=params)
        assert answer.status_code == 422, params
        assert words in answer.text


def test_message_search_pages_with_a_cursor(gw: Gateway, op: Panel) -> None:
    account = gw.account(100)
    ids = [send(gw, account, fresh()) for _ in range(55)]
    first = op.get("/panel/messages", params={"cuenta": account.client_id}).text
    assert first.count('href="/panel/messages/') == 50
    more = re.search(r'href="/panel/messages(\?[^"]+antes=\d+)"', first)
    assert more
    second = op.get("/panel/messages" + more.group(1).replace("&amp;", "&")).text
    assert second.count('href="/panel/messages/') == 5
    assert f'href="/panel/messages/{ids[0]}"' in second


def test_message_detail_shows_carrier_id_and_receipt(gw: Gateway, op: Panel) -> None:
    account = gw.account(100)
    mid = send(gw, account, fresh(), "x" * 200)  # two parts
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        view = op.get(f"/panel/messages/{mid}")
        if 'data-state="delivered">entregado<' in view.text:
            break
        time.sleep(0.2)
    assert view.status_code == 200
    assert 'data-state="delivered">entregado<' in view.text
    assert "2 segmento(s)" in view.text
    assert "sandbox" in view.text
    assert op.get("/panel/messages/999999999").status_code == 404
    assert op.get("/panel/messages/abc").status_code == 404


def test_a_signed_out_visitor_gets_no_operator_page(gw: Gateway) -> None:
    for path in ("/panel/accounts", "/panel/messages", "/panel/messages.csv"):
        answer = httpx.get(gw.url + path)
        assert answer.status_code == 303


def test_odd_input_anywhere_is_answered_in_a_page_never_a_500(gw: Gateway, op: Panel) -> None:
    nul = "a\x00b"
    account = gw.account(10)
    page = f"/panel/accounts/{account.client_id}"
    answers = [
        op.get("/panel/accounts/a%00b"),
        op.get("/panel/messages", params={"numero": nul, "cuenta": nul, "estado": nul}),
        op.get("/panel/messages", params={"desde": nul, "hasta": "2026-01-01\x00"}),
        op.get("/panel/messages.csv", params={"cuenta": nul}),
        op.get("/panel/reports", params={"desde": nul, "hasta": "2026-02-30"}),
        op.get("/panel/reports", params={"desde": "9999-12-25", "hasta": "9999-12-31"}),
        op.get("/panel/messages", params={"desde": "0001-01-01", "hasta": "9999-12-31"}),
        op.get("/panel/reports.csv", params={"by": nul, "desde": nul}),
        op.get("/panel/messages/1%00"),
        op.get("/panel/set-password/x%00y"),
        op.post_form(
            "/panel/accounts/new", {"name": nul, "credits": "1"}, action="/panel/accounts"
        ),
        op.post_form(page, {"amount": "1\x00", "note": nul}, action=page + "/topup"),
        op.post_form(page, {"email": "x\x00@y.com"}, action=page + "/users"),
        op.post_form(page, {"quiet_hours": nul, "timezone": nul}, action=page + "/limits"),
        op.http.get("/panel/sign-out"),
        op.http.post(
            page + "/topup",
            content=b"\xff\xfe\x00=\x00",
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
    ]
    anonymous = Panel(gw.url)
    try:
        answers.append(anonymous.sign_in(nul + "@example.com", nul))
        answers.append(anonymous.post_form("/panel/sign-in", {"email": "x" * 5000}))
    finally:
        anonymous.close()
    for answer in answers:
        assert answer.status_code < 500, (answer.request.url, answer.text[:500])
        if answer.status_code != 303:
            assert '<html lang="es">' in answer.text, answer.request.url
    assert "a\x00b" not in op.get("/panel/accounts").text


def test_reports_count_per_account_and_connector_and_link_to_the_search(
    gw: Gateway, op: Panel
) -> None:
    account = gw.account(100)
    ids = [send(gw, account, fresh()) for _ in range(2)]
    ids.append(send(gw, account, fresh(), "x" * 200))  # two segments
    for mid in ids:
        gw.wait_for_status(mid, {"delivered"}, timeout=20)
    with gw.db.read() as conn:
        connector = message_service.get(conn, ids[0]).connector
        rolled = summary_store.rollup(conn)
    assert connector
    assert rolled.runner  # the serving process rolls the summaries up
    assert rolled.rolled_until is not None

    view = op.get("/panel/reports")
    assert view.status_code == 200
    assert '<a href="/panel/reports">Informes</a>' in view.text
    assert view.text.count("<tr><td>") >= 30  # the last 30 days, one row each
    cid = account.client_id
    assert report_row(view.text, "by-account", f">{cid}<") == ["3", "3", "0", "0", "100,0 %", "4"]
    assert f'href="/panel/accounts/{cid}"' in view.text
    search = re.search(rf'href="(/panel/messages\?cuenta={cid}&amp;desde=[^"]+)"', view.text)
    assert search, view.text
    found = op.get(search.group(1).replace("&amp;", "&")).text
    assert {f'href="/panel/messages/{m}"' for m in ids} <= set(
        re.findall(r'href="/panel/messages/\d+"', found)
    )
    assert int(report_row(view.text, "by-connector", f"<td>{connector}</td>")[0]) >= 3

    by_account = report_csv(op, by="account")
    assert by_account[0] == [
        "cuenta", "nombre", "aceptados", "entregados", "fallidos", "pendientes",
        "tasa_entrega", "creditos",
    ]  # fmt: skip
    assert [cid, account.name, "3", "3", "0", "0", "1.0000", "4"] in by_account
    by_connector = report_csv(op, by="connector")
    assert by_connector[0][0] == "conector"
    assert connector in [row[0] for row in by_connector]
    by_day = report_csv(op, by="day", desde="2026-01-01", hasta="2026-01-31")
    assert [row[0] for row in by_day[1:]] == [f"2026-01-{d:02d}" for d in range(1, 32)]


def test_reports_refuse_a_bad_period_with_a_spanish_page(gw: Gateway, op: Panel) -> None:
    for params, words in (
        ({"desde": "2026-13-01"}, "use una fecha válida"),
        ({"desde": "2026-03-10", "hasta": "2026-03-01"}, "es anterior a «desde»"),
        ({"desde": "2026-01-01", "hasta": "2026-06-30"}, "92 días como máximo"),
    ):
        for path in ("/panel/reports", "/panel/reports.csv"):
            answer = op.get(path, params=params)
            assert answer.status_code == 422, (path, params)
            assert words in answer.text
    answer = op.get("/panel/reports.csv", params={"by": "planeta"})
    assert answer.status_code == 422
    assert "day, account o connector" in answer.text
