from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cart.models import Cart, CartItem
from coupons.models import Coupon
from tests.cart.factories import CartFactory, CartItemFactory
from tests.coupons.factories import CouponFactory, RedemptionFactory
from tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

CART = "/api/cart/"
ITEMS = "/api/cart/items/"
COUPON = "/api/cart/coupon/"


def item_url(pk: int) -> str:
    return f"{ITEMS}{pk}/"


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", CART),
        ("delete", CART),
        ("post", ITEMS),
        ("patch", item_url(1)),
        ("delete", item_url(1)),
        ("post", COUPON),
        ("delete", COUPON),
        ("post", "/api/cart/merge/"),
        ("post", "/api/coupons/validate/"),
    ],
)
def test_anonymous_gets_401_when_guest_checkout_is_off(api_client: APIClient, settings, method, url):
    settings.GUEST_CHECKOUT = False
    response = getattr(api_client, method)(url, {}, format="json")
    assert response.status_code == 401


# --- reading ----------------------------------------------------------------------------------


def test_empty_cart_is_created_on_first_read(user, user_client):
    response = user_client.get(CART)
    assert response.status_code == 200
    assert response.json() == {
        "id": Cart.objects.get(user=user).pk,
        "token": None,
        "items": [],
        "subtotal": "0.00",
        "coupon": None,
        "coupon_error": "",
        "discount": "0.00",
        "total": "0.00",
        "currency": "usd",
        "item_count": 0,
    }


def test_cart_shows_lines_and_totals(user, user_client):
    product = ProductFactory(price=Decimal("3.33"), stock=10)
    variant = VariantFactory(price=Decimal("12.50"), stock=4)
    user_client.post(ITEMS, {"product": product.pk, "quantity": 3}, format="json")
    user_client.post(ITEMS, {"product": variant.product_id, "variant": variant.pk, "quantity": 2}, format="json")

    body = user_client.get(CART).json()

    assert body["subtotal"] == "34.99"
    assert body["total"] == "34.99"
    assert body["item_count"] == 5
    first, second = body["items"]
    assert first["product"] == {"id": product.pk, "slug": product.slug, "name": product.name}
    assert first["variant"] is None
    assert first["line_total"] == "9.99"
    assert first["available_stock"] == 10
    assert first["is_available"] is True and first["problem"] == ""
    assert first["currency"] == "usd"
    assert second["variant"] == {"id": variant.pk, "sku": variant.sku, "name": variant.name}
    assert second["unit_price"] == "12.50"
    assert second["available_stock"] == 4


def test_cart_read_is_a_constant_number_of_queries(user, user_client, django_assert_max_num_queries):
    category = CategoryFactory()
    coupon = CouponFactory(code="SCOPE", max_uses=100, max_uses_per_user=5, categories=[category])
    CartFactory(user=user, coupon=coupon)
    CartItemFactory(cart=user.cart, product=ProductFactory(category=category))
    with django_assert_max_num_queries(5):
        assert len(user_client.get(CART).json()["items"]) == 1
    for _ in range(19):
        CartItemFactory(cart=user.cart, product=ProductFactory(category=category), quantity=2)
    for _ in range(3):
        CartItemFactory(cart=user.cart, variant=VariantFactory())
    with django_assert_max_num_queries(5):
        body = user_client.get(CART).json()
    assert len(body["items"]) == 23
    assert body["coupon"]["code"] == "SCOPE"


# --- adding lines -----------------------------------------------------------------------------


def test_add_line_returns_201_item_with_price_snapshot(user, user_client):
    product = ProductFactory(price=Decimal("19.99"), stock=5)
    response = user_client.post(ITEMS, {"product": product.pk, "quantity": 2}, format="json")
    assert response.status_code == 201
    body = response.json()
    item = CartItem.objects.get(cart__user=user)
    assert body["id"] == item.pk
    assert body["quantity"] == 2
    assert body["unit_price"] == "19.99"
    assert body["line_total"] == "39.98"
    assert body["price_changed"] is False
    assert item.unit_price == Decimal("19.99")


