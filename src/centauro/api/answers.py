"""Answers given before a route sees the request, in the shape of the door it came to.

The body-size limit and the HTTP protocol's own limits (header size, timeouts, the
connection cap) answer without the app; the CentauroSMS paths still get the compat JSON
(``{"status":"304",…}``) and everything else an RFC 9457 problem, as the routes would.
"""

from __future__ import annotations

import json

from centauro.api.v1 import problems
from centauro.compat import codes, wire

COMPAT_PATHS = ("/controllersms", "/http")

#: HTTP status → the compat code its body carries. "Not received" (408) is the
#: protocol's "parameters not received"; a full server (503) is "servers offline".
_COMPAT_CODES = {
    400: codes.Code.BAD_PARAMETERS,
    408: codes.Code.MISSING_PARAMETER,
    413: codes.Code.BAD_PARAMETERS,
    431: codes.Code.BAD_PARAMETERS,
    503: codes.Code.OFFLINE,
}

#: HTTP status → (problem code, title) for the REST door and any other path.
_PROBLEMS = {
    400: ("bad_request", "Bad request"),
    408: ("request_timeout", "Request not received in time"),
    413: ("payload_too_large", "Request body too large"),
    431: ("request_header_fields_too_large", "Request headers too large"),
    503: ("unavailable", "Service unavailable"),
}


def error_body(path: str, status: int) -> tuple[str, bytes]:
    """(content type, body) of the answer ``status`` for a request to ``path``."""
    if path.startswith(COMPAT_PATHS):
        return "application/json", wire.encode_error(_COMPAT_CODES[status])
    code, title = _PROBLEMS[status]
    body = {"type": problems.TYPE_BASE + code, "title": title, "status": status, "code": code}
    return problems.PROBLEM_JSON, json.dumps(body, separators=(",", ":")).encode()
