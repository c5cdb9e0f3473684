"""Cart writes: lines, the applied coupon, emptying at checkout. Reads and totals are `cart.selectors`.

The cart row is the first lock of the global order (cart → order → payment → coupon → stock):
`lock_cart`, taken by every write here and by orders' checkout. Cart sits above coupons: it asks
`coupons.selectors` whether a coupon applies; coupons never imports the cart.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from cart.exceptions import CartNotFound, InvalidCartInput, NotEnoughStock
from cart.models import Cart, CartItem
from cart.selectors import (
    cart_guest_cutoff,
    cart_guest_get,
    cart_item_available_stock,
    cart_item_current_price,
    cart_item_get,
    cart_items_for_read,
    cart_lines,
    cart_token_hash,
)
from catalog.models import Product, ProductVariant
from catalog.selectors import category_ids_inactive_on_paths, category_path_is_active
from coupons.selectors import COUPON_NOT_USABLE_REASON, coupon_evaluate_loaded, coupon_get_by_code

MAX_QUANTITY_PER_LINE = 100


def cart_get_or_create(*, user) -> Cart:
    """The user's one cart (with its coupon loaded), created on first use."""
    cart, _ = Cart.objects.select_related("coupon").get_or_create(user=user)
    return cart


def lock_cart(*, user=None, cart: Cart | None = None, token: str | None = None) -> Cart:
    """The user's cart (created if missing), the guest `cart`, or the live guest cart of `token`, with its
    coupon, row-locked until the transaction ends: concurrent writes to one cart, and its checkout, run one
    after another. A guest cart deleted meanwhile (merged, expired), or an unknown or expired token, is a 404.
    """
    carts = Cart.objects.select_for_update(of=("self",)).select_related("coupon")
    if token is not None:  # what cart_guest_get finds, locked in the same query
        locked = carts.filter(
            user__isnull=True, token_hash=cart_token_hash(token), updated_at__gte=cart_guest_cutoff()
        ).first()
        if locked is None:
            raise CartNotFound()
        return locked
    if cart is not None:
        locked = carts.filter(pk=cart.pk).first()
        if locked is None:
            raise CartNotFound()
        return locked
    locked = carts.filter(user=user).first()  # one query when the cart exists, as it does at checkout
    if locked is None:
        cart_get_or_create(user=user)
        locked = carts.get(user=user)
    return locked


def cart_guest_create() -> tuple[Cart, str]:
    """A new guest cart and its secret token (256 random bits); only the token's sha256 is stored."""
    token = secrets.token_urlsafe(32)
    return Cart.objects.create(user=None, token_hash=cart_token_hash(token)), token


@transaction.atomic(savepoint=False)
def cart_clear(*, cart: Cart) -> None:
    """Delete every line and the applied coupon. No savepoint: it fails only as its caller's transaction does."""
    CartItem.objects.filter(cart=cart).delete()
    if cart.coupon_id is not None:
        cart.coupon = None
        cart.save(update_fields=["coupon", "updated_at"])


# --- Lines ------------------------------------------------------------------------------------


def _category_sold(*, product: Product) -> bool:
    """The product's category and all its ancestors are active (one query)."""
    path = product.category.path
    return category_path_is_active(path=path, inactive_ids=category_ids_inactive_on_paths(paths=[path]))


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidCartInput("Quantity must be a positive whole number.", field="quantity")
    if quantity > MAX_QUANTITY_PER_LINE:
        raise InvalidCartInput(f"At most {MAX_QUANTITY_PER_LINE} of one item per order.", field="quantity")


def _check_stock(*, wanted: int, available: int) -> None:
    if wanted > available:
        raise NotEnoughStock(f"Only {available} available.", extra={"available": available})


@transaction.atomic
def cart_item_add(
    *, user=None, cart: Cart | None = None, product_id: int, variant_id: int | None = None, quantity: int
) -> CartItem:
    """Add `quantity` of a product (or of one of its variants) to the user's cart.

    A product with variants needs one of its active variants (400 on `variant`); an inactive or unknown
    product is a 400 on `product`. Adding a line that exists adds to its quantity and re-snapshots its
    unit price to the current one (the customer is acting on the price they see now). The resulting
    quantity must stay within `MAX_QUANTITY_PER_LINE` (400) and the available stock (409 "Only N available.").
    """
    _check_quantity(quantity)
    cart = lock_cart(user=user, cart=cart)
    product = Product.objects.select_related("category").filter(pk=product_id).first()
    if product is None:
        raise InvalidCartInput("This product does not exist.", field="product")
    if not product.is_active or not _category_sold(product=product):
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
    return cart_item_get(cart=cart, item_id=item.pk)


@transaction.atomic
def cart_guest_item_add(*, product_id: int, variant_id: int | None = None, quantity: int) -> tuple[CartItem, str]:
    """A guest's first line: a new guest cart with it, and the cart's token. Nothing is kept on an error."""
    cart, token = cart_guest_create()
    return cart_item_add(cart=cart, product_id=product_id, variant_id=variant_id, quantity=quantity), token


