"""Celery tasks of the orders app: thin, idempotent, retried with backoff when the mail server fails.

A task imports the services it calls inside its body: orders' services import this module to queue tasks.
"""

import logging
import smtplib

from celery import shared_task
from django.db import IntegrityError, transaction

from orders import emails
from orders.models import Order, OrderEmail

logger = logging.getLogger(__name__)

EMAIL_TASK_OPTIONS = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(**EMAIL_TASK_OPTIONS)
def send_order_email(order_id: str, kind: str) -> bool:
    """Send one email of `kind` per order, however often the task is delivered. Returns whether it sent."""
    order = Order.objects.select_related("user", "shipment").filter(pk=order_id).first()
    if order is None:
        return False
    try:
        with transaction.atomic():
            # The unique (order, kind) row is written first: a concurrent duplicate waits on it, then
            # fails; a failed send rolls it back, so the retry sends again.
            OrderEmail.objects.create(order=order, kind=kind)
            emails.order_email_send(order=order, kind=kind)
    except IntegrityError:
        return False
    return True


@shared_task
def expire_unpaid_orders(batch_size: int = 100) -> int:
    """Cancel and restock pending orders past their payment deadline (beat, every minute); how many."""
    from orders.services import order_expire_overdue

    return order_expire_overdue(batch_size=batch_size)
