"""Every email task of the shop, delivered twice or failing once, sends its email exactly once."""

import smtplib
import threading
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from catalog.models import StockMovement
from catalog.services import stock_adjust
from catalog.tasks import send_low_stock_alert
from notifications.models import SentEmail
from orders.tasks import send_order_email
from payments.models import Payment
from payments.tasks import send_payment_failed_email, send_payment_received_email, send_refund_email
from tests.factories import OrderFactory, ProductFactory, UserFactory
from users.tasks import send_password_reset_email, send_welcome_email


@dataclass
class Shop:
    customer: object
    staff: list
    order: object
    payment: object
    product: object
    movement: object


@pytest.fixture
def shop(db, settings) -> Shop:
    settings.LOW_STOCK_THRESHOLD = 5
    customer = UserFactory(first_name="Ada")
    staff = [UserFactory(is_staff=True), UserFactory(is_staff=True)]
    UserFactory(is_staff=True, is_active=False)
    order = OrderFactory(user=customer)
    payment = Payment.objects.create(order=order, amount=order.total, currency=order.currency)
    product = ProductFactory(stock=8, name="Mug")
    stock_adjust(product_id=product.pk, delta=-4, reason="order")  # 8 -> 4 crosses the threshold
    movement = StockMovement.objects.filter(product=product).latest("pk")
    mail.outbox.clear()
    return Shop(customer, staff, order, payment, product, movement)


# (name, run the task, its key, its recipients, a word of its subject)
EMAILS = [
    ("welcome", lambda s: send_welcome_email(user_id=s.customer.pk),
     lambda s: f"users.welcome:{s.customer.pk}", lambda s: [s.customer.email], "Welcome"),
    ("password reset", lambda s: send_password_reset_email(user_id=s.customer.pk, request_id="req-1"),
     lambda s: "users.password_reset:req-1", lambda s: [s.customer.email], "Reset"),
    *[
        (f"order {kind}", lambda s, kind=kind: send_order_email(order_id=str(s.order.pk), kind=kind),
         lambda s, kind=kind: f"orders.{kind}:{s.order.pk}", lambda s: [s.customer.email], word)
        for kind, word in [("confirmation", "confirmed"), ("shipped", "shipped"), ("delivered", "delivered"),
                           ("cancelled", "cancelled")]
    ],
    ("payment received", lambda s: send_payment_received_email(s.payment.pk),
     lambda s: f"payments.received:{s.payment.pk}", lambda s: [s.customer.email], "received"),
    ("payment failed", lambda s: send_payment_failed_email(s.payment.pk),
     lambda s: f"payments.failed:{s.payment.pk}", lambda s: [s.customer.email], "failed"),
    ("refunded", lambda s: send_refund_email(s.payment.pk, "10.00"),
     lambda s: f"payments.refunded:{s.payment.pk}:10.00", lambda s: [s.customer.email], "Refund"),
    ("low stock", lambda s: send_low_stock_alert(product_id=s.product.pk, movement_id=s.movement.pk),
     lambda s: f"catalog.low_stock:movement:{s.movement.pk}", lambda s: [u.email for u in s.staff], "Low stock"),
]
IDS = [name for name, *_ in EMAILS]


@pytest.mark.parametrize(("name", "run", "key", "to", "word"), EMAILS, ids=IDS)
def test_a_redelivered_email_task_sends_one_email(shop, name, run, key, to, word):
    run(shop)
    run(shop)

    (message,) = mail.outbox
    assert message.to == to(shop)
    assert word in message.subject
    assert message.alternatives[0][1] == "text/html"
    row = SentEmail.objects.get()
    assert row.key == key(shop)
    assert row.to == ", ".join(to(shop))
    assert row.subject == message.subject


@pytest.mark.parametrize(("name", "run", "key", "to", "word"), EMAILS, ids=IDS)
def test_a_failed_send_leaves_no_row_and_the_retry_sends(shop, monkeypatch, name, run, key, to, word):
    def broken(self, messages):
        raise smtplib.SMTPServerDisconnected("connection dropped")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    with pytest.raises(smtplib.SMTPException):
        run(shop)
    assert not SentEmail.objects.exists()

    monkeypatch.undo()
    run(shop)  # what the automatic retry does
    assert len(mail.outbox) == 1
    assert SentEmail.objects.get().key == key(shop)


def test_the_reset_email_of_each_request_is_sent_once_and_its_token_is_not_logged(shop):
    send_password_reset_email(user_id=shop.customer.pk, request_id="req-1")
    send_password_reset_email(user_id=shop.customer.pk, request_id="req-2")

    assert len(mail.outbox) == 2
    for row in SentEmail.objects.all():
        assert "token" not in row.key + row.subject + row.to


def test_each_refunded_total_is_announced_once(shop):
    send_refund_email(shop.payment.pk, "10.00")
    send_refund_email(shop.payment.pk, "25.00")
    send_refund_email(shop.payment.pk, "10.00")

    assert len(mail.outbox) == 2


def test_a_low_stock_alert_without_movement_id_is_keyed_on_the_crossing_in_the_ledger(shop):
    # given: the stock went on down after the crossing, before the alert ran
    stock_adjust(product_id=shop.product.pk, delta=-1, reason="order")

    # when: a task from before movement_id existed runs, then the one that names the crossing
    assert send_low_stock_alert(product_id=shop.product.pk) == 2
    assert send_low_stock_alert(product_id=shop.product.pk, movement_id=shop.movement.pk) == 0

    # then: one alert, keyed on the crossing movement
    assert len(mail.outbox) == 1
    assert SentEmail.objects.get().key == f"catalog.low_stock:movement:{shop.movement.pk}"


def test_a_low_stock_alert_with_no_crossing_in_the_ledger_is_keyed_on_the_stock_level(shop):
    product = ProductFactory(stock=3, name="Jar")
    StockMovement.objects.filter(product=product).delete()

    send_low_stock_alert(product_id=product.pk)
    send_low_stock_alert(product_id=product.pk)

    assert len(mail.outbox) == 1
    assert SentEmail.objects.get().key == f"catalog.low_stock:product:{product.pk}:variant:-:stock:3"


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_email_at_once_send_it_once(monkeypatch):
    # given: a mail server slow enough that the second worker arrives while the first is still sending
    order = OrderFactory(user=UserFactory(), lines=((Decimal("9.99"), 1),))
    real_send = EmailBackend.send_messages

    def slow_send(self, messages):
        time.sleep(0.5)
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", slow_send)
    barrier = threading.Barrier(2)
    results: list = []

    def worker():
        try:
            barrier.wait()
            results.append(send_order_email(order_id=str(order.pk), kind="shipped"))
        except Exception as exc:  # collected for the assertions
            results.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # then: one sent, the other waited on the key and found it
    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1
    assert SentEmail.objects.filter(key=f"orders.shipped:{order.pk}").count() == 1
