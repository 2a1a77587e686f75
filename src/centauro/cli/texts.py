"""The CLI's user-facing words, in Spanish (identifiers and JSON keys stay English)."""

from __future__ import annotations

from centauro.domain import errors
from centauro.domain.states import SPANISH_NAMES

ERRORS: dict[type[errors.CentauroError], str] = {
    errors.MissingParameter: "Falta un parámetro obligatorio",
    errors.UnknownOperation: "Operación desconocida",
    errors.UndecodableField: "Un campo no se pudo decodificar",
    errors.InvalidNumber: (
        "Número de teléfono no válido (se aceptan móviles de Venezuela y Colombia)"
    ),
    errors.InvalidText: "El texto está vacío o contiene caracteres no permitidos",
    errors.TextTooLong: "El texto supera el máximo de segmentos permitido",
    errors.NoValidRecipient: "Ningún destinatario tiene un número válido",
    errors.TooManyRecipients: "Demasiados destinatarios en una sola petición",
    errors.InvalidSender: "Remitente no válido",
    errors.SenderNotGranted: "Remitente no autorizado",
    errors.WeakSecret: (
        "El secreto elegido es débil: debe tener al menos 24 caracteres y 10 distintos "
        "(omita --client-secret para uno aleatorio; para migrar el secreto que un sitio ya "
        "tiene escrito, añada --import-secret)"
    ),
    errors.InvalidRequest: "Petición no válida",
    errors.AuthenticationFailed: "Credenciales incorrectas o cuenta deshabilitada",
    errors.InsufficientCredits: "No tiene SMS disponibles para realizar este envío",
    errors.NotFound: "No existe",
    errors.Conflict: "Ya existe",
    errors.Unavailable: "Servicio no disponible",
}


def describe(error: errors.CentauroError) -> str:
    """Spanish headline for an error, plus its (English, technical) detail."""
    for cls in type(error).__mro__:
        if cls in ERRORS:
            headline = ERRORS[cls]
            break
    else:
        headline = "Error"
    detail = str(error)
    return (
        f"{headline}: {detail}"
        if detail and detail != (type(error).__doc__ or "").strip()
        else headline
    )


ACCOUNT_CREATED = "Cuenta creada. Guarde el secreto: no se mostrará de nuevo."
ROTATED_NOTICE = (
    "Secreto renovado. El anterior ya no funciona. Guarde el nuevo: no se mostrará de nuevo."
)
SIGNING_KEY_ROTATED = (
    "Clave de firma renovada: los callback_url se firman con ella desde ahora. "
    "También se consulta en GET /v1/account/signing-key."
)
IMPORT_WARNING = (
    "Aviso: el secreto importado puede ser débil. Se guarda con un hash lento (scrypt), pero "
    "quien lo adivine entra. Renuévelo con «centauro accounts rotate-secret» en cuanto el "
    "sitio pueda cambiar su código."
)
IMPORT_NEEDS_VALUE = (
    "--import-secret necesita el secreto actual del sitio en --client-secret (no vacío)."
)
IMPORT_TOO_LONG = "El secreto importado es demasiado largo: máximo {limit} caracteres."
TOPPED_UP = "Saldo actualizado"
DISABLED = "Cuenta deshabilitada"
ENABLED = "Cuenta habilitada"
NO_ACCOUNTS = "No hay cuentas."
NO_MESSAGES = "No hay mensajes."
DB_UPGRADED = "Base de datos al día (revisión {revision})."
DB_CURRENT = "Revisión actual: {current}; la más reciente: {head}."
DEMO_CREATED = "Cuenta de demostración creada (1000 SMS)."
DEMO_EXISTS = (
    "La cuenta de demostración ya existe (client_id {client_id}); su secreto se mostró al "
    "crearla. Para uno nuevo: centauro accounts rotate-secret {client_id}"
)
NEEDS_SERVER = (
    "«centauro {command}» necesita el servidor, que no está instalado (faltan: {missing}). "
    'Instálelo con: pip install "centauro-sms[server]"'
)
BAD_DATABASE_URL = "URL de base de datos no válida ({url}): {error}"
BAD_LOG_FORMAT = "Formato de registro desconocido: {value!r} (auto, json o console)."
BAD_ROLE = "Rol desconocido: {value!r} (all, api o delivery)."
ROLE_NOTE = {
    "all": "Rol: all (API y despacho).",
    "api": "Rol: api (solo API; este proceso no abre binds ni despacha mensajes).",
    "delivery": "Rol: delivery (binds y despacho; el puerto HTTP queda para /health).",
}
ADMIN_CREATED = "Operador {email} creado."
ADMIN_LINK = (
    "Abra este enlace para fijar la contraseña (sirve una sola vez y vence en 72 horas):\n{link}"
)
FIRST_OPERATOR = (
    "Aún no hay operadores con contraseña en el panel. Para {email}, fíjela aquí "
    "(un solo uso, vence en 72 horas):\n{link}"
)
SERVING = "Centauro escuchando en http://{host}:{port}  (base de datos: {db})"
WORKERS = "{workers} procesos de trabajo: uno entrega los mensajes, los demás atienden HTTP."
WORKERS_NO_DELIVERY = "{workers} procesos de trabajo atienden HTTP (sin entrega de mensajes)."
SQLITE_IN_USE = (
    "Otro `centauro serve` está usando {path}. SQLite admite un solo servidor por archivo "
    "(use --workers para aprovechar varios núcleos, o PostgreSQL para varios servidores)."
)
BAD_WORKERS = "CENTAURO_WORKERS={value} no es válido: use 1 o más (0: uno por CPU)."
CANNOT_LISTEN = "No se pudo escuchar en {host}:{port}: {error}"
WORKER_START_FAILED = "Un proceso de trabajo no pudo iniciar; el registro de arriba dice por qué."
MISSING_CLIENT_ENV = (
    "Faltan variables de entorno: {names}. Defina CENTAURO_URL, CENTAURO_CLIENT_ID y "
    "CENTAURO_CLIENT_SECRET."
)
BALANCE = "SMS disponibles: {credits}"
SENT_SUMMARY = "{accepted} aceptado(s), {rejected} rechazado(s)"
CANNOT_CONNECT = "No se pudo conectar con {url}: {error}"

