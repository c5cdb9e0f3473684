from decimal import Decimal

import pytest

from cart.services import cart_get_or_create, cart_item_add, cart_lock_for_checkout, cart_totals
from coupons.models import Coupon
from coupons.services import coupon_evaluate
from tests.factories import ProductFactory


@pytest.mark.django_db
def test_contract_smoke(user):
    product = ProductFactory(price=Decimal("33.33"), stock=5)
    cart_item_add(user=user, product_id=product.pk, quantity=3)
    Coupon.objects.create(code="TEN", discount_type="percent", value=Decimal("10"))
    cart = cart_get_or_create(user=user)
    totals = cart_totals(cart=cart, user=user)
    assert totals.subtotal == Decimal("99.99")
    ev = coupon_evaluate(code="ten", user=user, lines=totals.lines)
    assert ev.valid and ev.discount == Decimal("10.00")
    from django.db import transaction
    with transaction.atomic():
        cart2, items = cart_lock_for_checkout(user=user)
    assert cart2.pk == cart.pk and len(items) == 1
