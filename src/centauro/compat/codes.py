"""The compat API's status codes, their Spanish texts, and per-recipient status texts.

The texts are byte-exact copies of the original service's (no accents: the PHP clients
compare or display them as they are). :func:`code_for` is the one place our exception
tree is translated into the protocol's codes, so the HTTP edge never decides it.
"""

from __future__ import annotations

import enum

from centauro.domain.errors import (
    AuthenticationFailed,
    InsufficientCredits,
    InvalidRequest,
    MissingParameter,
    SignInLocked,
)

__all__ = ["OPERATION_FIELD", "Code", "StatusText", "code_for"]

#: The form field that names the operation. Its absence has a code of its own (``303``),
#: so ``MissingParameter(OPERATION_FIELD)`` is how the rest of the code asks for ``303``:
#: one exception type for "missing", the name choosing the code.
OPERATION_FIELD = "client_opcion"


class Code(enum.StrEnum):
    """A ``status`` value; a ``str`` because the wire carries it as a JSON string."""

    OK = "200"
    MISSING_PARAMETER = "300"
    BAD_CREDENTIALS = "301"
    OFFLINE = "302"
    NO_OPERATION = "303"
    BAD_PARAMETERS = "304"
    NO_CREDITS = "305"

    @property
    def text(self) -> str:
        """The error text sent with this code (``""`` for ``200``, which has none)."""
        return _TEXTS.get(self, "")


_TEXTS: dict[Code, str] = {
    Code.MISSING_PARAMETER: "No se recibieron los parametros necesarios",
    Code.BAD_CREDENTIALS: "Error de credenciales",
    Code.OFFLINE: "Servidores fuera de linea",
    Code.NO_OPERATION: "Error grave no se recibio parametro de la API",
    Code.BAD_PARAMETERS: "Los parametros no son correctos por favor no modifique la API",
    Code.NO_CREDITS: "No tiene SMS disponibles para realizar este envio",
}


class StatusText(enum.StrEnum):
    """The ``StatusText`` of one recipient's row in a send answer."""

    ACCEPTED = "Message accepted for delivery"
    INVALID_NUMBER = "Rejected: invalid number"
    DUPLICATE_NUMBER = "Rejected: duplicate number"
    OPTED_OUT = "Rejected: opted out"


def code_for(error: BaseException) -> Code:
    """Map an exception to the code the compat API answers with.

    ``Unavailable`` is ``302``, and so is anything else (``NotFound``, ``Conflict``, a bare
    ``CentauroError``, even a non-Centauro exception): ``302`` is the original service's
    only way to say "not now, not your fault".
    """
    if isinstance(error, MissingParameter):
        if error.name == OPERATION_FIELD:
            return Code.NO_OPERATION
        return Code.MISSING_PARAMETER
    if isinstance(error, InvalidRequest):
        return Code.BAD_PARAMETERS
    if isinstance(error, AuthenticationFailed | SignInLocked):
        return Code.BAD_CREDENTIALS
    if isinstance(error, InsufficientCredits):
        return Code.NO_CREDITS
    return Code.OFFLINE  # Unavailable, and everything unforeseen
