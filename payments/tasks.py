"""Celery tasks of the payments app: thin doors over services, safe to run twice, retried with backoff.

A task imports the module it calls inside its body: the services import this module to queue tasks.
"""

import logging
import smtplib

import stripe
from celery import shared_task
from django.db import OperationalError, transaction

from payments import emails
from payments.exceptions import PaymentProviderError
from payments.models import Payment, PaymentEmail

logger = logging.getLogger(__name__)

# Worth another try later: Stripe or the network hiccuped, or the database was busy.
TRANSIENT_ERRORS = (PaymentProviderError, stripe.APIConnectionError, stripe.APIError, OperationalError)

STRIPE_TASK_OPTIONS = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}
EMAIL_TASK_OPTIONS = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(**STRIPE_TASK_OPTIONS)
def process_webhook_event(event_id: int) -> None:
    """Apply one stored Stripe event; a second run (or a racing worker) changes nothing."""
    from payments.webhooks import webhook_event_process

    webhook_event_process(event_id=event_id)


@shared_task(**STRIPE_TASK_OPTIONS)
def expire_checkout_sessions(order_id: str) -> None:
    """Expire the order's open Checkout Sessions at Stripe (queued by orders when an order expires)."""
    from payments.services import checkout_sessions_expire_for_order

    checkout_sessions_expire_for_order(order_id=order_id)


def _send_once(*, payment_id: int, kind: str, key: str, send) -> None:
    with transaction.atomic():
        payment = Payment.objects.select_related("order__user").filter(pk=payment_id).first()
        if payment is None:
            return
        # A duplicate waits on the unique row, then finds it; a failed send rolls it back for the retry.
        _, created = PaymentEmail.objects.get_or_create(payment=payment, kind=kind, key=key)
        if created:
            send(payment=payment)


@shared_task(**EMAIL_TASK_OPTIONS)
def send_payment_received_email(payment_id: int) -> None:
    _send_once(payment_id=payment_id, kind=PaymentEmail.Kind.RECEIVED, key="", send=emails.send_payment_received)


@shared_task(**EMAIL_TASK_OPTIONS)
def send_payment_failed_email(payment_id: int) -> None:
    _send_once(payment_id=payment_id, kind=PaymentEmail.Kind.FAILED, key="", send=emails.send_payment_failed)


@shared_task(**EMAIL_TASK_OPTIONS)
def send_refund_email(payment_id: int, refunded_total: str) -> None:
    """One email per refunded total reached, so each refund is announced once."""
    _send_once(payment_id=payment_id, kind=PaymentEmail.Kind.REFUNDED, key=refunded_total, send=emails.send_refunded)
