"""Fault injection with real parts: redis-server processes and Celery workers are killed and restarted.

Each test records the fault, what the client saw, what was lost (nothing) and how long recovery took.
"""

import threading
import time

import psycopg
import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from common.models import OutboxMessage
from common.tasks import relay_outbox
from orders.models import Order
from payments import services
from payments.models import Payment, WebhookEvent
from tests.factories import AddressFactory, OrderFactory, ProductFactory, UserFactory
from tests.faults.conftest import FAULTS, wait_for
from tests.orders.factories import fill_cart
from tests.payments.conftest import WEBHOOK_URL, event_payload, sign
from users.models import User

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker(workers):
    return workers.start()


def publish_sweep(task_log) -> None:
    """Do what beat does every 30 s (publish relay_outbox), then wait until a worker ran it."""

    def publish():
        try:
            return relay_outbox.apply_async().id
        except Exception:  # the broker is not accepting yet
            return None

    task_id = wait_for(publish, timeout=30, interval=0.2)
    assert task_id, "could not publish the sweep"
    assert wait_for(lambda: task_id in task_log("done", "common.tasks.relay_outbox"), timeout=60), "sweep never ran"


def waiting_tasks() -> list[str]:
    return list(OutboxMessage.objects.filter(published_at__isnull=True).values_list("task", flat=True))


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


# --- Broker down: the request answers 2xx, the work waits in the outbox and runs once later ----------



def recover_and_send_once(broker, task_log, sent_emails, *, to: str) -> float:
    """Start the broker, sweep the outbox, wait for the email to `to`; sweep again and check it went once.

    Returns the seconds from the broker's start to the email."""
    broker.start()
    back = time.monotonic()
    publish_sweep(task_log)
    assert wait_for(lambda: [recipient for recipient, _ in sent_emails() if recipient == to], timeout=60)
    recovery = time.monotonic() - back
    publish_sweep(task_log)
    assert [recipient for recipient, _ in sent_emails()].count(to) == 1
    assert waiting_tasks() == []
    return recovery


def test_broker_down_during_checkout_answers_201_and_the_email_goes_once_it_is_back(
    broker, worker, task_log, sent_emails
):
    # given
    user = UserFactory()
    address = AddressFactory(user=user)
    fill_cart(user, (ProductFactory(stock=10), 1))
    client = APIClient()
    client.force_authenticate(user)
    broker.kill()

    # when
    response, latency = timed(lambda: client.post("/api/orders/", {"shipping_address": address.pk}, format="json"))

    # then: committed, answered, and the confirmation waits in the outbox
    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=response.json()["id"])
    assert waiting_tasks() == ["orders.tasks.send_order_email"]
    assert OutboxMessage.objects.get().attempts == 1

    # when the broker is back and the sweep runs; then: sent exactly once, even after another sweep
    recovery = recover_and_send_once(broker, task_log, sent_emails, to=user.email)
    assert order.number in [subject for to, subject in sent_emails() if to == user.email][0]
    FAULTS.append({"fault": "broker killed during checkout", "client_saw": f"201 in {latency:.2f} s",
                   "lost": "nothing (1 outbox row, email sent once)", "recovery_s": recovery})  # fmt: skip


