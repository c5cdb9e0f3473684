"""Coupon and redemption factories (the redeeming order is a tests.factories.OrderFactory row)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from coupons.models import Coupon, CouponRedemption
from tests.factories import OrderFactory, UserFactory


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


class RedemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouponRedemption

    coupon = factory.SubFactory(CouponFactory)
    user = factory.SubFactory(UserFactory)
    order = factory.SubFactory(OrderFactory, user=factory.SelfAttribute("..user"))
    amount = Decimal("5.00")
