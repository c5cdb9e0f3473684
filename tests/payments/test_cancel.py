"""Every cancel settles the order's money: open Checkout Sessions are expired at Stripe (so a cancelled
order cannot be paid), and money that arrived without paying the order (a wrong amount) goes back.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order
from orders.services import order_cancel, order_expire_overdue
from payments import services
from payments.models import Payment
from tests.factories import ProductFactory, UserFactory
from tests.orders.factories import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment(user, fake_stripe):
    order = place(user, (ProductFactory(stock=10), 1))
    return services.checkout_session_create(user=user, order_id=order.pk)


@pytest.fixture
def mismatched(payment, fake_stripe, deliver):
    """Stripe charged another amount than the order's: flagged, the order stays pending."""
    session = fake_stripe.complete_session(payment.stripe_session_id, amount_total=100)
    deliver("checkout.session.completed", session)
    payment.refresh_from_db()
    assert payment.needs_attention and payment.status == Payment.Status.SUCCEEDED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PENDING
    return payment


def by_actor(order, actor):
    return {"owner": order.user, "staff": UserFactory(is_staff=True), "system": None}[actor]


@pytest.mark.parametrize("actor", ["owner", "staff", "system"])
def test_a_cancel_expires_the_open_checkout_session_at_stripe(payment, fake_stripe, run_on_commit, actor):
    with run_on_commit():
        order_cancel(order_id=payment.order_id, by=by_actor(payment.order, actor))

    payment.refresh_from_db()
    assert fake_stripe.sessions[payment.stripe_session_id]["status"] == "expired"
    assert payment.status == Payment.Status.EXPIRED


def test_a_cancelled_order_cannot_be_paid_through_its_old_session(payment, fake_stripe, run_on_commit, api_client):
    with run_on_commit():
        order_cancel(order_id=payment.order_id, by=payment.order.user)

    assert fake_stripe.sessions[payment.stripe_session_id]["status"] == "expired"  # Stripe refuses to take money
    api_client.force_authenticate(payment.order.user)
    response = api_client.post("/api/payments/checkout/", {"order": str(payment.order_id)}, format="json")
    assert response.status_code == 409


def test_a_mismatched_payment_is_refunded_when_the_order_expires(mismatched, fake_stripe, run_on_commit):
    Order.objects.filter(pk=mismatched.order_id).update(payment_deadline=timezone.now() - timedelta(minutes=1))

    with run_on_commit():
        assert order_expire_overdue() == 1

    mismatched.refresh_from_db()
    assert Order.objects.get(pk=mismatched.order_id).status == Order.Status.CANCELLED
    assert mismatched.status == Payment.Status.REFUNDED
    assert mismatched.amount_refunded == mismatched.amount
    (refund,) = fake_stripe.refunds
    # exactly what Stripe charged (100), not the order total
    assert (refund["payment_intent"], refund["amount"]) == (mismatched.stripe_payment_intent_id, 100)
    assert mismatched.needs_attention  # staff still see what happened


@pytest.mark.parametrize("actor", ["owner", "staff"])
def test_a_mismatched_payment_is_refunded_when_the_order_is_cancelled(mismatched, fake_stripe, run_on_commit, actor):
    with run_on_commit():
        order_cancel(order_id=mismatched.order_id, by=by_actor(mismatched.order, actor))

    mismatched.refresh_from_db()
    assert mismatched.status == Payment.Status.REFUNDED
    assert len(fake_stripe.refunds) == 1


def test_a_cancel_that_cannot_refund_the_mismatched_payment_changes_nothing(mismatched, fake_stripe):
    fake_stripe.fail_next()

    with pytest.raises(Exception, match="payment provider"):
        order_cancel(order_id=mismatched.order_id, by=mismatched.order.user)

    mismatched.refresh_from_db()
    assert Order.objects.get(pk=mismatched.order_id).status == Order.Status.PENDING
    assert mismatched.status == Payment.Status.SUCCEEDED
