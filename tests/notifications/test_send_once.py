"""send_once: the template trio, one send per key, nothing recorded when the mail server fails."""

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from notifications.models import SentEmail
from notifications.services import send_once
from notifications.tasks import EMAIL_TASK_OPTIONS

pytestmark = pytest.mark.django_db

LOW_STOCK = {"label": "Cups & Mugs", "sku": "CUP-1", "stock": 3, "threshold": 5}


def test_send_once_renders_subject_text_and_html_and_logs_the_email():
    sent = send_once(key="test:1", to="ada@example.com", template="catalog/emails/low_stock", context=LOW_STOCK)

    assert sent is True
    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "Low stock: Cups & Mugs (3 left)"  # subjects and text are not HTML-escaped
    assert message.body.startswith("Cups & Mugs (SKU CUP-1) is down to 3 unit(s)")
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "<strong>Cups &amp; Mugs</strong>" in html
    row = SentEmail.objects.get()
    assert (row.key, row.to, row.template, row.subject) == (
        "test:1", "ada@example.com", "catalog/emails/low_stock", "Low stock: Cups & Mugs (3 left)"
    )


def test_send_once_sends_nothing_the_second_time_with_the_same_key():
    assert send_once(key="test:1", to="ada@example.com", template="catalog/emails/low_stock", context=LOW_STOCK)
    assert not send_once(key="test:1", to="bob@example.com", template="catalog/emails/low_stock", context=LOW_STOCK)

    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert SentEmail.objects.count() == 1


def test_send_once_to_several_recipients_sends_one_message_and_logs_them_all():
    to = ["a@example.com", "b@example.com"]

    send_once(key="test:1", to=to, template="catalog/emails/low_stock", context=LOW_STOCK)

    assert [m.to for m in mail.outbox] == [["a@example.com", "b@example.com"]]
    assert SentEmail.objects.get().to == "a@example.com, b@example.com"


def test_a_failed_send_leaves_no_row_so_the_retry_sends(monkeypatch):
    real_send = EmailBackend.send_messages

    def broken(self, messages):
        raise smtplib.SMTPServerDisconnected("connection dropped")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    with pytest.raises(smtplib.SMTPException):
        send_once(key="test:1", to="ada@example.com", template="catalog/emails/low_stock", context=LOW_STOCK)
    assert not SentEmail.objects.exists()

    monkeypatch.setattr(EmailBackend, "send_messages", real_send)
    assert send_once(key="test:1", to="ada@example.com", template="catalog/emails/low_stock", context=LOW_STOCK)
    assert len(mail.outbox) == 1
    assert SentEmail.objects.count() == 1


def test_every_email_task_shares_the_retry_options():
    from catalog.tasks import send_low_stock_alert
    from orders.tasks import send_order_email
    from payments.tasks import send_payment_failed_email, send_payment_received_email, send_refund_email
    from users.tasks import send_password_reset_email, send_welcome_email

    for task in (send_welcome_email, send_password_reset_email, send_order_email, send_payment_received_email,
                 send_payment_failed_email, send_refund_email, send_low_stock_alert):
        assert task.autoretry_for == EMAIL_TASK_OPTIONS["autoretry_for"] == (smtplib.SMTPException, OSError)
        assert task.retry_backoff is True
        assert task.max_retries == EMAIL_TASK_OPTIONS["max_retries"]
