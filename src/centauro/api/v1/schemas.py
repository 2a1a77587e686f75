"""The REST API's shapes (docs/rest.md), as pydantic models: bodies in, answers out.

Request bodies are validated *strictly* against JSON types (``"3600"`` is not a number,
``1700000000`` is not a time) and unknown fields are refused: a misspelt
``"schedule"`` must not silently send now. Answer models document the OpenAPI; the
routes build answers as plain dicts and JSON bytes (:func:`json_response`), and tests
check those against these models through the OpenAPI (Schemathesis).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

import pydantic_core
from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBasic
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import HTTPConnection

from centauro.domain import inputs
from centauro.runtime import Gateway

MessageStatus = Literal[
    "scheduled",
    "queued",
    "sent",
    "delivered",
    "undelivered",
    "expired",
    "rejected",
    "failed",
    "cancelled",
    "held",
]
Category = Literal["transactional", "marketing"]
M = TypeVar("M", bound=BaseModel)
Id = Annotated[str, Field(description="A 64-bit integer as a decimal string", examples=["123"])]


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time out of range") from None


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if any(c.isspace() for c in value) or inputs.first_forbidden(value) is not None:
        raise ValueError("must not contain spaces or control characters")
    return value


UtcTime = Annotated[AwareDatetime, AfterValidator(_utc)]
HttpUrlText = Annotated[
    str,
    Field(max_length=2000, description="http(s) URL", examples=["https://example.com/sms"]),
    AfterValidator(_http_url),
]
Reference = Annotated[str, Field(max_length=200, description="Your own reference, searchable")]
Text = Annotated[str, Field(min_length=1, description="The message text")]


# --- request bodies ---------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SendOptions(_Strict):
    schedule_at: UtcTime | None = Field(
        None, description="When to send (with offset); past or absent: now"
    )
    validity_period: int = Field(
        86400, ge=60, le=604800, description="Seconds to keep trying before it expires"
    )
    callback_url: HttpUrlText | None = Field(
        None, description="Receives these messages' `message.status` events"
    )
    category: Category = Field(
        "transactional", description="`marketing` waits out the account's quiet hours"
    )
    from_: str | None = Field(
        None,
        alias="from",
        max_length=32,
        description=(
            "A sender ID the operator granted the account (short code, number or name); "
            "absent: the account's default. Not granted: 422 `sender_not_granted`"
        ),
        examples=["Centauro"],
    )


class SendRequest(SendOptions):
    """``POST /v1/messages``: one text to one or many numbers."""

    to: str | Annotated[list[str], Field(min_length=1)] = Field(
        description="A number in any usual form, or a non-empty list of them",
        examples=["04141234567", ["04141234567", "+573001234567"]],
    )
    text: Text
    reference: Reference | None = None


class BatchItem(_Strict):
    to: str = Field(examples=["04141234567"])
    text: Text
    reference: Reference | None = None


class BatchRequest(SendOptions):
    """``POST /v1/messages/batch``: a text per recipient."""

    messages: Annotated[list[BatchItem], Field(min_length=1)]


def parse_body(model: type[M], raw: bytes) -> M:
    """Validate a JSON body straight from its bytes (one pass in Rust, strict JSON types);
    errors become the usual 422 ``validation_error`` with ``body`` locations."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        issues = exc.errors(include_url=False, include_context=False, include_input=False)
        for issue in issues:
            issue["loc"] = ("body", *issue["loc"])
        raise RequestValidationError(issues) from None


# --- answers ----------------------------------------------------------------------------


class SubmittedMessage(BaseModel):
    id: Id | None = Field(description="null when rejected")
    to: str = Field(description="E.164 when the number is valid, else as given")
    status: Literal["queued", "scheduled", "rejected"]
    error: Literal["invalid_number", "duplicate", "opted_out"] | None
    segments: int
    encoding: Literal["gsm7", "ucs2"]
    cost: int
    reference: str | None


class SubmitAnswer(BaseModel):
    messages: list[SubmittedMessage]
    cost: int = Field(description="Credits charged for the whole request")
    balance: int = Field(description="Credits left after it")


class MessageOut(BaseModel):
    id: Id
    to: str
    text: str
    status: MessageStatus
    error: str | None
    segments: int
    encoding: Literal["gsm7", "ucs2", "binary"] = Field(
        description="`binary`: an SMPP data_coding 4 message; `text` is its body in hex"
    )
    cost: int
    reference: str | None
    from_: str | None = Field(
        alias="from", description="The sender ID; null: the carrier connection's own"
    )
    category: Category
    connector: str | None
    created_at: datetime
    scheduled_for: datetime | None = Field(description="When a `scheduled` message goes out")
    sent_at: datetime | None
    done_at: datetime | None
    expires_at: datetime | None


class Page(BaseModel):
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class MessagePage(Page):
    data: list[MessageOut]


class Balance(BaseModel):
    balance: int


class LedgerEntryOut(BaseModel):
    id: Id
    kind: Literal["charge", "topup", "refund"]
    amount: int
    balance_after: int
    message_id: Id | None
    messages: int
    note: str
    created_at: datetime


class LedgerPage(Page):
    data: list[LedgerEntryOut]


class InboundOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: Id
    from_: str = Field(alias="from")
    to: str
    text: str
    connector: str
    received_at: datetime
    parts: int = Field(description="SMS it was joined from (1: not concatenated)")
    complete: bool = Field(description="False when some parts never came: the text is what arrived")


class InboundPage(Page):
    data: list[InboundOut]


class ConnectorOwner(BaseModel):
    host: str
    pid: int


class ConnectorHealth(BaseModel):
    name: str
    kind: str
    state: str
    up_since: datetime | None = Field(description="When the current bind came up (or went down)")
    in_flight: int | None = Field(None, description="Operator only")
    queued: int | None = Field(None, description="Operator only")
    tps: float | None = Field(None, description="Operator only")
    submitted: int | None = Field(
        None, description="Operator only: parts submitted since this process started"
    )
    last_error: str | None = Field(None, description="Operator only: the last bind or submit error")
    owner: ConnectorOwner | None = Field(
        None, description="Operator only: the process that owns (binds) this connector"
    )


class WriterHealth(BaseModel):
    jobs: int
    commits: int
    busy_seconds: float


class SmppClientHealth(BaseModel):
    client_id: str
    binds: dict[str, int]  #: by kind: tx, rx, trx
    window_used: int
    window: int
    submits_per_s: int
    waiting: int  #: receipts and MO queued for its receiver binds


class SmppServerHealth(BaseModel):
    port: int
    connections: int
    accounts: list[SmppClientHealth]


class ProcessHealth(BaseModel):
    pid: int = Field(description="The server process that answered")
    delivers: bool = Field(description="Whether it runs the dispatcher (one per serve)")


class Health(BaseModel):
    """Anonymous callers get ``status`` only; the rest needs credentials (docs/rest.md)."""

    status: Literal["ok", "degraded"]
    version: str | None = Field(None, description="Accounts and operator")
    store: Literal["ok", "unavailable"] | None = Field(None, description="Accounts and operator")
    connectors: list[ConnectorHealth] | None = Field(None, description="Accounts and operator")
    in_flight: int | None = Field(
        None, description="Operator only: messages between claim and record"
    )
    writer: WriterHealth | None = Field(None, description="Operator only: group-commit writer load")
    smpp_server: SmppServerHealth | None = Field(
        None,
        description="Operator only: present when an SMPP server runs (this process's "
        "figures, or with `serve --workers 3+` those its worker stored, at most 2 s old)",
    )
    process: ProcessHealth | None = Field(
        None, description="Operator only: which process of `serve --workers N` answered"
    )


class ValidationIssue(BaseModel):
    loc: list[str]
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    code: str = Field(description="Stable machine code, e.g. `insufficient_credits`")
    detail: str | None = None
    errors: list[ValidationIssue] | None = Field(None, description="validation_error only")
    needed: int | None = Field(None, description="insufficient_credits only")
    available: int | None = Field(None, description="insufficient_credits only")


# --- OpenAPI helpers --------------------------------------------------------------------


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with nested models inlined (no ``$defs`` to resolve), for
    places FastAPI does not collect into ``components``."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)  # type: ignore[no-any-return]


_PROBLEM = {"application/problem+json": {"schema": inline_schema(Problem)}}
_DESCRIPTIONS = {
    401: "Missing or wrong credentials",
    402: "Credits short: nothing was sent",
    404: "No such record for this account",
    409: "Conflict (`conflict`, or `idempotency_conflict`)",
    413: "Too many recipients, or body too large",
    422: "Invalid request",
    429: "Over the account's request rate",
    503: "The gateway cannot take work now",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
    429: {"Retry-After": {"schema": {"type": "string"}, "required": True}},
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for problem+json answers (auth and rate always included)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({401, 422, 429, *statuses}):
        entry: dict[str, Any] = {"description": _DESCRIPTIONS[status], "content": _PROBLEM}
        if status in _HEADERS:
            entry["headers"] = _HEADERS[status]
        out[status] = entry
    return out


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body the route reads itself."""
    schema = inline_schema(model)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


class _DeclaredBasic(HTTPBasic):
    """Puts HTTP Basic in the OpenAPI; ``auth.current_account`` does the actual check."""

    async def __call__(self, request: HTTPConnection) -> None:
        return None


async def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


#: The app's gateway, as a dependency. ``async`` on purpose: FastAPI runs a plain ``def``
#: dependency on a worker thread, a thread hop that cost 13% of a single send's CPU.
Gw = Annotated[Gateway, Depends(_gateway)]

BASIC_AUTH = _DeclaredBasic(
    scheme_name="basicAuth",
    realm="centauro",
    description="client_id as user name, client_secret as password",
    auto_error=False,
)


def to_json(data: Any) -> bytes:
    """Plain data to compact JSON bytes, in Rust (pydantic-core)."""
    return pydantic_core.to_json(data)


def json_response(data: Any, status: int = 200) -> Response:
    """An answer from plain data, skipping FastAPI's per-field re-validation and
    serialisation of the answer model: a 10,000-message answer costs milliseconds."""
    return Response(to_json(data), status_code=status, media_type="application/json")


def stamp(value: datetime | None) -> str | None:
    """ISO 8601 with the UTC offset written out."""
    return value.astimezone(UTC).isoformat() if value is not None else None
