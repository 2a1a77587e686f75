"""Read an uploaded audience (CSV or XLSX) into a header and rows of text.

CSV: read by :func:`centauro.domain.csvfile.lines`, the one CSV reader (contact imports
use it too): UTF-8 with or without a BOM, UTF-16 with a BOM, else Windows-1252 /
Latin-1 (what Excel saves in Venezuela and Colombia); the separator (``,``, ``;``, tab
or ``|``) is the one the header line uses most. XLSX: openpyxl in read-only mode, which
streams the rows. What differs from a contact import is the table made of the rows, and
it is on purpose: a campaign takes up to :data:`MAX_ROWS` rows (a list 100,000), names
blank or repeated headers instead of refusing them (``columna 3``, ``nombre 2``) and has
no byte limit of its own (the upload's body limit bounds it). Empty rows are skipped;
the first non-empty row is the header. Anything else is refused with a Spanish message
before a row is read.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from centauro.domain import csvfile
from centauro.domain.errors import InvalidRequest

#: The most rows (besides the header) a campaign may have.
MAX_ROWS = 1_000_000
_SAMPLE = 64 * 1024
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode text": NULs, yet text


class UnreadableFile(InvalidRequest):
    """The file is not a CSV or XLSX we can read."""


class TooManyRows(InvalidRequest):
    """The file has more rows than a campaign may have."""

    def __init__(self, limit: int = MAX_ROWS) -> None:
        self.limit = limit
        super().__init__(
            f"El archivo tiene más de {limit:,} filas, el máximo por campaña. ".replace(",", ".")
            + "Divídalo en varias campañas. No se cobró nada."
        )


@dataclass(frozen=True, slots=True)
class Table:
    """A file's columns (unique, in order) and its rows, each a dict by column name."""

    columns: list[str]
    rows: list[dict[str, str]]
    format: str  #: "csv" or "xlsx"


def read(data: bytes, filename: str = "", *, max_rows: int = MAX_ROWS) -> Table:
    """Parse ``data`` by its content (the name only breaks ties); raise :class:`UnreadableFile`."""
    if not data.strip():
        raise UnreadableFile("El archivo está vacío.")
    if data[:4] == b"PK\x03\x04":
        return _xlsx(data, max_rows)
    if filename.lower().endswith((".xlsx", ".xls", ".ods", ".pdf", ".doc", ".docx")) or (
        b"\x00" in data[:_SAMPLE] and not data.startswith(_UTF16_BOMS)
    ):
        raise UnreadableFile(
            "El archivo no es un CSV ni un XLSX. Guárdelo como CSV (delimitado por comas "
            "o punto y coma) o como libro de Excel (.xlsx)."
        )
    try:
        source = csvfile.lines(data, max_bytes=None)
        return _table(source.cells(), max_rows, "csv")
    except csvfile.CsvError as exc:
        raise UnreadableFile(str(exc)) from None


def _xlsx(data: bytes, max_rows: int) -> Table:
    from openpyxl import load_workbook  # noqa: PLC0415 - only when an XLSX comes in

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(
            "El archivo no es un CSV ni un XLSX que se pueda leer (¿está dañado o protegido?)."
        ) from exc
    try:
        sheet = book.worksheets[0]
        rows = ([_cell(v) for v in row] for row in sheet.iter_rows(values_only=True))
        return _table(rows, max_rows, "xlsx")
    finally:
        book.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed in Excel: 4141234567.0 is 4141234567
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _table(rows: Iterable[list[str]], max_rows: int, fmt: str) -> Table:
    it: Iterator[list[str]] = iter(rows)
    header: list[str] | None = None
    for row in it:
        if any(c.strip() for c in row):
            header = row
            break
    if header is None:
        raise UnreadableFile("El archivo no tiene filas.")
    columns = _columns(header)
    width = len(columns)
    out: list[dict[str, str]] = []
    for row in it:
        if not any(c.strip() for c in row):
            continue
        if len(out) >= max_rows:
            raise TooManyRows(max_rows)
        cells = row + [""] * (width - len(row)) if len(row) < width else row
        out.append(dict(zip(columns, (c.strip() for c in cells), strict=False)))
    if not out:
        raise UnreadableFile("El archivo solo tiene la fila de encabezados.")
    return Table(columns, out, fmt)


def _columns(header: list[str]) -> list[str]:
    """Header names, trimmed; blanks named by position and repeats numbered."""
    names: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(header, start=1):
        name = " ".join(raw.split()) or f"columna {index}"
        base, n = name, 2
        while name.casefold() in seen:
            name, n = f"{base} {n}", n + 1
        seen.add(name.casefold())
        names.append(name)
    return names
