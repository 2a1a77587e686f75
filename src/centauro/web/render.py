"""Templates: one Jinja2 environment (autoescaped), the Spanish filters, and answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from centauro.web import format as fmt
from centauro.web import texts

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["number"] = fmt.number
_env.filters["local"] = fmt.local
_env.globals["percent"] = fmt.percent
_env.filters["state"] = lambda value: texts.STATES.get(str(value), str(value))


def page(request: Request, template: str, /, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the visitor (if any) and the request's CSRF token."""
    context.setdefault("visitor", None)
    context.setdefault("csrf", context["visitor"].csrf if context["visitor"] else "")
    context.setdefault("error", None)
    context.setdefault("notice", None)
    html = _env.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status)


def redirect(path: str) -> RedirectResponse:
    """After a POST: 303 so the browser GETs the next page."""
    return RedirectResponse(path, status_code=303)
