"""Every error Centauro raises on purpose roots in :class:`CentauroError`.

The tree (a subclass's docstring is its default message)::

    CentauroError
    ├── InvalidRequest                  the caller sent something we cannot take
    │   ├── MissingParameter            a required value is absent or empty
    │   ├── UnknownOperation            an operation name we do not implement
    │   ├── UndecodableField            a field is not in its wire encoding
    │   ├── InvalidNumber               not a VE/CO mobile number
    │   ├── InvalidText                 text empty or with forbidden characters
    │   ├── TextTooLong                 more segments than the configured maximum
    │   ├── NoValidRecipient            nothing left to send after validation
    │   ├── TooManyRecipients           more recipients than one request may carry
    │   ├── InvalidSender               not a short code, long number or 11-char name
    │   ├── SenderNotGranted            a sender ID the operator has not granted
    │   └── WeakSecret                  a chosen client secret too short or too plain
    ├── AuthenticationFailed            unknown id, wrong secret or disabled account
    ├── InsufficientCredits             the balance does not cover the whole request
    ├── NotFound                        no such account, message or other record
    ├── Conflict                        the record exists already or changed meanwhile
    ├── RateLimited                     too many requests; try again after a while
    │   └── SignInLocked                too many failed sign-ins (client id or address)
    └── Unavailable                     the gateway cannot take work now
        └── StoreUnavailable            the message store cannot be reached (try again)

Edges translate these into their own words: the compat API into codes 300–305,
the REST API into problem+json, the CLI into Spanish messages and exit codes.
"""

from __future__ import annotations


class CentauroError(Exception):
    """Centauro failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self)


class InvalidRequest(CentauroError):
    """The request is not valid."""


class MissingParameter(InvalidRequest):
    """A required parameter is missing or empty."""

    def __init__(self, name: str = "", message: str | None = None) -> None:
        self.name = name
        super().__init__(message or (f"missing parameter: {name}" if name else None))


class UnknownOperation(InvalidRequest):
    """The operation is not known."""


class UndecodableField(InvalidRequest):
    """A field could not be decoded."""

    def __init__(self, name: str = "", message: str | None = None) -> None:
        self.name = name
        super().__init__(message or (f"field cannot be decoded: {name}" if name else None))


class InvalidNumber(InvalidRequest):
    """Not a valid Venezuelan or Colombian mobile number."""

    def __init__(self, raw: str = "", message: str | None = None) -> None:
        self.raw = raw
        super().__init__(message)


class InvalidText(InvalidRequest):
    """The text is empty or holds characters that cannot be sent."""


class TextTooLong(InvalidRequest):
    """The text needs more segments than allowed."""

    def __init__(self, segments: int = 0, limit: int = 0) -> None:
        self.segments = segments
        self.limit = limit
        super().__init__(f"text needs {segments} segments, the limit is {limit}" if limit else None)


class NoValidRecipient(InvalidRequest):
    """No recipient has a valid number."""


class TooManyRecipients(InvalidRequest):
    """The request has more recipients than allowed."""

    def __init__(self, count: int = 0, limit: int = 0) -> None:
        self.count = count
        self.limit = limit
        super().__init__(f"{count} recipients, the limit is {limit}" if limit else None)


class InvalidSender(InvalidRequest):
    """A sender ID is a short code (3-8 digits), an international number, or up to 11
    GSM-7 letters and digits."""


class SenderNotGranted(InvalidRequest):
    """The account may not send from this sender ID."""

    def __init__(self, sender: str = "", message: str | None = None) -> None:
        self.sender = sender
        super().__init__(
            message or (f"remitente no autorizado para esta cuenta: {sender}" if sender else None)
        )


class WeakSecret(InvalidRequest):
    """A chosen client secret must have at least 24 characters, 10 of them different."""


class AuthenticationFailed(CentauroError):
    """Credentials are wrong or the account is disabled."""


class InsufficientCredits(CentauroError):
    """Not enough credits for the whole request."""

    def __init__(self, needed: int = 0, available: int = 0) -> None:
        self.needed = needed
        self.available = available
        super().__init__(
            f"request needs {needed} credits, {available} available" if needed else None
        )


class NotFound(CentauroError):
    """No such record."""


class Conflict(CentauroError):
    """The record exists already or changed meanwhile."""


class RateLimited(CentauroError):
    """Too many requests."""

    def __init__(self, retry_after: float = 1.0) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many requests; try again in {retry_after:.1f} s")


class SignInLocked(RateLimited):
    """Too many failed sign-ins."""

    def __init__(self, retry_after: float = 1.0) -> None:
        self.retry_after = retry_after
        CentauroError.__init__(
            self, f"too many failed sign-ins; try again in {max(1, round(retry_after))} s"
        )


class Unavailable(CentauroError):
    """The gateway cannot take work now."""


class StoreUnavailable(Unavailable):
    """The message store cannot be reached or refused the work."""
