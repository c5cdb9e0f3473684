"""Cancel, expiry, refund, shipment and the customer emails of an order's life."""

import smtplib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from catalog.models import Product, StockMovement
from coupons.models import Coupon, CouponRedemption
from notifications.models import SentEmail
from orders.exceptions import InvalidTransition, MissingShipmentDetails, OrderNotFound
from orders.models import Order, Shipment
from orders.services import (
    order_cancel,
    order_expire,
    order_mark_paid,
    order_mark_refunded,
    order_refunder_register,
    order_set_status,
)
from orders.tasks import expire_unpaid_orders, send_order_email
from tests.factories import AddressFactory, ProductFactory, UserFactory
from tests.orders.factories import apply_coupon, fill_cart, place

pytestmark = pytest.mark.django_db

S = Order.Status


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


@pytest.fixture
def session_expiries(monkeypatch):
    """Records the payments hook orders calls when an order expires."""
    from payments import tasks as payment_tasks

    calls = []
    monkeypatch.setattr(payment_tasks.expire_checkout_sessions, "delay", lambda **kw: calls.append(kw))
    return calls


def test_owner_cancels_a_pending_order_stock_and_coupon_come_back(django_capture_on_commit_callbacks):
    # given
    user = UserFactory()
    product = ProductFactory(stock=10)
    Coupon.objects.create(code="FIVE", discount_type="fixed", value=Decimal("5"), max_uses=1)
    fill_cart(user, (product, 3))
    apply_coupon(user, "FIVE")
    from orders.services import order_place

    order = order_place(user=user, shipping_address_id=AddressFactory(user=user).pk)
    assert stock(product) == 7
    mail.outbox.clear()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=order.pk, by=user, note="Changed my mind")

    # then
    order.refresh_from_db()
    assert order.status == S.CANCELLED and order.cancelled_at is not None
    assert stock(product) == 10
    assert sorted(StockMovement.objects.filter(reference=order.number).values_list("reason", "delta")) == [
        ("cancel", 3), ("order", -3)
    ]
    assert CouponRedemption.objects.get(order=order).released_at is not None
    last = order.status_changes.last()
    assert (last.from_status, last.to_status, last.changed_by, last.note) == (
        "pending", "cancelled", user, "Changed my mind"
    )
    assert [m.subject for m in mail.outbox] == [f"Order {order.number} was cancelled"]


def test_a_cancelled_order_cannot_be_cancelled_again_and_stock_comes_back_once():
    user = UserFactory()
    product = ProductFactory(stock=10)
    order = place(user, (product, 2))
    order_cancel(order_id=order.pk, by=user)

    with pytest.raises(InvalidTransition, match="already cancelled"):
        order_cancel(order_id=order.pk, by=user)

    assert stock(product) == 10
    assert StockMovement.objects.filter(reference=order.number, reason="cancel").count() == 1


def test_someone_elses_order_is_not_found():
    order = place(UserFactory())
    with pytest.raises(OrderNotFound):
        order_cancel(order_id=order.pk, by=UserFactory())


def test_staff_cancel_a_paid_order_refunds_it_and_restocks(staff, refunds):
    product = ProductFactory(stock=10)
    order = place(None, (product, 4))
    order_mark_paid(order_id=order.pk)

    order_cancel(order_id=order.pk, by=staff)

    assert refunds == [order.pk]
    assert stock(product) == 10
    assert Order.objects.get(pk=order.pk).status == S.CANCELLED


def test_refund_before_shipping_restocks_with_reason_refund(staff, refunds):
    product = ProductFactory(stock=10)
    order = place(None, (product, 2))
    order_mark_paid(order_id=order.pk)

    order_set_status(order_id=order.pk, status=S.REFUNDED, by=staff)

    assert refunds == [order.pk]
    assert stock(product) == 10
    assert StockMovement.objects.filter(reference=order.number, reason="refund").get().delta == 2


def test_without_a_registered_refunder_a_paid_order_is_not_cancelled_unrefunded(staff):
    # given: no payment side plugged in
    product = ProductFactory(stock=10)
    order = place(None, (product, 4))
    order_mark_paid(order_id=order.pk)
    original = order_refunder_register(None)
    try:
        # when / then: a clear error, and nothing changed
        with pytest.raises(ImproperlyConfigured, match="refunder"):
            order_cancel(order_id=order.pk, by=staff)
    finally:
        order_refunder_register(original)
    assert Order.objects.get(pk=order.pk).status == S.PAID
    assert stock(product) == 6


def test_refund_after_shipping_keeps_the_stock_as_it_is(staff):
    product = ProductFactory(stock=10)
    order = place(None, (product, 2))
    order_mark_paid(order_id=order.pk)
    order_set_status(order_id=order.pk, status=S.PROCESSING, by=staff)
    order_set_status(order_id=order.pk, status=S.SHIPPED, by=staff, carrier="UPS", tracking_number="1Z")

    order_mark_refunded(order_id=order.pk, note="Payment refunded in full.")

    assert Order.objects.get(pk=order.pk).status == S.REFUNDED
    assert stock(product) == 8
    assert not StockMovement.objects.filter(reference=order.number, reason="refund").exists()


