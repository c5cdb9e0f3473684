"""Cart reads: lines, totals (the one place they are computed) and the cart as the API shows it.

Pure reads in a constant number of queries: nothing here writes a row, not even the user's first
cart (`cart.services.cart_get_or_create` does that). A line's `unit_price` is the price when it was
added: it is what checkout charges. Totals are Decimal, rounded half-up through `common.money` only.
The coupon rules are coupons' (`coupons.selectors`), fed with the cart's lines.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from cart.exceptions import CartItemNotFound, CartNotFound
from cart.models import Cart, CartItem
from common.money import ZERO, quantize_money
from coupons.models import Coupon
from coupons.selectors import (
    CouponEvaluation,
    PricedLine,
    coupon_evaluate,
    coupon_evaluate_loaded,
    coupon_get_by_code,
    coupon_scope,
)


@dataclass(frozen=True)
class CartTotals:
    lines: list[PricedLine]
    subtotal: Decimal
    discount: Decimal
    total: Decimal  # subtotal - discount (merchandise only; shipping belongs to the order)
    coupon: Coupon | None  # the applied coupon if it currently applies, else None
    coupon_error: str  # "" or why the applied coupon no longer applies (it is then dropped from the totals)
    item_count: int  # units


def cart_token_hash(token: str) -> str:
    """How a guest cart's secret token is stored and looked up: its sha256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def cart_guest_cutoff(*, now: datetime | None = None) -> datetime:
    """Guest carts untouched since before this are expired (`GUEST_CART_DAYS`)."""
    return (now or timezone.now()) - timedelta(days=settings.GUEST_CART_DAYS)


def cart_guest_get(*, token: str) -> Cart:
    """The live guest cart of `token` (coupon loaded); an unknown or expired token is a 404."""
    cart = (
        Cart.objects.select_related("coupon")
        .filter(user__isnull=True, token_hash=cart_token_hash(token), updated_at__gte=cart_guest_cutoff())
        .first()
    )
    if cart is None:
        raise CartNotFound()
    return cart


def cart_items_for_read(*, cart: Cart):
    """The cart's lines with everything the totals and the serializer need, in one query."""
    return cart.items.select_related("product", "product__category", "variant").order_by("id")


def cart_lines(*, items: Iterable[CartItem]) -> list[PricedLine]:
    """Cart lines as the coupon rules see them, at the STORED unit price."""
    return [
        PricedLine(
            product_id=item.product_id,
            variant_id=item.variant_id,
            category_path=item.product.category.path,
            unit_price=item.unit_price,
            quantity=item.quantity,
        )
        for item in items
    ]


def cart_totals(*, cart: Cart, items: Sequence[CartItem] | None = None, user=None) -> CartTotals:
    """Subtotal, discount and total of the cart; the applied coupon is re-validated every time.

    A coupon that no longer applies stays on the cart (it may apply again, e.g. once the subtotal
    is back above its minimum) but is dropped from the totals, with the reason in `coupon_error`.
    """
    items = list(items) if items is not None else list(cart_items_for_read(cart=cart))
    lines = cart_lines(items=items)
    subtotal = quantize_money(sum((line.line_total for line in lines), ZERO))
    discount = ZERO
    coupon = None
    coupon_error = ""
    if cart.coupon_id is not None:
        owner = user if user is not None else cart.user_id
        evaluation = coupon_evaluate_loaded(coupon=cart.coupon, user=owner, lines=lines)
        if evaluation.valid:
            coupon, discount = cart.coupon, evaluation.discount
        else:
            coupon_error = evaluation.reason
    return CartTotals(
        lines=lines,
        subtotal=subtotal,
        discount=discount,
        total=max(subtotal - discount, ZERO),
        coupon=coupon,
        coupon_error=coupon_error,
        item_count=sum(line.quantity for line in lines),
    )


def cart_item_available_stock(*, item: CartItem) -> int:
    return item.variant.stock if item.variant_id else item.product.stock


def cart_item_current_price(*, item: CartItem) -> Decimal:
    # Not `variant.effective_price`: that would load variant.product again, one query per line.
    if item.variant_id and item.variant.price is not None:
        return item.variant.price
    return item.product.price


def cart_item_problem(*, item: CartItem) -> str:
    """"" when the line can be checked out as it is, else why not (for the frontend to warn)."""
    if (
        not item.product.is_active
        or (item.variant_id and not item.variant.is_active)
        # The category is joined; an inactive ancestor is caught when the line is raised or checked out.
        or not item.product.category.is_active
    ):
        return "This product is no longer available."
    available = cart_item_available_stock(item=item)
    if available <= 0:
        return "Out of stock."
    if item.quantity > available:
        return f"Only {available} available."
    return ""


