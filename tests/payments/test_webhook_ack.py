"""The webhook acknowledgement's cost, pinned: what one delivery asks of the database, with a real broker."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.models import OutboxMessage
from payments.models import WebhookEvent
from tests.payments.conftest import WEBHOOK_URL, event_payload, sign

# Committed for real (no test transaction around the request), as in production: the after-commit relay
# runs in autocommit.
pytestmark = pytest.mark.django_db(transaction=True)

TASK = "payments.tasks.process_webhook_event"


@pytest.fixture
def post(api_client, fake_stripe, broker):
    """POST a signed event, counting the SQL statements of the whole request (relay included)."""

    def _post(payload: str):
        with CaptureQueriesContext(connection) as queries:
            response = api_client.post(
                WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload)
            )
        return response, [q["sql"] for q in queries.captured_queries]

    return _post


def test_a_new_event_takes_one_transaction_of_two_inserts_and_one_mark(post, broker):
    payload = event_payload("payment_intent.created", {"id": "pi_1", "object": "payment_intent"})

    response, sql = post(payload)

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    # BEGIN, the event (INSERT … ON CONFLICT DO NOTHING), its outbox row, COMMIT; published; one mark.
    assert len(sql) == 5, sql
    assert sql[0] == "BEGIN" and sql[3] == "COMMIT"
    assert sql[1].lstrip().startswith("INSERT INTO payments_webhookevent") and "ON CONFLICT" in sql[1]
    assert sql[2].startswith('INSERT INTO "common_outboxmessage"')
    assert sql[4].lstrip().startswith("WITH async_commit") and "UPDATE common_outboxmessage" in sql[4]
    event = WebhookEvent.objects.get()
    assert (event.type, event.status, event.payload) == ("payment_intent.created", "received", json.loads(payload))
    message = OutboxMessage.objects.get()
    assert (message.task, message.kwargs, message.attempts) == (TASK, {"event_id": event.pk}, 1)
    assert message.published_at is not None
    assert broker.task_ids() == [str(message.pk)]


def test_a_duplicate_of_a_finished_event_takes_one_short_transaction_and_queues_nothing(post, broker):
    payload = event_payload("payment_intent.created", {"id": "pi_1", "object": "payment_intent"})
    post(payload)
    WebhookEvent.objects.update(status=WebhookEvent.Status.IGNORED)

    response, sql = post(payload)

    assert response.json() == {"received": True, "duplicate": True}
    assert len(sql) == 4, sql  # BEGIN, the insert that inserts nothing, the event's status, COMMIT
    assert OutboxMessage.objects.count() == 1
    assert len(broker.task_ids()) == 1


def test_a_duplicate_of_an_unfinished_event_is_queued_again(post, broker):
    payload = event_payload("payment_intent.created", {"id": "pi_1", "object": "payment_intent"})
    post(payload)

    response, sql = post(payload)

    assert response.json() == {"received": True, "duplicate": True}
    assert len(sql) == 6, sql  # BEGIN, insert (nothing), status, outbox row, COMMIT; the mark
    event = WebhookEvent.objects.get()
    assert [m.kwargs for m in OutboxMessage.objects.all()] == [{"event_id": event.pk}] * 2
    assert len(broker.task_ids()) == 2


def test_the_event_is_stored_as_stripe_sent_it(post):
    obj = {"id": "pi_1", "object": "payment_intent", "amount": 1999, "metadata": {"note": "café ☕"}, "x": None}
    payload = event_payload("payment_intent.created", obj)

    post(payload)

    assert WebhookEvent.objects.get().payload == json.loads(payload)