def test_shipping_creates_a_shipment_and_emails_the_tracking_then_delivery(staff, django_capture_on_commit_callbacks):
    order = place()
    order_mark_paid(order_id=order.pk)
    order_set_status(order_id=order.pk, status=S.PROCESSING, by=staff)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=S.SHIPPED, by=staff, carrier="DHL", tracking_number="JD0142")
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_number, shipment.delivered_at) == ("DHL", "JD0142", None)
    assert mail.outbox[-1].subject == f"Order {order.number} has shipped"
    assert "DHL" in mail.outbox[-1].body and "JD0142" in mail.outbox[-1].body

    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=S.DELIVERED, by=staff)
    shipment.refresh_from_db()
    assert shipment.delivered_at is not None
    assert mail.outbox[-1].subject == f"Order {order.number} was delivered"
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(("carrier", "tracking", "field"), [("", "1Z", "carrier"), ("UPS", " ", "tracking_number")])
def test_shipping_needs_carrier_and_tracking(staff, carrier, tracking, field):
    order = place()
    order_mark_paid(order_id=order.pk)
    order_set_status(order_id=order.pk, status=S.PROCESSING, by=staff)

    with pytest.raises(MissingShipmentDetails) as exc:
        order_set_status(order_id=order.pk, status=S.SHIPPED, by=staff, carrier=carrier, tracking_number=tracking)

    assert list(exc.value.as_response_data()) == [field]
    assert Order.objects.get(pk=order.pk).status == S.PROCESSING
    assert not Shipment.objects.filter(order=order).exists()


def test_paid_email_is_left_to_the_payments_app(django_capture_on_commit_callbacks):
    order = place()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order_id=order.pk)
    assert mail.outbox == []


def test_the_email_task_sends_each_email_once():
    order = place()
    mail.outbox.clear()
    assert send_order_email(order_id=str(order.pk), kind="confirmation") is True
    assert send_order_email(order_id=str(order.pk), kind="confirmation") is False
    assert len(mail.outbox) == 1
    assert SentEmail.objects.filter(key=f"orders.confirmation:{order.pk}").count() == 1


def test_a_failed_send_leaves_no_mark_so_the_retry_sends(monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    order = place()
    mail.outbox.clear()

    def broken(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    with pytest.raises(smtplib.SMTPException):
        send_order_email.run(order_id=str(order.pk), kind="confirmation")
    assert not SentEmail.objects.exists()

    monkeypatch.undo()
    assert send_order_email.run(order_id=str(order.pk), kind="confirmation") is True
    assert len(mail.outbox) == 1


def test_the_email_task_retries_with_backoff_on_smtp_errors():
    assert smtplib.SMTPException in send_order_email.autoretry_for
    assert send_order_email.retry_backoff and send_order_email.max_retries == 5


# --- Expiry -------------------------------------------------------------------------------------


def _overdue(order):
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(minutes=1))


def test_the_expiry_task_cancels_overdue_orders_restocks_and_is_idempotent(
    session_expiries, django_capture_on_commit_callbacks
):
    product = ProductFactory(stock=10)
    overdue = place(None, (product, 3))
    _overdue(overdue)
    fresh = place(None, (product, 1))
    paid = place(None, (product, 2))
    order_mark_paid(order_id=paid.pk)
    _overdue(paid)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert expire_unpaid_orders() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_unpaid_orders() == 0

    assert Order.objects.get(pk=overdue.pk).status == S.CANCELLED
    assert Order.objects.get(pk=fresh.pk).status == S.PENDING
    assert Order.objects.get(pk=paid.pk).status == S.PAID
    assert stock(product) == 10 - 1 - 2
    assert StockMovement.objects.filter(reference=overdue.number, reason="cancel").get().delta == 3
    assert overdue.status_changes.last().note == "Payment deadline passed"
    assert session_expiries == [{"order_id": str(overdue.pk)}]
    assert [m.subject for m in mail.outbox] == [f"Order {overdue.number} was cancelled"]


def test_the_expiry_task_works_in_batches(session_expiries):
    orders = [place() for _ in range(5)]
    for order in orders:
        _overdue(order)
    assert expire_unpaid_orders(batch_size=2) == 5
    assert set(Order.objects.values_list("status", flat=True)) == {S.CANCELLED}


def test_order_expire_does_nothing_before_the_deadline_or_once_paid():
    order = place()
    assert order_expire(order_id=order.pk) is None
    order_mark_paid(order_id=order.pk)
    _overdue(order)
    assert order_expire(order_id=order.pk) is None
    assert Order.objects.get(pk=order.pk).status == S.PAID
