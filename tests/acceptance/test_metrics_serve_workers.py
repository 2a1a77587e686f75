"""``GET /metrics`` of ``serve --workers 3``: every HTTP worker shows every process's counts.

A real ``centauro serve`` with three workers on a SQLite file (worker 0 delivers, 1 and 2
answer HTTP) delivering over SMPP to ``centauro smsc-sim``. Messages are accepted by the
HTTP workers and sent and delivered by the delivery worker, so ``sent``/``delivered``
counts in a scrape answered by an HTTP worker come from another process's files
(prometheus-client's multiprocess mode). Scrapes are taken on connections that first ask
``/v1/health`` who answers, until both HTTP workers have answered. The connector gauges
come from the store's status rows there (the HTTP workers run no connector). The
temporary directory of the counters' files is gone once ``serve`` stopped.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.acceptance.test_metrics import Samples, store_counts, value
from tests.support.processes import eventually
from tests.support.server import ServerProcess, free_port
from tests.support.smsc import start_smsc

TOKEN = "operator-token-for-the-metrics-workers-test-0123"
N = 40
WINDOW = 16


def scrape_on_one_connection(gw: ServerProcess) -> tuple[int, bool, Samples]:
    """(pid, delivers, samples) of the worker that answered a fresh connection."""
    with httpx.Client(base_url=gw.base_url, timeout=10) as http:  # keep-alive: one worker
        health = http.get("/v1/health", headers={"Authorization": f"Bearer {TOKEN}"})
        assert health.status_code == 200, health.text
        response = http.get("/metrics")
    assert response.status_code == 200, response.text
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    process = health.json()["process"]
    return int(process["pid"]), bool(process["delivers"]), samples


def metrics_dirs(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("centauro-metrics-*"))


def test_every_http_worker_counts_what_the_delivery_worker_sent_and_delivered(
    tmp_path: Path,
) -> None:
    tmp = tmp_path / "tmp"  # serve's TMPDIR: where its multiprocess directory is made
    tmp.mkdir()
    smsc = start_smsc(tmp_path, dlr_delay=0.2)
    env = {
        "CENTAURO_WORKERS": "3",
        "CENTAURO_OPERATOR_TOKEN": TOKEN,
        "CENTAURO_RELOAD_SECONDS": "0.5",
        "TMPDIR": str(tmp),
    }
    gw = ServerProcess(f"sqlite:///{tmp_path / 'gw.sqlite3'}", tmp_path, free_port(), env)
    try:
        gw.start()
        [directory] = metrics_dirs(tmp)
        gw.cli_json(
            "connectors", "add", "sim", "--host", "127.0.0.1", "--port", str(smsc.port),
            "--system-id", smsc.system_id, "--password", smsc.password,
            "--window", str(WINDOW), "--reconnect-min", "0.1", "--reconnect-max", "0.5",
        )  # fmt: skip
        gw.cli_json("routes", "add", "--default", "--connector", "sim")
        account = gw.create_account(credits=1000)
        sent = httpx.post(
            f"{gw.base_url}/v1/messages",
            auth=(account.client_id, account.client_secret),
            json={"to": [f"04141{n:06d}" for n in range(N)], "text": "Su cita es mañana"},
            timeout=30,
        )
        assert sent.status_code == 202, sent.text

        def all_delivered() -> bool:
            return store_counts(gw.database_url)[(account.client_id, "sim", "delivered")] == N

        eventually(all_delivered, "every message delivered", timeout=60)

        def window_drained() -> bool:
            # A snapshot the delivering worker writes at each reload (0.5 s here): the last
            # one may predate the last receipt.
            _, _, samples = scrape_on_one_connection(gw)
            return value(samples, "centauro_connector_window_used", connector="sim") == 0

        eventually(window_drained, "the stored window-in-use back to 0", timeout=30)
        assert sorted(p.name for p in directory.iterdir() if p.name.startswith("counter_"))

        seen: dict[int, Samples] = {}
        scrapes = 0
        for _ in range(60):  # fresh connections until both HTTP workers have answered
            pid, delivers, samples = scrape_on_one_connection(gw)
            assert not delivers, "the delivering worker answered HTTP"
            scrapes += 1
            seen.setdefault(pid, samples)
            outcome = "centauro_messages_total"
            who = {"account": account.client_id}
            assert value(samples, outcome, **who, connector="", outcome="accepted") == N, pid
            assert value(samples, outcome, **who, connector="sim", outcome="sent") == N, pid
            assert value(samples, outcome, **who, connector="sim", outcome="delivered") == N, pid
            assert value(samples, "centauro_submit_seconds_count", connector="sim") == N, pid
            assert value(samples, "centauro_receipt_seconds_count", connector="sim") == N, pid
            # The HTTP workers run no connector: its gauges come from the store's rows.
            assert value(samples, "centauro_connector_up", connector="sim") == 1, pid
            assert value(samples, "centauro_connector_window_size", connector="sim") == WINDOW
            assert value(samples, "centauro_connector_window_used", connector="sim") == 0
            assert value(samples, "centauro_queue_depth", state="sent") == 0
            if len(seen) == 2 and scrapes >= 4:
                break
        assert len(seen) == 2, f"only workers {sorted(seen)} answered {scrapes} scrapes"
    finally:
        gw.stop()
        smsc.stop()
    assert gw.process is not None
    assert gw.process.returncode is not None
    assert metrics_dirs(tmp) == [], "serve left its metrics directory behind"
