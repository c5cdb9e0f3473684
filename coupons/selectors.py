"""Coupon reads: the staff list, and the rules that say whether a coupon applies and for how much.

Pure reads: nothing here writes a row. Coupons sits below the cart and never imports it; callers hand
in the lines to judge (`PricedLine`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from common.money import ZERO, quantize_money
from coupons.models import Coupon, CouponRedemption


def coupon_list() -> QuerySet[Coupon]:
    """Coupons with `times_used` (unreleased redemptions) annotated and their scope prefetched."""
    # Explicit order: an aggregate query does not use Meta.ordering.
    return (
        Coupon.objects.annotate(times_used=Count("redemptions", filter=Q(redemptions__released_at__isnull=True)))
        .prefetch_related("categories", "products")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class PricedLine:
    """One cart line as the coupon rules see it."""

    product_id: int
    variant_id: int | None
    category_path: str  # Category.path of the product's category, for scope matching
    unit_price: Decimal
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return quantize_money(self.unit_price * self.quantity)


@dataclass(frozen=True)
class CouponEvaluation:
    valid: bool
    code: str
    discount: Decimal  # Decimal("0.00") when not valid
    reason: str  # "" when valid, else a sentence for the customer
    coupon: Coupon | None


@dataclass(frozen=True)
class CouponScope:
    """What a coupon is limited to; empty on both sides means the whole cart."""

    category_paths: tuple[str, ...] = field(default=())
    product_ids: frozenset[int] = field(default=frozenset())

    @property
    def is_scoped(self) -> bool:
        return bool(self.category_paths or self.product_ids)

    def matches(self, line: PricedLine) -> bool:
        if not self.is_scoped:
            return True
        if line.product_id in self.product_ids:
            return True
        # A category includes its descendants: their materialized paths start with its path.
        return any(line.category_path.startswith(path) for path in self.category_paths if path)


def coupon_normalize_code(code: str) -> str:
    return (code or "").strip().upper()


def coupon_get_by_code(*, code: str) -> Coupon | None:
    """The coupon with this code, compared case-insensitively (codes are stored upper-case)."""
    normalized = coupon_normalize_code(code)
    if not normalized:
        return None
    return Coupon.objects.filter(code__iexact=normalized).first()


def coupon_scope(*, coupon: Coupon) -> CouponScope:
    """The coupon's scope (two small queries)."""
    return CouponScope(
        category_paths=tuple(coupon.categories.values_list("path", flat=True)),
        product_ids=frozenset(coupon.products.values_list("pk", flat=True)),
    )


def coupon_usage(*, coupon: Coupon, user, email: str = "") -> tuple[int, int]:
    """(uses by everyone, uses by this customer), counted from unreleased redemptions in one query.

    The customer is `user` (a user or a user id: the cart knows only its `user_id`) and, given `email`,
    the guest orders placed with that email: a guest is counted by email, and a user also by the guest
    orders placed under their email.
    """
    user_id = user if isinstance(user, int) else getattr(user, "pk", None)
    if user_id is not None:
        mine = Q(user_id=user_id) | (Q(user__isnull=True, email=email.lower()) if email else Q())
    elif email:
        mine = Q(email=email.lower())
    else:
        mine = None
    redemptions = CouponRedemption.objects.filter(coupon=coupon, released_at__isnull=True)
    if mine is None:
        return redemptions.count(), 0
    counts = redemptions.aggregate(total=Count("pk"), mine=Count("pk", filter=mine))
    return counts["total"], counts["mine"]


def coupon_discount_for(*, coupon: Coupon, eligible_subtotal: Decimal) -> Decimal:
    """The discount on an eligible subtotal: percent of it, or the fixed value capped at it; never negative."""
    eligible_subtotal = max(quantize_money(eligible_subtotal), ZERO)
    if coupon.discount_type == Coupon.DiscountType.PERCENT:
        discount = quantize_money(eligible_subtotal * coupon.value / Decimal(100))
    else:
        discount = quantize_money(coupon.value)
    return max(min(discount, eligible_subtotal), ZERO)


# One answer for every code that cannot be used yet: unknown, inactive or not started. A campaign code
# created ahead of its launch cannot be discovered by trying codes.
COUPON_NOT_USABLE_REASON = "This coupon code does not exist."


def _reject(code: str, reason: str, coupon: Coupon | None = None) -> CouponEvaluation:
    return CouponEvaluation(valid=False, code=code, discount=ZERO, reason=reason, coupon=coupon)


def coupon_evaluate_loaded(
    *,
    coupon: Coupon,
    user,
    lines: Sequence[PricedLine],
    now: datetime | None = None,
    scope: CouponScope | None = None,
    usage: tuple[int, int] | None = None,
    email: str = "",
) -> CouponEvaluation:
    """Evaluate an already-loaded coupon against `lines`; see `coupon_evaluate`.

    `scope` and `usage` may be passed in when the caller already has them (saves queries).
    """
    now = now or timezone.now()
    code = coupon.code
    if not coupon.is_active:
        return _reject(code, COUPON_NOT_USABLE_REASON, coupon)
    if coupon.valid_from and now < coupon.valid_from:
        return _reject(code, COUPON_NOT_USABLE_REASON, coupon)
    if coupon.valid_until and now >= coupon.valid_until:
        return _reject(code, "This coupon has expired.", coupon)

    if coupon.max_uses is not None or coupon.max_uses_per_user is not None:
        total_uses, my_uses = usage if usage is not None else coupon_usage(coupon=coupon, user=user, email=email)
        if coupon.max_uses is not None and total_uses >= coupon.max_uses:
            return _reject(code, "This coupon has been used up.", coupon)
        if coupon.max_uses_per_user is not None and my_uses >= coupon.max_uses_per_user:
            return _reject(code, "You have already used this coupon.", coupon)

    subtotal = quantize_money(sum((line.line_total for line in lines), ZERO))
    if subtotal < coupon.min_subtotal:
        return _reject(
            code, f"This coupon needs a subtotal of at least {quantize_money(coupon.min_subtotal)}.", coupon
        )

    scope = scope if scope is not None else coupon_scope(coupon=coupon)
    eligible = [line for line in lines if scope.matches(line)]
    eligible_subtotal = quantize_money(sum((line.line_total for line in eligible), ZERO))
    if not eligible or eligible_subtotal <= ZERO:
        return _reject(code, "Nothing in your cart is eligible for this coupon.", coupon)

    discount = coupon_discount_for(coupon=coupon, eligible_subtotal=eligible_subtotal)
    return CouponEvaluation(valid=True, code=code, discount=discount, reason="", coupon=coupon)


def coupon_evaluate(
    *, code: str, user, lines: Sequence[PricedLine], now: datetime | None = None
) -> CouponEvaluation:
    """Whether the coupon `code` applies to `lines` for `user` at `now`, the discount, and if not, why.

    Checks, in order: exists, active, started, not expired, total uses, uses by this user, minimum
    subtotal (of the whole cart), and that at least one line is in the coupon's scope. The discount is
    computed on the eligible lines only and never exceeds their subtotal.
    """
    coupon = coupon_get_by_code(code=code)
    if coupon is None:
        return _reject(coupon_normalize_code(code), COUPON_NOT_USABLE_REASON)
    return coupon_evaluate_loaded(coupon=coupon, user=user, lines=lines, now=now)
