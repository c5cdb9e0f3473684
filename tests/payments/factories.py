"""Orders for payment tests: placed through orders' order_place, or built directly with exact amounts."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from orders.models import Order, OrderItem, OrderNumber, OrderStatusChange
from tests.factories import AddressFactory, ProductFactory, UserFactory


def order_placed(*, user=None, quantity: int = 2, stock: int = 10, price: Decimal = Decimal("10.00")) -> Order:
    """A real pending order: the cart filled and checked out through the cart and orders services."""
    from cart.services import cart_item_add
    from orders.services import order_place

    user = user or UserFactory()
    product = ProductFactory(stock=stock, price=price)
    cart_item_add(user=user, product_id=product.pk, variant_id=None, quantity=quantity)
    return order_place(user=user, shipping_address_id=AddressFactory(user=user).pk)


def order_build(
    *,
    user=None,
    lines=((Decimal("12.50"), 2), (Decimal("5.00"), 1)),
    discount: Decimal = Decimal("0.00"),
    shipping: Decimal = Decimal("0.00"),
    status: str = Order.Status.PENDING,
    currency: str = "usd",
    deadline_in: timedelta = timedelta(minutes=30),
) -> Order:
    """An order row with its item snapshots, built directly (no stock taken) with the given amounts."""
    user = user or UserFactory()
    subtotal = sum((price * qty for price, qty in lines), Decimal("0.00"))
    address = {"full_name": "Ada Lovelace", "line1": "1 Main St", "line2": "", "city": "London",
               "region": "", "postal_code": "N1", "country": "GB", "phone": ""}
    order = Order.objects.create(
        number=f"ORD-{timezone.now().year}-{OrderNumber.objects.create().pk:06d}",
        user=user,
        status=status,
        currency=currency,
        subtotal=subtotal,
        discount=discount,
        shipping=shipping,
        total=subtotal - discount + shipping,
        shipping_address=address,
        billing_address=address,
        payment_deadline=timezone.now() + deadline_in,
        paid_at=timezone.now() if status != Order.Status.PENDING else None,
    )
    for index, (price, qty) in enumerate(lines):
        product = ProductFactory(stock=10)
        OrderItem.objects.create(order=order, product=product, sku=product.sku, name=f"Item {index}",
                                 unit_price=price, quantity=qty, line_total=price * qty)
    OrderStatusChange.objects.create(order=order, from_status="", to_status=status)
    return order
