"""A guest pays its order with X-Order-Token; Idempotency-Key on the payment checkout."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from orders.models import Order
from payments.models import Payment
from tests.factories import OrderFactory, ProductFactory

URL = "/api/payments/checkout/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def guest_order(django_capture_on_commit_callbacks):
    """A guest's pending order placed through the API, and its token."""
    product = ProductFactory(stock=5)
    token = APIClient().post("/api/cart/items/", {"product": product.pk, "quantity": 2}, format="json").json()["token"]
    address = {"full_name": "G", "line1": "1 St", "city": "Oslo", "postal_code": "0150", "country": "NO"}
    response = APIClient().post(
        "/api/orders/", {"email": "guest@example.com", "shipping_address": address}, format="json",
        HTTP_X_CART_TOKEN=token,
    )
    assert response.status_code == 201, response.json()
    mail.outbox.clear()
    return Order.objects.get(pk=response.json()["id"]), response.json()["guest_token"]


def test_a_guest_pays_its_order_with_its_token_and_the_receipt_goes_to_its_email(guest_order, fake_stripe, deliver):
    order, token = guest_order

    response = APIClient().post(URL, {"order": str(order.pk)}, format="json", HTTP_X_ORDER_TOKEN=token)

    assert response.status_code == 201, response.json()
    payment = Payment.objects.get()
    assert fake_stripe.sessions[payment.stripe_session_id]["customer_email"] == "guest@example.com"
    session = fake_stripe.complete_session(payment.stripe_session_id)
    assert deliver("checkout.session.completed", session).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    (email,) = mail.outbox
    assert email.to == ["guest@example.com"]
    assert "Hello guest@example.com" in email.body
    read = APIClient().get(f"/api/orders/{order.pk}/", HTTP_X_ORDER_TOKEN=token)
    assert (read.json()["status"], read.json()["payment_status"]) == ("paid", "succeeded")


def test_another_token_or_a_users_order_is_a_404(guest_order, fake_stripe):
    order, token = guest_order
    users_order = OrderFactory()

    assert APIClient().post(URL, {"order": str(order.pk)}, HTTP_X_ORDER_TOKEN=token + "x").status_code == 404
    assert APIClient().post(URL, {"order": str(users_order.pk)}, HTTP_X_ORDER_TOKEN=token).status_code == 404
    assert not Payment.objects.exists()


def test_a_repeated_payment_checkout_with_the_same_key_replays_one_session(user, user_client, fake_stripe):
    order = OrderFactory(user=user)

    first = user_client.post(URL, {"order": str(order.pk)}, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    again = user_client.post(URL, {"order": str(order.pk)}, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    other = user_client.post(URL, {"order": str(OrderFactory(user=user).pk)}, format="json",
                             HTTP_IDEMPOTENCY_KEY="pay-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1
    assert Payment.objects.count() == 1
