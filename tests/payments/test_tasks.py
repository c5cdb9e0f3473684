from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import SentEmail
from orders.models import Order
from payments import services, tasks
from payments.models import Payment
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment(user, fake_stripe):
    order = OrderFactory(user=user)
    return services.checkout_session_create(user=user, order_id=order.pk)


def test_expire_checkout_sessions_expires_the_open_session_at_stripe(payment, fake_stripe):
    tasks.expire_checkout_sessions(order_id=str(payment.order_id))

    payment.refresh_from_db()
    assert payment.status == Payment.Status.EXPIRED
    assert fake_stripe.sessions[payment.stripe_session_id]["status"] == "expired"
    (call,) = fake_stripe.calls("POST", "/v1/checkout/sessions/")
    assert call["path"].endswith("/expire")


def test_expire_checkout_sessions_twice_changes_nothing_the_second_time(payment, fake_stripe):
    tasks.expire_checkout_sessions(order_id=str(payment.order_id))
    calls = len(fake_stripe.requests)

    tasks.expire_checkout_sessions(order_id=str(payment.order_id))

    assert len(fake_stripe.requests) == calls


def test_a_session_already_completed_at_stripe_is_left_to_the_webhook(payment, fake_stripe):
    fake_stripe.complete_session(payment.stripe_session_id)

    tasks.expire_checkout_sessions(order_id=str(payment.order_id))

    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_a_session_already_expired_at_stripe_marks_the_payment_expired(payment, fake_stripe):
    fake_stripe.expire_session(payment.stripe_session_id)

    tasks.expire_checkout_sessions(order_id=str(payment.order_id))

    payment.refresh_from_db()
    assert payment.status == Payment.Status.EXPIRED


def test_expire_checkout_sessions_is_retried_when_stripe_fails(payment, fake_stripe):
    from celery.exceptions import Retry

    fake_stripe.fail_next(status=500)

    with pytest.raises(Retry):
        tasks.expire_checkout_sessions.apply(kwargs={"order_id": str(payment.order_id)})
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING

    tasks.expire_checkout_sessions.apply(kwargs={"order_id": str(payment.order_id)})
    payment.refresh_from_db()
    assert payment.status == Payment.Status.EXPIRED


def test_an_order_expiring_on_our_side_expires_its_session_at_stripe(payment, fake_stripe, run_on_commit):
    from orders.services import order_expire

    Order.objects.filter(pk=payment.order_id).update(payment_deadline=timezone.now() - timedelta(minutes=1))

    with run_on_commit():
        order_expire(order_id=payment.order_id)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.EXPIRED
    assert fake_stripe.sessions[payment.stripe_session_id]["status"] == "expired"
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.CANCELLED


def test_payment_emails_are_sent_once_however_often_the_task_runs(payment):
    tasks.send_payment_received_email(payment.pk)
    tasks.send_payment_received_email(payment.pk)
    tasks.send_refund_email(payment.pk, "10.00")
    tasks.send_refund_email(payment.pk, "10.00")
    tasks.send_refund_email(payment.pk, "30.00")

    assert len(mail.outbox) == 3
    assert set(SentEmail.objects.values_list("key", flat=True)) == {
        f"payments.received:{payment.pk}",
        f"payments.refunded:{payment.pk}:10.00",
        f"payments.refunded:{payment.pk}:30.00",
    }
    assert all(m.to == [payment.order.user.email] for m in mail.outbox)
    assert all(m.alternatives and m.alternatives[0][1] == "text/html" for m in mail.outbox)


def test_a_failed_send_is_not_recorded_so_the_retry_sends_it(payment, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    def broken(self, messages):
        raise OSError("mail server down")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    with pytest.raises(OSError):
        tasks.send_payment_failed_email.run(payment.pk)
    assert not SentEmail.objects.exists()

    monkeypatch.undo()
    assert tasks.send_payment_failed_email.run(payment.pk) is True
    assert [m.subject for m in mail.outbox] == [f"Payment failed for order {payment.order.number}"]
    assert SentEmail.objects.get().key == f"payments.failed:{payment.pk}"