def test_adding_same_line_again_adds_to_quantity(user, user_client):
    product = ProductFactory(stock=5)
    first = user_client.post(ITEMS, {"product": product.pk, "quantity": 2}, format="json").json()
    response = user_client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")
    assert response.status_code == 201
    assert response.json()["id"] == first["id"]
    assert response.json()["quantity"] == 3
    assert CartItem.objects.filter(cart__user=user).count() == 1


@pytest.mark.parametrize("quantity", [0, -1, 101, 10**12, 1.5, "abc", None, True])
def test_bad_quantity_is_400(user_client, quantity):
    product = ProductFactory(stock=1000)
    response = user_client.post(ITEMS, {"product": product.pk, "quantity": quantity}, format="json")
    assert response.status_code == 400
    assert "quantity" in response.json()
    assert not CartItem.objects.exists()


def test_line_quantity_cannot_grow_past_the_maximum(user_client):
    product = ProductFactory(stock=1000)
    user_client.post(ITEMS, {"product": product.pk, "quantity": 60}, format="json")
    response = user_client.post(ITEMS, {"product": product.pk, "quantity": 41}, format="json")
    assert response.status_code == 400
    assert "you already have 60" in response.json()["quantity"][0]
    assert CartItem.objects.get().quantity == 60


def test_more_than_stock_is_409_with_available_quantity(user_client):
    product = ProductFactory(stock=3)
    response = user_client.post(ITEMS, {"product": product.pk, "quantity": 4}, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "Only 3 available.", "available": 3}
    assert not CartItem.objects.exists()


