"""Reading and writing the CSV files people bring from spreadsheets; pure functions.

Files come from Excel, LibreOffice and Google Sheets in every shape: a UTF-8 byte-order
mark, ``;`` as separator (Excel in Spanish locales), Latin-1/Windows-1252 instead of
UTF-8, quoted cells holding commas, quotes and line breaks. :func:`lines` is the one
reader of CSV bytes (contact imports and campaign uploads both use it: same encodings,
same separators, same line numbers); :func:`read` is the contact lists' strict table on top
of it (a header, rows of text, limits); :func:`write` makes the one shape we export
(UTF-8 with a BOM so Excel reads the accents, ``,``, CRLF, quoting only where needed).

A cell that starts with ``= + - @`` would run as a formula when a spreadsheet opens
the file; :func:`guard` puts a ``'`` before it on export and :func:`unguard` takes that
one ``'`` off on import, so an export read back is the same data (``'`` itself is
guarded too, so a cell that really starts with one survives the trip).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from centauro.domain.errors import InvalidRequest

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 50
MAX_CELL = 1000
SEPARATORS = (",", ";", "\t", "|")
_RISKY = ("=", "+", "-", "@", "\t", "\r", "'")


class CsvError(InvalidRequest):
    """The file cannot be read as CSV; the message says why, in Spanish, for the user."""


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]  #: column names as written (trimmed), none empty, none repeated
    rows: list[tuple[int, list[str]]]  #: (line number in the file, cells padded to the header)
    separator: str
    encoding: str


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: a BOM's, else UTF-8, else Windows-1252/Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_separator(text: str) -> str:
    """The separator the first non-blank line uses most (outside quotes); ``,`` when none."""
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted = False
    for char in text.lstrip("\r\n"):
        if char == '"':
            quoted = not quoted
        elif not quoted and char in ("\n", "\r"):
            break
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] else ","


@dataclass(frozen=True, slots=True)
class Lines:
    """A CSV file decoded and its separator found; iterating gives ``(line, cells)`` for
    every record, blank ones included (``line``: where the record starts in the file)."""

    text: str
    separator: str
    encoding: str

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        reader = self._reader()
        start = 1
        try:
            for cells in reader:
                yield start, cells
                start = reader.line_num + 1
        except csv.Error as exc:
            raise _invalid(reader) from exc

    def cells(self) -> Iterator[list[str]]:
        """The records without their line numbers (what a 1,000,000-row campaign reads:
        one object less per row)."""
        reader = self._reader()
        try:
            yield from reader
        except csv.Error as exc:
            raise _invalid(reader) from exc

    def _reader(self) -> Any:
        return csv.reader(
            io.StringIO(self.text, newline=""), delimiter=self.separator, strict=False
        )


def _invalid(reader: Any) -> CsvError:
    return CsvError(
        f"Línea {reader.line_num}: el CSV no es válido (¿un valor de más de "
        f"{csv.field_size_limit():,} caracteres o unas comillas sin cerrar?).".replace(",", ".")
    )


def lines(data: bytes, *, max_bytes: int | None = MAX_BYTES) -> Lines:
    """The one way we read CSV bytes (contact imports and campaign uploads alike): the
    encoding by :func:`decode`, NUL characters dropped (no store takes them), the
    separator by :func:`sniff_separator`. :class:`CsvError` when the file is over
    ``max_bytes`` (None: no limit) or holds nothing but blanks."""
    if max_bytes is not None and len(data) > max_bytes:
        raise CsvError(f"El archivo pasa de {max_bytes // (1024 * 1024)} MB.")
    text, encoding = decode(data)
    text = text.replace("\x00", "")
    if not text.strip():
        raise CsvError("El archivo está vacío.")
    return Lines(text, sniff_separator(text), encoding)


def read(
    data: bytes,
    *,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
    max_cell: int = MAX_CELL,
) -> Table:
    """The header and the rows of a CSV file; :class:`CsvError` (Spanish) when it is not one.

    Blank lines are skipped (before the header too); a short row is padded with empty
    cells; a row with more cells than the header, an empty or repeated column name, or a
    file over the limits is refused with its line number.
    """
    source = lines(data)
    records = iter(source)
    for _, first in records:  # the header: the first line that is not blank
        if any(cell.strip() for cell in first):
            break
    else:
        raise CsvError("El archivo está vacío.")
    header = [cell.strip() for cell in first]
    _check_header(header, max_columns)
    rows: list[tuple[int, list[str]]] = []
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            extra = len(cells) - len(header)
            raise CsvError(f"Línea {line}: tiene {extra} columna(s) más que el encabezado.")
        if any(len(cell) > max_cell for cell in cells):
            raise CsvError(f"Línea {line}: un valor pasa de {max_cell} caracteres.")
        if len(rows) >= max_rows:
            raise CsvError(f"El archivo pasa de {max_rows:,} filas.".replace(",", "."))
        rows.append((line, cells + [""] * (len(header) - len(cells))))
    return Table(header, rows, source.separator, source.encoding)


def _check_header(header: list[str], max_columns: int) -> None:
    if len(header) > max_columns:
        raise CsvError(f"El archivo tiene más de {max_columns} columnas.")
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            raise CsvError(f"Encabezado: la columna {position} no tiene nombre.")
        if name.casefold() in seen:
            raise CsvError(f"Encabezado: la columna «{name}» está repetida.")
        seen.add(name.casefold())


def guard(value: str) -> str:
    """``value`` safe to open in a spreadsheet (see the module's docstring)."""
    return "'" + value if value.startswith(_RISKY) else value


def unguard(value: str) -> str:
    """Undo :func:`guard`: one leading ``'`` before a risky character comes off."""
    if value.startswith("'") and value[1:].startswith(_RISKY):
        return value[1:]
    return value


def write(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, plain: Collection[int] = ()
) -> bytes:
    """The file we export: UTF-8 with BOM, ``,``, CRLF, minimal quoting, cells guarded
    except in the ``plain`` columns (values checked by us, e.g. E.164 numbers)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([guard(name) for name in header])
    for row in rows:
        writer.writerow([c if i in plain else guard(c) for i, c in enumerate(row)])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
