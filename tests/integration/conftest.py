"""Collection rules for the integration tests."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the writer tests that pair the LoopWriter with PostgreSQL: it exists for
    SQLite's file-wide write lock only (``store/writer.py``)."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("writer") == "loop" and params.get("database_url") != "sqlite":
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
