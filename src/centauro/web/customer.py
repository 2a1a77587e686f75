"""A customer user's pages: balance and ledger, sending one SMS, the API credentials.
No URL here takes an account id: the account is always the session user's."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from centauro import metrics
from centauro.domain.errors import (
    AuthenticationFailed,
    CentauroError,
    InsufficientCredits,
)
from centauro.domain.models import Account
from centauro.service import accounts, reports, submit
from centauro.service.submit import Verdict
from centauro.web import forms, texts
from centauro.web.render import page, redirect
from centauro.web.session import Visitor, form, gateway, now, require

SOURCE = "panel"
MAX_TEXT = 1600
LEDGER_ROWS = 50
_VERDICTS = {
    Verdict.INVALID_NUMBER: "El número no es un celular válido de Venezuela o Colombia.",
    Verdict.OPTED_OUT: "Ese número pidió no recibir más mensajes de esta cuenta (BAJA).",
    Verdict.DUPLICATE: "Número repetido.",
}


async def _account(request: Request, v: Visitor) -> Account:
    account_id = v.user.account_id
    assert account_id is not None
    return await gateway(request).read(lambda c: reports.account_by_id(c, account_id))


async def overview(request: Request, v: Visitor) -> Response:
    account = await _account(request, v)
    ledger = await gateway(request).read(
        lambda c: accounts.ledger(c, account.client_id, limit=LEDGER_ROWS)
    )
    return page(request, "balance.html", visitor=v, account=account, ledger=ledger)


async def send_page(request: Request) -> Response:
    v = await require(request, operator=False)
    account = await _account(request, v)
    return page(request, "send.html", visitor=v, account=account, number="", text="")


async def send(request: Request) -> Response:
    v = await require(request, operator=False)
    data = await form(request, "s:" + v.token)
    account = await _account(request, v)
    number = forms.text(data, "number", limit=40)
    raw = data.get("text")
    text = raw[: MAX_TEXT + 1] if isinstance(raw, str) else ""

    def again(error: str, status: int) -> Response:
        return page(
            request,
            "send.html",
            status=status,
            visitor=v,
            account=account,
            number=number,
            text=text,
            error=error,
        )

    outcome = await _submit(request, account, number, text)
    if isinstance(outcome, tuple):
        return again(*outcome)
    gateway(request).queued()
    return redirect(f"/panel/messages/{outcome}")


def _form_problem(number: str, text: str) -> str | None:
    if not number:
        return "Escriba el número de celular."
    if not text.strip():
        return "Escriba el mensaje: está vacío."
    if len(text) > MAX_TEXT:
        return f"El mensaje pasa de {MAX_TEXT} caracteres."
    return None


async def _submit(
    request: Request, account: Account, number: str, text: str
) -> int | tuple[str, int]:
    """The new message's id, or what to tell the customer and with which status."""
    gw = gateway(request)
    problem = _form_problem(number, text)
    if problem is not None:
        return problem, 422
    try:
        planned = submit.plan(
            [submit.Recipient(number)],
            text,
            country=account.country,
            max_segments=gw.settings.max_segments,
            max_recipients=1,
            routable=gw.routable,
        )
        at = now()
        receipt = await gw.write(
            lambda c: submit.commit(c, account=account, planned=planned, source=SOURCE, now=at)
        )
        metrics.accepted(account.client_id, receipt.accepted)
    except InsufficientCredits as exc:
        return texts.error_text(exc), 402
    except AuthenticationFailed:
        return "La cuenta está deshabilitada: no puede enviar. Consulte al operador.", 403
    except CentauroError as exc:
        return texts.error_text(exc), 422
    item, message_id = receipt.items[0], receipt.message_ids[0]
    if message_id is None:
        return _VERDICTS.get(item.verdict, texts.error_text(CentauroError())), 422
    return message_id


async def credentials_page(request: Request) -> Response:
    v = await require(request, operator=False)
    account = await _account(request, v)
    return page(request, "credentials.html", visitor=v, account=account)


async def rotate(request: Request) -> Response:
    v = await require(request, operator=False)
    await form(request, "s:" + v.token)
    account = await _account(request, v)
    at = now()
    made = await gateway(request).write(
        lambda c: accounts.rotate_secret(c, client_id=account.client_id, now=at)
    )
    return page(
        request,
        "credentials_once.html",
        visitor=v,
        account=made.account,
        client_id=made.client_id,
        secret=made.client_secret,
        headline="Secreto renovado: el anterior ya no funciona",
    )


routes = [
    Route("/send", send_page, methods=["GET"]),
    Route("/send", send, methods=["POST"]),
    Route("/credentials", credentials_page, methods=["GET"]),
    Route("/credentials/rotate", rotate, methods=["POST"]),
]
