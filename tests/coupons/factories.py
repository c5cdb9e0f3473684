"""Coupon factories, and a bare Order maker for redemptions (orders' own services are not needed here)."""

import itertools
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from coupons.models import Coupon, CouponRedemption
from orders.models import Order
from tests.factories import UserFactory

_order_numbers = itertools.count(1)


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"CODE{n}")
    discount_type = Coupon.DiscountType.PERCENT
    value = Decimal("10.00")
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))

    @factory.post_generation
    def categories(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.categories.set(extracted)

    @factory.post_generation
    def products(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.products.set(extracted)


def make_order(*, user, subtotal: Decimal = Decimal("100.00"), discount: Decimal = Decimal("0.00")) -> Order:
    """An Order row as checkout would leave it (total = subtotal - discount + shipping)."""
    return Order.objects.create(
        number=f"TEST-CPN-{next(_order_numbers):06d}-{user.pk}",
        user=user,
        subtotal=subtotal,
        discount=discount,
        shipping=Decimal("0.00"),
        total=subtotal - discount,
        shipping_address={},
        billing_address={},
        payment_deadline=timezone.now() + timedelta(minutes=30),
    )


class RedemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouponRedemption

    coupon = factory.SubFactory(CouponFactory)
    user = factory.SubFactory(UserFactory)
    order = factory.LazyAttribute(lambda o: make_order(user=o.user))
    amount = Decimal("5.00")
