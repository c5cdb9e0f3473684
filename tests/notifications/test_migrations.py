"""The upgrade moves the old marks (welcome timestamp, OrderEmail, PaymentEmail) into SentEmail under the new keys."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from notifications.models import SentEmail
from orders.tasks import send_order_email
from payments.models import Payment
from payments.tasks import send_payment_received_email, send_refund_email
from tests.factories import OrderFactory, UserFactory
from users.tasks import send_welcome_email

BEFORE = [
    ("users", "0002_user_welcome_email_sent_at"),
    ("orders", "0003_orderitem_protect_catalog_rows"),
    ("payments", "0002_payment_email"),
]
AFTER = [
    ("users", "0004_remove_user_welcome_email_sent_at"),
    ("orders", "0005_delete_orderemail"),
    ("payments", "0004_delete_paymentemail"),
]
SENT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_emails_sent_before_the_upgrade_are_not_sent_again():
    # given: a welcomed customer, an order whose shipped email went out, a payment with two emails sent
    customer, unwelcomed = UserFactory(), UserFactory()
    order = OrderFactory(user=customer)
    payment = Payment.objects.create(order=order, amount=order.total, currency=order.currency)
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        old.get_model("users", "User").objects.filter(pk=customer.pk).update(welcome_email_sent_at=SENT)
        old.get_model("orders", "OrderEmail").objects.create(order_id=order.pk, kind="shipped")
        PaymentEmail = old.get_model("payments", "PaymentEmail")
        PaymentEmail.objects.create(payment_id=payment.pk, kind="received", key="")
        PaymentEmail.objects.create(payment_id=payment.pk, kind="refunded", key="10.00")

        # when
        MigrationExecutor(connection).migrate(AFTER)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    # then: one SentEmail per old mark, under the key today's tasks use
    rows = {row.key: row for row in SentEmail.objects.all()}
    assert set(rows) == {
        f"users.welcome:{customer.pk}",
        f"orders.shipped:{order.pk}",
        f"payments.received:{payment.pk}",
        f"payments.refunded:{payment.pk}:10.00",
    }
    assert {row.to for row in rows.values()} == {customer.email}
    welcome = rows[f"users.welcome:{customer.pk}"]
    assert (welcome.sent_at, welcome.template, welcome.subject) == (SENT, "users/emails/welcome", "Welcome to the shop")
    assert rows[f"orders.shipped:{order.pk}"].subject == f"Order {order.number} has shipped"
    assert rows[f"payments.refunded:{payment.pk}:10.00"].template == "payments/emails/refunded"

    # and: redelivered tasks send nothing already sent, and what was not sent still goes out
    assert send_welcome_email(user_id=customer.pk) is False
    assert send_order_email(order_id=str(order.pk), kind="shipped") is False
    assert send_payment_received_email(payment.pk) is False
    assert send_refund_email(payment.pk, "10.00") is False
    assert send_welcome_email(user_id=unwelcomed.pk) is True
    assert [m.to for m in mail.outbox] == [[unwelcomed.email]]
