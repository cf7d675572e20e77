"""Request and worker metrics, and the exposition that /metrics answers with."""

import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from supportpin.audit.metrics import UnsealedEntries
from supportpin.notify.metrics import OutboxBacklog

# A `_created` twin of every series doubles what each scrape carries and tells nothing here.
disable_created_metrics()

REQUESTS = Counter(
    "supportpin_http_requests",
    "HTTP requests by method, route pattern and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "supportpin_http_request_duration_seconds",
    "Time from the request reaching the app to its response, by method and route pattern.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WORKER_PASS_SECONDS = Histogram(
    "supportpin_worker_pass_duration_seconds",
    "Time one worker pass took.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
WORKER_DUE_ROWS = Counter(
    "supportpin_worker_due_rows",
    "Rows worker passes found due and handled, by kind (PINs expired, messages sent, ...).",
    ["kind"],
)

# The methods named in labels and log lines.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    REQUESTS.labels(method=method, route=route, status=str(status)).inc()
    REQUEST_SECONDS.labels(method=method, route=route).observe(seconds)


def observe_pass(*, seconds: float, rows: dict[str, int]) -> None:
    """Count one worker pass: its duration and the due rows of each kind it handled."""
    WORKER_PASS_SECONDS.observe(seconds)
    for kind, count in rows.items():
        if count:
            WORKER_DUE_ROWS.labels(kind=kind).inc(count)


def exposition() -> bytes:
    """Render every metric: this process's, or all processes' in multiprocess mode."""
    registry = CollectorRegistry()
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        # gunicorn's workers (and a worker on the same host) each write their own files there.
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(REGISTRY)
    registry.register(OutboxBacklog())
    registry.register(UnsealedEntries())
    return generate_latest(registry)