def test_stock_check_counts_what_is_already_in_the_line(user_client):
    product = ProductFactory(stock=3)
    user_client.post(ITEMS, {"product": product.pk, "quantity": 2}, format="json")
    response = user_client.post(ITEMS, {"product": product.pk, "quantity": 2}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == "Only 3 available."
    assert CartItem.objects.get().quantity == 2


def test_out_of_stock_product_is_409(user_client):
    product = ProductFactory(stock=0)
    response = user_client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == "Only 0 available."


def test_product_with_variants_needs_a_variant(user_client):
    variant = VariantFactory()
    response = user_client.post(ITEMS, {"product": variant.product_id, "quantity": 1}, format="json")
    assert response.status_code == 400
    assert response.json() == {"variant": ["This product comes in variants; choose one."]}


def test_variant_of_another_product_is_400(user_client):
    product = ProductFactory()
    variant = VariantFactory()
    response = user_client.post(ITEMS, {"product": product.pk, "variant": variant.pk, "quantity": 1}, format="json")
    assert response.status_code == 400
    assert "variant" in response.json()


def test_unknown_product_is_400(user_client):
    response = user_client.post(ITEMS, {"product": 987654, "quantity": 1}, format="json")
    assert response.status_code == 400
    assert response.json() == {"product": ["This product does not exist."]}


def test_inactive_product_is_400(user_client):
    product = ProductFactory(is_active=False)
    response = user_client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")
    assert response.status_code == 400
    assert response.json() == {"product": ["This product is not available."]}


def test_inactive_variant_is_400(user_client):
    variant = VariantFactory(is_active=False)
    VariantFactory(product=variant.product)
    response = user_client.post(
        ITEMS, {"product": variant.product_id, "variant": variant.pk, "quantity": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"variant": ["This variant is not available."]}


def test_variant_line_uses_variant_price_and_stock(user_client):
    variant = VariantFactory(price=None, stock=2, product__price=Decimal("7.00"))
    ok = user_client.post(ITEMS, {"product": variant.product_id, "variant": variant.pk, "quantity": 2}, format="json")
    assert ok.status_code == 201
    assert ok.json()["unit_price"] == "7.00"
    more = user_client.post(
        ITEMS, {"product": variant.product_id, "variant": variant.pk, "quantity": 1}, format="json"
    )
    assert more.status_code == 409
    assert more.json()["available"] == 2


# --- warnings on read -------------------------------------------------------------------------


def test_price_change_keeps_snapshot_and_flags_line(user, user_client):
    product = ProductFactory(price=Decimal("10.00"), stock=5)
    user_client.post(ITEMS, {"product": product.pk, "quantity": 2}, format="json")
    product.price = Decimal("12.00")
    product.save()

    body = user_client.get(CART).json()

    line = body["items"][0]
    assert line["unit_price"] == "10.00"
    assert line["current_price"] == "12.00"
    assert line["price_changed"] is True
    assert body["subtotal"] == "20.00"


def test_inactive_product_is_flagged(user, user_client):
    product = ProductFactory(stock=5)
    user_client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")
    product.is_active = False
    product.save()

    line = user_client.get(CART).json()["items"][0]

    assert line["is_available"] is False
    assert line["problem"] == "This product is no longer available."


def test_inactive_variant_is_flagged(user, user_client):
    variant = VariantFactory(stock=5)
    user_client.post(ITEMS, {"product": variant.product_id, "variant": variant.pk, "quantity": 1}, format="json")
    variant.is_active = False
    variant.save()
    assert user_client.get(CART).json()["items"][0]["is_available"] is False


@pytest.mark.parametrize(("stock", "problem"), [(0, "Out of stock."), (1, "Only 1 available.")])
def test_stock_shortage_is_flagged(user, user_client, stock, problem):
    product = ProductFactory(stock=5)
    user_client.post(ITEMS, {"product": product.pk, "quantity": 2}, format="json")
    product.stock = stock
    product.save()

    line = user_client.get(CART).json()["items"][0]

    assert line["available_stock"] == stock
    assert line["is_available"] is False
    assert line["problem"] == problem


# --- changing and removing lines ----------------------------------------------------------------


def test_patch_sets_quantity(user, user_client):
    item = CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(stock=5), quantity=1)
    response = user_client.patch(item_url(item.pk), {"quantity": 4}, format="json")
    assert response.status_code == 200
    assert response.json()["quantity"] == 4
    item.refresh_from_db()
    assert item.quantity == 4


def test_patch_zero_removes_line_with_204(user, user_client):
    item = CartItemFactory(cart=CartFactory(user=user))
    response = user_client.patch(item_url(item.pk), {"quantity": 0}, format="json")
    assert response.status_code == 204
    assert not CartItem.objects.filter(pk=item.pk).exists()


def test_patch_above_stock_is_409(user, user_client):
    item = CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(stock=3), quantity=1)
    response = user_client.patch(item_url(item.pk), {"quantity": 4}, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "Only 3 available.", "available": 3}
    item.refresh_from_db()
    assert item.quantity == 1


def test_patch_may_lower_quantity_below_short_stock(user, user_client):
    item = CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(stock=1), quantity=5)
    response = user_client.patch(item_url(item.pk), {"quantity": 3}, format="json")
    assert response.status_code == 200
    assert response.json()["problem"] == "Only 1 available."


def test_patch_raising_quantity_of_inactive_product_is_409(user, user_client):
    item = CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(stock=5, is_active=False))
    response = user_client.patch(item_url(item.pk), {"quantity": 2}, format="json")
    assert response.status_code == 409


@pytest.mark.parametrize("quantity", [-1, 101, 2.5, "x"])
def test_patch_bad_quantity_is_400(user, user_client, quantity):
    item = CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(stock=500))
    response = user_client.patch(item_url(item.pk), {"quantity": quantity}, format="json")
    assert response.status_code == 400
    assert "quantity" in response.json()


def test_delete_line(user, user_client):
    item = CartItemFactory(cart=CartFactory(user=user))
    assert user_client.delete(item_url(item.pk)).status_code == 204
    assert not CartItem.objects.filter(pk=item.pk).exists()


def test_someone_elses_line_is_404(other_user, user_client):
    item = CartItemFactory(cart=CartFactory(user=other_user), product=ProductFactory(stock=10))
    assert user_client.patch(item_url(item.pk), {"quantity": 2}, format="json").status_code == 404
    assert user_client.delete(item_url(item.pk)).status_code == 404
    item.refresh_from_db()
    assert item.quantity == 1


