"""/metrics: gated by METRICS_TOKEN, Prometheus text, counters that move with what the shop does."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import shared_task
from django.db import transaction
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from common.models import OutboxMessage
from config import metrics
from payments import services as payment_services
from payments.models import Payment
from tests.factories import OrderFactory, ProductFactory
from tests.orders.factories import place

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-test-token-0123456789"


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before, after, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def test_no_metrics_endpoint_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Token {TOKEN}", TOKEN, f"Bearer {TOKEN}x"])
def test_metrics_need_the_exact_bearer_token(client, metrics_on, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    assert client.get("/metrics", **extra).status_code == 404


@pytest.mark.django_db
def test_requests_are_counted_by_view_and_status_with_latency(client, metrics_on):
    before = scrape(client)
    client.get("/healthz/")
    client.get("/healthz/")
    client.get("/no-such-page/")
    after = scrape(client)

    ok = {"view": "healthz", "method": "GET", "status": "200"}
    assert value(after, "shop_http_requests_total", **ok) - value(before, "shop_http_requests_total", **ok) == 2
    missing = {"view": "<unresolved>", "method": "GET", "status": "404"}
    assert moved(before, after, "shop_http_requests_total", **missing) == 1
    latency = {"view": "healthz", "method": "GET"}
    assert (
        value(after, "shop_http_request_duration_seconds_count", **latency)
        - value(before, "shop_http_request_duration_seconds_count", **latency)
        == 2
    )
    assert not any(labels and ("view", "metrics") in labels for _, labels in after), "scrapes count themselves"


@pytest.mark.django_db
def test_catalog_cache_hits_and_misses_are_counted(client, metrics_on):
    ProductFactory()
    before = scrape(client)
    client.get("/api/catalog/products/")  # miss, stored
    client.get("/api/catalog/products/")  # hit
    client.get("/api/catalog/products/")  # hit
    after = scrape(client)
    assert moved(before, after, "shop_catalog_cache_total", result="miss") == 1
    assert moved(before, after, "shop_catalog_cache_total", result="hit") == 2


@pytest.mark.django_db(transaction=True)
def test_orders_placed_count_only_committed_orders(client, metrics_on):
    before = scrape(client)
    with transaction.atomic():
        metrics.orders_placed_record()
    try:
        with transaction.atomic():
            metrics.orders_placed_record()
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    after = scrape(client)
    assert value(after, "shop_orders_placed_total") - value(before, "shop_orders_placed_total") == 1


@pytest.mark.django_db
def test_a_gauge_read_at_scrape_time_shows_its_current_value(client, metrics_on):
    backlog = [3]
    metrics.gauge_at_scrape_register(name="shop_test_backlog", documentation="test", read=lambda: backlog[0])
    try:
        assert value(scrape(client), "shop_test_backlog") == 3
        backlog[0] = 0
        assert value(scrape(client), "shop_test_backlog") == 0
    finally:
        metrics._scrape_gauges.pop("shop_test_backlog")


@pytest.mark.django_db
def test_the_outbox_backlog_is_the_unpublished_messages(client, metrics_on):
    OutboxMessage.objects.create(task="users.tasks.send_welcome_email", kwargs={"user_id": 1})
    OutboxMessage.objects.create(task="users.tasks.send_welcome_email", kwargs={"user_id": 2})
    OutboxMessage.objects.create(task="users.tasks.send_welcome_email", kwargs={"user_id": 3},
                                 published_at=timezone.now())

    assert value(scrape(client), "shop_outbox_backlog") == 2


def test_celery_task_outcomes_and_queue_latency_are_recorded(client, metrics_on):
    @shared_task(name="tests.metrics.probe")
    def probe():
        return 1

    before = metrics.TASKS.labels(task="tests.metrics.probe", outcome="success")._value.get()
    probe.apply()  # eager: outcome counted; queue latency is only for tasks that went through a broker
    after = metrics.TASKS.labels(task="tests.metrics.probe", outcome="success")._value.get()
    assert after - before == 1


@pytest.mark.django_db
def test_a_placed_order_is_counted_once_its_checkout_commits(client, metrics_on, django_capture_on_commit_callbacks):
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):
        place()
    assert moved(before, scrape(client), "shop_orders_placed_total") == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("record", "outcome"),
    [
        (lambda payment: payment_services.payment_failed_record(payment=payment), "failed"),
        (lambda payment: payment_services.payment_expired_record(payment=payment), "expired"),
    ],
)
def test_payments_are_counted_by_outcome(client, metrics_on, django_capture_on_commit_callbacks, record, outcome):
    order = OrderFactory()
    payment = Payment.objects.create(order=order, amount=order.total, stripe_session_id=f"cs_{order.pk}")
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):
        record(payment)
        record(payment)  # a second delivery changes nothing and is not counted
    assert moved(before, scrape(client), "shop_payments_total", outcome=outcome) == 1


GUNICORN_CONF = (
    "import os, runpy; conf = runpy.run_path('gunicorn.conf.py'); conf['on_starting'](None); "
    "print(repr(os.environ.get('PROMETHEUS_MULTIPROC_DIR')))"
)


def run_gunicorn_conf(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR")}
    result = subprocess.run([sys.executable, "-c", GUNICORN_CONF], cwd=ROOT, env={**clean, **env},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_gunicorn_gives_the_workers_a_metrics_directory_when_metrics_are_on():
    directory = run_gunicorn_conf(METRICS_TOKEN="t", PROMETHEUS_MULTIPROC_DIR="").strip("'")
    assert Path(directory).is_dir() and Path(directory).name.startswith("shop-metrics-")
    Path(directory).rmdir()


def test_gunicorn_leaves_metrics_single_process_without_a_token():
    # an empty variable would put prometheus-client in multiprocess mode with no directory
    assert run_gunicorn_conf(PROMETHEUS_MULTIPROC_DIR="") == "None"


def test_gunicorn_empties_the_metrics_directory_when_it_starts(tmp_path):
    (tmp_path / "counter_12345.db").write_bytes(b"stale samples of a process before the restart")
    assert run_gunicorn_conf(METRICS_TOKEN="t", PROMETHEUS_MULTIPROC_DIR=str(tmp_path)) == repr(str(tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.django_db
def test_made_up_methods_and_paths_do_not_grow_new_series(client, metrics_on):
    before = scrape(client)
    for i in range(3):
        client.generic(f"MADEUP{i}", f"/scan-{i}/")
    after = scrape(client)
    assert moved(before, after, "shop_http_requests_total", view="<unresolved>", method="other", status="404") == 3
    assert not [labels for _, labels in after if ("method", "MADEUP0") in labels]
