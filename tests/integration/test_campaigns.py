"""Campaigns on each store: preview, one charge per confirm, pause holds, cancel refunds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from centauro.domain.errors import Conflict, InsufficientCredits, InvalidRequest, NotFound
from centauro.domain.models import Account
from centauro.service import accounts, campaigns, contacts, suppressions
from centauro.store import accounts as account_store
from centauro.store import outbox
from centauro.store.engine import Database

CSV = (
    "\ufefftelefono;nombre;ciudad\n"
    "0414-123.45.67;Ana;Caracas\n"
    "+58 424 1234567;Luis;Maturín\n"
    "4141234567;Repetida;Caracas\n"  # the first number again
    "0414123;Corto;Mérida\n"  # invalid
    "300 123 4567;Camila;Bogotá\n"  # Colombia, written as in Colombia
    "04161234567;Baja;Valencia\n"  # opted out below
    "04261234567;;Maracay\n"  # no name: the template lacks {nombre}
).encode()
TEMPLATE = "Hola {nombre}, le escribimos desde {ciudad}."


def now() -> datetime:
    return datetime.now(UTC)


def _account(db: Database, credits: int = 100) -> Account:
    with db.begin() as conn:
        created = accounts.create(
            conn, name=f"Tienda {now().timestamp()}", credits=credits, now=now()
        )
        suppressions.add(conn, created.account, "04161234567", source="api", now=now())
    return created.account


def _draft(db: Database, account: Account) -> campaigns.Campaign:
    table = campaigns.read_file(CSV, "clientes.csv")
    spec = campaigns.Spec("Promo", TEMPLATE, "telefono", "nombre")
    prepared = campaigns.prepare(table, spec, country="VE", max_segments=10)
    with db.begin() as conn:
        return campaigns.save_draft(
            conn, account=account, prepared=prepared, data=CSV, filename="clientes.csv", now=now()
        )


def _confirm(db: Database, account: Account, campaign_id: int, at: datetime | None = None):
    with db.read() as conn:
        prepared = campaigns.reload(conn, campaign_id, account=account, max_segments=10)
    with db.begin() as conn:
        current = account_store.by_id(conn, account.id)
        assert current is not None
        return campaigns.confirm(
            conn, campaign_id, account=current, prepared=prepared, schedule_at=at, now=now()
        )


def _balance(db: Database, account_id: int) -> tuple[int, int]:
    with db.read() as conn:
        found = account_store.by_id(conn, account_id)
        assert found is not None
        return found.balance, account_store.ledger_sum(conn, account_id)


def test_preview_lists_invalid_duplicate_opted_out_and_missing_rows_before_any_charge(
    db: Database,
) -> None:
    account = _account(db)
    draft = _draft(db, account)
    assert (draft.state, draft.total_rows, draft.accepted, draft.rejected) == ("draft", 7, 3, 4)
    assert draft.cost == 3
    preview = campaigns.preview_of(draft)
    assert preview["problem_counts"] == {
        "duplicate": 1, "invalid_number": 1, "opted_out": 1, "missing_field": 1,
    }  # fmt: skip
    rows = {p["row"]: p["reason"] for p in preview["problems"]}
    assert rows == {4: "duplicate", 5: "invalid_number", 7: "opted_out", 8: "missing_field"}
    assert preview["sample"][0]["text"] == "Hola Ana, le escribimos desde Caracas."
    assert preview["sample"][2]["number"] == "+573001234567"
    assert _balance(db, account.id) == (100, 100)


def test_confirm_charges_once_and_queues_ordinary_messages(db: Database) -> None:
    account = _account(db)
    draft = _draft(db, account)
    confirmed = _confirm(db, account, draft.id)
    assert (confirmed.state, confirmed.charged, confirmed.accepted) == ("sending", 3, 3)
    assert _balance(db, account.id) == (97, 97)
    with pytest.raises(Conflict, match="ya fue confirmada"):
        _confirm(db, account, draft.id)
    assert _balance(db, account.id) == (97, 97)
    with db.read() as conn:
        shown = campaigns.show(conn, draft.id, account_id=account.id, now=now())
    assert shown.counts == {"queued": 3}
    assert (shown.state, shown.percent) == ("sending", 0)


def test_two_confirms_at_once_charge_once(db: Database) -> None:
    account = _account(db)
    draft = _draft(db, account)
    with db.read() as conn:
        prepared = [
            campaigns.reload(conn, draft.id, account=account, max_segments=10) for _ in "ab"
        ]
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def click(p: campaigns.Prepared) -> None:
        start.wait(timeout=10)
        try:
            with db.begin() as conn:
                campaigns.confirm(
                    conn, draft.id, account=account, prepared=p, schedule_at=None, now=now()
                )
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=click, args=(p,)) for p in prepared]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "ok"]
    assert _balance(db, account.id) == (97, 97)


def test_not_enough_credits_charges_nothing_and_leaves_a_draft(db: Database) -> None:
    account = _account(db, credits=2)
    draft = _draft(db, account)
    with pytest.raises(InsufficientCredits):
        _confirm(db, account, draft.id)
    with db.read() as conn:
        assert campaigns.get(conn, draft.id).state == "draft"
    assert _balance(db, account.id) == (2, 2)


def test_pause_holds_from_the_dispatcher_and_cancel_refunds_what_did_not_leave(
    db: Database,
) -> None:
    account = _account(db)
    draft = _draft(db, account)
    _confirm(db, account, draft.id)
    with db.begin() as conn:  # one message leaves before the pause
        claimed = outbox.claim(conn, now=now(), lease_until=now() + timedelta(seconds=30), limit=1)
        outbox.mark_sent(conn, [(claimed[0].id, "sandbox", ("c-1",))], now())
    with db.begin() as conn:
        paused = campaigns.pause(conn, draft.id, account_id=account.id, now=now())
    assert paused.state == "paused"
    assert paused.counts == {"held": 2, "sent": 1}
    with db.begin() as conn:
        assert (
            outbox.claim(conn, now=now(), lease_until=now() + timedelta(seconds=30), limit=10) == []
        )
    with db.begin() as conn:
        resumed = campaigns.resume(conn, draft.id, account_id=account.id, now=now())
    assert resumed.counts == {"queued": 2, "sent": 1}
    with db.begin() as conn:
        campaigns.pause(conn, draft.id, account_id=account.id, now=now())
        cancelled = campaigns.cancel(conn, draft.id, account_id=account.id, now=now())
    assert cancelled.state == "cancelled"
    assert cancelled.counts == {"cancelled": 2, "sent": 1}
    assert cancelled.campaign.refunded == 2
    assert _balance(db, account.id) == (99, 99)
    with db.begin() as conn, pytest.raises(Conflict):
        campaigns.cancel(conn, draft.id, account_id=account.id, now=now())
    assert _balance(db, account.id) == (99, 99)


def test_a_scheduled_campaign_waits_and_is_pausable(db: Database) -> None:
    account = _account(db)
    draft = _draft(db, account)
    later = now() + timedelta(days=2)
    confirmed = _confirm(db, account, draft.id, at=later)
    assert confirmed.state == "scheduled"
    with db.begin() as conn:
        assert outbox.release_scheduled(conn, now()) == 0
        paused = campaigns.pause(conn, draft.id, account_id=account.id, now=now())
        assert paused.counts == {"held": 3}
        resumed = campaigns.resume(conn, draft.id, account_id=account.id, now=now())
    assert (resumed.state, resumed.counts) == ("scheduled", {"scheduled": 3})


def test_another_account_never_sees_the_campaign(db: Database) -> None:
    owner, other = _account(db), _account(db)
    draft = _draft(db, owner)
    with db.read() as conn:
        with pytest.raises(campaigns.NotFound):
            campaigns.get(conn, draft.id, account_id=other.id)
        assert campaigns.find(conn, account_id=other.id) == []


def _list_draft(db: Database, account: Account) -> tuple[int, campaigns.Campaign]:
    """A list of four contacts (one opted out, see :func:`_account`) and a draft from it."""
    with db.begin() as conn:
        list_id = contacts.create_list(conn, account, "Clientes", now=now()).id
        for number, name, city in (
            ("04141234567", "Ana", "Caracas"),
            ("04241234567", "Luis", "Maturín"),
            ("04161234567", "Baja", "Valencia"),
            ("3001234567", "Camila", "Bogotá"),
        ):
            contacts.add_contact(
                conn, account, list_id, number=number, name=name, fields={"ciudad": city},
                now=now(),
            )  # fmt: skip
    with db.read() as conn:
        table, source_name = campaigns.list_table(conn, account.id, list_id)
    spec = campaigns.Spec("Lista", TEMPLATE, campaigns.LIST_NUMBER, campaigns.LIST_NAME)
    prepared = campaigns.prepare(table, spec, country="VE", max_segments=10)
    with db.begin() as conn:
        draft = campaigns.save_draft(
            conn, account=account, prepared=prepared, data=None, filename=source_name, now=now()
        )
    return list_id, draft


def test_a_list_audience_is_kept_as_previewed_and_charges_only_the_sendable(
    db: Database,
) -> None:
    account = _account(db)
    list_id, draft = _list_draft(db, account)
    assert (draft.source_format, draft.source_name) == ("list", "Lista: Clientes")
    assert (draft.total_rows, draft.accepted, draft.rejected, draft.cost) == (4, 3, 1, 3)
    preview = campaigns.preview_of(draft)
    assert preview["problems"] == [
        {"row": 4, "number": "+584161234567", "reason": "opted_out", "detail": ""}
    ]
    with db.begin() as conn:  # the list changes after the preview: the draft does not
        contacts.add_contact(conn, account, list_id, number="04261234567", now=now())
    campaigns._RECENT.clear()  # as another process would: confirm reads the kept rows
    confirmed = _confirm(db, account, draft.id)
    assert (confirmed.state, confirmed.charged, confirmed.accepted) == ("sending", 3, 3)
    with db.read() as conn:
        assert accounts.get(conn, account.client_id).balance == 97
        kept = campaigns.source_table(conn, confirmed)
    assert kept.columns == ["numero", "nombre", "ciudad"]
    assert [r["numero"] for r in kept.rows] == [
        "+584141234567", "+584241234567", "+584161234567", "+573001234567",
    ]  # fmt: skip


def test_another_accounts_list_is_not_found_and_an_empty_list_is_refused(db: Database) -> None:
    owner, stranger = _account(db), _account(db)
    list_id, _ = _list_draft(db, owner)
    for wrong in ((stranger.id, list_id), (owner.id, 2**64), (owner.id, -1)):
        with db.read() as conn, pytest.raises(NotFound, match="No existe esa lista"):
            campaigns.list_table(conn, *wrong)
    with db.begin() as conn:
        empty = contacts.create_list(conn, owner, "Vacía", now=now()).id
    with db.read() as conn, pytest.raises(InvalidRequest, match="no tiene contactos"):
        campaigns.list_table(conn, owner.id, empty)
