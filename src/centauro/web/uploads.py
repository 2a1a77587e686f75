"""A form with one uploaded file (a CSV to import): CSRF checked, size bounded.

The file is read whole into memory, at most :data:`MAX_UPLOAD` bytes: more is refused
with a Spanish sentence, before anything is parsed. Starlette spools big parts to a
temporary file while it parses, so the limit bounds memory, not the request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.requests import Request

from centauro.domain import csvfile
from centauro.service import panel_auth
from centauro.web.forms import FormError
from centauro.web.session import BadCsrf, signing_key

MAX_UPLOAD = csvfile.MAX_BYTES


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    data: bytes


async def upload(request: Request, seed: str, field: str = "file") -> Upload:
    """The file posted as ``field``; :class:`BadCsrf` or :class:`FormError` if not there."""
    data = await request.form(max_files=1, max_fields=10)
    key = await signing_key(request)
    given = str(data.get("csrf") or "")
    if not seed or not secrets.compare_digest(given, panel_auth.csrf_token(key, seed)):
        raise BadCsrf
    file = data.get(field)
    if not isinstance(file, UploadFile) or not file.filename:
        raise FormError("Elija un archivo CSV.")
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise FormError(f"El archivo pasa de {MAX_UPLOAD // (1024 * 1024)} MB.")
    return Upload(file.filename, content)
