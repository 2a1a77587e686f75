"""REST API v1: JSON over HTTP Basic, RFC 9457 problems, OpenAPI at ``/openapi.json``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
