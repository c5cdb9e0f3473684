"""Orders test helpers: carts filled through the cart service, orders placed or built directly."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import Order, OrderItem, OrderNumber, OrderStatusChange
from tests.factories import AddressFactory, ProductFactory, UserFactory


def fill_cart(user, *lines):
    """Put `(product, quantity)` or `(product, variant, quantity)` lines in the user's cart."""
    from cart.services import cart_item_add

    for line in lines:
        product, variant, quantity = line if len(line) == 3 else (line[0], None, line[1])
        cart_item_add(user=user, product_id=product.pk, variant_id=variant.pk if variant else None, quantity=quantity)


def apply_coupon(user, code: str) -> None:
    from cart.services import cart_coupon_apply

    cart_coupon_apply(user=user, code=code)


def place(user=None, *lines, address=None, **kwargs) -> Order:
    """Fill the cart (one product with stock 10 by default) and check out through order_place."""
    from orders.services import order_place

    user = user or UserFactory()
    address = address or AddressFactory(user=user)
    fill_cart(user, *(lines or [(ProductFactory(stock=10), 1)]))
    return order_place(user=user, shipping_address_id=address.pk, **kwargs)


class OrderFactory(factory.django.DjangoModelFactory):
    """An order row built directly (no stock taken): for status machine and read tests."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    number = factory.LazyFunction(lambda: f"ORD-{timezone.now().year}-{OrderNumber.objects.create().pk:06d}")
    user = factory.SubFactory(UserFactory)
    status = Order.Status.PENDING
    subtotal = Decimal("20.00")
    discount = Decimal("0.00")
    shipping = Decimal("0.00")
    total = Decimal("20.00")
    shipping_address = factory.LazyFunction(
        lambda: {"full_name": "Ada Lovelace", "line1": "1 Main St", "line2": "", "city": "London", "region": "",
                 "postal_code": "N1", "country": "GB", "phone": ""}
    )
    billing_address = factory.SelfAttribute("shipping_address")
    payment_deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))

    @factory.post_generation
    def items(obj, create, extracted, **kwargs):
        if not create:
            return
        product = extracted or ProductFactory(stock=5)
        OrderItem.objects.create(order=obj, product=product, sku=product.sku, name=product.name,
                                 unit_price=Decimal("10.00"), quantity=2, line_total=Decimal("20.00"))
        OrderStatusChange.objects.create(order=obj, from_status="", to_status=obj.status)
