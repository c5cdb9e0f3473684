from decimal import Decimal

import pytest
from django.core import mail

from orders.models import Order
from payments import services
from payments.models import Payment
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(user, deliver, fake_stripe):
    order = OrderFactory(user=user)
    payment = services.checkout_session_create(user=user, order_id=order.pk)
    deliver("checkout.session.completed", fake_stripe.complete_session(payment.stripe_session_id))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    mail.outbox.clear()
    return payment


def refund_url(payment) -> str:
    return f"/api/payments/{payment.pk}/refund/"


def test_staff_full_refund_refunds_at_stripe_and_moves_the_order_to_refunded(staff_client, paid, fake_stripe,
                                                                            run_on_commit):
    with run_on_commit():
        response = staff_client.post(refund_url(paid), {})

    assert response.status_code == 200, response.data
    assert response.data["status"] == "refunded"
    assert response.data["amount_refunded"] == "30.00"
    (refund,) = fake_stripe.refunds
    assert (refund["payment_intent"], refund["amount"]) == (paid.stripe_payment_intent_id, 3000)
    (call,) = fake_stripe.calls("POST", "/v1/refunds")
    assert call["idempotency_key"] == f"refund:{paid.pk}:3000:0"
    paid.order.refresh_from_db()
    assert paid.order.status == Order.Status.REFUNDED
    (email,) = mail.outbox
    assert email.subject == f"Refund issued for order {paid.order.number}"
    assert "30.00 USD" in email.body


def test_partial_refunds_add_up_and_the_last_one_completes_the_refund(staff_client, paid, fake_stripe,
                                                                      run_on_commit):
    with run_on_commit():
        first = staff_client.post(refund_url(paid), {"amount": "10.00"})
        second = staff_client.post(refund_url(paid), {"amount": "10.00"})

    assert (first.data["status"], first.data["amount_refunded"]) == ("partially_refunded", "10.00")
    assert (second.data["status"], second.data["amount_refunded"]) == ("partially_refunded", "20.00")
    keys = [c["idempotency_key"] for c in fake_stripe.calls("POST", "/v1/refunds")]
    assert keys == [f"refund:{paid.pk}:1000:0", f"refund:{paid.pk}:1000:1000"]
    paid.order.refresh_from_db()
    assert paid.order.status == Order.Status.PAID

    last = staff_client.post(refund_url(paid), {})
    assert (last.data["status"], last.data["amount_refunded"]) == ("refunded", "30.00")
    assert fake_stripe.refunds[-1]["amount"] == 1000
    assert len(mail.outbox) == 2


def test_more_than_what_is_left_is_a_400_on_amount(staff_client, paid, fake_stripe):
    staff_client.post(refund_url(paid), {"amount": "25.00"})

    response = staff_client.post(refund_url(paid), {"amount": "5.01"})

    assert response.status_code == 400
    assert "amount" in response.data
    assert len(fake_stripe.refunds) == 1


@pytest.mark.parametrize("amount", ["0", "-1.00", "abc"])
def test_a_bad_amount_is_a_400(staff_client, paid, fake_stripe, amount):
    assert staff_client.post(refund_url(paid), {"amount": amount}).status_code == 400


def test_refunding_a_payment_that_did_not_succeed_is_a_409(staff_client, user, fake_stripe):
    order = OrderFactory(user=user)
    payment = services.checkout_session_create(user=user, order_id=order.pk)

    response = staff_client.post(refund_url(payment), {})

    assert response.status_code == 409
    assert not fake_stripe.calls("POST", "/v1/refunds")


def test_a_fully_refunded_payment_is_a_409(staff_client, paid, fake_stripe):
    staff_client.post(refund_url(paid), {})

    assert staff_client.post(refund_url(paid), {}).status_code == 409


def test_only_staff_may_refund(user_client, paid, fake_stripe):
    assert user_client.post(refund_url(paid), {}).status_code == 403
    assert not fake_stripe.refunds


def test_a_stripe_error_on_refund_is_a_502_and_changes_nothing(staff_client, paid, fake_stripe):
    fake_stripe.fail_next(status=500)

    response = staff_client.post(refund_url(paid), {"amount": "5.00"})

    assert response.status_code == 502
    paid.refresh_from_db()
    assert (paid.status, paid.amount_refunded) == (Payment.Status.SUCCEEDED, Decimal("0.00"))


def test_the_charge_refunded_event_after_an_api_refund_does_not_double_count(staff_client, paid, fake_stripe,
                                                                            deliver):
    staff_client.post(refund_url(paid), {"amount": "10.00"})

    deliver("charge.refunded", fake_stripe.charge(paid.stripe_payment_intent_id))

    paid.refresh_from_db()
    assert (paid.status, paid.amount_refunded) == (Payment.Status.PARTIALLY_REFUNDED, Decimal("10.00"))


def test_the_payment_intent_is_fetched_from_the_session_when_missing(staff_client, paid, fake_stripe):
    Payment.objects.filter(pk=paid.pk).update(stripe_payment_intent_id="")

    response = staff_client.post(refund_url(paid), {})

    assert response.status_code == 200
    assert fake_stripe.calls("GET", f"/v1/checkout/sessions/{paid.stripe_session_id}")


def test_staff_cancelling_a_paid_order_refunds_it_through_stripe(staff_client, paid, fake_stripe):
    response = staff_client.post(f"/api/orders/{paid.order_id}/cancel/", {})

    assert response.status_code == 200, response.data
    assert response.data["status"] == "cancelled"
    paid.refresh_from_db()
    assert (paid.status, paid.amount_refunded) == (Payment.Status.REFUNDED, paid.amount)
    assert fake_stripe.refunds[0]["amount"] == 3000


def test_when_stripe_fails_the_staff_cancel_is_a_502_and_the_order_stays_paid(staff_client, paid, fake_stripe):
    fake_stripe.fail_next(status=500)

    response = staff_client.post(f"/api/orders/{paid.order_id}/cancel/", {})

    assert response.status_code == 502
    paid.refresh_from_db()
    paid.order.refresh_from_db()
    assert paid.order.status == Order.Status.PAID
    assert paid.status == Payment.Status.SUCCEEDED


def test_refund_for_an_order_without_a_succeeded_payment_is_a_no_op(user, fake_stripe):
    order = OrderFactory(user=user)
    services.checkout_session_create(user=user, order_id=order.pk)

    services.payment_refund_for_order(order=order)

    assert not fake_stripe.calls("POST", "/v1/refunds")