def test_broker_down_during_a_webhook_answers_200_and_the_event_is_processed_once(
    broker, worker, task_log, sent_emails, fake_stripe
):
    # given: an order paid at Stripe
    order = OrderFactory(user=UserFactory())
    payment = services.checkout_session_create(user=order.user, order_id=order.pk)
    session = fake_stripe.complete_session(payment.stripe_session_id)
    payload = event_payload("checkout.session.completed", session)
    client = APIClient()

    def deliver():
        return client.post(WEBHOOK_URL, data=payload, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=sign(payload))  # fmt: skip

    broker.kill()

    # when: Stripe delivers, and redelivers, while the broker is down
    first, latency = timed(deliver)
    again = deliver()

    # then: both acknowledged; the event is stored, unprocessed, and queued twice in the outbox
    assert first.status_code == 200 and first.json() == {"received": True, "duplicate": False}
    assert again.status_code == 200 and again.json() == {"received": True, "duplicate": True}
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.RECEIVED
    assert waiting_tasks() == ["payments.tasks.process_webhook_event"] * 2

    # when the broker is back
    broker.start()
    back = time.monotonic()
    publish_sweep(task_log)
    assert wait_for(lambda: WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED, timeout=60)
    recovery = time.monotonic() - back

    # then: applied once: the order is paid once, one payment-received email
    assert wait_for(lambda: [to for to, _ in sent_emails() if to == order.user.email], timeout=30)
    publish_sweep(task_log)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.status_changes.filter(to_status=Order.Status.PAID).count() == 1
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    assert [to for to, _ in sent_emails()].count(order.user.email) == 1
    assert waiting_tasks() == []
    FAULTS.append({"fault": "broker killed during a webhook (and its redelivery)",
                   "client_saw": f"200 in {latency:.2f} s, 200 duplicate", "lost": "nothing (event processed once)",
                   "recovery_s": recovery})  # fmt: skip


def test_broker_down_during_a_password_reset_answers_2xx_and_the_link_is_sent_once(
    broker, worker, task_log, sent_emails
):
    # given
    user = UserFactory()
    broker.kill()

    # when
    response, latency = timed(lambda: APIClient().post("/api/auth/password/reset/", {"email": user.email}))

    # then
    assert response.status_code in (200, 202, 204), response.content
    assert waiting_tasks() == ["users.tasks.send_password_reset_email"]

    recovery = recover_and_send_once(broker, task_log, sent_emails, to=user.email)
    FAULTS.append({"fault": "broker killed during a password reset", "client_saw": f"{response.status_code} in "
                   f"{latency:.2f} s", "lost": "nothing (reset email sent once)", "recovery_s": recovery})  # fmt: skip


# --- Worker killed with the task in hand ------------------------------------------------------------


def test_a_worker_killed_mid_task_leaves_the_event_to_the_next_worker_which_processes_it_once(
    broker, worker, workers, task_log, sent_emails, fake_stripe
):
    # given: a worker that blocks inside the webhook task
    worker.stop()
    slow = workers.start(FAULT_SLOW_TASK="payments.tasks.process_webhook_event")
    order = OrderFactory(user=UserFactory())
    payment = services.checkout_session_create(user=order.user, order_id=order.pk)
    payload = event_payload("checkout.session.completed", fake_stripe.complete_session(payment.stripe_session_id))
    response = APIClient().post(WEBHOOK_URL, data=payload, content_type="application/json",
                                HTTP_STRIPE_SIGNATURE=sign(payload))  # fmt: skip
    assert response.status_code == 200
    task_id = str(OutboxMessage.objects.get(task="payments.tasks.process_webhook_event").pk)
    assert wait_for(lambda: task_id in task_log("start", "payments.tasks.process_webhook_event"), timeout=60)

    # when: SIGKILL while the task runs (unacked: acks_late), then a new worker starts
    slow.kill()
    killed = time.monotonic()
    workers.start()

    # then: the message comes back to the new worker, which processes the event once
    assert wait_for(lambda: WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED, timeout=60)
    recovery = time.monotonic() - killed
    assert wait_for(lambda: task_id in task_log("done", "payments.tasks.process_webhook_event"), timeout=30)
    assert task_log("start", "payments.tasks.process_webhook_event").count(task_id) == 2
    assert task_log("done", "payments.tasks.process_webhook_event").count(task_id) == 1
    assert wait_for(lambda: [to for to, _ in sent_emails() if to == order.user.email], timeout=30)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.status_changes.filter(to_status=Order.Status.PAID).count() == 1
    assert [to for to, _ in sent_emails()].count(order.user.email) == 1
    FAULTS.append({"fault": "worker SIGKILLed inside process_webhook_event", "client_saw": "200 (before the kill)",
                   "lost": "nothing (redelivered, processed once)", "recovery_s": recovery})  # fmt: skip


