"""The date-sensitive tests, run again with the clock a year ahead.

A test that builds rows at a fixed date and hands them to code on the real clock passes on
the day it is written and fails some day later: the webhook sender's retry window did so
on 2026-11-26. This module re-runs the tests that handle dates (webhook retries, outbox
leases, receipts, scheduling, quiet hours, validity, idempotency expiry) in a child
pytest under ``faketime +365d``: its wall clock, and that of every server and CLI it
starts, is a year ahead, so such a mix fails today instead of next year. The monotonic
clock stays real (``tests/support/faketime/sitecustomize.py`` says why). PostgreSQL's own
clock does not move; no code or test reads it.

Without ``faketime`` the test skips, except under ``CI=true`` where it fails (``.ci/run``
installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.stores import IN_CI

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "tests" / "support" / "faketime"
AHEAD_DAYS = 365
#: The tests that handle dates, by file or node id. Kept to about a minute on an idle
#: machine: ``test_scheduling.py`` (quiet hours, validity) is left out for its carrier
#: set-up of half a minute; it reads only the real clock, like the tests below.
DATE_SENSITIVE = (
    "tests/integration/test_webhook_sender.py",
    "tests/integration/test_outbox.py",
    "tests/integration/test_inbox.py",
    "tests/unit/test_schedule.py",
    "tests/acceptance/test_rest_idempotency.py::test_an_expired_key_is_free_again",
    "tests/acceptance/test_rest_idempotency.py::test_expired_keys_are_purged",
    "tests/acceptance/test_rest_messages.py::test_get_returns_the_message_and_another_account_gets_404",
    "tests/acceptance/test_rest_messages.py::test_a_scheduled_message_is_scheduled_then_sent",
    "tests/acceptance/test_rest_messages.py::test_a_schedule_more_than_a_year_ahead_is_refused",
    "tests/integration/test_campaigns.py::test_a_scheduled_campaign_waits_and_is_pausable",
)
#: Cases of those files with no clock in them: they would only cost time.
SKIP = "not bad_or_private_urls and not slow_receivers and not numeric_host"


def _faketime() -> str:
    found = shutil.which("faketime")
    if found is None:
        if IN_CI:
            pytest.fail("faketime is required under CI=true (.ci/run installs it)")
        pytest.skip("faketime is not installed (apt-get install faketime)")
    return found


def _ahead_env() -> dict[str, str]:
    """This environment, minus pytest's own variables, plus the shim and a real monotonic."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SHIM), env.get("PYTHONPATH")]))
    return env


@pytest.mark.timeout(900)  # about a minute alone; far more on a machine shared with others
def test_date_sensitive_tests_pass_with_the_clock_a_year_ahead(tmp_path: Path) -> None:
    faketime = _faketime()
    ahead = [faketime, "-f", f"+{AHEAD_DAYS}d"]
    env = _ahead_env()

    probe = subprocess.run(
        [*ahead, sys.executable, "-c", "import time; time.sleep(0.01); print(time.time())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    shift = float(probe.stdout) - time.time()
    assert abs(shift - AHEAD_DAYS * 86400) < 600, f"the child's clock is off by {shift} s"

    pytest_args = ["-q", "-n", "0", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "run")]
    run = subprocess.run(
        [*ahead, sys.executable, "-m", "pytest", *pytest_args, "-k", SKIP, *DATE_SENSITIVE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert run.returncode == 0, f"{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
    assert " passed" in summary, summary
