"""Reads of orders, each a fixed number of queries whatever the number of orders, items or payments.

Orders sits below payments and never imports it: the payment status is read through the reverse
relation `Order.payments` in SQL.
"""

import hashlib

from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from orders.exceptions import OrderNotFound
from orders.models import Order, OrderItem, OrderStatusChange

UNPAID = "unpaid"


def _latest_payment_status() -> Coalesce:
    """The status of the order's newest payment, or "unpaid" when it has none (a correlated subquery).

    With no payment the outer join gives one row with a null status; with payments every row has one.
    """
    latest = (
        Order.objects.filter(pk=OuterRef("pk"))
        .order_by("-payments__created_at", "-payments__id")
        .values("payments__status")[:1]
    )
    return Coalesce(Subquery(latest), Value(UNPAID))


def order_queryset() -> QuerySet[Order]:
    """Orders with everything the API shows: 1 query (with `payment_status`) + 2 prefetches (items, history)."""
    return (
        Order.objects.select_related("shipment")
        .annotate(payment_status=_latest_payment_status())
        .prefetch_related(
            # product_slug: the product's current slug for a link to its page, joined in the same query.
            Prefetch("items", queryset=OrderItem.objects.annotate(product_slug=F("product__slug")).order_by("id")),
            Prefetch("status_changes", queryset=OrderStatusChange.objects.order_by("created_at", "id")),
        )
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


def order_token_hash(token: str) -> str:
    """How a guest order's secret token is stored and looked up: its sha256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def order_get_for_guest(*, token: str | None, order_id) -> Order:
    """One guest order, for the holder of its token; any other token (or none) is a 404."""
    if not token:
        raise OrderNotFound()
    try:
        return order_queryset().get(pk=order_id, user__isnull=True, guest_token_hash=order_token_hash(token))
    except (Order.DoesNotExist, ValueError, ValidationError) as exc:
        raise OrderNotFound() from exc


def payment_status_choices() -> list[tuple[str, str]]:
    """The values `payment_status` takes: "unpaid", then the statuses of the related payment model."""
    payment_model = Order._meta.get_field("payments").related_model
    return [(UNPAID, "No payment yet"), *payment_model.Status.choices]
