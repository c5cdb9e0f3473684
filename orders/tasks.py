"""Celery tasks of the orders app: thin, idempotent, retried with backoff when the mail server fails.

A task imports the services it calls inside its body: orders' services import this module to queue tasks.
"""

import logging

from celery import shared_task

from notifications.tasks import EMAIL_TASK_OPTIONS
from orders import emails
from orders.models import Order

logger = logging.getLogger(__name__)


@shared_task(**EMAIL_TASK_OPTIONS)
def send_order_email(order_id: str, kind: str) -> bool:
    """Send one email of `kind` per order, however often the task is delivered. Returns whether it sent."""
    order = Order.objects.select_related("user", "shipment").filter(pk=order_id).first()
    if order is None:
        return False
    return emails.order_email_send(order=order, kind=kind)


@shared_task
def expire_unpaid_orders(batch_size: int = 100) -> int:
    """Cancel and restock pending orders past their payment deadline (beat, every minute); how many."""
    from orders.services import order_expire_overdue

    return order_expire_overdue(batch_size=batch_size)
