"""The sample Grafana dashboard asks only for metrics ``/metrics`` really exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from centauro import metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-centauro.json"


def test_every_metric_of_the_dashboard_is_exposed() -> None:
    metrics.accepted("tienda", 1)
    metrics.submit_took("sim", 0.01)
    tally = metrics.Tally()
    tally.add(1, "sim", "delivered")
    tally.receipt_age("sim", 3.0)
    tally.client_ids = {1: "tienda"}
    tally.publish()
    metrics.webhook_outcomes(1, 1, 1)
    metrics.http_request("/v1/messages", "POST", 202)
    state = metrics.StateSample(
        queue={"queued": 1},
        connectors=[metrics.ConnectorSample("sim", up=True, in_flight=2, window=10, queued=0)],
        binds=[metrics.BindSample("tienda", 1, 0, 1000, 2.0, 3)],
    )
    text = metrics.exposition(state).decode()
    exposed = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    asked = {name for e in exprs for name in re.findall(r"\bcentauro_[a-z_]+", e)}
    assert asked, "the dashboard queries no metric"
    assert asked <= exposed, asked - exposed
