"""Logging: one line of JSON per event, with a stable ``action`` and ids.

Events carry ids (message, account, connector), never secrets or message texts; the
formatter drops any extra field whose name says it holds one, as a second guard.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from centauro.config import redact

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_SECRET_WORDS = ("secret", "password", "text", "msg", "token")
_DROPPED = {"color_message"}  # uvicorn's duplicate of the message with terminal colours


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in _RESERVED or key in _DROPPED or key.startswith("_"):
                continue
            if any(word in key.lower() for word in _SECRET_WORDS):
                continue
            data[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        # A driver's error or a library's message may echo a database URL: never its password.
        return redact(json.dumps(data, ensure_ascii=False))


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