# --- Cache (Redis) down --------------------------------------------------------------------------------


def test_cache_down_reads_from_the_database_writes_succeed_and_nothing_is_stale_after(
    cache_server, settings, staff_client
):
    # given: the catalog cache on a private redis-server, warm
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": cache_server.url,
            "KEY_PREFIX": "faults",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "IGNORE_EXCEPTIONS": True,
                        "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }  # fmt: skip
    ProductFactory(slug="mug", name="Mug", stock=10)
    client, url = APIClient(), "/api/catalog/products/mug/"
    assert client.get(url)["X-Cache"] == "MISS"
    assert client.get(url)["X-Cache"] == "HIT"

    # when: Redis dies, a read and a write happen
    cache_server.kill()
    read, read_latency = timed(lambda: client.get(url))
    write = staff_client.patch(url, {"name": "Cup"}, format="json")

    # then: served from the database, the write succeeded and shows at once
    assert read.status_code == 200 and read.json()["name"] == "Mug"
    assert write.status_code == 200, write.content
    assert client.get(url).json()["name"] == "Cup"

    # when Redis is back (restarted, empty)
    cache_server.start()
    back = time.monotonic()

    # then: caching resumes and nothing stale is served
    first, second = client.get(url), client.get(url)
    recovery = time.monotonic() - back
    assert (first["X-Cache"], first.json()["name"]) == ("MISS", "Cup")
    assert (second["X-Cache"], second.json()["name"]) == ("HIT", "Cup")
    FAULTS.append({"fault": "cache redis-server killed", "client_saw": f"200 from the database in {read_latency:.3f} s,"
                   " write 200", "lost": "nothing, no stale read", "recovery_s": recovery})  # fmt: skip


# --- PostgreSQL connection killed mid-request -------------------------------------------------------


def register_in_a_thread(body: dict, responses: list) -> None:
    try:
        responses.append(APIClient().post("/api/auth/register/", body))
    finally:
        connections.close_all()  # this thread's connections, so the test database can be dropped


def test_a_database_connection_killed_mid_request_answers_a_clean_503():
    # given: a request that blocks on a lock this test holds
    db = connection.settings_dict
    conninfo = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"],
                "password": db["PASSWORD"] or None, "dbname": db["NAME"]}  # fmt: skip
    responses = []
    body = {"email": "blocked@example.com", "password": "A-long-enough-passw0rd!"}
    with psycopg.connect(**conninfo) as holder, psycopg.connect(**conninfo, autocommit=True) as admin:
        holder.execute("LOCK TABLE users_user IN EXCLUSIVE MODE")
        request = threading.Thread(target=register_in_a_thread, args=(body, responses))
        request.start()
        pid = wait_for(lambda: admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'", [db["NAME"]]
        ).fetchone(), timeout=30)  # fmt: skip
        assert pid, "the request never blocked on the lock"

        # when: its backend is terminated
        killed = time.monotonic()
        admin.execute("SELECT pg_terminate_backend(%s)", [pid[0]])
        request.join(timeout=30)
        answered = time.monotonic() - killed
        holder.rollback()

    # then: a clean 503 JSON, and the next request works again
    assert not request.is_alive(), "the request hung"
    (response,) = responses
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}
    assert not User.objects.filter(email=body["email"]).exists()
    retry = APIClient().post("/api/auth/register/", body)
    recovery = time.monotonic() - killed
    assert retry.status_code == 201, retry.content
    FAULTS.append({"fault": "PostgreSQL backend terminated mid-request",
                   "client_saw": f"503 JSON after {answered:.2f} s",
                   "lost": "nothing (the write rolled back; the retry succeeds)", "recovery_s": recovery})  # fmt: skip
