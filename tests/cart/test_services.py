from decimal import Decimal

import pytest
from django.db import transaction

from cart.models import Cart
from cart.selectors import cart_items_for_read, cart_lines, cart_totals
from cart.services import cart_clear, cart_get_or_create, lock_cart
from coupons.models import Coupon
from tests.cart.factories import CartFactory, CartItemFactory
from tests.coupons.factories import CouponFactory
from tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_get_or_create_returns_the_one_cart(user):
    assert cart_get_or_create(user=user) == cart_get_or_create(user=user)
    assert Cart.objects.filter(user=user).count() == 1


def test_lines_use_stored_unit_price_and_category_path(user):
    category = CategoryFactory(parent=CategoryFactory())
    item = CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(category=category), quantity=3,
                           unit_price=Decimal("4.99"))
    item.product.price = Decimal("100.00")
    item.product.save()
    (line,) = cart_lines(items=user.cart.items.select_related("product__category"))
    assert line.unit_price == Decimal("4.99")
    assert line.line_total == Decimal("14.97")
    assert line.category_path == category.path
    assert (line.product_id, line.variant_id, line.quantity) == (item.product_id, None, 3)


def test_totals_with_applied_coupon(user):
    cart = CartFactory(user=user, coupon=CouponFactory(code="T", value=Decimal("33.33")))
    CartItemFactory(cart=cart, product=ProductFactory(price=Decimal("100.00")))
    totals = cart_totals(cart=cart, user=user)
    assert totals.subtotal == Decimal("100.00")
    assert totals.discount == Decimal("33.33")
    assert totals.total == Decimal("66.67")
    assert totals.coupon.code == "T" and totals.coupon_error == ""
    assert totals.item_count == 1


def test_totals_drop_coupon_that_no_longer_applies(user):
    cart = CartFactory(user=user, coupon=CouponFactory(code="OFF", is_active=False))
    CartItemFactory(cart=cart, quantity=2)
    totals = cart_totals(cart=cart)
    assert totals.coupon is None
    assert totals.discount == Decimal("0.00")
    assert totals.total == totals.subtotal == Decimal("20.00")
    assert totals.coupon_error == "This coupon code does not exist."
    assert totals.item_count == 2


def test_fixed_coupon_never_takes_total_below_zero(user):
    coupon = CouponFactory(code="HUGE", discount_type=Coupon.DiscountType.FIXED, value=Decimal("1000"))
    cart = CartFactory(user=user, coupon=coupon)
    CartItemFactory(cart=cart, product=ProductFactory(price=Decimal("9.99")))
    totals = cart_totals(cart=cart, user=user)
    assert totals.discount == Decimal("9.99") and totals.total == Decimal("0.00")


def test_lock_cart_creates_the_cart_and_its_lines_read_in_id_order(user):
    with transaction.atomic():
        cart = lock_cart(user=user)
        assert cart.user == user and list(cart_items_for_read(cart=cart)) == []
    first = CartItemFactory(cart=cart)
    second = CartItemFactory(cart=cart, variant=VariantFactory())
    with transaction.atomic():
        items = list(cart_items_for_read(cart=lock_cart(user=user)))
    assert [i.pk for i in items] == [first.pk, second.pk]


def test_clear_removes_lines_and_coupon(user):
    cart = CartFactory(user=user, coupon=CouponFactory())
    CartItemFactory(cart=cart)
    cart_clear(cart=cart)
    cart.refresh_from_db()
    assert cart.items.count() == 0 and cart.coupon is None
