"""A real Redis broker for tests that publish through the outbox: a queue private to each test, no worker.

Imported into a conftest (tests/common, tests/payments) to use them.
"""

import json
import uuid
from urllib.parse import urlparse

import pytest
import redis
from django.conf import settings

from config.celery import app


class Broker:
    def __init__(self, url: str, queue: str):
        self.client, self.queue = redis.Redis.from_url(url), queue

    def task_ids(self) -> list[str]:
        """The ids of the task messages waiting in this test's queue, oldest first."""
        return [json.loads(raw)["headers"]["id"] for raw in reversed(self.client.lrange(self.queue, 0, -1))]


def _forget_broker_state() -> None:
    # Imported here: tests/faults' conftest imports tests/payments' conftest, which imports this module.
    from tests.faults.conftest import _forget_broker_state

    _forget_broker_state()


def _configure(url: str):
    keys = ("broker_url", "task_always_eager", "task_default_queue", "broker_transport_options")
    previous = {key: app.conf[key] for key in keys}
    queue = f"test-outbox-{uuid.uuid4().hex}"
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    app.conf.broker_transport_options = {"socket_connect_timeout": 0.5}
    _forget_broker_state()
    return previous, queue


def _restore(previous):
    for key, value in previous.items():
        app.conf[key] = value
    _forget_broker_state()


@pytest.fixture
def broker():
    """This process publishes to the real Redis (not eager), on a queue no worker consumes."""
    parsed = urlparse(settings.REDIS_URL or "redis://127.0.0.1:6379/1")
    url = f"redis://{parsed.hostname or '127.0.0.1'}:{parsed.port or 6379}/{parsed.path.lstrip('/') or '0'}"
    previous, queue = _configure(url)
    broker = Broker(url, queue)
    yield broker
    broker.client.delete(queue)
    _restore(previous)


@pytest.fixture
def dead_broker():
    previous, _ = _configure("redis://127.0.0.1:1/0")  # nothing listens there
    yield
    _restore(previous)
