"""A verified redelivery of an event that is still unprocessed is queued again; a processed one is not."""

import pytest

from payments import services
from payments.models import WebhookEvent
from tests.payments.conftest import WEBHOOK_URL, event_payload, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def redeliver(api_client, fake_stripe, django_capture_on_commit_callbacks, monkeypatch):
    """POST one event twice; returns the event ids the processing task was queued for."""
    queued = []
    monkeypatch.setattr(services, "enqueue_on_commit", lambda task, **kwargs: queued.append(kwargs["event_id"]))

    def post(payload):
        response = api_client.post(WEBHOOK_URL, data=payload, content_type="application/json",
                                   HTTP_STRIPE_SIGNATURE=sign(payload))  # fmt: skip
        assert response.status_code == 200
        return response.json()

    return post, queued


@pytest.mark.parametrize("status", [WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED])
def test_an_unprocessed_event_is_queued_again_when_stripe_redelivers_it(redeliver, status):
    post, queued = redeliver
    payload = event_payload("checkout.session.completed", {"id": "cs_x"})
    post(payload)
    WebhookEvent.objects.update(status=status)

    assert post(payload) == {"received": True, "duplicate": True}

    event = WebhookEvent.objects.get()
    assert queued == [event.pk, event.pk]


@pytest.mark.parametrize("status", [WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED])
def test_a_finished_event_is_not_queued_again(redeliver, status):
    post, queued = redeliver
    payload = event_payload("checkout.session.completed", {"id": "cs_x"})
    post(payload)
    WebhookEvent.objects.update(status=status)

    assert post(payload) == {"received": True, "duplicate": True}

    assert queued == [WebhookEvent.objects.get().pk]
