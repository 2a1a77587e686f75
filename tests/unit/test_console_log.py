"""The console log format shows control characters instead of letting them drive the
operator's terminal (issue 8, items 5 and 14 together)."""

from __future__ import annotations

import logging

from centauro.logs import ConsoleFormatter, JsonFormatter


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("centauro.test", logging.WARNING, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    return record


def test_escape_codes_in_the_event_and_its_fields_are_shown_not_obeyed() -> None:
    record = _record("smpp_receipt_unusable \x1b[2J", error="id:1 \x1b]0;pwned\x07", code="a\x9bb")
    line = ConsoleFormatter().format(record)
    for raw in ("\x1b", "\x07", "\x9b"):
        assert raw not in line
    assert "smpp_receipt_unusable \\x1b[2J" in line
    assert 'error="id:1 \\u001b]0;pwned\\u0007"' in line
    assert 'code="a\\x9bb"' in line


def test_plain_fields_stay_unquoted_and_passwords_masked() -> None:
    record = _record("connector_started", connector="sim", url="postgresql://u:s3cret@db/x")
    line = ConsoleFormatter().format(record)
    assert line.endswith("connector_started connector=sim url=postgresql://u:***@db/x")
    assert "s3cret" not in JsonFormatter().format(record)
