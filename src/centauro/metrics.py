"""Every Prometheus metric of the gateway, defined once; doors and workers feed them.

Events (messages accepted/sent/finished, submit and receipt latency, webhook deliveries,
HTTP requests) are counters and histograms here, incremented after the write that made
them true commits, once per batch and label set (a :class:`Tally` gathers a batch).
State (queue depth, bind state, window use, receipts waiting) is not kept in sync here:
it is read when ``/metrics`` is scraped and handed to :func:`exposition` as
:class:`StateSample` values.

Several processes (``serve --workers N``): set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory before any process imports ``prometheus_client`` (:func:`prepare_multiprocess_dir`
does it); each process then writes its counters to files there and a scrape of any one
of them sums them all. Without it, one in-process registry.

This module imports nothing of ours but the domain: the core may feed it without
knowing the exporter or HTTP (docs/metrics.md).
"""

from __future__ import annotations

import enum
import hmac
import ipaddress
import os
import shutil
import tempfile
from collections import Counter as Bag
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The classic text format every Prometheus (2.x and 3.x) reads; our names need no
#: UTF-8 escaping, so ``generate_latest`` writes exactly this.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Seconds from handing a message to a connector to the carrier's answer (submit_sm_resp).
SUBMIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Seconds from the carrier's acceptance to its delivery receipt: seconds to days.
RECEIPT_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0)

#: Where ``registry=`` is None the library's global registry is used; in multiprocess
#: mode the values go to the directory's files whatever the registry.
MESSAGES = Counter(
    "centauro_messages",
    "Messages by account (client_id), connector and outcome: accepted (queued by a door), "
    "sent (accepted by the carrier), then delivered, undelivered, failed, rejected, expired.",
    ["account", "connector", "outcome"],
)
SUBMIT_SECONDS = Histogram(
    "centauro_submit_seconds",
    "Seconds one message's submit to a connector took, until the carrier answered.",
    ["connector"],
    buckets=SUBMIT_BUCKETS,
)
RECEIPT_SECONDS = Histogram(
    "centauro_receipt_seconds",
    "Seconds from the carrier's acceptance of a message to the receipt that finished it.",
    ["connector"],
    buckets=RECEIPT_BUCKETS,
)
WEBHOOK_DELIVERIES = Counter(
    "centauro_webhook_deliveries",
    "Webhook POSTs by outcome: delivered, retry (failed, tried again later), failed (given up).",
    ["outcome"],
)
HTTP_REQUESTS = Counter(
    "centauro_http_requests",
    "HTTP requests by route template (never the raw path), method and status code.",
    ["route", "method", "status"],
)


class _Labels:
    """Whether the account label carries the client id (off: one series for all)."""

    accounts = True


def label_accounts(on: bool) -> None:
    """``CENTAURO_METRICS_ACCOUNT_LABEL=false``: every account counted as ``""``."""
    _Labels.accounts = on
    _ACCEPTED.clear()


def account_label(client_id: str) -> str:
    return client_id if _Labels.accounts else ""


#: Labelled children already made: ``labels()`` takes a lock and checks its values on
#: every call (most of its cost per request); these keys are bounded like the labels.
_ACCEPTED: dict[str, Counter] = {}
_HTTP: dict[tuple[str, str, int], Counter] = {}
_SUBMIT: dict[str, Histogram] = {}


def accepted(client_id: str, count: int) -> None:
    """A door queued ``count`` messages of an account (one call per request)."""
    if not count:
        return
    child = _ACCEPTED.get(client_id)
    if child is None:
        child = _ACCEPTED[client_id] = MESSAGES.labels(account_label(client_id), "", "accepted")
    child.inc(count)


def submit_took(connector: str, seconds: float) -> None:
    child = _SUBMIT.get(connector)
    if child is None:
        child = _SUBMIT[connector] = SUBMIT_SECONDS.labels(connector)
    child.observe(seconds)


def webhook_outcomes(delivered: int, retried: int, failed: int) -> None:
    for outcome, n in (("delivered", delivered), ("retry", retried), ("failed", failed)):
        if n:
            WEBHOOK_DELIVERIES.labels(outcome).inc(n)


def http_request(route: str, method: str, status: int) -> None:
    key = (route, method, status)
    child = _HTTP.get(key)
    if child is None:
        child = _HTTP[key] = HTTP_REQUESTS.labels(route, method, str(status))
    child.inc()


@dataclass(slots=True)
class Tally:
    """Message outcomes of one write job, by account id: gathered while the job runs,
    published (:meth:`publish`) only once it committed, so a rolled-back job counts nothing."""

    counts: Bag[tuple[int, str, str]] = field(default_factory=Bag)
    receipt_ages: list[tuple[str, float]] = field(default_factory=list)
    client_ids: dict[int, str] = field(default_factory=dict)

    def add(self, account_id: int, connector: str, outcome: str, n: int = 1) -> None:
        self.counts[(account_id, connector, outcome)] += n

    def receipt_age(self, connector: str, seconds: float) -> None:
        self.receipt_ages.append((connector, max(0.0, seconds)))

    @property
    def account_ids(self) -> set[int]:
        return {a for a, _, _ in self.counts}

    def publish(self) -> None:
        for (account_id, connector, outcome), n in self.counts.items():
            client_id = self.client_ids.get(account_id, str(account_id))
            MESSAGES.labels(account_label(client_id), connector, outcome).inc(n)
        for connector, seconds in self.receipt_ages:
            RECEIPT_SECONDS.labels(connector).observe(seconds)


