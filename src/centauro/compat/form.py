"""Strict ``application/x-www-form-urlencoded`` decoding, for POST bodies and GET queries.

The standard library's parser lets ``%ZZ`` and invalid UTF-8 through (as-is or as
U+FFFD); the protocol wants such a field refused (code 304), so each name and value is
decoded with the same strict rule as the inner PHP ``urlencode`` layer.
"""

from __future__ import annotations

from centauro.compat.phpurl import php_urldecode_strict
from centauro.domain.errors import UndecodableField

MAX_FIELDS = 1000


def parse_urlencoded(data: str | bytes) -> dict[str, str]:
    """Fields of a form body or query string; a repeated name keeps its last value (as PHP)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UndecodableField("body", "form data is not UTF-8") from None
    fields: dict[str, str] = {}
    if not data:
        return fields
    pairs = data.split("&")
    if len(pairs) > MAX_FIELDS:
        raise UndecodableField("body", f"more than {MAX_FIELDS} form fields")
    for pair in pairs:
        if not pair:
            continue
        name, _, value = pair.partition("=")
        try:
            key = php_urldecode_strict(name)
        except ValueError:
            raise UndecodableField("body", "a field name is not decodable") from None
        try:
            fields[key] = php_urldecode_strict(value)
        except ValueError:
            raise UndecodableField(key) from None
    return fields
