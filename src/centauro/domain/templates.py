"""Campaign templates: ``{campo}`` fields filled from a row's columns, and nothing else.

Substitution is a single regular expression over the text: a field is a plain name
between braces (letters, digits, ``_``, ``-``, spaces), looked up in the row as a
string. There is no attribute or index access and nothing is evaluated, unlike
``str.format``. ``{{`` and ``}}`` stand for literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from centauro.domain.errors import InvalidRequest

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[\w\- ]{1,64}")


class TemplateError(InvalidRequest):
    """The template is not valid."""


@dataclass(frozen=True, slots=True)
class Template:
    text: str
    fields: tuple[str, ...]  #: the field names, in order of first use, as normalised keys


def key(name: str) -> str:
    """How a column name and a field name are compared: trimmed, case-insensitive."""
    return " ".join(name.split()).casefold()


def parse(text: str, columns: list[str]) -> Template:
    """Check ``text`` against the file's ``columns``; raise on a malformed or unknown field."""
    if not text.strip():
        raise TemplateError("El texto del mensaje está vacío.")
    known = {key(c) for c in columns}
    fields: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if token in ("{", "}"):
            raise TemplateError(
                "Hay una llave suelta en el texto; para escribir { o } use {{ o }}."
            )
        name = match.group(1).strip()
        if not _NAME.fullmatch(name):
            raise TemplateError(
                f"El campo {{{match.group(1)}}} no es válido: use solo el "
                "nombre de una columna, por ejemplo {nombre}."
            )
        if key(name) not in known:
            raise TemplateError(
                f"El campo {{{name}}} no existe en el archivo. Columnas disponibles: "
                + ", ".join(columns)
            )
        if key(name) not in fields:
            fields.append(key(name))
    return Template(text, tuple(fields))


def render(template: Template, row: Mapping[str, str]) -> tuple[str, list[str]]:
    """The text for one row (keys normalised with :func:`key`), and the fields it lacks."""
    if not template.fields:
        return template.text.replace("{{", "{").replace("}}", "}"), []
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        mark = match.group(0)
        if mark in ("{{", "}}"):
            return mark[0]
        name = key(match.group(1))
        value = row.get(name, "")
        if not value:
            if name not in missing:
                missing.append(name)
            return ""
        return value

    return _TOKEN.sub(fill, template.text), missing
