"""Panel users' one-time links and sign-in throttle over time, with one fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from centauro.domain.errors import Conflict, InvalidRequest, NotFound
from centauro.service import panel_auth
from centauro.store.engine import Database

T0 = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
HASH = panel_auth.hash_password("una clave bastante larga")


def _operator(db: Database, email: str = "op@example.com") -> panel_auth.Invitation:
    with db.begin() as conn:
        return panel_auth.create_user(conn, email=email, role=panel_auth.OPERATOR, now=T0)


def _token(path: str) -> str:
    return path.removeprefix(panel_auth.SET_PASSWORD_PATH)


def test_a_set_password_link_expires_after_72_hours(db: Database) -> None:
    token = _token(_operator(db).path)
    late = T0 + panel_auth.LINK_TTL + timedelta(seconds=1)
    with db.begin() as conn:
        assert panel_auth.link_is_live(conn, token, T0 + panel_auth.LINK_TTL - timedelta(1 / 24))
        assert not panel_auth.link_is_live(conn, token, late)
        with pytest.raises(NotFound):
            panel_auth.set_password_with_link(conn, token, HASH, late)


def test_a_set_password_link_works_once(db: Database) -> None:
    token = _token(_operator(db).path)
    with db.begin() as conn:
        panel_auth.set_password_with_link(conn, token, HASH, T0)
    with db.begin() as conn, pytest.raises(NotFound):
        panel_auth.set_password_with_link(conn, token, HASH, T0)


def test_a_session_ends_at_its_expiry(db: Database) -> None:
    invitation = _operator(db)
    with db.begin() as conn:
        panel_auth.set_password_with_link(conn, _token(invitation.path), HASH, T0)
        attempt = panel_auth.prepare_sign_in(conn, email="op@example.com", ip="1.2.3.4", now=T0)
        token = panel_auth.finish_sign_in(conn, attempt, ok=True, now=T0)
        assert token is not None
        end = T0 + panel_auth.SESSION_TTL
        assert panel_auth.session_user(conn, token, end - timedelta(seconds=1)) is not None
        assert panel_auth.session_user(conn, token, end) is None


def test_a_lockout_lasts_15_minutes_then_the_count_starts_again(db: Database) -> None:
    _operator(db)
    with db.begin() as conn:
        for n in range(panel_auth.MAX_FAILURES):
            attempt = panel_auth.prepare_sign_in(
                conn, email="op@example.com", ip=f"10.0.0.{n}", now=T0
            )
            assert panel_auth.finish_sign_in(conn, attempt, ok=False, now=T0) is None
        with pytest.raises(panel_auth.LockedOut) as locked:
            panel_auth.prepare_sign_in(conn, email="OP@example.com ", ip="10.9.9.9", now=T0)
        assert locked.value.until == T0 + panel_auth.LOCKOUT
        after = T0 + panel_auth.LOCKOUT
        attempt = panel_auth.prepare_sign_in(conn, email="op@example.com", ip="10.9.9.9", now=after)
        panel_auth.finish_sign_in(conn, attempt, ok=False, now=after)
        panel_auth.prepare_sign_in(conn, email="op@example.com", ip="10.9.9.9", now=after)


def test_failures_spread_over_more_than_the_window_do_not_lock(db: Database) -> None:
    _operator(db)
    with db.begin() as conn:
        for n in range(panel_auth.MAX_FAILURES * 2):
            at = T0 + n * timedelta(minutes=2)
            attempt = panel_auth.prepare_sign_in(conn, email="op@example.com", ip="ip", now=at)
            panel_auth.finish_sign_in(conn, attempt, ok=False, now=at)


def test_users_are_unique_by_e_mail_and_customers_need_an_account(db: Database) -> None:
    _operator(db, "dup@example.com")
    with db.begin() as conn, pytest.raises(Conflict):
        panel_auth.create_user(conn, email=" DUP@example.com", role="operator", now=T0)
    with db.begin() as conn, pytest.raises(NotFound):
        panel_auth.create_user(
            conn, email="c@example.com", role="customer", client_id="nope", now=T0
        )
    with db.begin() as conn, pytest.raises(InvalidRequest):
        panel_auth.create_user(conn, email="no-at-sign", role="operator", now=T0)


def test_cookie_signatures_refuse_any_change() -> None:
    key = b"k" * 32
    signed = panel_auth.sign(key, "token")
    assert panel_auth.unsign(key, signed) == "token"
    assert panel_auth.unsign(b"x" * 32, signed) is None
    assert panel_auth.unsign(key, signed[:-1] + ("0" if signed[-1] != "0" else "1")) is None
    assert panel_auth.unsign(key, "token") is None


def test_the_first_operator_gets_a_fresh_link_until_one_can_sign_in(db: Database) -> None:
    with db.begin() as conn:
        first = panel_auth.first_operator(conn, email="admin@localhost", now=T0)
        again = panel_auth.first_operator(conn, email="admin@localhost", now=T0)
    assert first is not None
    assert again is not None
    assert again.user.id == first.user.id
    assert again.path != first.path
    with db.begin() as conn:
        panel_auth.set_password_with_link(conn, _token(again.path), HASH, T0)
        assert panel_auth.first_operator(conn, email="admin@localhost", now=T0) is None


def test_the_signing_key_is_made_once_and_kept(db: Database) -> None:
    with db.begin() as conn:
        first = panel_auth.signing_key(conn)
    with db.begin() as conn:
        assert panel_auth.signing_key(conn) == first
    assert len(first) == 64
