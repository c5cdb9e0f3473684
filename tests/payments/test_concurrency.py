"""Real threads with their own database connections racing on the same event or order."""

import json
import threading

import pytest
from django.core import mail
from django.db import connection

from orders.models import Order
from payments import services, webhooks
from payments.models import Payment, WebhookEvent
from tests.factories import OrderFactory
from tests.payments.conftest import WEBHOOK_URL, event_payload, sign

pytestmark = pytest.mark.django_db(transaction=True)


def race(target, n: int = 2) -> list:
    barrier = threading.Barrier(n)
    results: list = []

    def run():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # collected for the assertions
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_workers_processing_the_same_event_apply_it_once(user, fake_stripe):
    # given: a stored, unprocessed completed event
    order = OrderFactory(user=user)
    payment = services.checkout_session_create(user=user, order_id=order.pk)
    session = fake_stripe.complete_session(payment.stripe_session_id)
    event = WebhookEvent.objects.create(
        stripe_event_id="evt_race", type="checkout.session.completed",
        payload=json.loads(event_payload("checkout.session.completed", session, event_id="evt_race")),
    )

    # when
    results = race(lambda: webhooks.webhook_event_process(event_id=event.pk))

    # then
    assert not [r for r in results if isinstance(r, Exception)]
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert order.status_changes.filter(to_status=Order.Status.PAID).count() == 1
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    assert len(mail.outbox) == 1


def test_the_same_event_delivered_twice_at_once_is_stored_and_processed_once(user, fake_stripe):
    from django.test import Client

    order = OrderFactory(user=user)
    payment = services.checkout_session_create(user=user, order_id=order.pk)
    payload = event_payload(
        "checkout.session.completed", fake_stripe.complete_session(payment.stripe_session_id), event_id="evt_twice"
    )

    def post():
        return Client().post(
            WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload)
        ).status_code

    results = race(post)

    assert results == [200, 200]
    assert WebhookEvent.objects.count() == 1
    assert order.status_changes.filter(to_status=Order.Status.PAID).count() == 1
    assert len(mail.outbox) == 1


def test_concurrent_checkouts_for_one_order_make_one_session(user, fake_stripe):
    order = OrderFactory(user=user)

    results = race(lambda: services.checkout_session_create(user=user, order_id=order.pk).pk, n=3)

    assert len(set(results)) == 1, results
    assert Payment.objects.count() == 1
    assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1
