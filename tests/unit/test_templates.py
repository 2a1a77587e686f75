"""Campaign templates: plain ``{campo}`` substitution, nothing evaluated, unknown fields refused."""

from __future__ import annotations

import pytest

from centauro.domain import templates
from centauro.domain.templates import TemplateError

COLUMNS = ["Nombre", "telefono", "saldo pendiente"]


def test_fills_fields_case_and_space_insensitively() -> None:
    t = templates.parse("Hola {nombre}, debe {Saldo  Pendiente} Bs.", COLUMNS)
    assert t.fields == ("nombre", "saldo pendiente")
    text, missing = templates.render(t, {"nombre": "Ana", "saldo pendiente": "12"})
    assert (text, missing) == ("Hola Ana, debe 12 Bs.", [])


def test_reports_the_fields_a_row_lacks() -> None:
    t = templates.parse("Hola {nombre}, saldo {saldo pendiente}", COLUMNS)
    assert templates.render(t, {"nombre": "", "saldo pendiente": ""})[1] == [
        "nombre",
        "saldo pendiente",
    ]


def test_unknown_field_is_refused_naming_the_columns() -> None:
    with pytest.raises(TemplateError, match=r"\{apellido\} no existe.*Nombre, telefono"):
        templates.parse("Hola {apellido}", COLUMNS)


@pytest.mark.parametrize(
    "text",
    ["{nombre.__class__}", "{nombre[0]}", "{nombre!r}", "{0}", "{}", "Hola {nombre", "Hola }"],
)
def test_no_attribute_index_or_conversion_is_accepted(text: str) -> None:
    with pytest.raises(TemplateError):
        templates.parse(text, COLUMNS)


def test_values_are_inserted_verbatim_never_evaluated() -> None:
    t = templates.parse("Hola {nombre}", COLUMNS)
    assert templates.render(t, {"nombre": "{telefono} {__import__('os')}"})[0] == (
        "Hola {telefono} {__import__('os')}"
    )


def test_double_braces_are_literal_braces() -> None:
    t = templates.parse("Código {{promo}} para {nombre}", COLUMNS)
    assert templates.render(t, {"nombre": "Ana"})[0] == "Código {promo} para Ana"


def test_empty_template_is_refused() -> None:
    with pytest.raises(TemplateError, match="vacío"):
        templates.parse("   ", COLUMNS)