# -- state read at scrape time ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectorSample:
    name: str
    up: bool
    in_flight: int  #: submitted, waiting for the carrier's answer
    window: int  #: the most it may have in flight (0: unknown)
    queued: int  #: handed to the connector, waiting for window or rate


@dataclass(frozen=True, slots=True)
class BindSample:
    """The SMPP server's binds of one account."""

    account: str
    binds: int
    window_used: int
    window: int
    submits_per_second: float
    receipts_waiting: int


@dataclass(frozen=True, slots=True)
class StateSample:
    """What the gateway looks like now, read for one scrape."""

    queue: Mapping[str, int]  #: open messages by state (scheduled, queued, sent)
    connectors: Iterable[ConnectorSample] = ()
    binds: Iterable[BindSample] = ()


class _State(Collector):
    def __init__(self, sample: StateSample) -> None:
        self.sample = sample

    def collect(self) -> Iterator[Metric]:
        s = self.sample
        queue = GaugeMetricFamily(
            "centauro_queue_depth",
            "Messages not final, by state: scheduled, queued (to send), sent (waiting for "
            "their receipt).",
            labels=["state"],
        )
        for state, n in sorted(s.queue.items()):
            queue.add_metric([state], n)
        yield queue
        connectors = list(s.connectors)
        gauges = {
            "up": GaugeMetricFamily(
                "centauro_connector_up",
                "1 when the connector is bound (up), 0 otherwise; whichever process binds it.",
                labels=["connector"],
            ),
            "in_flight": GaugeMetricFamily(
                "centauro_connector_window_used",
                "Submits waiting for the carrier's answer (the window in use).",
                labels=["connector"],
            ),
            "window": GaugeMetricFamily(
                "centauro_connector_window_size",
                "The most submits the connector keeps unanswered (0: not known).",
                labels=["connector"],
            ),
            "queued": GaugeMetricFamily(
                "centauro_connector_queued",
                "Messages handed to the connector, waiting for window or rate.",
                labels=["connector"],
            ),
        }
        for c in connectors:
            gauges["up"].add_metric([c.name], 1 if c.up else 0)
            gauges["in_flight"].add_metric([c.name], c.in_flight)
            gauges["window"].add_metric([c.name], c.window)
            gauges["queued"].add_metric([c.name], c.queued)
        yield from gauges.values()
        yield from _bind_families(list(s.binds))


def _bind_families(binds: list[BindSample]) -> Iterator[Metric]:
    specs = (
        ("centauro_smpp_server_binds", "Binds of an account to our SMPP server.", "binds"),
        (
            "centauro_smpp_server_window_used",
            "Our SMPP server's window in use, by account (unanswered PDUs both ways).",
            "window_used",
        ),
        (
            "centauro_smpp_server_window_size",
            "Our SMPP server's window, by account (window times binds).",
            "window",
        ),
        (
            "centauro_smpp_server_submits_per_second",
            "submit_sm per second over the last second, by account.",
            "submits_per_second",
        ),
        (
            "centauro_smpp_server_receipts_waiting",
            "Receipts waiting for a bind of the account to take them.",
            "receipts_waiting",
        ),
    )
    for name, doc, attr in specs:
        family = GaugeMetricFamily(name, doc, labels=["account"])
        for b in binds:
            family.add_metric([account_label(b.account)], getattr(b, attr))
        yield family


# -- exposition and access -------------------------------------------------------------


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition(state: StateSample) -> bytes:
    """The text of one scrape: every process's counters, and ``state`` as gauges."""
    directory = multiprocess_dir()
    if directory is None:
        events: bytes = generate_latest(REGISTRY)
    else:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        events = generate_latest(registry)
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(_State(state))
    return events + generate_latest(gauges)


def prepare_multiprocess_dir(path: str | None = None) -> str:
    """Make ``path`` (a new temporary directory when None) an empty directory and point
    ``PROMETHEUS_MULTIPROC_DIR`` at it, for this process and the workers it starts.

    Call it in the parent before any worker starts, and remove the directory when the
    last one has stopped (:func:`remove_multiprocess_dir`). The workers must import
    ``prometheus_client`` only after the variable is set (a fresh ``exec`` does).
    """
    if path is None:
        path = tempfile.mkdtemp(prefix="centauro-metrics-")
    else:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, mode=0o700)
    os.environ[MULTIPROC_ENV] = path
    return path


def remove_multiprocess_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if os.environ.get(MULTIPROC_ENV) == path:
        del os.environ[MULTIPROC_ENV]


def worker_exited(pid: int) -> None:
    """A worker is gone for good (the parent calls it): drop its live-gauge files."""
    directory = multiprocess_dir()
    if directory is not None:
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


class Access(enum.Enum):
    """Who may read ``/metrics``: the answer for one request."""

    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"  #: not loopback, no token, not public: 403
    BAD_TOKEN = "bad_token"  # noqa: S105 - a Bearer token that is not ours: 401


def access(
    client_host: str | None, authorization: str | None, *, token: str, public: bool
) -> Access:
    """Loopback clients, everyone when ``public``, anyone with ``Bearer <token>``.

    A wrong token is refused even from loopback (a monitor with a stale token must
    notice); the token is compared in constant time.
    """
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            given = value.strip().encode()
            if token and hmac.compare_digest(given, token.encode()):
                return Access.ALLOWED
            return Access.BAD_TOKEN
    if public or _loopback(client_host):
        return Access.ALLOWED
    return Access.FORBIDDEN


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))
