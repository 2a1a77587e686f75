"""Uploaded audiences: the CSV quirks of real exports, XLSX, and files that are neither."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from centauro.domain import csvfile
from centauro.service import campaign_files
from centauro.service.campaign_files import TooManyRows, UnreadableFile


def test_reads_utf8_with_bom_and_semicolons() -> None:
    data = "\ufefftelefono;nombre\n04141234567;José\n".encode()
    table = campaign_files.read(data, "a.csv")
    assert table.columns == ["telefono", "nombre"]
    assert table.rows == [{"telefono": "04141234567", "nombre": "José"}]


def test_reads_latin1_bytes_as_excel_saves_them() -> None:
    data = "número;nombre\n04141234567;María Peña\n".encode("cp1252")
    table = campaign_files.read(data, "a.csv")
    assert table.columns == ["número", "nombre"]
    assert table.rows[0]["nombre"] == "María Peña"


def test_keeps_quoted_newlines_and_skips_empty_rows() -> None:
    data = b'numero,nota\n\n04141234567,"linea uno\nlinea dos"\n,\n\n3001234567,x\n'
    table = campaign_files.read(data, "a.csv")
    assert [r["numero"] for r in table.rows] == ["04141234567", "3001234567"]
    assert table.rows[0]["nota"] == "linea uno\nlinea dos"


def test_twelve_columns_short_rows_blank_and_repeated_headers() -> None:
    header = ",".join(["numero", "nombre", "", "nombre"] + [f"c{i}" for i in range(8)])
    data = f"{header}\n04141234567,Ana\n".encode()
    table = campaign_files.read(data, "a.csv")
    assert len(table.columns) == 12
    assert table.columns[:4] == ["numero", "nombre", "columna 3", "nombre 2"]
    assert table.rows[0]["c7"] == ""


def test_more_rows_than_the_limit_is_refused_with_a_spanish_message() -> None:
    data = b"numero\n" + b"1\n" * 11
    assert len(campaign_files.read(data, "a.csv", max_rows=11).rows) == 11
    with pytest.raises(TooManyRows, match="más de 10 filas"):
        campaign_files.read(data, "a.csv", max_rows=10)


def test_the_real_limit_is_one_million_rows() -> None:
    data = b"numero\n" + b"1\n" * 1_000_001
    with pytest.raises(TooManyRows, match=r"1\.000\.000"):
        campaign_files.read(data, "a.csv")


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.7\x00\x01binary", "lista.pdf"),
        (b"\x00\x00\x00\x18ftypmp42", "video.csv"),
        (b"PK\x03\x04not really a zip", "lista.xlsx"),
        (b"   \n\n", "vacio.csv"),
        (b"numero\n", "solo.csv"),
    ],
)
def test_files_that_are_not_csv_or_xlsx_are_refused_in_spanish(data: bytes, name: str) -> None:
    with pytest.raises(UnreadableFile) as caught:
        campaign_files.read(data, name)
    assert "archivo" in str(caught.value).lower()


def test_reads_the_first_sheet_of_an_xlsx() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Teléfono", "Nombre", "Saldo"])
    sheet.append([4141234567, "Ana", 12.5])
    sheet.append([None, None, None])
    sheet.append(["+57 300 123 4567", "Luis", 3])
    buffer = io.BytesIO()
    book.save(buffer)
    table = campaign_files.read(buffer.getvalue(), "lista.xlsx")
    assert table.format == "xlsx"
    assert table.rows == [
        {"Teléfono": "4141234567", "Nombre": "Ana", "Saldo": "12.5"},
        {"Teléfono": "+57 300 123 4567", "Nombre": "Luis", "Saldo": "3"},
    ]


def test_a_cell_the_csv_module_cannot_take_is_an_unreadable_file_with_its_line() -> None:
    data = b"numero,nota\n04141234567,corta\n04241234567," + b"x" * 200_000 + b"\n"
    with pytest.raises(UnreadableFile, match="Línea 3: el CSV no es válido"):
        campaign_files.read(data, "a.csv")


def test_excel_unicode_text_utf16_with_tabs_is_read() -> None:
    data = "teléfono\tnombre\r\n04141234567\tMaría\r\n".encode("utf-16")  # BOM, then NULs
    table = campaign_files.read(data, "a.txt")
    assert table.columns == ["teléfono", "nombre"]
    assert table.rows == [{"teléfono": "04141234567", "nombre": "María"}]


@pytest.mark.parametrize(
    "data",
    [
        '\ufeffnumero;nombre;ciudad\r\n04141234567;"Pérez; Ana";Mérida\r\n\r\n3001234567;Luis;\r\n',
        "numero|nombre|ciudad\n04141234567|Peña|Caracas\n",
        "\n\nnumero\tnombre\tciudad\n04141234567\tJosé\tValencia\n",
        "numero,nombre,ciudad\n04141234567,Muñoz €,Bogotá\n",
    ],
)
def test_a_campaign_upload_reads_a_csv_as_a_contact_import_does(data: str) -> None:
    raw = data.encode("cp1252") if "€" in data else data.encode()
    contact = csvfile.read(raw)
    campaign = campaign_files.read(raw, "a.csv")
    assert campaign.columns == contact.header
    assert campaign.rows == [
        dict(zip(contact.header, cells, strict=True)) for _, cells in contact.rows
    ]
