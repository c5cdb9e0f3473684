"""Celery tasks of the payments app: thin doors over services, safe to run twice, retried with backoff.

A task imports the module it calls inside its body: the services import this module to queue tasks.
"""

import logging

import stripe
from celery import shared_task
from django.db import OperationalError

from notifications.tasks import EMAIL_TASK_OPTIONS
from payments import emails
from payments.exceptions import PaymentProviderError
from payments.models import Payment

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


@shared_task
def reconcile_checkout_sessions(batch_size: int = 100) -> dict[str, int]:
    """Apply Stripe's word on Checkout Sessions still pending here past their expiry (beat, every 5 minutes)."""
    from payments.webhooks import checkout_sessions_reconcile

    return checkout_sessions_reconcile(batch_size=batch_size)


def _payment(payment_id: int) -> Payment | None:
    return Payment.objects.select_related("order__user").filter(pk=payment_id).first()


@shared_task(**EMAIL_TASK_OPTIONS)
def send_payment_received_email(payment_id: int) -> bool:
    payment = _payment(payment_id)
    return payment is not None and emails.payment_received_email_send(payment=payment)


@shared_task(**EMAIL_TASK_OPTIONS)
def send_payment_failed_email(payment_id: int) -> bool:
    payment = _payment(payment_id)
    return payment is not None and emails.payment_failed_email_send(payment=payment)


@shared_task(**EMAIL_TASK_OPTIONS)
def send_refund_email(payment_id: int, refunded_total: str) -> bool:
    """One email per refunded total reached, so each refund is announced once."""
    payment = _payment(payment_id)
    return payment is not None and emails.refunded_email_send(payment=payment, refunded_total=refunded_total)
