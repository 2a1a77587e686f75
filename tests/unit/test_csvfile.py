"""The CSV reader takes what spreadsheets write; the writer's output reads back the same."""

from __future__ import annotations

import pytest

from centauro.domain import csvfile
from centauro.domain.csvfile import CsvError

TRICKY = [
    ["+584141234567", 'Peña, José "Pepe"', "línea uno\nlínea dos", "=1+1"],
    ["+573001234567", "'citado", "-5", "@todos"],
    ["+584241234567", "", "  espacios  ", "ñandú €"],
]


def test_excel_in_spanish_semicolons_bom_and_quoted_newlines() -> None:
    data = (
        "\ufeffnumero;nombre;nota\r\n"
        '04141234567;"Pérez; Ana";"dos\r\nlíneas"\r\n'
        "\r\n"
        "04241234567;Luis\r\n"
    ).encode()
    table = csvfile.read(data)
    assert table.separator == ";"
    assert table.encoding == "utf-8-sig"
    assert table.header == ["numero", "nombre", "nota"]
    assert table.rows == [
        (2, ["04141234567", "Pérez; Ana", "dos\r\nlíneas"]),
        (5, ["04241234567", "Luis", ""]),
    ]


def test_latin1_files_are_read_as_windows_1252() -> None:
    data = "numero,nombre\n04141234567,Muñoz Gómez €\n".encode("cp1252")
    table = csvfile.read(data)
    assert table.encoding == "cp1252"
    assert table.rows[0][1] == ["04141234567", "Muñoz Gómez €"]


def test_tabs_are_a_separator_too() -> None:
    table = csvfile.read(b"numero\tnombre\n04141234567\tAna, la de Maracay\n")
    assert table.separator == "\t"
    assert table.rows[0][1] == ["04141234567", "Ana, la de Maracay"]


def test_write_then_read_gives_back_every_cell() -> None:
    header = ["numero", "nombre", "nota", "fórmula"]
    data = csvfile.write(header, TRICKY, plain={0})
    assert data.startswith(b"\xef\xbb\xbf")
    for guarded in (b"'=1+1", b"'@todos", b"''citado", b"'-5"):
        assert guarded in data
    table = csvfile.read(data)
    assert table.header == header
    assert [[csvfile.unguard(c) for c in cells] for _, cells in table.rows] == TRICKY


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "vacío"),
        (b"numero,,nombre\n1,2,3\n", "columna 2 no tiene nombre"),
        (b"numero,Nombre,nombre\n", "«nombre» está repetida"),
        (b"numero,nombre\n1,2\n3,4,5\n", "Línea 3: tiene 1 columna\\(s\\) más"),
        (b"numero\n" + b"x" * 1001 + b"\n", "Línea 2: un valor pasa de 1000"),
    ],
)
def test_bad_files_are_refused_in_spanish_with_the_line(data: bytes, says: str) -> None:
    with pytest.raises(CsvError, match=says):
        csvfile.read(data)


def test_row_and_column_limits() -> None:
    with pytest.raises(CsvError, match="pasa de 3 filas"):
        csvfile.read(b"numero\n1\n2\n3\n4\n", max_rows=3)
    with pytest.raises(CsvError, match="más de 2 columnas"):
        csvfile.read(b"a,b,c\n", max_columns=2)


def test_unguard_leaves_foreign_apostrophes_alone() -> None:
    assert csvfile.unguard("'hola") == "'hola"
    assert csvfile.unguard("'=A1") == "=A1"
    assert csvfile.guard("+58") == "'+58"


def test_pipes_and_blank_lines_before_the_header() -> None:
    table = csvfile.read(b"\r\n\r\nnumero|nombre\r\n04141234567|Ana, la de Maracay\r\n")
    assert table.separator == "|"
    assert table.header == ["numero", "nombre"]
    assert table.rows == [(4, ["04141234567", "Ana, la de Maracay"])]


def test_a_csv_module_error_is_a_spanish_refusal_with_the_line() -> None:
    with pytest.raises(CsvError, match="Línea 2: el CSV no es válido") as caught:
        csvfile.read(b"numero,nota\n1," + b"x" * 200_000 + b"\n", max_cell=10**6)
    assert "field" not in str(caught.value)


def test_lines_has_no_byte_limit_when_told_so() -> None:
    big = b"numero\n" + b"04141234567\n" * (csvfile.MAX_BYTES // 12 + 1)
    with pytest.raises(CsvError, match="pasa de 10 MB"):
        csvfile.lines(big)
    assert sum(1 for _ in csvfile.lines(big, max_bytes=None)) == csvfile.MAX_BYTES // 12 + 2
