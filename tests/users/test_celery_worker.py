"""A real Celery worker (in a thread, solo pool) runs the welcome email task, on each broker the shop supports.

`redis_worker` is parametrized over Redis and RabbitMQ, so every test that uses it (here and in
tests/payments) runs on both. RabbitMQ is at RABBITMQ_URL_TEST [amqp://guest:guest@127.0.0.1:5672//];
when it does not answer the test fails and says so (`.ci/run` installs and starts rabbitmq-server).
"""

import os
import time
import uuid
from urllib.parse import urlparse

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.core import mail
from django.db import connections

from config.celery import app
from notifications.models import SentEmail
from tests.factories import DEFAULT_PASSWORD

BROKERS = ("redis", "amqp")


def broker_url(kind: str = "redis") -> str:
    if kind == "amqp":
        return os.environ.get("RABBITMQ_URL_TEST", "amqp://guest:guest@127.0.0.1:5672//")
    redis = urlparse(settings.REDIS_URL or "redis://127.0.0.1:6379/1")
    db = redis.path.lstrip("/") or "0"
    return f"redis://{redis.hostname or '127.0.0.1'}:{redis.port or 6379}/{db}"


def _require_broker(url: str) -> None:
    try:
        with app.connection_for_write(url) as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:  # kombu raises the transport's own error types
        pytest.fail(f"The broker at {url} does not answer ({exc!r}): start it (rabbitmq-server / redis-server).")


def _delete_queue(url: str, name: str) -> None:
    # RabbitMQ keeps a declared durable queue forever; Redis drops an empty list by itself.
    with app.connection_for_write(url) as connection:
        connection.default_channel.queue_delete(name)


def _close_worker_connections(**kwargs):
    # The worker thread has its own DB connections; close them so the test database can be dropped.
    connections.close_all()


def _forget_broker_state() -> None:
    # Pools and queue declarations are built lazily from the config of their time; drop them when it changes.
    app._pool = None
    app.amqp._producer_pool = None
    for cached in ("queues", "default_queue"):
        app.amqp.__dict__.pop(cached, None)


@pytest.fixture(params=BROKERS)
def redis_worker(request):
    """Point the app at the broker (Redis, then RabbitMQ) with a queue private to this run, start a worker,
    and restore it all after. (The name predates RabbitMQ; tests/payments imports it.)"""
    url = broker_url(request.param)
    _require_broker(url)
    queue = f"test-users-{uuid.uuid4().hex}"
    keys = ("broker_url", "task_always_eager", "task_default_queue")
    previous = {key: app.conf[key] for key in keys}
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    _forget_broker_state()
    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_worker_connections)
        if request.param == "amqp":
            _delete_queue(url, queue)
        for key, value in previous.items():
            app.conf[key] = value
        _forget_broker_state()


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_welcome_email_task_completes_on_a_real_worker(redis_worker, api_client):
    # when: registering commits and queues the task on the broker
    response = api_client.post("/api/auth/register/", {"email": "worker@example.com", "password": DEFAULT_PASSWORD})

    # then: the worker picks it up, sends the email and marks it sent
    assert response.status_code == 201
    assert wait_for(lambda: SentEmail.objects.filter(key=f"users.welcome:{response.json()['id']}").exists())
    assert [message.to for message in mail.outbox] == [["worker@example.com"]]
    assert mail.outbox[0].subject == "Welcome to the shop"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_a_request_runs_under_its_request_id(redis_worker, api_client):
    from celery.signals import task_prerun

    from config.request_id import current_request_id

    seen = []

    def record(task=None, **kwargs):  # connected after config.celery's handler, so it sees what that bound
        seen.append((task.name, current_request_id()))

    task_prerun.connect(record, weak=False)
    try:
        response = api_client.post(
            "/api/auth/register/",
            {"email": "traced@example.com", "password": DEFAULT_PASSWORD},
            HTTP_X_REQUEST_ID="register-42",
        )
        assert response.status_code == 201
        assert wait_for(lambda: bool(seen))
    finally:
        task_prerun.disconnect(record)

    assert seen[0][1] == "register-42"
    assert current_request_id() is None  # nothing leaks into this thread
