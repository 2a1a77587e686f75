"""Contact lists on both stores: CSV export → import gives the same list, contacts are
unique by normalised number, opted-out numbers are marked, and one account never reaches
another's lists."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from centauro.domain.errors import Conflict, InvalidNumber, InvalidRequest, NotFound
from centauro.domain.models import Account
from centauro.service import accounts, contacts, suppressions
from centauro.store.engine import Database

NOW = datetime.now(UTC)

TRICKY_FILE = (
    "\ufeffNúmero;Nombre;Ciudad;Nota;Saldo\r\n"
    '0414-123.45.67;"Peña, José ""Pepe""";Maracay;"primera línea\r\nsegunda, con coma";-5\r\n'
    '+57 300 123 4567;Ana María;Bogotá;=HYPERLINK("x");\'@ya\r\n'
    "04241234567;;;'citado;\r\n"
    "0212-555.12.12;Fijo;Caracas;no es celular;\r\n"
    "04141234567;José repetido;Maracay;la última fila gana;0\r\n"
).encode()


def account(db: Database, name: str = "Listas") -> Account:
    with db.begin() as conn:
        made = accounts.create(conn, name=name, credits=0, now=NOW)
        return accounts.get(conn, made.client_id)


def new_list(db: Database, owner: Account, name: str) -> int:
    with db.begin() as conn:
        return contacts.create_list(conn, owner, name, now=NOW).id


def test_import_reads_spreadsheet_quirks_and_reports_bad_rows(db: Database) -> None:
    owner = account(db)
    list_id = new_list(db, owner, "Clientes")
    with db.begin() as conn:
        report = contacts.import_csv(conn, owner, list_id, TRICKY_FILE, now=NOW)
    assert (report.added, report.updated) == (3, 0)
    assert [(r.line, r.value) for r in report.rejected] == [(6, "0212-555.12.12")]
    assert "no es un celular válido" in report.rejected[0].reason
    with db.read() as conn:
        rows = contacts.audience(conn, owner.id, list_id)
        listed = contacts.get_list(conn, owner, list_id)
    assert listed.fields == ["Ciudad", "Nota", "Saldo"]
    assert listed.count == 3
    assert rows[0] == {
        "numero": "+584141234567",
        "nombre": "José repetido",
        "Ciudad": "Maracay",
        "Nota": "la última fila gana",
        "Saldo": "0",
    }
    assert rows[1]["Nota"] == '=HYPERLINK("x")'
    assert rows[1]["Saldo"] == "@ya"
    assert rows[2] == {
        "numero": "+584241234567",
        "nombre": "",
        "Ciudad": "",
        "Nota": "'citado",
        "Saldo": "",
    }


def test_export_then_import_gives_the_same_list(db: Database) -> None:
    owner = account(db)
    first = new_list(db, owner, "Original")
    with db.begin() as conn:
        contacts.import_csv(conn, owner, first, TRICKY_FILE, now=NOW)
        contacts.add_contact(
            conn,
            owner,
            first,
            number="0416 765 43 21",
            name='Comillas "dobles", comas y\nsalto',
            fields={"Nota": "+58 al inicio", "Extra nueva": "ñ€😀"},
            now=NOW,
        )
    with db.read() as conn:
        exported = contacts.export_csv(conn, owner, first)
    second = new_list(db, owner, "Copia")
    with db.begin() as conn:
        report = contacts.import_csv(conn, owner, second, exported, now=NOW)
    assert (report.added, report.rejected) == (4, [])
    with db.read() as conn:
        assert contacts.audience(conn, owner.id, second) == contacts.audience(conn, owner.id, first)
        assert contacts.get_list(conn, owner, second).fields == [
            "Ciudad",
            "Nota",
            "Saldo",
            "Extra nueva",
        ]
        assert contacts.export_csv(conn, owner, second) == exported
    # importing the same file again into the copy changes nothing
    with db.begin() as conn:
        again = contacts.import_csv(conn, owner, second, exported, now=NOW)
        assert (again.added, again.updated) == (0, 4)
        assert contacts.export_csv(conn, owner, second) == exported


