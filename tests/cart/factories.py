from decimal import Decimal

import factory

from cart.models import Cart, CartItem
from tests.factories import ProductFactory, UserFactory


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart
        django_get_or_create = ["user"]

    user = factory.SubFactory(UserFactory)


class CartItemFactory(factory.django.DjangoModelFactory):
    """A line written directly (no stock checks): for setting up states the API would refuse."""

    class Meta:
        model = CartItem

    cart = factory.SubFactory(CartFactory)
    product = factory.SubFactory(ProductFactory)
    variant = None
    quantity = 1
    unit_price = factory.LazyAttribute(
        lambda o: o.variant.effective_price if o.variant is not None else (o.product.price or Decimal("0.00"))
    )
