"""REST API v1: JSON over HTTP Basic, RFC 9457 problems, OpenAPI at ``/openapi.json``."""

from __future__ import annotations

from fastapi import APIRouter

from centauro.api.v1 import (
    account,
    campaigns,
    contacts,
    health,
    inbound,
    messages,
    suppressions,
    webhooks,
)

router = APIRouter(prefix="/v1")
router.include_router(messages.router)
router.include_router(account.router)
router.include_router(inbound.router)
router.include_router(health.router)
router.include_router(suppressions.router)
router.include_router(webhooks.router)
router.include_router(contacts.router)
router.include_router(campaigns.router)
