"""Reads of orders, each a fixed number of queries whatever the number of orders, items or payments."""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from orders.exceptions import OrderNotFound
from orders.models import Order, OrderItem, OrderStatusChange
from payments.models import Payment


def order_queryset() -> QuerySet[Order]:
    """Orders with everything the API shows: 1 query + 3 prefetches (items, history, payments)."""
    return Order.objects.select_related("shipment").prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("id")),
        Prefetch("status_changes", queryset=OrderStatusChange.objects.order_by("created_at", "id")),
        # Newest first: the first one is the order's payment status.
        Prefetch("payments", queryset=Payment.objects.only("id", "order_id", "status", "created_at").order_by(
            "-created_at", "-id"
        )),
    )


def order_list_for(*, user) -> QuerySet[Order]:
    """Staff see every order; everyone else their own."""
    qs = order_queryset()
    return qs if user.is_staff else qs.filter(user=user)


def order_get_for(*, user, order_id) -> Order:
    """One order its owner or staff may see; anyone else's (or a malformed id) is a 404."""
    try:
        return order_list_for(user=user).get(pk=order_id)
    except (Order.DoesNotExist, ValueError, ValidationError) as exc:
        raise OrderNotFound() from exc


def order_payment_status(order: Order) -> str:
    """The status of the order's latest payment, or "unpaid" when it has none (uses the prefetch)."""
    payments = list(order.payments.all())
    return payments[0].status if payments else "unpaid"