def cart_item_get(*, item_id: int, user=None, cart: Cart | None = None) -> CartItem:
    """One line of the user's own cart (or of the guest `cart`); anyone else's line is a 404."""
    owner = {"cart": cart} if cart is not None else {"cart__user": user}
    item = (
        CartItem.objects.select_related("product", "product__category", "variant")
        .filter(pk=item_id, **owner)
        .first()
    )
    if item is None:
        raise CartItemNotFound()
    return item


@dataclass(frozen=True)
class CartLineView:
    """One line with what the frontend needs to warn before checkout."""

    item: CartItem
    line_total: Decimal
    current_price: Decimal
    available_stock: int
    price_changed: bool
    is_available: bool
    problem: str

    @property
    def currency(self) -> str:
        return self.item.product.currency or settings.DEFAULT_CURRENCY


@dataclass(frozen=True)
class CartView:
    cart: Cart | None  # None: a guest without a cart yet (reads as an empty one)
    items: list[CartLineView]
    totals: CartTotals
    token: str | None = None  # a guest cart's token, as the guest sent it; None for a user's cart

    @property
    def id(self) -> int | None:
        return self.cart.pk if self.cart is not None else None

    @property
    def subtotal(self) -> Decimal:
        return self.totals.subtotal

    @property
    def discount(self) -> Decimal:
        return self.totals.discount

    @property
    def total(self) -> Decimal:
        return self.totals.total

    @property
    def coupon(self) -> Coupon | None:
        # The coupon applied to the cart, also while it does not apply (then `coupon_error` says why).
        return self.cart.coupon if self.cart is not None else None

    @property
    def coupon_error(self) -> str:
        return self.totals.coupon_error

    @property
    def item_count(self) -> int:
        return self.totals.item_count

    @property
    def currency(self) -> str:
        return settings.DEFAULT_CURRENCY


def cart_line_view(*, item: CartItem) -> CartLineView:
    """A line with its derived flags; `item` needs product and variant loaded."""
    current = cart_item_current_price(item=item)
    problem = cart_item_problem(item=item)
    return CartLineView(
        item=item,
        line_total=quantize_money(item.unit_price * item.quantity),
        current_price=current,
        available_stock=cart_item_available_stock(item=item),
        price_changed=current != item.unit_price,
        is_available=problem == "",
        problem=problem,
    )


def cart_view_for(*, cart: Cart | None, user=None, token: str | None = None) -> CartView:
    """The cart with lines and totals (the coupon re-validated); `cart` needs its coupon loaded.

    `cart=None` is a guest without a cart: an empty cart with no id and no token.
    """
    if cart is None:
        empty = CartTotals(
            lines=[], subtotal=ZERO, discount=ZERO, total=ZERO, coupon=None, coupon_error="", item_count=0
        )
        return CartView(cart=None, items=[], totals=empty, token=None)
    items = list(cart_items_for_read(cart=cart))
    totals = cart_totals(cart=cart, items=items, user=user)
    lines = [cart_line_view(item=item) for item in items]
    return CartView(cart=cart, items=lines, totals=totals, token=token if cart.is_guest else None)


def cart_coupon_check(
    *, user, code: str, subtotal: Decimal | None = None, cart: Cart | None = None
) -> CouponEvaluation:
    """Whether `code` applies, for `POST /api/coupons/validate/`: against `subtotal` when given, else the
    user's cart, or the guest's `cart` when `user` is None (no cart yet reads as an empty one).

    A scoped coupon cannot be judged on a bare amount, so it is always evaluated against the cart.
    """
    coupon = coupon_get_by_code(code=code)
    if coupon is None:
        return coupon_evaluate(code=code, user=user, lines=[])
    scope = coupon_scope(coupon=coupon)
    if subtotal is not None and not scope.is_scoped:
        line = PricedLine(product_id=0, variant_id=None, category_path="", unit_price=subtotal, quantity=1)
        return coupon_evaluate_loaded(coupon=coupon, user=user, lines=[line], scope=scope)
    owner = {"cart__user": user} if user is not None else {"cart": cart}
    items = CartItem.objects.filter(**owner).select_related("product", "product__category", "variant")
    if user is None and cart is None:
        items = items.none()
    lines = cart_lines(items=items.order_by("id"))
    return coupon_evaluate_loaded(coupon=coupon, user=user, lines=lines, scope=scope)
