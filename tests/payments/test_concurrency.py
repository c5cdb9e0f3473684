"""Real threads with their own database connections racing on the same event or order."""

import json
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import Order
from orders.services import order_expire_overdue
from payments import services, webhooks
from payments.models import Payment, WebhookEvent
from tests.catalog.audit import assert_stock_matches_ledger
from tests.factories import OrderFactory, ProductFactory
from tests.orders.factories import place
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
    assert_stock_matches_ledger()


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
    assert_stock_matches_ledger()


def test_concurrent_checkouts_for_one_order_make_one_session(user, fake_stripe):
    order = OrderFactory(user=user)

    results = race(lambda: services.checkout_session_create(user=user, order_id=order.pk).pk, n=3)

    assert len(set(results)) == 1, results
    assert Payment.objects.count() == 1
    assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1
    assert_stock_matches_ledger()


def test_reconcilers_racing_a_late_webhook_refund_a_cancelled_orders_payment_once(user, fake_stripe):
    # given: paid at Stripe, no webhook; the order expired here, the session is past its expiry
    order = place(user, (ProductFactory(stock=10), 2))
    payment = services.checkout_session_create(user=user, order_id=order.pk)
    session = fake_stripe.complete_session(payment.stripe_session_id)
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(minutes=1))
    assert order_expire_overdue() == 1
    Payment.objects.filter(pk=payment.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    payload = event_payload("checkout.session.completed", session)
    client = APIClient()
    jobs = iter(
        [
            webhooks.checkout_sessions_reconcile,
            webhooks.checkout_sessions_reconcile,
            lambda: client.post(WEBHOOK_URL, data=payload, content_type="application/json",
                                HTTP_STRIPE_SIGNATURE=sign(payload)).status_code,
        ]
    )
    lock = threading.Lock()

    def next_job():
        with lock:
            job = next(jobs)
        return job()

    # when: two reconcilers and the late webhook (processed eagerly by the test Celery) at once
    results = race(next_job, n=3)

    # then: one refund, one flag, the order stays cancelled, stock back once
    assert not [r for r in results if isinstance(r, Exception)], results
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED and payment.needs_attention
    assert len(fake_stripe.refunds) == 1
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert_stock_matches_ledger()
