"""The shop as several processes behind HAProxy: spread, consistency, failover, exactly-once work, replica.

Numbers (requests, failures while an instance was killed, recovery time) are printed with `-s`.
"""

import json
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.cluster.conftest import (
    WEBHOOK_SECRET,
    buy,
    cluster_module,
    django_json,
    http,
    run_threads,
    setup_buyers,
    staff_token,
    stock_audit,
)
from tests.payments.conftest import event_payload, sign

pytestmark = pytest.mark.cluster

METRICS_AUTH = {"Authorization": f"Bearer {cluster_module.METRICS_TOKEN}"}


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    response = http("GET", f"{url}/metrics", headers=METRICS_AUTH)
    assert response.status == 200, response.body[:300]
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.body.decode())
        for sample in family.samples
    }


def total(samples: dict, name: str, **labels) -> float:
    wanted = set(labels.items())
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and wanted <= set(sample_labels))


def samples_of_one_process(path: Path) -> dict:
    """What a scrape would show if `path` (one process's counter file) were the only one."""
    with tempfile.TemporaryDirectory() as alone:
        shutil.copy(path, alone)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=alone)
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in registry.collect()
            for sample in family.samples
        }


def test_both_instances_serve_and_a_staff_write_shows_on_the_other_at_once(cluster):
    served = {http("GET", f"{cluster.url}/api/catalog/products/").headers["X-Served-By"] for _ in range(10)}
    assert served == {"web-a", "web-b"}

    data = setup_buyers(cluster, stock=5, buyers=0)
    detail = f"/api/catalog/products/{data['slug']}/"
    token = staff_token(cluster)
    for round_ in range(5):
        # warm web-b's cache (anonymous, served from the replica), write through web-a, read web-b at once
        assert http("GET", cluster.web_url("web-b") + detail).status == 200
        price = f"{30 + round_}.50"
        changed = http("PATCH", cluster.web_url("web-a") + detail, token=token, body={"price": price})
        assert changed.status == 200, changed.body
        seen = http("GET", cluster.web_url("web-b") + detail)
        assert seen.status == 200
        assert seen.json()["price"] == price


def test_web_logs_are_json_lines_and_worker_task_lines_name_the_task(cluster):
    http("GET", f"{cluster.url}/api/catalog/products/", headers={"X-Request-ID": "cluster-json-1"})
    lines = [json.loads(line) for name in ("web-a", "web-b")
             for line in (cluster.state / f"{name}.log").read_text().splitlines() if line.strip()]
    assert any(line["logger"] == "gunicorn.error" for line in lines)  # gunicorn's own lines too
    (access,) = [line for line in lines if line.get("request_id") == "cluster-json-1"]
    assert access["logger"] == "shop.access" and access["status"] == 200 and access["path"] == "/api/catalog/products/"


def test_40_buyers_on_both_instances_get_exactly_the_20_units(cluster):
    data = setup_buyers(cluster, stock=20, buyers=40)

    results = run_threads(buy, [(cluster.url, buyer, data["product"]) for buyer in data["buyers"]])

    statuses = sorted(response.status for response in results)
    assert statuses.count(201) == 20 and statuses.count(409) == 20, statuses
    assert {response.headers["X-Served-By"] for response in results} == {"web-a", "web-b"}
    facts = django_json(cluster, f"""
import json
from django.db.models import Sum
from catalog.models import Product, StockMovement
from orders.models import OrderItem
p = Product.objects.get(pk={data['product']})
print(json.dumps({{"stock": p.stock, "orders": OrderItem.objects.filter(product=p).values("order").distinct().count(),
  "ledger": StockMovement.objects.filter(product=p, reason="order").aggregate(s=Sum("delta"))["s"]}}))
""")
    assert facts == {"stock": 0, "orders": 20, "ledger": -20}
    audit = stock_audit(cluster)
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_one_scrape_sums_every_gunicorn_worker_and_shows_celery(cluster):
    before = scrape(cluster.web_url("web-a"))
    sent = 60
    run_threads(lambda: http("GET", cluster.web_url("web-a") + "/readyz/"), [()] * sent)
    after = scrape(cluster.web_url("web-a"))

    labels = {"view": "readyz", "method": "GET", "status": "200"}
    counted = total(after, "shop_http_requests_total", **labels) - total(before, "shop_http_requests_total", **labels)
    assert counted == sent
    # Each process writes its own file: both gunicorn workers answered some of the 60, and the scrape summed them.
    answered_by = {
        path.name: readyz_in_one_process
        for path in (cluster.state / "metrics-web-a").glob("counter_*.db")
        if (readyz_in_one_process := total(samples_of_one_process(path), "shop_http_requests_total", **labels))
    }
    assert len(answered_by) == 2, answered_by
    placed = sum(total(scrape(cluster.web_url(name)), "shop_orders_placed_total") for name in ("web-a", "web-b"))
    assert placed >= 20  # the 40-buyer test's orders, counted by whichever instance took them
    assert total(after, "shop_celery_tasks_total", outcome="success") > 0  # confirmation emails, by the workers
    assert total(after, "shop_celery_task_queue_seconds_count") > 0
    task_lines = [json.loads(line) for name in ("worker-1", "worker-2")
                  for line in (cluster.state / f"{name}.log").read_text().splitlines()
                  if line.startswith('{"') and '"celery.app.trace"' in line]
    assert task_lines and all(line["task_id"] and line["task_name"] for line in task_lines)


