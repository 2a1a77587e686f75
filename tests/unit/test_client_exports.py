"""The SDK's public surface is explicit, and importing it pulls in nothing of the server."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import types

import pytest

import centauro.client
from centauro.client import errors

#: The public API; changing it is a decision, so it is written out here.
EXPECTED = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "APIError",
    "AsyncClient",
    "BatchItem",
    "CentauroSMS",
    "CentauroSMSError",
    "Client",
    "Conflict",
    "ConnectorHealth",
    "Health",
    "IdempotencyConflict",
    "InboundMessage",
    "InsufficientCredits",
    "InvalidCredentials",
    "InvalidParameters",
    "LedgerEntry",
    "Message",
    "MissingOperation",
    "MissingParameters",
    "NotFound",
    "Page",
    "PayloadTooLarge",
    "Personalized",
    "ProtocolError",
    "RateLimited",
    "SendResult",
    "SentMessage",
    "ServiceUnavailable",
    "Submission",
    "SubmittedMessage",
    "Suppression",
    "TransportError",
    "Webhook",
    "WebhookDelivery",
    "verify_signature",
]

#: What a site that only sends SMS must not have to install or load.
SERVER_STACK = [
    "sqlalchemy",
    "fastapi",
    "starlette",
    "smpp34",
    "phonenumbers",
    "uvicorn",
    "alembic",
    "psycopg",
    "centauro.store",
    "centauro.service",
    "centauro.api",
    "centauro.delivery",
    "centauro.connectors",
]


def test_all_lists_the_public_api() -> None:
    assert centauro.client.__all__ == EXPECTED


def test_every_public_name_is_exported_and_every_export_exists() -> None:
    public = {
        name
        for name, value in vars(centauro.client).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(centauro.client.__all__)


def test_the_error_tree_in_the_docstring_names_every_exception() -> None:
    classes = [
        name
        for name, value in vars(centauro.client).items()
        if inspect.isclass(value) and issubclass(value, Exception)
    ]
    assert len(classes) == 15
    for name in classes:
        assert name in (errors.__doc__ or "")


@pytest.mark.parametrize("module", ["centauro.client", "centauro.cli.client_cmds"])
def test_importing_the_sdk_loads_no_server_stack(module: str) -> None:
    code = f"import json, sys, {module}\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(result.stdout)
    heavy = [m for m in loaded if any(m == s or m.startswith(s + ".") for s in SERVER_STACK)]
    assert heavy == []
