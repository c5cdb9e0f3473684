"""Orders test helpers: carts filled through the cart service and orders placed through checkout.

Order rows built directly (no checkout) come from tests.factories.OrderFactory.
"""

from cart.services import cart_coupon_apply, cart_item_add
from orders.models import Order
from orders.services import order_place
from tests.factories import AddressFactory, ProductFactory, UserFactory


def fill_cart(user, *lines):
    """Put `(product, quantity)` or `(product, variant, quantity)` lines in the user's cart."""
    for line in lines:
        product, variant, quantity = line if len(line) == 3 else (line[0], None, line[1])
        cart_item_add(user=user, product_id=product.pk, variant_id=variant.pk if variant else None, quantity=quantity)


def apply_coupon(user, code: str) -> None:
    cart_coupon_apply(user=user, code=code)


def place(user=None, *lines, address=None, **kwargs) -> Order:
    """Fill the cart (one product with stock 10 by default) and check out through order_place."""
    user = user or UserFactory()
    address = address or AddressFactory(user=user)
    fill_cart(user, *(lines or [(ProductFactory(stock=10), 1)]))
    return order_place(user=user, shipping_address_id=address.pk, **kwargs)
