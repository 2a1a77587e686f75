"""``GET /metrics`` of a real ``centauro serve`` delivering over SMPP to ``smsc-sim``.

Two accounts send through two doors (compat and REST); the simulator rejects one
prefix and reports part of the rest undelivered. The scrape, parsed with
``prometheus_client.parser``, must count per account and connector exactly what the
store says happened, have latency histograms for every submit and receipt, the bind up,
the queue depth as the store counts it, and HTTP requests by route template.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from centauro.store.engine import open_database
from tests.acceptance.test_smpp_delivery import FAST_FAILOVER, connect, ids_of
from tests.acceptance.test_smpp_delivery import Carrier as Sender
from tests.support.esme import new_customer, smpp_gateway
from tests.support.processes import eventually
from tests.support.server import ServerProcess, free_port, start_server
from tests.support.smsc import SmscProcess, start_smsc
from tests.support.stores import KINDS, store_url

TOKEN = "t0ken-de-metricas-para-pruebas"
#: (metric sample name, frozen labels) -> value
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(gw: ServerProcess, **headers: str) -> Samples:
    response = httpx.get(f"{gw.base_url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def store_counts(database_url: str) -> Counter[tuple[str, str, str]]:
    """(client_id, connector, status) of every message, as the store has them."""
    db = open_database(database_url)
    try:
        with db.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT a.client_id, COALESCE(m.connector, ''), m.status, count(*) "
                    "FROM messages m JOIN accounts a ON a.id = m.account_id "
                    "GROUP BY a.client_id, COALESCE(m.connector, ''), m.status"
                )
            ).all()
    finally:
        db.dispose()
    return Counter({(r[0], r[1], r[2]): r[3] for r in rows})


@pytest.fixture(params=KINDS)
def carrier(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SmscProcess]:
    with store_url(request.param, tmp_path) as url:
        smsc = start_smsc(
            tmp_path, dlr_delay=0.2, dlr_fail_rate=0.5, seed=7, reject_prefix=["58416"]
        )
        gw = start_server(
            url, tmp_path, port=free_port(), env={**FAST_FAILOVER, "CENTAURO_METRICS_TOKEN": TOKEN}
        )
        try:
            connect(gw, smsc)
            request.node.gw = gw
            yield smsc
        finally:
            gw.stop()
            smsc.stop()


def test_metrics_count_what_the_store_says_per_account_and_connector(
    carrier: SmscProcess, request: pytest.FixtureRequest
) -> None:
    gw: ServerProcess = request.node.gw
    shop = Sender(gw, carrier, gw.create_account(credits=1000, name="Tienda"))
    bank = gw.create_account(credits=1000, name="Banco")
    compat_ids = ids_of(
        shop.send([f"04141{n:06d}" for n in range(10)] + ["04161234567"], "Su código es 4521")
    )
    rest = httpx.post(
        f"{gw.base_url}/v1/messages",
        auth=(bank.client_id, bank.client_secret),
        json={"to": [f"04241{n:06d}" for n in range(6)], "text": "Saldo disponible"},
        timeout=30,
    )
    assert rest.status_code == 202, rest.text
    rest_ids = [m["id"] for m in rest.json()["messages"]]
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    scheduled = httpx.post(
        f"{gw.base_url}/v1/messages",
        auth=(bank.client_id, bank.client_secret),
        json={"to": "04241999999", "text": "Recordatorio", "schedule_at": later},
        timeout=30,
    )
    assert scheduled.status_code == 202, scheduled.text
    looked = httpx.get(
        f"{gw.base_url}/v1/messages/{rest_ids[0]}",
        auth=(bank.client_id, bank.client_secret),
        timeout=10,
    )
    assert looked.status_code == 200
    panel = httpx.get(f"{gw.base_url}/panel/", timeout=10)
    assert httpx.get(f"{gw.base_url}/v1/nada/{rest_ids[0]}", timeout=10).status_code == 404
    all_ids = compat_ids + rest_ids

    def finished() -> bool:
        counts = store_counts(gw.database_url)
        done = sum(n for (_, _, status), n in counts.items() if status in FINAL)
        return done == len(all_ids)

    eventually(finished, "every message final", timeout=30)
    truth = store_counts(gw.database_url)
    # The simulator's choices make every outcome appear (seeded; checked, not assumed).
    assert {status for (_, _, status) in truth} >= {"delivered", "undelivered", "failed"}

    samples = scrape(gw)
    for client_id, given in ((shop.account.client_id, 11), (bank.client_id, 7)):
        assert value(samples, "centauro_messages_total", account=client_id, connector="",
                     outcome="accepted") == given  # fmt: skip
        for status in ("delivered", "undelivered", "failed"):
            # The store keeps no connector on a message the carrier refused; the metric
            # names the one that refused it (here the only one).
            expected = sum(n for (a, _, st), n in truth.items() if (a, st) == (client_id, status))
            assert value(
                samples, "centauro_messages_total",
                account=client_id, connector="sim", outcome=status,
            ) == expected, (client_id, status)  # fmt: skip
        reached = sum(truth[(client_id, "sim", s)] for s in ("delivered", "undelivered"))
        assert (
            value(samples, "centauro_messages_total", account=client_id, connector="sim",
                  outcome="sent") == reached
        )  # fmt: skip
    submits = sum(n for (_, _, s), n in truth.items() if s in FINAL)
    receipts = sum(n for (_, c, s), n in truth.items() if s in ("delivered", "undelivered"))
    assert value(samples, "centauro_submit_seconds_count", connector="sim") == submits
    assert value(samples, "centauro_receipt_seconds_count", connector="sim") == receipts
    assert value(samples, "centauro_receipt_seconds_bucket", connector="sim", le="+Inf") == receipts
    assert value(samples, "centauro_connector_up", connector="sim") == 1
    assert value(samples, "centauro_connector_window_size", connector="sim") == 32
    assert value(samples, "centauro_queue_depth", state="scheduled") == 1
    assert value(samples, "centauro_queue_depth", state="queued") == 0
    assert value(samples, "centauro_queue_depth", state="sent") == 0
    http = "centauro_http_requests_total"
    assert value(samples, http, route="/controllersms", method="POST", status="200") == 1
    assert value(samples, http, route="/v1/messages", method="POST", status="202") == 2
    assert value(samples, http, route="/v1/messages/{message_id}", method="GET", status="200") == 1
    assert value(samples, http, route="/panel/", method="GET", status=str(panel.status_code)) == 1
    assert value(samples, http, route="unmatched", method="GET", status="404") == 1
    assert not any(name == http and rest_ids[0] in dict(labels)["route"]
                   for name, labels in samples)  # fmt: skip

    again = scrape(gw)  # the first scrape is counted once it answered
    assert value(again, http, route="/metrics", method="GET", status="200") == 1


FINAL = ("delivered", "undelivered", "failed", "expired", "rejected")


def test_metrics_answer_loopback_and_the_token_and_refuse_a_wrong_token(
    carrier: SmscProcess, request: pytest.FixtureRequest
) -> None:
    gw: ServerProcess = request.node.gw
    assert scrape(gw, authorization=f"Bearer {TOKEN}")
    wrong = httpx.get(f"{gw.base_url}/metrics", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["code"] == "unauthorized"
    assert "token" in wrong.json()["detail"]


def test_the_smpp_server_shows_binds_per_account_and_counts_its_submits(tmp_path: Path) -> None:
    with store_url("sqlite", tmp_path) as url:
        for server in smpp_gateway(url, tmp_path):
            smpp = new_customer(server)
            esme = smpp.esme()
            try:
                sequence = esme.submit("584141234567", b"hola", registered_delivery=1)
                status, _ = esme.answer(sequence)
                assert status == 0
                samples = scrape(smpp.gw)
                client_id = smpp.account.client_id
                assert value(samples, "centauro_smpp_server_binds", account=client_id) == 1
                assert value(samples, "centauro_smpp_server_window_size", account=client_id) > 0
                assert (
                    value(samples, "centauro_messages_total", account=client_id, connector="",
                          outcome="accepted") == 1
                )  # fmt: skip
            finally:
                esme.close()
            eventually(
                lambda gw=smpp.gw, who=client_id: (
                    value(scrape(gw), "centauro_smpp_server_binds", account=who) == 0
                ),
                "the bind gone from the metrics",
                timeout=10,
            )
