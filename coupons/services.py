"""Coupon rules: evaluation (cart, validate endpoint), redemption at checkout, release on cancel, staff writes.

Usage is counted from `CouponRedemption` rows that are not released, never from a counter.
Money is rounded only through `common.money.quantize_money`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, ProtectedError, Q
from django.utils import timezone

from common.money import ZERO, quantize_money
from coupons.exceptions import CouponInUse, CouponNotApplicable, InvalidCouponInput
from coupons.models import Coupon, CouponRedemption


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


def coupon_get_by_code(*, code: str, for_update: bool = False) -> Coupon | None:
    """The coupon with this code, compared case-insensitively (codes are stored upper-case)."""
    qs = Coupon.objects.select_for_update() if for_update else Coupon.objects.all()
    normalized = coupon_normalize_code(code)
    if not normalized:
        return None
    return qs.filter(code__iexact=normalized).first()


def coupon_scope(*, coupon: Coupon) -> CouponScope:
    """The coupon's scope (two small queries)."""
    return CouponScope(
        category_paths=tuple(coupon.categories.values_list("path", flat=True)),
        product_ids=frozenset(coupon.products.values_list("pk", flat=True)),
    )


def coupon_usage(*, coupon: Coupon, user) -> tuple[int, int]:
    """(uses by everyone, uses by `user`), counted from unreleased redemptions in one query.

    `user` may be a user or a user id (the cart knows only its `user_id`).
    """
    user_id = user if isinstance(user, int) else getattr(user, "pk", None)
    counts = CouponRedemption.objects.filter(coupon=coupon, released_at__isnull=True).aggregate(
        total=Count("pk"), mine=Count("pk", filter=Q(user_id=user_id))
    )
    return counts["total"], counts["mine"] if user_id is not None else 0


def coupon_discount_for(*, coupon: Coupon, eligible_subtotal: Decimal) -> Decimal:
    """The discount on an eligible subtotal: percent of it, or the fixed value capped at it; never negative."""
    eligible_subtotal = max(quantize_money(eligible_subtotal), ZERO)
    if coupon.discount_type == Coupon.DiscountType.PERCENT:
        discount = quantize_money(eligible_subtotal * coupon.value / Decimal(100))
    else:
        discount = quantize_money(coupon.value)
    return max(min(discount, eligible_subtotal), ZERO)


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
) -> CouponEvaluation:
    """Evaluate an already-loaded coupon against `lines`; see `coupon_evaluate`.

    `scope` and `usage` may be passed in when the caller already has them (saves queries).
    """
    now = now or timezone.now()
    code = coupon.code
    if not coupon.is_active:
        return _reject(code, "This coupon is not active.", coupon)
    if coupon.valid_from and now < coupon.valid_from:
        starts = f"{coupon.valid_from:%Y-%m-%d %H:%M} UTC"
        return _reject(code, f"This coupon is not valid yet; it starts on {starts}.", coupon)
    if coupon.valid_until and now >= coupon.valid_until:
        return _reject(code, "This coupon has expired.", coupon)

    if coupon.max_uses is not None or coupon.max_uses_per_user is not None:
        total_uses, my_uses = usage if usage is not None else coupon_usage(coupon=coupon, user=user)
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
        return _reject(coupon_normalize_code(code), "This coupon code does not exist.")
    return coupon_evaluate_loaded(coupon=coupon, user=user, lines=lines, now=now)


@transaction.atomic
def coupon_redeem(*, code: str, user, order, lines: Sequence[PricedLine]) -> CouponRedemption:
    """Record one use of the coupon by `order`, or raise `CouponNotApplicable` (409) with the reason.

    Call inside the checkout's transaction. The coupon row is locked (SELECT ... FOR UPDATE) before
    usage is counted, so concurrent checkouts queue on it and `max_uses` / `max_uses_per_user` hold:
    each sees the redemptions committed by those before it.
    """
    coupon = coupon_get_by_code(code=code, for_update=True)
    if coupon is None:
        raise CouponNotApplicable("This coupon code does not exist.")
    evaluation = coupon_evaluate_loaded(coupon=coupon, user=user, lines=lines)
    if not evaluation.valid:
        raise CouponNotApplicable(evaluation.reason)
    try:
        with transaction.atomic():
            return CouponRedemption.objects.create(
                coupon=coupon, user=user, order=order, amount=evaluation.discount
            )
    except IntegrityError as exc:
        raise CouponNotApplicable("This order already has a coupon.") from exc