def test_one_contact_per_normalised_number(db: Database) -> None:
    owner = account(db)
    list_id = new_list(db, owner, "Únicos")
    with db.begin() as conn:
        made = contacts.add_contact(conn, owner, list_id, number="04141234567", now=NOW)
    assert made.number == "+584141234567"
    with db.begin() as conn, pytest.raises(Conflict, match="ya tiene el número"):
        contacts.add_contact(conn, owner, list_id, number="+58 414-123.45.67", now=NOW)
    with db.begin() as conn, pytest.raises(InvalidNumber, match="no es un celular"):
        contacts.add_contact(conn, owner, list_id, number="12", now=NOW)
    with db.begin() as conn:
        other = contacts.add_contact(conn, owner, list_id, number="04241234567", now=NOW)
    with db.begin() as conn, pytest.raises(Conflict):
        contacts.update_contact(conn, owner, list_id, other.id, number="04141234567", now=NOW)
    with db.begin() as conn:
        edited = contacts.update_contact(
            conn, owner, list_id, other.id, name="Luis", fields={"Ciudad": "Mérida"}, now=NOW
        )
    assert (edited.name, edited.fields, edited.number) == (
        "Luis",
        {"Ciudad": "Mérida"},
        other.number,
    )
    with db.begin() as conn, pytest.raises(InvalidRequest, match="no puede ser un campo"):
        contacts.update_contact(conn, owner, list_id, other.id, fields={"Teléfono": "x"}, now=NOW)


def test_opted_out_numbers_are_marked(db: Database) -> None:
    owner = account(db)
    list_id = new_list(db, owner, "Bajas")
    with db.begin() as conn:
        contacts.add_contact(conn, owner, list_id, number="04141234567", now=NOW)
        contacts.add_contact(conn, owner, list_id, number="04241234567", now=NOW)
        suppressions.add(conn, owner, "+584241234567", source="api", now=NOW)
    with db.read() as conn:
        page = contacts.page(conn, owner, list_id)
    assert [(c.number, c.opted_out) for c in page.contacts] == [
        ("+584141234567", False),
        ("+584241234567", True),
    ]


def test_paging_continues_after_the_cursor(db: Database) -> None:
    owner = account(db)
    list_id = new_list(db, owner, "Larga")
    rows = "\n".join(f"04141{n:06d},N{n}" for n in range(7))
    with db.begin() as conn:
        contacts.import_csv(conn, owner, list_id, f"numero,nombre\n{rows}\n".encode(), now=NOW)
    seen: list[str] = []
    cursor = None
    with db.read() as conn:
        for _ in range(10):
            page = contacts.page(conn, owner, list_id, limit=3, cursor=cursor)
            seen += [c.name for c in page.contacts]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == [f"N{n}" for n in range(7)]


def test_another_accounts_list_is_not_found(db: Database) -> None:
    owner, stranger = account(db, "Dueña"), account(db, "Extraña")
    list_id = new_list(db, owner, "Privada")
    with db.begin() as conn:
        contact = contacts.add_contact(conn, owner, list_id, number="04141234567", now=NOW)
    calls = [
        lambda c: contacts.get_list(c, stranger, list_id),
        lambda c: contacts.page(c, stranger, list_id),
        lambda c: contacts.export_csv(c, stranger, list_id),
        lambda c: contacts.audience(c, stranger.id, list_id),
        lambda c: contacts.get_contact(c, stranger, list_id, contact.id),
        lambda c: contacts.delete_contact(c, stranger, list_id, contact.id),
        lambda c: contacts.rename_list(c, stranger, list_id, "mía", now=NOW),
        lambda c: contacts.delete_list(c, stranger, list_id),
        lambda c: contacts.import_csv(c, stranger, list_id, b"numero\n04141234567\n", now=NOW),
    ]
    for call in calls:
        with db.begin() as conn, pytest.raises(NotFound):
            call(conn)
    with db.read() as conn:
        assert contacts.lists(conn, stranger) == []
        assert contacts.get_list(conn, owner, list_id).count == 1


def test_names_are_unique_per_account_and_delete_takes_the_contacts(db: Database) -> None:
    owner, other = account(db, "Una"), account(db, "Otra")
    list_id = new_list(db, owner, "Igual")
    new_list(db, other, "Igual")  # another account may use the same name
    with db.begin() as conn, pytest.raises(Conflict):
        contacts.create_list(conn, owner, " Igual ", now=NOW)
    with db.begin() as conn:
        contacts.add_contact(conn, owner, list_id, number="04141234567", now=NOW)
        contacts.delete_list(conn, owner, list_id)
    with db.read() as conn:
        assert contacts.lists(conn, owner) == []