@transaction.atomic
def cart_item_set_quantity(*, user=None, cart: Cart | None = None, item_id: int, quantity: int) -> CartItem | None:
    """Set a line's quantity; 0 removes the line (returns None).

    Raising the quantity checks the line is still sold and in stock (409 "Only N available.") and
    takes the current catalog price (the customer acts on the price shown now); lowering it is always
    allowed and keeps the line's price, so a customer can fix a line that stock ran short on.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise InvalidCartInput("Quantity must be zero or a positive whole number.", field="quantity")
    cart = lock_cart(user=user, cart=cart)
    item = cart_item_get(cart=cart, item_id=item_id)
    if quantity == 0:
        item.delete()
        cart.save(update_fields=["updated_at"])
        return None
    _check_quantity(quantity)
    fields = ["quantity", "updated_at"]
    if quantity > item.quantity:
        if (
            not item.product.is_active
            or (item.variant_id and not item.variant.is_active)
            or not _category_sold(product=item.product)
        ):
            raise NotEnoughStock("This product is no longer available.", extra={"available": 0})
        _check_stock(wanted=quantity, available=cart_item_available_stock(item=item))
        item.unit_price = cart_item_current_price(item=item)
        fields.append("unit_price")
    item.quantity = quantity
    item.save(update_fields=fields)
    cart.save(update_fields=["updated_at"])
    return item


@dataclass(frozen=True)
class RepricedLine:
    item: CartItem
    name: str
    old_price: Decimal
    new_price: Decimal


def cart_item_prices_refresh(*, items: list[CartItem]) -> list[RepricedLine]:
    """Set every line whose stored price is no longer the catalog's to the current price; return them.

    For checkout, which holds the cart's lock and loaded `items` (product and variant joined): one
    UPDATE per repriced line, none when nothing changed.
    """
    repriced = []
    for item in items:
        current = cart_item_current_price(item=item)
        if current == item.unit_price:
            continue
        name = f"{item.product.name} – {item.variant.name}" if item.variant_id else item.product.name
        repriced.append(RepricedLine(item=item, name=name, old_price=item.unit_price, new_price=current))
        item.unit_price = current
        item.save(update_fields=["unit_price", "updated_at"])
    return repriced


@transaction.atomic
def cart_item_remove(*, user=None, cart: Cart | None = None, item_id: int) -> None:
    """Remove a line of the user's own cart (another user's line is a 404)."""
    cart = lock_cart(user=user, cart=cart)
    item = cart_item_get(cart=cart, item_id=item_id)
    item.delete()
    cart.save(update_fields=["updated_at"])


# --- Coupon -----------------------------------------------------------------------------------


@transaction.atomic
def cart_coupon_apply(*, user=None, cart: Cart | None = None, code: str) -> Cart:
    """Apply a coupon (code case-insensitive) if it applies to the cart now; else 400 on `code` with why."""
    cart = lock_cart(user=user, cart=cart)
    coupon = coupon_get_by_code(code=code)
    if coupon is None:
        raise InvalidCartInput(COUPON_NOT_USABLE_REASON, field="code")
    items = list(cart_items_for_read(cart=cart))
    evaluation = coupon_evaluate_loaded(coupon=coupon, user=user, lines=cart_lines(items=items))
    if not evaluation.valid:
        raise InvalidCartInput(evaluation.reason, field="code")
    cart.coupon = coupon
    cart.save(update_fields=["coupon", "updated_at"])
    return cart


@transaction.atomic
def cart_coupon_remove(*, user=None, cart: Cart | None = None) -> Cart:
    cart = lock_cart(user=user, cart=cart)
    if cart.coupon_id is not None:
        cart.coupon = None
        cart.save(update_fields=["coupon", "updated_at"])
    return cart


# --- Guest carts ------------------------------------------------------------------------------


@transaction.atomic
def cart_merge(*, user, token: str) -> Cart:
    """Move the guest cart of `token` into the user's cart, and delete the guest cart (its token is dead).

    A line the user already has adds the guest's quantity, capped at the available stock (never below
    what the user had) and at `MAX_QUANTITY_PER_LINE`, and takes the current price; other lines move
    over, capped the same way (a line with nothing left in stock is dropped). The guest's coupon is
    kept when the user's cart has none. An unknown or expired token is a 404. Both carts are locked,
    the user's first.
    """
    target = lock_cart(user=user)
    guest = lock_cart(cart=cart_guest_get(token=token))
    mine = {(i.product_id, i.variant_id): i for i in cart_items_for_read(cart=target)}
    for line in cart_items_for_read(cart=guest):
        existing = mine.get((line.product_id, line.variant_id))
        available = cart_item_available_stock(item=line)
        had = existing.quantity if existing else 0
        quantity = min(had + line.quantity, max(available, had), MAX_QUANTITY_PER_LINE)
        if existing is not None:
            if quantity > existing.quantity:
                existing.quantity, existing.unit_price = quantity, cart_item_current_price(item=existing)
                existing.save(update_fields=["quantity", "unit_price", "updated_at"])
        elif quantity > 0:
            line.cart, line.quantity = target, quantity
            line.save(update_fields=["cart", "quantity", "updated_at"])
    if target.coupon_id is None and guest.coupon_id is not None:
        target.coupon_id = guest.coupon_id
    target.save(update_fields=["coupon", "updated_at"])
    guest.delete()
    return Cart.objects.select_related("coupon").get(pk=target.pk)


def cart_guest_delete_stale(*, now: datetime | None = None) -> int:
    """Delete guest carts untouched for `GUEST_CART_DAYS` (with their lines); how many carts."""
    stale = Cart.objects.filter(user__isnull=True, updated_at__lt=cart_guest_cutoff(now=now))
    deleted, per_model = stale.delete()
    return per_model.get(Cart._meta.label, 0)