LABELS = {
    "id": "ID",
    "name": "Nombre",
    "client_id": "client_id",
    "enabled": "Habilitada",
    "country": "País",
    "balance": "Saldo",
    "created_at": "Creada",
    "status": "Estado",
    "to": "Para",
    "segments": "Segmentos",
    "encoding": "Codificación",
    "text": "Texto",
    "sent_at": "Enviado",
    "done_at": "Finalizado",
    "account_id": "Cuenta",
    "error": "Error",
    "connector": "Conector",
    "carrier_id": "ID operadora",
    "updated_at": "Actualizado",
    "cost": "Costo",
    "reference": "Referencia",
    "message_id": "Messageid",
    "number": "Número",
    "prefix": "Prefijo",
    "priority": "Prioridad",
    "kind": "Tipo",
    "from": "De",
    "received_at": "Recibido",
    "parts": "Partes",
    "complete": "Completo",
    "in_flight": "En vuelo",
    "queued": "En espera",
    "submitted": "Enviados",
    "tps": "TPS",
    "last_error": "Último error",
    "uptime": "Activo",
    "owner_text": "Dueño (host/pid)",
    "state": "Estado",
    "worker": "Proceso",
}

ROUTE_NEEDS_PREFIX = "Indique --prefix (p. ej. 58414) o --default."
ROUTE_ADDED = "Ruta añadida: {prefix} → {connector}"
ROUTE_REMOVED = "Ruta {id} eliminada"
NO_ROUTES = "No hay rutas. Sin rutas, solo el sandbox integrado entrega mensajes."
DEFAULT_ROUTE = "(por defecto)"
NO_INBOUND = "No hay mensajes recibidos."
NO_CONNECTORS = "No hay conectores: los mensajes van al sandbox integrado."
CONNECTOR_ADDED = "Conector {name} añadido. Los servidores en marcha lo inician en segundos."
CONNECTOR_UPDATED = "Conector {name} actualizado."
CONNECTOR_REMOVED = "Conector {name} eliminado (y {routes} ruta(s))."
CONNECTOR_ENABLED = "Conector {name} habilitado."
CONNECTOR_DISABLED = "Conector {name} deshabilitado."
NO_STATUS = "Ningún servidor en marcha informa estado de conectores."
QUEUE_SUMMARY = "Mensajes en cola: {queued}; enviados esperando confirmación: {sent}"
HIDDEN = "••••••"
INVALID_SETTINGS = "Opciones de conector no válidas"

