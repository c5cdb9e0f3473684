"""Coupon writes: redemption at checkout, release on cancel, staff writes.

Usage is counted from `CouponRedemption` rows that are not released, never from a counter; the rules
that decide whether a coupon applies are reads, in `coupons.selectors`. The coupon row is locked before the
stock rows in the global order (cart → order → payment → coupon → stock): `lock_coupon`.
"""

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from common.money import ZERO
from common.services import model_update
from coupons.exceptions import CouponInUse, CouponNotApplicable, InvalidCouponInput
from coupons.models import Coupon, CouponRedemption
from coupons.selectors import COUPON_NOT_USABLE_REASON, PricedLine, coupon_evaluate_loaded, coupon_normalize_code


def lock_coupon(*, code: str | None = None, pk: int | None = None) -> Coupon | None:
    """The coupon with this id, or this code (case-insensitive), row-locked until the transaction ends;
    None if there is none.
    """
    coupons = Coupon.objects.select_for_update(of=("self",))
    if pk is not None:
        return coupons.filter(pk=pk).first()
    normalized = coupon_normalize_code(code or "")
    return coupons.filter(code__iexact=normalized).first() if normalized else None


@transaction.atomic(savepoint=False)
def coupon_redeem(*, code: str, user, order, lines: Sequence[PricedLine], email: str = "") -> CouponRedemption:
    """Record one use of the coupon by `order`, or raise `CouponNotApplicable` (409) with the reason.

    Call inside the checkout's transaction. The coupon row is locked (SELECT ... FOR UPDATE) before
    usage is counted, so concurrent checkouts queue on it and `max_uses` / `max_uses_per_user` hold:
    each sees the redemptions committed by those before it. `user` is None for a guest, whose uses
    `max_uses_per_user` counts by `email`. No savepoints: a refusal fails the caller's transaction as a whole
    (checkout rolls back everything), so the 409 costs no round trips on the way in.
    """
    coupon = lock_coupon(code=code)
    if coupon is None:
        raise CouponNotApplicable(COUPON_NOT_USABLE_REASON)
    evaluation = coupon_evaluate_loaded(coupon=coupon, user=user, lines=lines, email=email)
    if not evaluation.valid:
        raise CouponNotApplicable(evaluation.reason)
    try:
        with transaction.atomic(savepoint=False):
            return CouponRedemption.objects.create(
                coupon=coupon, user=user, email=email.lower(), order=order, amount=evaluation.discount
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


def coupon_rules_check(*, coupon: Coupon) -> None:
    """The rules a coupon's own fields must satisfy (also backed by database constraints); raises
    InvalidCouponInput (400) on the field. The admin's form runs them too, to show them on the field.
    """
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
    scope = {name: data.pop(name) for name in ("categories", "products") if name in data}
    if "code" in data:
        data["code"] = coupon_normalize_code(data["code"])
    if data.get("min_subtotal", ...) is None:
        data["min_subtotal"] = ZERO
    if data.get("valid_from", ...) is None:
        data["valid_from"] = timezone.now()
    # The merged result is checked before anything is written, so the error names the field.
    candidate = copy.copy(coupon)
    for name, value in data.items():
        setattr(candidate, name, value)
    coupon_rules_check(coupon=candidate)
    try:
        with transaction.atomic():
            if coupon.pk is None:
                coupon = candidate
                coupon.save()
            else:
                model_update(instance=coupon, fields=COUPON_FIELDS, data=data, error=InvalidCouponInput)
    except IntegrityError as exc:  # a concurrent create with the same code
        raise InvalidCouponInput(f"The code '{candidate.code}' is already in use.", field="code") from exc
    for name, values in scope.items():
        getattr(coupon, name).set(values)
    return coupon


@transaction.atomic
def coupon_create(*, data: dict[str, Any]) -> Coupon:
    """Create a coupon; the code is stored upper-case and unique case-insensitively."""
    return _coupon_write(coupon=Coupon(), data=data)


@transaction.atomic
def coupon_update(*, coupon: Coupon, data: dict[str, Any]) -> Coupon:
    """Update a coupon; the merged result must satisfy the same rules as a new one."""
    locked = lock_coupon(pk=coupon.pk)
    if locked is None:
        raise Coupon.DoesNotExist(f"Coupon {coupon.pk} does not exist.")
    return _coupon_write(coupon=locked, data=data)


@transaction.atomic
def coupon_set_active(*, coupon_ids: Iterable[int], is_active: bool) -> int:
    """Activate or deactivate coupons (the admin's bulk actions); returns how many coupons it covered."""
    coupons = list(Coupon.objects.filter(pk__in=list(coupon_ids)).order_by("pk").select_for_update(of=("self",)))
    for coupon in coupons:
        model_update(instance=coupon, fields={"is_active"}, data={"is_active": is_active})
    return len(coupons)


@transaction.atomic
def coupon_delete(*, coupon: Coupon) -> None:
    """Delete a coupon that was never redeemed; a redeemed one is a 409 (deactivate it instead)."""
    try:
        coupon.delete()
    except ProtectedError as exc:
        raise CouponInUse() from exc
