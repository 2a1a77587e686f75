"""Multiprocess mode: real processes write to one ``PROMETHEUS_MULTIPROC_DIR``, and a scrape
from another process sums them (what ``serve --workers N`` relies on)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from centauro import metrics

#: A worker's life: it accepts, submits and answers, then exits.
WORKER = """
import sys
from centauro import metrics
n = int(sys.argv[1])
metrics.accepted("tienda", n)
metrics.submit_took("sim", 0.02)
metrics.http_request("/controllersms", "POST", 200)
metrics.webhook_outcomes(n, 0, 1)
print(metrics.multiprocess_dir())
"""


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_two_processes_writing_one_directory_are_summed_by_a_third(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(metrics.MULTIPROC_ENV, "")  # restored after the test
    directory = metrics.prepare_multiprocess_dir(str(tmp_path / "prom"))
    assert os.environ[metrics.MULTIPROC_ENV] == directory
    assert os.listdir(directory) == []
    for n in (3, 4):
        done = subprocess.run(
            [sys.executable, "-c", WORKER, str(n)],
            env=dict(os.environ),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert done.stdout.strip() == directory
    assert len(os.listdir(directory)) >= 2  # one file per process and kind at least

    found = samples(metrics.exposition(metrics.StateSample(queue={"queued": 5})).decode())
    label = frozenset({("account", "tienda"), ("connector", ""), ("outcome", "accepted")})
    assert found[("centauro_messages_total", label)] == 7
    assert found[("centauro_submit_seconds_count", frozenset({("connector", "sim")}))] == 2
    http = frozenset({("route", "/controllersms"), ("method", "POST"), ("status", "200")})
    assert found[("centauro_http_requests_total", http)] == 2
    assert found[("centauro_webhook_deliveries_total", frozenset({("outcome", "failed")}))] == 2
    assert found[("centauro_queue_depth", frozenset({("state", "queued")}))] == 5


def test_the_directory_is_made_empty_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(metrics.MULTIPROC_ENV, "")
    stale = tmp_path / "prom"
    stale.mkdir()
    (stale / "counter_999.db").write_bytes(b"old counts of a previous serve")
    directory = metrics.prepare_multiprocess_dir(str(stale))
    assert os.listdir(directory) == []
    assert (os.stat(directory).st_mode & 0o777) == 0o700
    metrics.remove_multiprocess_dir(directory)
    assert not stale.exists()
    assert metrics.MULTIPROC_ENV not in os.environ
    fresh = metrics.prepare_multiprocess_dir()
    try:
        assert Path(fresh).is_dir()
        assert os.environ[metrics.MULTIPROC_ENV] == fresh
    finally:
        metrics.remove_multiprocess_dir(fresh)
