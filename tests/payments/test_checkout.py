from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order
from payments.models import Payment
from tests.factories import OrderFactory

URL = "/api/payments/checkout/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(user):
    return OrderFactory(user=user)


def test_checkout_creates_a_session_and_a_pending_payment(user_client, order, fake_stripe, settings):
    # when
    response = user_client.post(URL, {"order": str(order.pk)})

    # then
    assert response.status_code == 201, response.data
    payment = Payment.objects.get()
    assert response.data["payment_id"] == payment.pk
    assert response.data["session_id"] == payment.stripe_session_id
    assert response.data["checkout_url"] == payment.checkout_url
    assert payment.status == Payment.Status.PENDING
    assert (payment.amount, payment.currency) == (order.total, "usd")
    session = fake_stripe.sessions[payment.stripe_session_id]
    assert session["amount_total"] == 3000
    assert session["client_reference_id"] == str(order.pk)
    assert session["metadata"]["order_id"] == str(order.pk)
    assert session["customer_email"] == order.user.email
    assert session["success_url"] == f"{settings.FRONTEND_URL}/orders/{order.pk}?payment=success"
    assert session["cancel_url"] == f"{settings.FRONTEND_URL}/orders/{order.pk}?payment=cancelled"
    assert payment.expires_at.timestamp() == session["expires_at"]


def test_line_items_are_the_order_snapshot_in_minor_units(user_client, order, fake_stripe):
    user_client.post(URL, {"order": str(order.pk)})

    (call,) = fake_stripe.calls("POST", "/v1/checkout/sessions")
    items = call["params"]["line_items"]
    lines = [(i["price_data"]["unit_amount"], i["quantity"], i["price_data"]["product_data"]["name"]) for i in items]
    assert lines == [
        (1250, 2, "Item 0"),
        (500, 1, "Item 1"),
    ]
    assert {i["price_data"]["currency"] for i in items} == {"usd"}
    assert call["authorization"] == "Bearer sk_test_fake_0123456789"
    assert call["idempotency_key"].startswith(f"checkout-session:{order.pk}:1:")


def test_discount_and_shipping_make_stripe_total_equal_the_order_total(user, user_client, fake_stripe):
    # given: 30.00 of goods, 7.35 off, 4.99 shipping
    order = OrderFactory(user=user, discount=Decimal("7.35"), shipping=Decimal("4.99"))

    # when
    response = user_client.post(URL, {"order": str(order.pk)})

    # then
    assert response.status_code == 201
    session = fake_stripe.sessions[response.data["session_id"]]
    assert session["amount_total"] == 2764 == int(order.total * 100)
    (coupon_call,) = fake_stripe.calls("POST", "/v1/coupons")
    assert coupon_call["params"]["amount_off"] == 735
    assert coupon_call["params"]["duration"] == "once"
    assert coupon_call["idempotency_key"] == f"order-discount:{order.pk}:735"
    items = fake_stripe.calls("POST", "/v1/checkout/sessions")[0]["params"]["line_items"]
    assert items[-1]["price_data"]["product_data"]["name"] == "Shipping"
    assert items[-1]["price_data"]["unit_amount"] == 499


def test_calling_again_while_the_session_is_open_returns_it_without_calling_stripe(user_client, order, fake_stripe):
    first = user_client.post(URL, {"order": str(order.pk)})
    second = user_client.post(URL, {"order": str(order.pk)})

    assert second.status_code == 201
    assert second.data == first.data
    assert Payment.objects.count() == 1
    assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1


def test_a_new_session_is_made_once_the_previous_one_expired(user_client, order, fake_stripe):
    first = user_client.post(URL, {"order": str(order.pk)})
    Payment.objects.filter(pk=first.data["payment_id"]).update(status=Payment.Status.EXPIRED)

    second = user_client.post(URL, {"order": str(order.pk)})

    assert second.status_code == 201
    assert second.data["session_id"] != first.data["session_id"]
    assert fake_stripe.calls("POST", "/v1/checkout/sessions")[1]["idempotency_key"].startswith(
        f"checkout-session:{order.pk}:2:"
    )


