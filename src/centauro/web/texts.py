"""What the panel says, in Spanish (Venezuela/Colombia usage). Code stays in English."""

# ruff: noqa: S105 - texts that mention "contraseña" are not passwords

from __future__ import annotations

from centauro.domain.errors import (
    CentauroError,
    Conflict,
    InsufficientCredits,
    InvalidNumber,
    InvalidText,
    NotFound,
    NoValidRecipient,
    TextTooLong,
    Unavailable,
)
from centauro.domain.states import SPANISH_NAMES

SIGN_IN_FAILED = "Correo o contraseña incorrectos."
LOCKED = (
    "Demasiados intentos fallidos. Por seguridad, el acceso quedó bloqueado 15 minutos; "
    "intente de nuevo a las {until}."
)
BAD_CSRF = "El formulario venció o no es válido. Recargue la página e intente de nuevo."
LINK_DEAD = "Este enlace ya se usó o venció. Pídale uno nuevo al operador."
PASSWORD_RULES = "La contraseña debe tener entre 10 y 200 caracteres."
PASSWORDS_DIFFER = "Las dos contraseñas no coinciden."
CURRENT_PASSWORD_WRONG = "La contraseña actual no es correcta."
PASSWORD_SET = "Contraseña guardada. Ya puede iniciar sesión."
PASSWORD_CHANGED = "Contraseña cambiada. Se cerraron todas sus sesiones; inicie sesión de nuevo."
NOT_FOUND = "No encontramos esa página."
FORBIDDEN = "No tiene permiso para ver esta página."
SERVER_ERROR = "Ocurrió un error inesperado. Intente de nuevo en unos minutos."
EMAIL_INVALID = "Escriba un correo electrónico válido."
EMAIL_TAKEN = "Ya existe un usuario con ese correo."


_ERRORS: list[tuple[type[CentauroError], str]] = [
    (InsufficientCredits, "No tiene créditos suficientes para este envío. Recargue su saldo."),
    (InvalidNumber, "El número no es un celular válido de Venezuela o Colombia."),
    (NoValidRecipient, "El número no es un celular válido de Venezuela o Colombia."),
    (TextTooLong, "El mensaje es demasiado largo (pasa del máximo de segmentos)."),
    (InvalidText, "El texto está vacío o tiene caracteres de control no permitidos."),
    (NotFound, "No se encontró lo que buscaba."),
    (Conflict, "Ya existe un registro con esos datos."),
    (Unavailable, "No hay ninguna ruta activa para ese número en este momento."),
]


def error_text(exc: CentauroError) -> str:
    """A clear Spanish sentence for a refusal of the service."""
    for kind, text in _ERRORS:
        if isinstance(exc, kind):
            return text
    return "Revise los datos del formulario: hay un valor no válido."


#: Message states as the panel names them (the store and the APIs keep the English values).
STATES = SPANISH_NAMES

#: Sender ID kinds (``sender_ids.kind``), as the account page shows them.
SENDER_KINDS = {"alnum": "alfanumérico", "shortcode": "código corto", "long": "número largo"}
