"""Logging: one line per event, with a stable ``action`` and ids.

JSON lines for machines (the default when stderr is not a terminal); a readable console
line (``time level event key=value``) for a person watching a terminal. Events carry ids
(message, account, connector), never secrets or message texts; both formatters drop any
extra field whose name says it holds one, as a second guard, and mask database passwords.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from centauro.config import redact

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_SECRET_WORDS = ("secret", "password", "text", "msg", "token")
_DROPPED = {"color_message"}  # uvicorn's duplicate of the message with terminal colours


FORMATS = ("auto", "json", "console")


def _extra(record: logging.LogRecord) -> dict[str, object]:
    """The event's own fields (``extra=``), without secrets and logging's bookkeeping."""
    data: dict[str, object] = {}
    for key, value in record.__dict__.items():
        if key in _RESERVED or key in _DROPPED or key.startswith("_"):
            continue
        if any(word in key.lower() for word in _SECRET_WORDS):
            continue
        data[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
    return data


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        data.update(_extra(record))
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        # A driver's error or a library's message may echo a database URL: never its password.
        return redact(json.dumps(data, ensure_ascii=False))


class ConsoleFormatter(logging.Formatter):
    """``15:04:05.123 INFO  connector_started connector=sim`` (local time, for people).

    A person's terminal obeys escape codes: a carrier's error or a library's message
    holding ``ESC]0;…BEL`` must show as text, as in the CLI's tables (JSON escapes them)."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        fields = " ".join(f"{k}={_quoted(v)}" for k, v in _extra(record).items())
        message = _CONTROLS.sub(_escaped, record.getMessage())
        line = f"{when} {record.levelname:<5} {message}"
        line = f"{line} {fields}" if fields else line
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return redact(line)


#: Control characters but line breaks and tabs (a traceback keeps its lines).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escaped(found: re.Match[str]) -> str:
    return f"\\x{ord(found.group()):02x}"


def _quoted(value: object) -> str:
    """A field value on one line: quoted (JSON escapes) when it has spaces or controls."""
    text = str(value)
    if text and not _CONTROLS.search(text) and not any(c in text for c in ' "\n'):
        return text
    # JSON escapes C0 controls, quotes and line breaks; DEL and C1 controls it leaves be.
    return _CONTROLS.sub(_escaped, json.dumps(text, ensure_ascii=False))


def resolve_format(log_format: str, *, stream: object = None) -> str:
    """``auto`` is ``console`` when the log goes to a terminal, ``json`` otherwise."""
    if log_format not in FORMATS:
        raise ValueError(f"unknown log format {log_format!r}: auto, json or console")
    if log_format != "auto":
        return log_format
    isatty = getattr(stream if stream is not None else sys.stderr, "isatty", None)
    return "console" if isatty is not None and isatty() else "json"


def configure_logging(level: str = "INFO", log_format: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    console = resolve_format(log_format, stream=sys.stderr) == "console"
    handler.setFormatter(ConsoleFormatter() if console else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
