"""Prometheus metrics (prometheus_client), served at `/metrics` when METRICS_TOKEN is set.

Under gunicorn each worker is a process of its own: with PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py sets
it when METRICS_TOKEN is) every process writes its samples to files there and a scrape sums them, so one
scrape counts the requests of every worker. Celery processes that share the directory (the local cluster's
workers do) show in the same scrape.

The domain code records with one call (`orders_placed_record()`, `payment_outcome_record(...)`,
`catalog_cache_record(...)`); counts of database facts move only when their transaction commits.
"""

import hmac
import logging
import os
import time
from collections.abc import Callable

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

REQUESTS = Counter(
    "shop_http_requests_total", "HTTP requests answered, by view and status.", ["view", "method", "status"]
)
REQUEST_LATENCY = Histogram(
    "shop_http_request_duration_seconds",
    "Time from the first middleware to the response, by view.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CATALOG_CACHE = Counter("shop_catalog_cache_total", "Catalog response cache lookups, by result.", ["result"])
ORDERS_PLACED = Counter("shop_orders_placed_total", "Orders placed (committed).")
PAYMENTS = Counter("shop_payments_total", "Payments reaching an outcome (committed), by outcome.", ["outcome"])
TASKS = Counter("shop_celery_tasks_total", "Celery task runs, by task and outcome.", ["task", "outcome"])
TASK_QUEUE_LATENCY = Histogram(
    "shop_celery_task_queue_seconds",
    "Time from publishing a task to a worker starting it.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)

logger = logging.getLogger(__name__)

UNRESOLVED_VIEW = "<unresolved>"  # 404s for unknown paths: one label, not one per path a scanner tries
KNOWN_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})  # others: "other"


def catalog_cache_record(*, hit: bool) -> None:
    CATALOG_CACHE.labels(result="hit" if hit else "miss").inc()


def orders_placed_record() -> None:
    transaction.on_commit(ORDERS_PLACED.inc)


def payment_outcome_record(outcome: str) -> None:
    transaction.on_commit(PAYMENTS.labels(outcome=outcome).inc)


# --- Gauges read at scrape time ------------------------------------------------------------------
# name -> (help, callable returning the current value). A gauge of a database fact (e.g. the outbox backlog)
# is asked for when Prometheus scrapes, so every web process answers the same and nothing is kept in files.
_scrape_gauges: dict[str, tuple[str, Callable[[], float]]] = {}


def gauge_at_scrape_register(*, name: str, documentation: str, read: Callable[[], float]) -> None:
    _scrape_gauges[name] = (documentation, read)


class _ScrapeTimeCollector:
    def collect(self):
        for name, (documentation, read) in sorted(_scrape_gauges.items()):
            try:
                value = float(read())
            except Exception:  # a broken reader drops its gauge, never the whole scrape
                logger.warning("metrics: gauge %s could not be read", name, exc_info=True)
                continue
            yield GaugeMetricFamily(name, documentation, value=value)


_SCRAPE_TIME = _ScrapeTimeCollector()
REGISTRY.register(_SCRAPE_TIME)


def _registry() -> CollectorRegistry:
    """Every process's samples under gunicorn (multiprocess mode), else this process's own."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_SCRAPE_TIME)
    return registry


def metrics_view(request):
    """`/metrics`: 404 unless METRICS_TOKEN is set and the request carries it as a bearer token."""
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts every answered request and its latency by view name (the route, never the raw path)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match.route) if match else UNRESOLVED_VIEW
        if view != "metrics":
            method = request.method if request.method in KNOWN_METHODS else "other"
            REQUESTS.labels(view=view, method=method, status=str(response.status_code)).inc()
            REQUEST_LATENCY.labels(view=view, method=method).observe(time.perf_counter() - started)
        return response


# --- Celery: task outcomes and queue latency ------------------------------------------------------
PUBLISHED_AT_HEADER = "published_at"


@before_task_publish.connect
def _stamp_published_at(headers=None, **kwargs) -> None:
    if headers is not None:
        headers.setdefault(PUBLISHED_AT_HEADER, time.time())


@task_prerun.connect
def _observe_queue_latency(task=None, **kwargs) -> None:
    published_at = getattr(task.request, PUBLISHED_AT_HEADER, None) if task else None
    if published_at and not task.request.is_eager:
        TASK_QUEUE_LATENCY.labels(task=task.name).observe(max(0.0, time.time() - float(published_at)))


@task_postrun.connect
def _count_task_outcome(task=None, state=None, **kwargs) -> None:
    if task is not None:
        TASKS.labels(task=task.name, outcome=(state or "unknown").lower()).inc()