def test_catalog_reads_use_the_replica_and_fall_back_when_it_is_down(cluster):
    def replica_commits() -> int:
        return int(cluster.psql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'shop'",
                                port=cluster_module.REPLICA_PORT) or 0)

    before = replica_commits()
    for _ in range(20):  # cache misses: every query string is new
        assert http("GET", f"{cluster.url}/api/catalog/products/?search={uuid.uuid4().hex}").status == 200
    # A backend reports its counters at most once a second, and an idle one only after 10 s (PostgreSQL 15's
    # pgstat flush intervals): wait past that before reading them.
    deadline = time.monotonic() + 15
    while replica_commits() - before < 20 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert replica_commits() - before >= 20

    cluster.stop_replica()
    try:
        started = time.monotonic()
        for _ in range(10):
            response = http("GET", f"{cluster.url}/api/catalog/products/?search={uuid.uuid4().hex}")
            assert response.status == 200, response.body[:300]
        print(f"\nreplica down: 10 uncached reads answered from the primary in {time.monotonic() - started:.2f} s")
        for name in ("web-a", "web-b"):
            ready = http("GET", cluster.web_url(name) + "/readyz/")
            deadline = time.monotonic() + 8
            while ready.json().get("replica") != "down" and time.monotonic() < deadline:
                time.sleep(0.5)
                ready = http("GET", cluster.web_url(name) + "/readyz/")
            assert ready.status == 200
            assert ready.json()["replica"] == "down"
            assert ready.json()["status"] == "ok"
    finally:
        cluster.start_replica()
    deadline = time.monotonic() + 10
    while http("GET", cluster.web_url("web-a") + "/readyz/").json().get("replica") != "up":
        assert time.monotonic() < deadline, "the replica is not used again after it came back"
        time.sleep(0.5)


