"""The web panel's doors: one-time links, sign-in and its throttle, sessions (signed,
revocable), CSRF and security headers — against real ``centauro serve`` processes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.panel import PASSWORD, Panel, csrf_of, make_user, ready_user
from tests.support.php import Gateway, running_gateway
from tests.support.server import cli_env, free_port


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(request.param, tmp_path_factory) as gateway:
        yield gateway


@pytest.fixture
def visitor(gw: Gateway) -> Iterator[Panel]:
    panel = Panel(gw.url)
    yield panel
    panel.close()


def test_admins_create_prints_a_link_that_sets_the_password_once(
    gw: Gateway, visitor: Panel
) -> None:
    made = gw.server.cli_json("admins", "create", "Ana@Example.com", "--base-url", gw.url)
    assert made["email"] == "ana@example.com"
    path = made["link"].removeprefix(gw.url)
    assert path.startswith("/panel/set-password/")

    first = visitor.set_password(path)
    assert first.status_code == 200
    assert "Contraseña guardada" in first.text
    again = visitor.get(path)
    assert again.status_code == 404
    assert "ya se usó o venció" in again.text
    visitor.signed_in("ana@example.com")
    assert "ana@example.com" in visitor.get("/panel/").text


def test_set_password_refuses_short_and_mismatched_passwords_in_spanish(
    gw: Gateway, visitor: Panel
) -> None:
    _, path = make_user(gw.db)
    short = visitor.post_form(path, {"password": "corta", "confirm": "corta"})
    assert short.status_code == 422
    assert "entre 10 y 200 caracteres" in short.text
    differ = visitor.post_form(path, {"password": PASSWORD, "confirm": PASSWORD + "x"})
    assert differ.status_code == 422
    assert "no coinciden" in differ.text
    assert visitor.set_password(path).status_code == 200  # the link survived the refusals


def test_pages_send_a_visitor_without_session_to_sign_in(visitor: Panel) -> None:
    for path in ("/panel/", "/panel/password"):
        answer = visitor.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/panel/sign-in"


def test_wrong_password_is_answered_in_the_page(gw: Gateway, visitor: Panel) -> None:
    email = ready_user(gw.url, gw.db)
    answer = visitor.sign_in(email, "no es la clave")
    assert answer.status_code == 401
    assert "Correo o contraseña incorrectos" in answer.text
    assert "set-cookie" not in answer.headers or "centauro_panel=" not in str(
        answer.headers.get_list("set-cookie")
    )


def test_sign_out_revokes_the_session_on_the_server(gw: Gateway, visitor: Panel) -> None:
    email = ready_user(gw.url, gw.db)
    visitor.signed_in(email)
    stolen = visitor.http.cookies.get("centauro_panel", path="/panel")
    assert stolen
    page = visitor.get("/panel/")
    out = visitor.http.post("/panel/sign-out", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303

    replay = httpx.get(f"{gw.url}/panel/", cookies={"centauro_panel": stolen})
    assert replay.status_code == 303
    assert replay.headers["location"] == "/panel/sign-in"


def test_password_change_ends_every_session_of_the_user(gw: Gateway) -> None:
    email = ready_user(gw.url, gw.db)
    laptop, phone, other = Panel(gw.url), Panel(gw.url), Panel(gw.url)
    try:
        laptop.signed_in(email)
        phone.signed_in(email)
        new = PASSWORD + " nueva"
        changed = laptop.post_form(
            "/panel/password", {"current": PASSWORD, "password": new, "confirm": new}
        )
        assert changed.status_code == 200
        assert "Se cerraron todas sus sesiones" in changed.text
        assert phone.get("/panel/").status_code == 303
        assert laptop.get("/panel/").status_code == 303
        assert other.sign_in(email, PASSWORD).status_code == 401
        other.signed_in(email, new)
    finally:
        laptop.close()
        phone.close()
        other.close()


def test_password_change_needs_the_current_password(gw: Gateway, visitor: Panel) -> None:
    email = ready_user(gw.url, gw.db)
    visitor.signed_in(email)
    new = PASSWORD + " nueva"
    answer = visitor.post_form(
        "/panel/password", {"current": "otra cosa larga", "password": new, "confirm": new}
    )
    assert answer.status_code == 422
    assert "La contraseña actual no es correcta" in answer.text
    assert visitor.get("/panel/").status_code == 200


def _lockouts(gw: Gateway, key: str) -> int:
    lines = gw.server.log_path.read_text(errors="replace").splitlines()
    return sum(
        1
        for line in lines
        if line.startswith("{")
        and json.loads(line).get("action") == "panel_lockout"
        and json.loads(line).get("key") == key
    )


def test_ten_failures_lock_the_user_for_15_minutes_even_from_another_address(
    gw: Gateway,
) -> None:
    email = ready_user(gw.url, gw.db)
    attacker, owner = Panel(gw.url, source="127.0.0.2"), Panel(gw.url, source="127.0.0.3")
    try:
        for _ in range(10):
            assert attacker.sign_in(email, "adivinando mal").status_code == 401
        locked = owner.sign_in(email, PASSWORD)
        assert locked.status_code == 429
        assert "bloqueado 15 minutos" in locked.text
        assert _lockouts(gw, f"user:{email}") == 1
    finally:
        attacker.close()
        owner.close()


def test_ten_failures_from_one_address_lock_that_address_only(gw: Gateway) -> None:
    email = ready_user(gw.url, gw.db)
    sprayer, elsewhere = Panel(gw.url, source="127.0.0.4"), Panel(gw.url, source="127.0.0.5")
    try:
        for n in range(10):
            assert sprayer.sign_in(f"nadie{n}@example.com", "x" * 12).status_code == 401
        assert sprayer.sign_in(email, PASSWORD).status_code == 429
        assert _lockouts(gw, "ip:127.0.0.4") == 1
        elsewhere.signed_in(email)
    finally:
        sprayer.close()
        elsewhere.close()


def test_a_form_without_its_csrf_token_is_refused(gw: Gateway, visitor: Panel) -> None:
    email = ready_user(gw.url, gw.db)
    visitor.get("/panel/sign-in")
    bare = visitor.http.post("/panel/sign-in", data={"email": email, "password": PASSWORD})
    assert bare.status_code == 403
    assert "El formulario venció o no es válido" in bare.text
    visitor.signed_in(email)
    forged = visitor.http.post(
        "/panel/password",
        data={"csrf": "0" * 64, "current": PASSWORD, "password": "y" * 12, "confirm": "y" * 12},
    )
    assert forged.status_code == 403
    assert visitor.get("/panel/").status_code == 200  # nothing changed, still signed in


def test_a_tampered_session_cookie_is_not_a_session(gw: Gateway, visitor: Panel) -> None:
    email = ready_user(gw.url, gw.db)
    visitor.signed_in(email)
    cookie = visitor.http.cookies.get("centauro_panel", path="/panel")
    assert cookie
    token, _, mac = cookie.rpartition(".")
    flipped = "0" if mac[0] != "0" else "1"
    for bad in (
        f"{token}.{flipped}{mac[1:]}",
        f"{token[:-1]}{'A' if token[-1] != 'A' else 'B'}.{mac}",
        token,
        "garbage",
    ):
        answer = httpx.get(f"{gw.url}/panel/", cookies={"centauro_panel": bad})
        assert answer.status_code == 303, bad
        assert answer.headers["location"] == "/panel/sign-in"


def test_panel_answers_carry_the_security_headers_and_cookie_flags(
    gw: Gateway, visitor: Panel
) -> None:
    email = ready_user(gw.url, gw.db)
    page = visitor.get("/panel/sign-in")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text
    assert "style=" not in page.text
    signed = visitor.sign_in(email)
    cookie = next(c for c in signed.headers.get_list("set-cookie") if "centauro_panel=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/panel" in cookie
    assert "Max-Age=" in cookie
    assert "content-security-policy" not in gw.http.get("/health").headers


def test_unknown_panel_pages_and_broken_forms_get_spanish_pages_not_500(
    visitor: Panel,
) -> None:
    missing = visitor.get("/panel/no-existe")
    assert missing.status_code == 404
    assert "No encontramos esa página" in missing.text
    broken = visitor.http.post(
        "/panel/sign-in",
        content=b"--x\r\nContent-Disposition: form-data; name=",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert broken.status_code in (400, 403)
    assert "<h1>" in broken.text
    huge = visitor.http.post("/panel/sign-in", data={f"f{n}": "v" for n in range(200)})
    assert huge.status_code in (400, 403)


def test_first_demo_start_prints_a_link_for_a_first_operator(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "centauro", "serve", "--demo", "--port", str(port)],
            env=cli_env(url, {"COLUMNS": "300"}),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        link = None
        while link is None and time.monotonic() < deadline and proc.poll() is None:
            found = re.search(r"http://127\.0\.0\.1:\d+(/panel/set-password/\S+)", log.read_text())
            link = found.group(1) if found else None
            time.sleep(0.1)
        assert link, log.read_text()
        assert "admin@localhost" in log.read_text()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        panel = Panel(f"http://127.0.0.1:{port}")
        assert panel.set_password(link).status_code == 200
        panel.signed_in("admin@localhost")
        panel.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    again = subprocess.run(
        [sys.executable, "-m", "centauro", "admins", "create", "otro@example.com", "--json"],
        env=cli_env(url),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(again.stdout)["email"] == "otro@example.com"