YES = "sí"
NO = "no"

# --- client commands (balance, send) ---
API_ERROR = "{message} (código {code})"
BAD_ANSWER = "Respuesta inesperada de {url}: {error}"
BAD_URL = "CENTAURO_URL no es válida: {error}"
NONE_ACCEPTED = "Ningún destinatario fue aceptado."
#: The gateway's per-recipient ``StatusText`` (English, from the protocol) for people.
STATUS_TEXTS = {
    "Message accepted for delivery": "Aceptado para entrega",
    "Rejected: invalid number": "Rechazado: número no válido",
    "Rejected: duplicate number": "Rechazado: número repetido",
    "Rejected: opted out": "Rechazado: el destinatario se dio de baja",
}

# --- suppressions (opt-out list) and account settings ---
NO_SUPPRESSIONS = "No hay números dados de baja."
SUPPRESSION_ADDED = "{number} dado de baja: la cuenta ya no le enviará mensajes."
SUPPRESSION_EXISTS = "{number} ya estaba dado de baja."
SUPPRESSION_REMOVED = "{number} quitado de la lista de bajas: puede volver a recibir mensajes."
SUPPRESSIONS_BAD_ANSWER = "Respuesta inesperada del gateway (HTTP {status})."
URL_SCHEME = "debe empezar por http:// o https://"
#: Who put a number on the list (the API's ``source``), for people.
SUPPRESSION_SOURCES = {
    "inbound": "respuesta del teléfono (BAJA/STOP)",
    "api": "API",
    "cli": "línea de órdenes",
    "panel": "panel web",
}
#: The REST API's problem codes, for the suppressions commands (the English detail follows).
SUPPRESSION_PROBLEMS = {
    "invalid_number": ERRORS[errors.InvalidNumber],
    "validation_error": "Petición no válida",
    "invalid_request": "Petición no válida",
    "unauthorized": ERRORS[errors.AuthenticationFailed],
    "not_found": "El número no estaba dado de baja",
    "rate_limited": "Demasiadas peticiones; intente de nuevo en unos segundos",
    "unavailable": ERRORS[errors.Unavailable],
    "internal_error": "Error interno del gateway",
}
ACCOUNT_UPDATED = "Cuenta actualizada: {client_id}"
BAD_SETTING = "Valor no válido para {option}: {value!r} ({expected})"
EXPECTED_NUMBER_OR_DEFAULT = "un número, o «default» para el valor del servidor"
SERVER_DEFAULT = "(por defecto del servidor)"
NO_LIMIT = "sin límite"
LABELS.update(
    {
        "source": "Origen",
        "timezone": "Zona horaria",
        "quiet_hours": "Horas de silencio",
        "rate_limit": "Peticiones/s",
        "max_recipients": "Máx. destinatarios",
        "secret_kind": "Tipo de secreto",
    }
)

# --- words for stored values in human output (``--json`` keeps the English values) ---
#: Message states (domain/states.py).
STATES = SPANISH_NAMES
#: Connector states (connectors/base.py ConnectorStatus.state).
CONNECTOR_STATES = {
    "up": "conectado",
    "connecting": "conectando",
    "down": "desconectado",
    "stopped": "detenido",
}
#: Ledger entry kinds.
LEDGER_KINDS = {"charge": "cargo", "topup": "recarga", "refund": "reembolso"}
#: Where a message came from (the door that accepted it).
MESSAGE_SOURCES = {
    "compat": "API compatible (POST)",
    "http": "API compatible (GET /http/)",
    "v1": "API REST (/v1)",
    "cli": "línea de órdenes",
}
CATEGORIES = {"transactional": "transaccional", "marketing": "marketing"}
#: How an account's secret is stored (service/credentials.py secret_kind).
SECRET_KINDS = {"strong": "fuerte", "imported": "importado (renuévelo cuando pueda)"}
#: Stored value → Spanish word, by field, for :func:`centauro.cli.output.fields`/``table``.
VALUES: dict[str, dict[str, str]] = {
    "status": STATES,
    "state": CONNECTOR_STATES,
    "kind": LEDGER_KINDS,
    "category": CATEGORIES,
    "secret_kind": SECRET_KINDS,
    "source": MESSAGE_SOURCES | SUPPRESSION_SOURCES,
}
LABELS.update(
    {
        "attempts": "Intentos",
        "category": "Categoría",
        "client_secret": "client_secret",
        "balance_after": "Saldo después",
        "note": "Nota",
        "messages": "Mensajes",
        "host": "Servidor",
        "port": "Puerto",
        "system_id": "system_id",
        "password": "Clave",
        "system_type": "system_type",
        "bind_mode": "Modo de bind",
        "source_addr": "Remitente",
        "source_ton": "TON remitente",
        "source_npi": "NPI remitente",
        "dest_ton": "TON destino",
        "dest_npi": "NPI destino",
        "window": "Ventana",
        "enquire_link": "enquire_link (s)",
        "reconnect_min": "Reconexión mín. (s)",
        "reconnect_max": "Reconexión máx. (s)",
        "gsm7_coding": "Codificación GSM-7",
        "multipart": "Multiparte",
        "tls": "TLS",
        "registered_delivery": "Confirmaciones",
        "dlr_delay": "Demora de confirmación (s)",
    }
)
# -- the SMPP server ---------------------------------------------------------------------
SMPP_SERVING = "Servidor SMPP escuchando en {host}:{port}"
SMPP_CREDENTIAL_NOTICE = (
    "Contraseña SMPP asignada (system_id = client_id). Guárdela: no se mostrará de nuevo."
)
SMPP_NO_CLIENTS = "Ninguna cuenta tiene contraseña SMPP."

