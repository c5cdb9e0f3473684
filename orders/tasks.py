"""Celery tasks of the orders app: thin, idempotent, retried with backoff when the mail server fails."""

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from notifications.tasks import EMAIL_TASK_OPTIONS
from orders import emails
from orders.models import Order
from orders.services import order_expire

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
    """Cancel and restock pending orders past their payment deadline. Returns how many it expired.

    Each order is expired in its own short transaction (so stock locks of one order are never held while
    locking another's); `skip_locked` lets several workers share the work, and an order someone else
    holds (a payment arriving, another worker) is left to them. Running it twice does nothing more.
    """
    expired, seen = 0, set()
    while True:
        candidates = list(
            Order.objects.filter(status=Order.Status.PENDING, payment_deadline__lte=timezone.now())
            .exclude(pk__in=seen)
            .order_by("payment_deadline")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not candidates:
            return expired
        for order_id in candidates:
            seen.add(order_id)
            try:
                with transaction.atomic():
                    locked = (
                        Order.objects.select_for_update(skip_locked=True)
                        .filter(pk=order_id, status=Order.Status.PENDING)
                        .values_list("pk", flat=True)
                        .first()
                    )
                    if locked is not None and order_expire(order_id=order_id) is not None:
                        expired += 1
            except Exception:  # one broken order must not stop the others; the next run retries it
                logger.exception("Could not expire order %s.", order_id)
