"""Printing for the CLI: Rich tables for people, ``--json`` for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from centauro.cli import texts
from centauro.config import redact
from centauro.domain.errors import CentauroError

console = Console()
UNBOUNDED = 100_000  #: a width no table reaches: to measure its true minimum
err_console = Console(stderr=True)


#: C0 controls as their Unicode control pictures (ESC → ␛), DEL as ␡; C1 controls and the
#: bidirectional overrides (which can reorder what the operator reads) in escaped form.
_VISIBLE = (
    {c: chr(0x2400 + c) for c in range(0x20)}
    | {0x7F: "\u2421"}
    | {c: f"\\x{c:02x}" for c in range(0x80, 0xA0)}
    | {c: f"\\u{c:04x}" for c in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
)
_VISIBLE_KEEP_NEWLINES = {k: v for k, v in _VISIBLE.items() if k != 0x0A}
_VISIBLE[0x0A] = "\u21b5"  # ↵: a line break inside one table cell


def visible(text: str, *, newlines: bool = False) -> str:
    """``text`` with every control character shown, never obeyed, by the terminal.

    A reference or an inbound SMS holding ``ESC]0;…BEL`` or ``ESC[2J`` would otherwise
    retitle or clear the operator's terminal. ``newlines`` keeps line breaks (a field of
    its own); in a table cell they become ``↵``. ``--json`` output never goes through here.
    """
    if newlines:
        return text.translate(_VISIBLE_KEEP_NEWLINES)
    return text.translate(_VISIBLE)


def safe(value: object) -> str:
    """A stored or typed value for a Rich markup string: controls shown, ``[tags]`` inert."""
    return escape(visible(str(value)))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_plain, ensure_ascii=False, indent=2) + "\n")


def _cell(key: str, value: Any, *, newlines: bool = False) -> Text:
    """One value for people: a Text, so stored ``[red]``-like text is not Rich markup;
    stored English words (states, kinds) in Spanish."""
    if isinstance(value, str) and key in texts.VALUES:
        value = texts.VALUES[key].get(value, value)
    if value is None:
        return Text("—")
    if isinstance(value, bool):
        return Text(texts.YES if value else texts.NO)
    if isinstance(value, datetime):
        return Text(value.strftime("%Y-%m-%d %H:%M:%S"))
    return Text(visible(str(value), newlines=newlines))


#: Values an operator copies (ids, secrets, numbers): never wrapped, folded or cut.
UNCUT = frozenset(
    {"id", "client_id", "client_secret", "secret", "message_id", "carrier_id", "account_id"}
    | {"to", "from", "number"}
)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, title: str = "") -> None:
    t = Table(title=title or None)
    cells = [[_cell(c, row.get(c)) for c in columns] for row in rows]
    for i, col in enumerate(columns):
        if col in UNCUT:
            widest = max((cell.cell_len for cell in (r[i] for r in cells)), default=0)
            t.add_column(texts.LABELS.get(col, col), no_wrap=True, min_width=widest)
        else:  # fold, not "…": a long word shows whole, over two lines
            t.add_column(texts.LABELS.get(col, col), overflow="fold")
    for row_cells in cells:
        t.add_row(*row_cells)
    _print_uncut(t, Measurement.get(console, console.options.update_width(UNBOUNDED), t).minimum)


def fields(row: Mapping[str, Any]) -> None:
    t = Table(show_header=False, box=None)
    t.add_column(style="bold")
    t.add_column()
    labels = {key: texts.LABELS.get(key, key) for key in row}
    for key, value in row.items():
        t.add_row(labels[key], _cell(key, value, newlines=True))
    label_width = max((len(label) for label in labels.values()), default=0)
    uncut = [len(str(v)) for k, v in row.items() if k in UNCUT and v is not None]
    _print_uncut(t, label_width + max(uncut, default=0) + 4)  # + each column's padding


def _print_uncut(renderable: Table, needed: int) -> None:
    """Print wider than the terminal rather than cut an id or a secret: they are what an
    operator copies, and Rich's last resort on a narrow terminal is to cut every column.
    Other text still wraps inside its column."""
    if needed <= console.width:
        console.print(renderable)
        return
    previous = console.width
    console.width = needed
    try:
        console.print(renderable)
    finally:
        console.width = previous


def fail(error: CentauroError | str, *, as_json: bool = False, code: int = 1) -> NoReturn:
    """Report an error (Spanish for people, a JSON object for machines) and exit non-zero."""
    message = texts.describe(error) if isinstance(error, CentauroError) else error
    message = redact(message)  # a driver's or user's text may echo a database URL
    if as_json:
        kind = type(error).__name__ if isinstance(error, CentauroError) else "error"
        sys.stdout.write(json.dumps({"error": kind, "message": message}, ensure_ascii=False) + "\n")
    else:
        # soft_wrap: the terminal wraps, Rich does not break the line (a command or an id
        # in the message stays copyable).
        err_console.print(f"[red]Error:[/red] {safe(message)}", soft_wrap=True)
    raise typer.Exit(code)
