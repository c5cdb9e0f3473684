"""Cart writes and the one place cart totals are computed.

A line's `unit_price` is the price when it was added: it is what checkout charges. Totals are Decimal,
rounded half-up to cents through `common.money.quantize_money` only.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from cart.exceptions import CartItemNotFound, InvalidCartInput, NotEnoughStock
from cart.models import Cart, CartItem
from catalog.models import Product, ProductVariant
from common.money import ZERO, quantize_money
from coupons.models import Coupon
from coupons.services import PricedLine, coupon_evaluate_loaded, coupon_get_by_code

MAX_QUANTITY_PER_LINE = 100


@dataclass(frozen=True)
class CartTotals:
    lines: list[PricedLine]
    subtotal: Decimal
    discount: Decimal
    total: Decimal  # subtotal - discount (merchandise only; shipping belongs to the order)
    coupon: Coupon | None  # the applied coupon if it currently applies, else None
    coupon_error: str  # "" or why the applied coupon no longer applies (it is then dropped from the totals)
    item_count: int  # units


def cart_get_or_create(*, user) -> Cart:
    """The user's one cart, created on first use."""
    cart, _ = Cart.objects.get_or_create(user=user)
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


def cart_lock_for_checkout(*, user) -> tuple[Cart, list[CartItem]]:
    """Lock the user's cart row (created if missing) and return it with its lines, ordered by id.

    Call inside the checkout's transaction: concurrent writes to this cart wait for it.
    """
    cart_get_or_create(user=user)
    cart = Cart.objects.select_for_update().get(user=user)
    items = list(cart.items.select_related("product", "product__category", "variant").order_by("id"))
    return cart, items


@transaction.atomic
def cart_clear(*, cart: Cart) -> None:
    """Delete every line and the applied coupon."""
    CartItem.objects.filter(cart=cart).delete()
    if cart.coupon_id is not None:
        cart.coupon = None
        cart.save(update_fields=["coupon", "updated_at"])


# --- Lines ------------------------------------------------------------------------------------


def _locked_cart(*, user) -> Cart:
    """The user's cart, row-locked so concurrent writes to the same cart run one after another."""
    cart_get_or_create(user=user)
    return Cart.objects.select_for_update().get(user=user)


def cart_item_available_stock(*, item: CartItem) -> int:
    return item.variant.stock if item.variant_id else item.product.stock


def cart_item_current_price(*, item: CartItem) -> Decimal:
    # Not `variant.effective_price`: that would load variant.product again, one query per line.
    if item.variant_id and item.variant.price is not None:
        return item.variant.price
    return item.product.price


def cart_item_problem(*, item: CartItem) -> str:
    """"" when the line can be checked out as it is, else why not (for the frontend to warn)."""
    if not item.product.is_active or (item.variant_id and not item.variant.is_active):
        return "This product is no longer available."
    available = cart_item_available_stock(item=item)
    if available <= 0:
        return "Out of stock."
    if item.quantity > available:
        return f"Only {available} available."
    return ""


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidCartInput("Quantity must be a positive whole number.", field="quantity")
    if quantity > MAX_QUANTITY_PER_LINE:
        raise InvalidCartInput(f"At most {MAX_QUANTITY_PER_LINE} of one item per order.", field="quantity")


def _check_stock(*, wanted: int, available: int) -> None:
    if wanted > available:
        raise NotEnoughStock(f"Only {available} available.", extra={"available": available})


