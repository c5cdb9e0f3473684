"""Reconciliation: Checkout Sessions still pending here past their expiry, whose webhook never came,
are settled by asking Stripe (the fake over HTTP) and applying its answer through the webhook handlers.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from catalog.models import Product
from config.celery import app as celery_app
from orders.models import Order
from orders.services import order_expire_overdue
from payments import services, tasks
from payments.models import Payment
from payments.webhooks import RECONCILE_AFTER_EXPIRY, checkout_sessions_reconcile
from tests.factories import ProductFactory
from tests.orders.factories import place
from tests.users.test_celery_worker import redis_worker, wait_for  # noqa: F401  (the real worker fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment(user, fake_stripe):
    order = place(user, (ProductFactory(stock=10), 3))
    return services.checkout_session_create(user=user, order_id=order.pk)


def past_expiry(payment, *, by=RECONCILE_AFTER_EXPIRY + timedelta(seconds=1)):
    """Our row says the session ended `by` ago (Stripe's word on it is the fake's)."""
    Payment.objects.filter(pk=payment.pk).update(expires_at=timezone.now() - by)


def stock_of(payment) -> int:
    return Product.objects.get(pk=payment.order.items.get().product_id).stock


def test_paid_at_stripe_for_an_order_that_expired_here_is_refunded_and_flagged(payment, fake_stripe, run_on_commit):
    # given: the customer pays at Stripe, but the webhook never arrives; the order expires on our side
    session = fake_stripe.complete_session(payment.stripe_session_id)
    Order.objects.filter(pk=payment.order_id).update(payment_deadline=timezone.now() - timedelta(minutes=1))
    with run_on_commit():
        assert order_expire_overdue() == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING  # Stripe refused to expire a completed session
    past_expiry(payment)

    # when
    with run_on_commit():
        outcome = checkout_sessions_reconcile()

    # then: the money goes back and staff are told; the order stays cancelled
    payment.refresh_from_db()
    assert outcome == {"paid": 1}
    assert payment.status == Payment.Status.REFUNDED
    assert payment.amount_refunded == payment.amount
    assert payment.needs_attention and "refunded automatically" in payment.attention_reason
    (refund,) = fake_stripe.refunds
    assert (refund["payment_intent"], refund["amount"]) == (session["payment_intent"], session["amount_total"])
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.CANCELLED


def test_reconciling_twice_or_a_late_webhook_refunds_once(payment, fake_stripe, run_on_commit, deliver):
    session = fake_stripe.complete_session(payment.stripe_session_id)
    Order.objects.filter(pk=payment.order_id).update(payment_deadline=timezone.now() - timedelta(minutes=1))
    with run_on_commit():
        order_expire_overdue()
    past_expiry(payment)
    with run_on_commit():
        checkout_sessions_reconcile()

    with run_on_commit():
        assert checkout_sessions_reconcile() == {}
    deliver("checkout.session.completed", session)

    assert len(fake_stripe.refunds) == 1
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUNDED


def test_paid_at_stripe_for_a_pending_order_pays_the_order(payment, fake_stripe, run_on_commit):
    fake_stripe.complete_session(payment.stripe_session_id)
    past_expiry(payment)

    with run_on_commit():
        assert checkout_sessions_reconcile() == {"paid": 1}

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and not payment.needs_attention
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PAID
    assert not fake_stripe.refunds


def test_expired_at_stripe_expires_the_payment_and_cancels_and_restocks_the_order(payment, fake_stripe, run_on_commit):
    assert stock_of(payment) == 7
    fake_stripe.expire_session(payment.stripe_session_id)
    past_expiry(payment)

    with run_on_commit():
        assert checkout_sessions_reconcile() == {"expired": 1}

    payment.refresh_from_db()
    assert payment.status == Payment.Status.EXPIRED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.CANCELLED
    assert stock_of(payment) == 10


def test_a_session_still_open_at_stripe_is_left_alone(payment, fake_stripe, run_on_commit):
    past_expiry(payment)

    with run_on_commit():
        assert checkout_sessions_reconcile() == {"open": 1}

    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PENDING


def test_sessions_not_yet_past_expiry_and_its_margin_are_not_asked_about(payment, fake_stripe):
    fake_stripe.expire_session(payment.stripe_session_id)
    past_expiry(payment, by=RECONCILE_AFTER_EXPIRY - timedelta(minutes=1))  # the webhook may still come

    assert checkout_sessions_reconcile() == {}

    assert not fake_stripe.calls("GET")
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING


def test_a_stripe_failure_leaves_the_session_for_the_next_run(payment, fake_stripe, run_on_commit):
    fake_stripe.expire_session(payment.stripe_session_id)
    past_expiry(payment)
    fake_stripe.fail_next()

    assert checkout_sessions_reconcile() == {"failed": 1}
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING

    with run_on_commit():
        assert checkout_sessions_reconcile() == {"expired": 1}


def test_sessions_are_reconciled_in_batches(user, fake_stripe, run_on_commit):
    payments = []
    for _ in range(3):
        order = place(user, (ProductFactory(stock=5), 1))
        payment = services.checkout_session_create(user=user, order_id=order.pk)
        fake_stripe.expire_session(payment.stripe_session_id)
        past_expiry(payment)
        payments.append(payment)

    with run_on_commit():
        assert tasks.reconcile_checkout_sessions(batch_size=2) == {"expired": 3}

    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.CANCELLED}


def test_the_reconciliation_runs_on_a_beat_schedule():
    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("reconcile_checkout_sessions")]
    assert entry["task"] == "payments.tasks.reconcile_checkout_sessions"
    assert entry["schedule"] <= 600


@pytest.mark.celery_worker
@pytest.mark.usefixtures("redis_worker")
@pytest.mark.django_db(transaction=True)
def test_the_scheduled_task_runs_on_a_real_worker(user, fake_stripe):
    # given: a session expired at Stripe, its webhook lost
    order = place(user, (ProductFactory(stock=4), 1))
    payment = services.checkout_session_create(user=user, order_id=order.pk)
    fake_stripe.expire_session(payment.stripe_session_id)
    past_expiry(payment)

    # when: beat sends the task by the name in the schedule
    celery_app.send_task(settings.CELERY_BEAT_SCHEDULE["reconcile-checkout-sessions"]["task"])

    # then
    assert wait_for(lambda: Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.EXPIRED
