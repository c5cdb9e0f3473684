import hashlib
import hmac
import json
import secrets
import time

import pytest

from payments.devstripe.fake import FakeStripe
from tests.common.broker import broker  # noqa: F401 - fixture: publish through the outbox to a real Redis

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
WEBHOOK_URL = "/api/payments/webhook/"


@pytest.fixture(scope="session")
def fake_stripe_server():
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server, settings) -> FakeStripe:
    """The fake Stripe, emptied, with the settings pointing the real client at it."""
    fake_stripe_server.reset()
    settings.STRIPE_SECRET_KEY = "sk_test_fake_0123456789"
    settings.STRIPE_API_BASE = fake_stripe_server.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return fake_stripe_server


def sign(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header exactly as Stripe computes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def event_payload(event_type: str, obj: dict, *, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "id": event_id or f"evt_test_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            "data": {"object": obj},
        }
    )


@pytest.fixture
def deliver(api_client, fake_stripe, django_capture_on_commit_callbacks):
    """POST a signed event to the webhook like Stripe does, running the queued processing (eager Celery)."""

    def _deliver(event_type: str, obj: dict, *, event_id: str | None = None):
        payload = event_payload(event_type, obj, event_id=event_id)
        with django_capture_on_commit_callbacks(execute=True):
            return api_client.post(
                WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload)
            )

    return _deliver


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what a block queues with transaction.on_commit (tasks run eagerly in the tests)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
