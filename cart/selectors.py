"""Cart reads: the cart as the API shows it, in a constant number of queries."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from cart.models import Cart, CartItem
from cart.services import (
    CartTotals,
    cart_item_available_stock,
    cart_item_current_price,
    cart_item_problem,
    cart_items_for_read,
    cart_totals,
)
from common.money import quantize_money
from coupons.models import Coupon


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
    cart: Cart
    items: list[CartLineView]
    totals: CartTotals

    @property
    def id(self) -> int:
        return self.cart.pk

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
        return self.cart.coupon

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


def cart_get_for(*, user) -> CartView:
    """The user's cart (created on first use) with lines and totals; the coupon is re-validated."""
    cart, _ = Cart.objects.select_related("coupon").get_or_create(user=user)
    items = list(cart_items_for_read(cart=cart))
    totals = cart_totals(cart=cart, items=items, user=user)
    return CartView(cart=cart, items=[cart_line_view(item=item) for item in items], totals=totals)
