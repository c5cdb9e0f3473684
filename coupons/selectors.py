"""Coupon reads."""

from decimal import Decimal

from django.db.models import Count, Q, QuerySet

from cart.services import cart_get_or_create, cart_items_for_read, cart_lines
from coupons.models import Coupon
from coupons.services import (
    CouponEvaluation,
    PricedLine,
    coupon_evaluate,
    coupon_evaluate_loaded,
    coupon_get_by_code,
    coupon_scope,
)


def coupon_list() -> QuerySet[Coupon]:
    """Coupons with `times_used` (unreleased redemptions) annotated and their scope prefetched."""
    # Explicit order: an aggregate query does not use Meta.ordering.
    return (
        Coupon.objects.annotate(times_used=Count("redemptions", filter=Q(redemptions__released_at__isnull=True)))
        .prefetch_related("categories", "products")
        .order_by("-created_at", "-id")
    )


def coupon_check(*, user, code: str, subtotal: Decimal | None = None) -> CouponEvaluation:
    """Whether `code` applies, for the validate endpoint: against `subtotal` when given, else the user's cart.

    A scoped coupon cannot be judged on a bare amount, so it is always evaluated against the cart.
    """
    coupon = coupon_get_by_code(code=code)
    if coupon is None:
        return coupon_evaluate(code=code, user=user, lines=[])
    scope = coupon_scope(coupon=coupon)
    if subtotal is not None and not scope.is_scoped:
        line = PricedLine(product_id=0, variant_id=None, category_path="", unit_price=subtotal, quantity=1)
        return coupon_evaluate_loaded(coupon=coupon, user=user, lines=[line], scope=scope)
    cart = cart_get_or_create(user=user)
    lines = cart_lines(items=cart_items_for_read(cart=cart))
    return coupon_evaluate_loaded(coupon=coupon, user=user, lines=lines, scope=scope)