def test_session_expiry_follows_the_order_deadline_but_at_least_30_minutes(user, user_client, fake_stripe):
    soon = OrderFactory(user=user, deadline_in=timedelta(minutes=5))
    later = OrderFactory(user=user, deadline_in=timedelta(hours=3))

    soon_session = fake_stripe.sessions[user_client.post(URL, {"order": str(soon.pk)}).data["session_id"]]
    later_session = fake_stripe.sessions[user_client.post(URL, {"order": str(later.pk)}).data["session_id"]]

    now = timezone.now().timestamp()
    assert 30 * 60 < soon_session["expires_at"] - now <= 33 * 60
    assert later_session["expires_at"] == int(later.payment_deadline.timestamp())


def test_someone_elses_order_is_a_400_on_order(other_client, order, fake_stripe):
    response = other_client.post(URL, {"order": str(order.pk)})

    assert response.status_code == 400
    assert "order" in response.data
    assert not fake_stripe.requests


@pytest.mark.parametrize("value", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", ""])
def test_unknown_or_malformed_order_is_a_400_on_order(user_client, fake_stripe, value):
    response = user_client.post(URL, {"order": value})

    assert response.status_code == 400
    assert "order" in response.data


@pytest.mark.parametrize("status", [Order.Status.PAID, Order.Status.CANCELLED])
def test_a_non_pending_order_is_a_409(user, user_client, fake_stripe, status):
    order = OrderFactory(user=user, status=status)

    response = user_client.post(URL, {"order": str(order.pk)})

    assert response.status_code == 409
    assert "detail" in response.data


def test_anonymous_is_a_401_when_guest_checkout_is_off(api_client, order, fake_stripe, settings):
    settings.GUEST_CHECKOUT = False
    assert api_client.post(URL, {"order": str(order.pk)}).status_code == 401


def test_a_guest_without_the_orders_token_gets_a_404_and_no_session(api_client, order, fake_stripe):
    assert api_client.post(URL, {"order": str(order.pk)}).status_code == 404
    assert api_client.post(URL, {"order": str(order.pk)}, HTTP_X_ORDER_TOKEN="forged").status_code == 404
    assert fake_stripe.calls("POST", "/v1/checkout/sessions") == []


@pytest.mark.parametrize(
    ("status", "error_type", "code"),
    [(500, "api_error", None), (402, "card_error", "card_declined"), (400, "invalid_request_error", None)],
)
def test_a_stripe_error_is_a_502_and_leaves_no_rows(user_client, order, fake_stripe, status, error_type, code):
    fake_stripe.fail_next(status=status, error_type=error_type, code=code, message="Stripe says no.")

    response = user_client.post(URL, {"order": str(order.pk)})

    assert response.status_code == 502
    assert "Stripe" in response.data["detail"]
    assert not Payment.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_a_retryable_stripe_error_is_retried_with_the_same_idempotency_key(user_client, order, fake_stripe):
    fake_stripe.fail_next(status=500, should_retry=None)

    response = user_client.post(URL, {"order": str(order.pk)})

    assert response.status_code == 201
    first, second = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert first["idempotency_key"] == second["idempotency_key"]
    assert Payment.objects.count() == 1


def test_stripe_unreachable_is_a_502(user_client, order, fake_stripe, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port

    response = user_client.post(URL, {"order": str(order.pk)})

    assert response.status_code == 502
    assert not Payment.objects.exists()


def test_missing_secret_key_is_a_503_with_a_clear_message(user_client, order, settings):
    settings.STRIPE_SECRET_KEY = ""

    response = user_client.post(URL, {"order": str(order.pk)})

    assert response.status_code == 503
    assert "STRIPE_SECRET_KEY" in response.data["detail"]