def test_unknown_line_is_404(user_client):
    assert user_client.delete(item_url(999999)).status_code == 404


def test_delete_cart_empties_lines_and_coupon(user, user_client):
    cart = CartFactory(user=user, coupon=CouponFactory())
    CartItemFactory(cart=cart)
    CartItemFactory(cart=cart)
    assert user_client.delete(CART).status_code == 204
    cart.refresh_from_db()
    assert cart.items.count() == 0
    assert cart.coupon is None


# --- coupon on the cart -----------------------------------------------------------------------


def test_apply_coupon_case_insensitive(user, user_client):
    CouponFactory(code="SAVE10", value=Decimal("10"))
    CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(price=Decimal("33.33")), quantity=1)

    response = user_client.post(COUPON, {"code": "save10"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["coupon"] == {"code": "SAVE10", "discount_type": "percent", "value": "10.00"}
    assert body["discount"] == "3.33"
    assert body["total"] == "30.00"
    assert body["coupon_error"] == ""
    assert Cart.objects.get(user=user).coupon.code == "SAVE10"


def test_apply_unknown_coupon_is_400(user, user_client):
    response = user_client.post(COUPON, {"code": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"code": ["This coupon code does not exist."]}


def test_apply_coupon_below_minimum_is_400_with_reason(user, user_client):
    CouponFactory(code="MIN50", min_subtotal=Decimal("50.00"))
    CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(price=Decimal("10.00")))
    response = user_client.post(COUPON, {"code": "MIN50"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"code": ["This coupon needs a subtotal of at least 50.00."]}
    assert Cart.objects.get(user=user).coupon is None


def test_apply_coupon_without_code_is_400(user_client):
    assert user_client.post(COUPON, {}, format="json").status_code == 400


def test_remove_coupon(user, user_client):
    cart = CartFactory(user=user, coupon=CouponFactory())
    CartItemFactory(cart=cart)
    response = user_client.delete(COUPON)
    assert response.status_code == 200
    assert response.json()["coupon"] is None
    assert response.json()["discount"] == "0.00"
    cart.refresh_from_db()
    assert cart.coupon is None


def test_coupon_that_stops_applying_is_dropped_from_totals_with_reason(user, user_client):
    coupon = CouponFactory(code="SHORT", value=Decimal("50"))
    CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(price=Decimal("20.00")))
    user_client.post(COUPON, {"code": "SHORT"}, format="json")
    assert user_client.get(CART).json()["discount"] == "10.00"

    coupon.valid_until = timezone.now()
    coupon.save()
    body = user_client.get(CART).json()

    assert body["discount"] == "0.00"
    assert body["total"] == "20.00"
    assert body["coupon_error"] == "This coupon has expired."
    assert body["coupon"]["code"] == "SHORT"


def test_coupon_used_up_elsewhere_is_dropped_on_read(user, user_client):
    coupon = CouponFactory(code="LAST", max_uses=1)
    CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(price=Decimal("20.00")))
    user_client.post(COUPON, {"code": "LAST"}, format="json")
    RedemptionFactory(coupon=coupon)
    body = user_client.get(CART).json()
    assert body["coupon_error"] == "This coupon has been used up."
    assert body["discount"] == "0.00"


def test_coupon_comes_back_when_cart_qualifies_again(user, user_client):
    CouponFactory(code="MIN", discount_type=Coupon.DiscountType.FIXED, value=Decimal("5"), min_subtotal=Decimal("30"))
    product = ProductFactory(price=Decimal("20.00"), stock=10)
    item = user_client.post(ITEMS, {"product": product.pk, "quantity": 2}, format="json").json()
    user_client.post(COUPON, {"code": "MIN"}, format="json")
    user_client.patch(item_url(item["id"]), {"quantity": 1}, format="json")
    assert user_client.get(CART).json()["coupon_error"].startswith("This coupon needs a subtotal")
    user_client.patch(item_url(item["id"]), {"quantity": 2}, format="json")
    body = user_client.get(CART).json()
    assert body["coupon_error"] == "" and body["discount"] == "5.00" and body["total"] == "35.00"


def test_scoped_coupon_discounts_only_matching_lines_in_cart(user, user_client):
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    CouponFactory(code="KIDS", discount_type=Coupon.DiscountType.FIXED, value=Decimal("100"), categories=[parent])
    cart = CartFactory(user=user)
    CartItemFactory(cart=cart, product=ProductFactory(category=child, price=Decimal("15.00")))
    CartItemFactory(cart=cart, product=ProductFactory(price=Decimal("40.00")))
    body = user_client.post(COUPON, {"code": "kids"}, format="json").json()
    assert body["subtotal"] == "55.00"
    assert body["discount"] == "15.00"  # capped at the eligible line
    assert body["total"] == "40.00"


# --- prices: a line carries the price the customer was last shown ----------------------------------


def test_raising_a_line_quantity_takes_the_current_price(user, user_client):
    product = ProductFactory(price=Decimal("10.00"), stock=5)
    item = CartItemFactory(cart=CartFactory(user=user), product=product, quantity=1)
    product.price = Decimal("12.00")
    product.save()

    response = user_client.patch(item_url(item.pk), {"quantity": 2}, format="json")

    assert response.status_code == 200
    assert (response.json()["unit_price"], response.json()["price_changed"]) == ("12.00", False)
    item.refresh_from_db()
    assert item.unit_price == Decimal("12.00")


def test_lowering_a_line_quantity_keeps_its_price(user, user_client):
    product = ProductFactory(price=Decimal("10.00"), stock=5)
    item = CartItemFactory(cart=CartFactory(user=user), product=product, quantity=3)
    product.price = Decimal("12.00")
    product.save()

    response = user_client.patch(item_url(item.pk), {"quantity": 2}, format="json")

    assert (response.json()["unit_price"], response.json()["price_changed"]) == ("10.00", True)


def test_adding_to_an_existing_line_takes_the_current_price(user, user_client):
    product = ProductFactory(price=Decimal("10.00"), stock=5)
    user_client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")
    product.price = Decimal("8.00")
    product.save()

    response = user_client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")

    assert (response.json()["quantity"], response.json()["unit_price"]) == (2, "8.00")
    assert CartItem.objects.get(cart__user=user).unit_price == Decimal("8.00")


# --- categories: a product in an inactive category (or under one) is not sold ------------------------


def inactive_tree():
    """root (inactive) > child (active) > product."""
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    root.is_active = False
    root.save()
    return child


def test_a_product_in_an_inactive_category_cannot_be_added(user_client):
    category = CategoryFactory()
    product = ProductFactory(category=category, stock=5)
    category.is_active = False
    category.save()

    response = user_client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")

    assert response.status_code == 400
    assert response.json() == {"product": ["This product is not available."]}
    assert not CartItem.objects.exists()


def test_a_product_under_an_inactive_ancestor_category_cannot_be_added(user_client):
    product = ProductFactory(category=inactive_tree(), stock=5)

    response = user_client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")

    assert response.status_code == 400
    assert response.json() == {"product": ["This product is not available."]}


def test_raising_a_line_under_an_inactive_ancestor_category_is_409(user, user_client):
    product = ProductFactory(category=inactive_tree(), stock=5)
    item = CartItemFactory(cart=CartFactory(user=user), product=product, quantity=1)

    response = user_client.patch(item_url(item.pk), {"quantity": 2}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"] == "This product is no longer available."
    item.refresh_from_db()
    assert item.quantity == 1


def test_a_line_in_an_inactive_category_is_flagged(user, user_client):
    category = CategoryFactory()
    CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(category=category, stock=5))
    category.is_active = False
    category.save()

    line = user_client.get(CART).json()["items"][0]

    assert (line["is_available"], line["problem"]) == (False, "This product is no longer available.")