# --- contact lists (client commands over /v1/contact-lists) ---
NO_CONTACT_LISTS = "No hay listas de contactos."
NO_CONTACTS = "La lista no tiene contactos."
CONTACT_LIST_CREATED = "Lista «{name}» creada (id {id})."
CONTACT_LIST_RENAMED = "Lista {id} renombrada a «{name}»."
CONTACT_LIST_DELETED = "Lista {id} borrada con sus contactos."
CONTACT_ADDED = "Contacto {number} agregado (id {id})."
CONTACT_EDITED = "Contacto {id} actualizado."
CONTACT_REMOVED = "Contacto {id} quitado de la lista."
CONTACTS_IMPORTED = "Importación: {added} nuevos, {updated} actualizados, {rejected} rechazados."
CONTACT_REJECTED = "  línea {line}: {reason}"
CONTACTS_EXPORTED = "Lista exportada a {path}."
CONTACT_FIELD_FORMAT = "Use --campo CLAVE=VALOR (por ejemplo --campo ciudad=Maracay): {value!r}"
CANNOT_READ_FILE = "No se pudo leer el archivo {path}: {error}"
CANNOT_WRITE_FILE = "No se pudo escribir el archivo {path}: {error}"
#: The REST API's problem codes, for the contacts commands (the Spanish detail follows).
CONTACT_PROBLEMS = {
    "invalid_number": ERRORS[errors.InvalidNumber],
    "validation_error": "Petición no válida",
    "invalid_request": "Petición no válida",
    "unauthorized": ERRORS[errors.AuthenticationFailed],
    "not_found": "No existe esa lista o ese contacto en la cuenta",
    "conflict": "Ya existe",
    "payload_too_large": "El archivo es demasiado grande",
    "rate_limited": "Demasiadas peticiones; intente de nuevo en unos segundos",
    "unavailable": ERRORS[errors.Unavailable],
    "internal_error": "Error interno del gateway",
}
LABELS.update({"contacts": "Contactos", "fields": "Campos", "opted_out": "Baja"})
# --- sender IDs (``centauro senders``) ---
SENDER_ADDED = "Remitente autorizado para {client_id}: {value} ({kind})"
SENDER_ADDED_DEFAULT = "Remitente autorizado para {client_id}: {value} ({kind}), por defecto"
SENDER_REMOVED = "Remitente retirado de {client_id}: {value}"
SENDER_DEFAULT = "Remitente por defecto de {client_id}: {value}"
NO_SENDERS = (
    "La cuenta no tiene remitentes: sus mensajes salen con la dirección de origen del conector."
)
SENDER_KINDS = {
    "alnum": "alfanumérico",
    "shortcode": "código corto",
    "long": "número largo",
}
LABELS.update(
    {
        "value": "Remitente",
        "sender": "Remitente",
        "kind": "Tipo",
        "is_default": "Por defecto",
        "allow_alphanumeric": "Alfanuméricos",
    }
)