def coupon_release(*, order) -> None:
    """Give the order's coupon use back (order cancelled / expired). Idempotent."""
    CouponRedemption.objects.filter(order=order, released_at__isnull=True).update(released_at=timezone.now())


# --- Staff writes -----------------------------------------------------------------------------

COUPON_FIELDS = {
    "code",
    "description",
    "discount_type",
    "value",
    "min_subtotal",
    "valid_from",
    "valid_until",
    "max_uses",
    "max_uses_per_user",
    "is_active",
    "categories",
    "products",
}


def _coupon_check(*, coupon: Coupon) -> None:
    """The rules a coupon's own fields must satisfy (also backed by database constraints)."""
    if not coupon.code:
        raise InvalidCouponInput("A coupon needs a code.", field="code")
    if Coupon.objects.filter(code__iexact=coupon.code).exclude(pk=coupon.pk).exists():
        raise InvalidCouponInput(f"The code '{coupon.code}' is already in use.", field="code")
    if coupon.value is None or coupon.value <= 0:
        raise InvalidCouponInput("The value must be greater than zero.", field="value")
    if coupon.discount_type == Coupon.DiscountType.PERCENT and coupon.value > 100:
        raise InvalidCouponInput("A percent discount cannot be more than 100.", field="value")
    if coupon.min_subtotal is not None and coupon.min_subtotal < 0:
        raise InvalidCouponInput("The minimum subtotal cannot be negative.", field="min_subtotal")
    if coupon.valid_until and coupon.valid_from and coupon.valid_until <= coupon.valid_from:
        raise InvalidCouponInput("valid_until must be after valid_from.", field="valid_until")


def _coupon_write(*, coupon: Coupon, data: dict[str, Any]) -> Coupon:
    unknown = set(data) - COUPON_FIELDS
    if unknown:
        raise InvalidCouponInput(f"Unknown coupon fields: {', '.join(sorted(unknown))}.")
    data = dict(data)
    categories = data.pop("categories", None)
    products = data.pop("products", None)
    if "code" in data:
        data["code"] = coupon_normalize_code(data["code"])
    if data.get("min_subtotal", ...) is None:
        data["min_subtotal"] = ZERO
    if data.get("valid_from", ...) is None:
        data["valid_from"] = timezone.now()
    for name, value in data.items():
        setattr(coupon, name, value)
    _coupon_check(coupon=coupon)
    try:
        with transaction.atomic():
            coupon.save()
    except IntegrityError as exc:  # a concurrent create with the same code
        raise InvalidCouponInput(f"The code '{coupon.code}' is already in use.", field="code") from exc
    if categories is not None:
        coupon.categories.set(categories)
    if products is not None:
        coupon.products.set(products)
    return coupon


@transaction.atomic
def coupon_create(*, data: dict[str, Any]) -> Coupon:
    """Create a coupon; the code is stored upper-case and unique case-insensitively."""
    return _coupon_write(coupon=Coupon(), data=data)


@transaction.atomic
def coupon_update(*, coupon: Coupon, data: dict[str, Any]) -> Coupon:
    """Update a coupon; the merged result must satisfy the same rules as a new one."""
    coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
    return _coupon_write(coupon=coupon, data=data)


@transaction.atomic
def coupon_delete(*, coupon: Coupon) -> None:
    """Delete a coupon that was never redeemed; a redeemed one is a 409 (deactivate it instead)."""
    try:
        coupon.delete()
    except ProtectedError as exc:
        raise CouponInUse() from exc