@transaction.atomic
def cart_item_add(*, user, product_id: int, variant_id: int | None = None, quantity: int) -> CartItem:
    """Add `quantity` of a product (or of one of its variants) to the user's cart.

    A product with variants needs one of its active variants (400 on `variant`); an inactive or unknown
    product is a 400 on `product`. Adding a line that exists adds to its quantity and re-snapshots its
    unit price to the current one (the customer is acting on the price they see now). The resulting
    quantity must stay within `MAX_QUANTITY_PER_LINE` (400) and the available stock (409 "Only N available.").
    """
    _check_quantity(quantity)
    cart = _locked_cart(user=user)
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise InvalidCartInput("This product does not exist.", field="product")
    if not product.is_active:
        raise InvalidCartInput("This product is not available.", field="product")
    variant = None
    if variant_id is not None:
        variant = ProductVariant.objects.filter(pk=variant_id).select_related("product").first()
        if variant is None or variant.product_id != product.pk:
            raise InvalidCartInput("This variant does not belong to the product.", field="variant")
        if not variant.is_active:
            raise InvalidCartInput("This variant is not available.", field="variant")
    else:
        variants = ProductVariant.objects.filter(product=product)
        if variants.filter(is_active=True).exists():
            raise InvalidCartInput("This product comes in variants; choose one.", field="variant")
        if variants.exists():
            raise InvalidCartInput("This product has no available variants.", field="product")

    existing = CartItem.objects.filter(cart=cart, product=product, variant=variant).first()
    new_quantity = quantity + (existing.quantity if existing else 0)
    if new_quantity > MAX_QUANTITY_PER_LINE:
        raise InvalidCartInput(
            f"At most {MAX_QUANTITY_PER_LINE} of one item per order"
            + (f"; you already have {existing.quantity}." if existing else "."),
            field="quantity",
        )
    available = variant.stock if variant else product.stock
    _check_stock(wanted=new_quantity, available=available)
    unit_price = variant.effective_price if variant else product.price
    if existing:
        existing.quantity = new_quantity
        existing.unit_price = unit_price
        existing.save(update_fields=["quantity", "unit_price", "updated_at"])
        item = existing
    else:
        item = CartItem.objects.create(
            cart=cart, product=product, variant=variant, quantity=quantity, unit_price=unit_price
        )
    cart.save(update_fields=["updated_at"])
    return cart_item_get(user=user, item_id=item.pk)


def cart_item_get(*, user, item_id: int) -> CartItem:
    """One line of the user's own cart; another user's line is a 404."""
    item = (
        CartItem.objects.select_related("product", "product__category", "variant")
        .filter(pk=item_id, cart__user=user)
        .first()
    )
    if item is None:
        raise CartItemNotFound()
    return item


@transaction.atomic
def cart_item_set_quantity(*, user, item_id: int, quantity: int) -> CartItem | None:
    """Set a line's quantity; 0 removes the line (returns None).

    Raising the quantity checks the line is still sold and in stock (409 "Only N available.");
    lowering it is always allowed, so a customer can fix a line that stock ran short on.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise InvalidCartInput("Quantity must be zero or a positive whole number.", field="quantity")
    cart = _locked_cart(user=user)
    item = cart_item_get(user=user, item_id=item_id)
    if quantity == 0:
        item.delete()
        cart.save(update_fields=["updated_at"])
        return None
    _check_quantity(quantity)
    if quantity > item.quantity:
        if not item.product.is_active or (item.variant_id and not item.variant.is_active):
            raise NotEnoughStock("This product is no longer available.", extra={"available": 0})
        _check_stock(wanted=quantity, available=cart_item_available_stock(item=item))
    item.quantity = quantity
    item.save(update_fields=["quantity", "updated_at"])
    cart.save(update_fields=["updated_at"])
    return item


@transaction.atomic
def cart_item_remove(*, user, item_id: int) -> None:
    """Remove a line of the user's own cart (another user's line is a 404)."""
    cart = _locked_cart(user=user)
    item = cart_item_get(user=user, item_id=item_id)
    item.delete()
    cart.save(update_fields=["updated_at"])


# --- Coupon -----------------------------------------------------------------------------------


@transaction.atomic
def cart_coupon_apply(*, user, code: str) -> Cart:
    """Apply a coupon (code case-insensitive) if it applies to the cart now; else 400 on `code` with why."""
    cart = _locked_cart(user=user)
    coupon = coupon_get_by_code(code=code)
    if coupon is None:
        raise InvalidCartInput("This coupon code does not exist.", field="code")
    items = list(cart_items_for_read(cart=cart))
    evaluation = coupon_evaluate_loaded(coupon=coupon, user=user, lines=cart_lines(items=items))
    if not evaluation.valid:
        raise InvalidCartInput(evaluation.reason, field="code")
    cart.coupon = coupon
    cart.save(update_fields=["coupon", "updated_at"])
    return cart


@transaction.atomic
def cart_coupon_remove(*, user) -> Cart:
    cart = _locked_cart(user=user)
    if cart.coupon_id is not None:
        cart.coupon = None
        cart.save(update_fields=["coupon", "updated_at"])
    return cart
