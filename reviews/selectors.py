"""Reads of the reviews app."""

from django.db.models import QuerySet

from orders.models import Order, OrderItem
from reviews.models import Review

# Orders whose goods the customer has paid for; a pending, cancelled or refunded order does not count.
PURCHASE_STATUSES = (
    Order.Status.PAID,
    Order.Status.PROCESSING,
    Order.Status.SHIPPED,
    Order.Status.DELIVERED,
)


def review_list_for(*, user) -> QuerySet[Review]:
    """The reviews `user` may see (visible ones; staff: all), newest first, with their authors."""
    reviews = Review.objects.select_related("user").order_by("-created_at", "-id")
    if not (user and user.is_authenticated and user.is_staff):
        reviews = reviews.filter(is_visible=True)
    return reviews


def purchase_order_statuses(*, user, product_id: int) -> set[str]:
    """Statuses of the user's orders with a line of the product (variant lines carry the product too)."""
    return set(
        OrderItem.objects.filter(order__user=user, product_id=product_id)
        .values_list("order__status", flat=True)
        .distinct()
    )


def review_exists(*, user, product_id: int) -> bool:
    return Review.objects.filter(user=user, product_id=product_id).exists()
