"""A real browser for the panel: Debian's ``chromium`` driven by Playwright, never a
browser Playwright downloads. Missing chromium skips these tests — except under
``CI=true``, where it fails them (``.ci/run`` installs it)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.php import Gateway, running_gateway

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: Set to write the README's screenshots into docs/img (off in ordinary runs: a test run
#: must not change the working tree).
SHOTS = Path(__file__).parents[2] / "docs" / "img"
WRITE_SHOTS = os.environ.get("CENTAURO_SCREENSHOTS", "") == "1"


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is required under CI=true (apt-get install -y chromium)")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    return path


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with running_gateway("sqlite", tmp_path_factory) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A persistent context on a fresh user-data dir (one per test module)."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            locale="es-VE",
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def shot(page: object, name: str) -> None:
    """Save a screenshot for the README when asked to (``CENTAURO_SCREENSHOTS=1``)."""
    if WRITE_SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
