"""Printing for the CLI: Rich tables for people, ``--json`` for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from centauro.cli import texts
from centauro.config import redact
from centauro.domain.errors import CentauroError

console = Console()
err_console = Console(stderr=True)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_plain, ensure_ascii=False, indent=2) + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return texts.YES if value else texts.NO
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, title: str = "") -> None:
    t = Table(title=title or None)
    for col in columns:
        t.add_column(texts.LABELS.get(col, col))
    for row in rows:
        t.add_row(*(_cell(row.get(c)) for c in columns))
    console.print(t)


def fields(row: Mapping[str, Any]) -> None:
    t = Table(show_header=False, box=None)
    t.add_column(style="bold")
    t.add_column()
    for key, value in row.items():
        t.add_row(texts.LABELS.get(key, key), _cell(value))
    console.print(t)


def fail(error: CentauroError | str, *, as_json: bool = False, code: int = 1) -> NoReturn:
    """Report an error (Spanish for people, a JSON object for machines) and exit non-zero."""
    message = texts.describe(error) if isinstance(error, CentauroError) else error
    message = redact(message)  # a driver's or user's text may echo a database URL
    if as_json:
        kind = type(error).__name__ if isinstance(error, CentauroError) else "error"
        sys.stdout.write(json.dumps({"error": kind, "message": message}, ensure_ascii=False) + "\n")
    else:
        err_console.print(f"[red]Error:[/red] {message}")
    raise typer.Exit(code)