def test_a_webhook_in_the_hands_of_a_killed_worker_is_processed_once_by_the_other(cluster, fake_stripe_cluster):
    starts: Path = cluster.state / "webhook-starts.log"
    data = setup_buyers(cluster, stock=5, buyers=1)
    buyer = data["buyers"][0]
    order = buy(cluster.url, buyer, data["product"])
    assert order.status == 201, order.body
    checkout = http("POST", f"{cluster.url}/api/payments/checkout/", token=buyer["token"],
                    body={"order": order.json()["id"]})
    assert checkout.status == 201, checkout.body
    session_id = list(fake_stripe_cluster.sessions)[-1]  # the only session of the run
    session = fake_stripe_cluster.complete_session(session_id)
    payload = event_payload("checkout.session.completed", session)

    delivered = http("POST", f"{cluster.url}/api/payments/webhook/", raw=payload.encode(),
                     headers={"Stripe-Signature": sign(payload, secret=WEBHOOK_SECRET),
                              "Content-Type": "application/json"})
    assert delivered.status == 200, delivered.body

    deadline = time.monotonic() + 20
    while not (starts.exists() and starts.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    first_worker = starts.read_text().split()[0].split("@")[0]
    cluster.kill(first_worker)  # kill -9 while the task is started and not acknowledged
    killed_at = time.monotonic()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = http("GET", f"{cluster.url}/api/orders/{order.json()['id']}/", token=buyer["token"]).json()["status"]
        if status == "paid":
            break
        time.sleep(0.3)
    print(f"\nwebhook redelivered and processed {time.monotonic() - killed_at:.1f} s after its worker was killed")
    lines = starts.read_text().split()
    assert status == "paid"
    assert len(lines) == 4 and lines[2].split("@")[0] != first_worker, lines  # started twice, by each worker
    facts = django_json(cluster, f"""
import json
from notifications.models import SentEmail
from orders.models import OrderStatusChange
from payments.models import Payment, WebhookEvent
order = "{order.json()['id']}"
print(json.dumps({{
  "paid_changes": OrderStatusChange.objects.filter(order_id=order, to_status="paid").count(),
  "payments": list(Payment.objects.filter(order_id=order).values_list("status", flat=True)),
  "events": list(WebhookEvent.objects.values_list("status", flat=True).distinct()),
  "emails": SentEmail.objects.filter(key__startswith="payments.").count()}}))
""")
    assert facts["paid_changes"] == 1
    assert facts["payments"] == ["succeeded"]
    assert facts["events"] == ["processed"]
    assert facts["emails"] == 1
    cluster.start_worker(first_worker)


# A reader or buyer thread that dies stops counting its requests: that must fail the test, not warn.
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_killing_a_web_instance_under_load_loses_almost_nothing(cluster):
    data = setup_buyers(cluster, stock=200, buyers=30)
    stop = threading.Event()
    log: list[tuple[float, int, str]] = []  # (time, status, what)
    lock = threading.Lock()

    def reader():
        while not stop.is_set():
            response = http("GET", f"{cluster.url}/api/catalog/products/")
            with lock:
                log.append((time.monotonic(), response.status, "read"))

    checkouts: dict[int, int] = {}

    def buyer_loop(index: int, buyer: dict):
        time.sleep(index * 0.2)  # spread over the run, before and after the kill
        response = buy(cluster.url, buyer, data["product"])
        checkouts[buyer["user"]] = response.status
        with lock:
            log.append((time.monotonic(), response.status, "checkout"))

    readers = [threading.Thread(target=reader) for _ in range(4)]
    buyers = [threading.Thread(target=buyer_loop, args=(i, b)) for i, b in enumerate(data["buyers"])]
    for thread in readers + buyers:
        thread.start()
    time.sleep(3)
    cluster.kill("web-a")
    killed_at = time.monotonic()
    time.sleep(7)  # the share of failures is (requests in flight at the kill) / (all requests): run long enough
    stop.set()
    for thread in readers + buyers:
        thread.join(timeout=60)

    failures = [(at - killed_at, status, what) for at, status, what in log if status not in (200, 201)]
    recovery = max((at for at, _, _ in failures), default=0.0)
    print(f"\nweb-a killed under load: {len(log)} requests, {len(failures)} failed {failures}, "
          f"last failure {recovery:.2f} s after the kill (check interval {cluster_module.CHECK_INTER_MS} ms)")
    assert len(failures) / len(log) < 0.01
    grace = 2 * cluster_module.CHECK_INTER_MS / 1000 + 0.5  # two failed checks mark it down
    assert all(after <= grace for after, _, _ in failures), failures

    facts = django_json(cluster, f"""
import json
from django.db.models import Count
from orders.models import Order
rows = (Order.objects.filter(items__product_id={data['product']})
        .values("user_id").annotate(n=Count("id", distinct=True)))
print(json.dumps({{str(r["user_id"]): r["n"] for r in rows}}))
""")
    for user, status in checkouts.items():
        if status == 201:
            assert facts.get(str(user)) == 1, (user, facts)  # every confirmed order exists
        assert facts.get(str(user), 0) <= 1  # and none is doubled
    audit = stock_audit(cluster)
    assert audit.returncode == 0, audit.stdout
