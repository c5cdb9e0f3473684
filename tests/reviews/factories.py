"""Purchases and reviews for the reviews tests: orders are built as rows, without going through checkout."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import Order, OrderItem
from reviews.models import Review
from tests.factories import ProductFactory, UserFactory


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"ORD-TEST-{n:06d}")
    user = factory.SubFactory(UserFactory)
    status = Order.Status.PAID
    subtotal = Decimal("10.00")
    discount = Decimal("0.00")
    shipping = Decimal("0.00")
    total = factory.LazyAttribute(lambda o: o.subtotal - o.discount + o.shipping)
    shipping_address = factory.LazyFunction(dict)
    billing_address = factory.LazyFunction(dict)
    payment_deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    variant = None
    sku = factory.LazyAttribute(lambda o: o.variant.sku if o.variant else o.product.sku)
    name = factory.LazyAttribute(lambda o: o.product.name)
    unit_price = Decimal("10.00")
    quantity = 1
    line_total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)


def purchase(*, user, product, status: str = Order.Status.PAID, variant=None) -> Order:
    """An order of `user` in `status` with one line of `product` (of `variant` when given)."""
    order = OrderFactory(user=user, status=status)
    OrderItemFactory(order=order, product=product, variant=variant)
    return order


class ReviewFactory(factory.django.DjangoModelFactory):
    """A bare review row (no aggregate refresh): for read tests. Writes under test go through the services."""

    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    user = factory.SubFactory(UserFactory)
    rating = 4
    title = factory.Sequence(lambda n: f"Review {n}")
    body = "Does what it says."
    verified_purchase = True
