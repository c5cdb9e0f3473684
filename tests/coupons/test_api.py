from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cart.models import Cart
from coupons.models import Coupon
from tests.cart.factories import CartFactory, CartItemFactory
from tests.coupons.factories import CouponFactory, RedemptionFactory
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

VALIDATE = "/api/coupons/validate/"
COUPONS = "/api/coupons/"


def detail(pk: int) -> str:
    return f"{COUPONS}{pk}/"


# --- validate ---------------------------------------------------------------------------------


def test_validate_against_the_cart(user, user_client):
    CouponFactory(code="TEN", value=Decimal("10"))
    CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(price=Decimal("45.55")))
    response = user_client.post(VALIDATE, {"code": "ten"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"valid": True, "code": "TEN", "discount": "4.56", "reason": "", "currency": "usd"}


def test_validate_reads_the_cart_without_creating_one(user, user_client):
    CouponFactory(code="TEN", value=Decimal("10"))
    body = user_client.post(VALIDATE, {"code": "TEN"}, format="json").json()
    assert (body["valid"], body["reason"]) == (False, "Nothing in your cart is eligible for this coupon.")
    assert not Cart.objects.filter(user=user).exists()


def test_validate_against_a_subtotal(user_client):
    CouponFactory(code="FIX", discount_type=Coupon.DiscountType.FIXED, value=Decimal("20"))
    body = user_client.post(VALIDATE, {"code": "FIX", "subtotal": "12.50"}, format="json").json()
    assert body["valid"] is True and body["discount"] == "12.50"


def test_validate_subtotal_below_minimum(user_client):
    CouponFactory(code="MIN", min_subtotal=Decimal("100"))
    body = user_client.post(VALIDATE, {"code": "MIN", "subtotal": "99.99"}, format="json").json()
    assert body == {
        "valid": False,
        "code": "MIN",
        "discount": "0.00",
        "reason": "This coupon needs a subtotal of at least 100.00.",
        "currency": "usd",
    }


def test_validate_unknown_code_is_200_invalid(user_client):
    response = user_client.post(VALIDATE, {"code": "ghost"}, format="json")
    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert response.json()["reason"] == "This coupon code does not exist."


def test_validate_scoped_coupon_ignores_bare_subtotal_and_uses_cart(user, user_client):
    category = CategoryFactory()
    CouponFactory(code="CAT", value=Decimal("50"), categories=[category])
    body = user_client.post(VALIDATE, {"code": "CAT", "subtotal": "100.00"}, format="json").json()
    assert body["valid"] is False
    assert body["reason"] == "Nothing in your cart is eligible for this coupon."
    CartItemFactory(cart=CartFactory(user=user), product=ProductFactory(category=category, price=Decimal("8.00")))
    body = user_client.post(VALIDATE, {"code": "CAT", "subtotal": "100.00"}, format="json").json()
    assert body["valid"] is True and body["discount"] == "4.00"


def test_validate_reports_per_user_use(user, user_client):
    coupon = CouponFactory(code="ONCE", max_uses_per_user=1)
    RedemptionFactory(coupon=coupon, user=user)
    body = user_client.post(VALIDATE, {"code": "ONCE", "subtotal": "10"}, format="json").json()
    assert body["valid"] is False and body["reason"] == "You have already used this coupon."


@pytest.mark.parametrize("payload", [{}, {"code": ""}, {"code": "X", "subtotal": "-1"}, {"code": "X", "subtotal": "a"}])
def test_validate_bad_input_is_400(user_client, payload):
    assert user_client.post(VALIDATE, payload, format="json").status_code == 400


def test_validate_anonymous_is_401_when_guest_checkout_is_off(api_client, settings):
    settings.GUEST_CHECKOUT = False
    assert api_client.post(VALIDATE, {"code": "X"}, format="json").status_code == 401


# --- staff CRUD -------------------------------------------------------------------------------


def test_non_staff_gets_403(user_client):
    coupon = CouponFactory()
    assert user_client.get(COUPONS).status_code == 403
    payload = {"code": "X", "discount_type": "fixed", "value": "1"}
    assert user_client.post(COUPONS, payload, format="json").status_code == 403
    assert user_client.get(detail(coupon.pk)).status_code == 403
    assert user_client.delete(detail(coupon.pk)).status_code == 403


def test_anonymous_gets_401(api_client):
    assert api_client.get(COUPONS).status_code == 401


def test_staff_lists_coupons_with_times_used_in_constant_queries(staff_client, django_assert_max_num_queries):
    category = CategoryFactory()
    for n in range(5):
        coupon = CouponFactory(code=f"C{n}", categories=[category], products=[ProductFactory()])
        RedemptionFactory(coupon=coupon)
        released = RedemptionFactory(coupon=coupon)
        released.released_at = timezone.now()
        released.save()
    with django_assert_max_num_queries(4):
        response = staff_client.get(COUPONS)
    body = response.json()
    assert body["count"] == 5
    first = body["results"][0]
    assert first["times_used"] == 1
    assert first["categories"] == [category.pk]
    assert len(first["products"]) == 1


def test_staff_creates_coupon(staff_client):
    category, product = CategoryFactory(), ProductFactory()
    payload = {
        "code": "welcome5",
        "description": "Five off",
        "discount_type": "fixed",
        "value": "5.00",
        "min_subtotal": "20.00",
        "valid_from": "2030-01-01T00:00:00Z",
        "valid_until": "2030-02-01T00:00:00Z",
        "max_uses": 100,
        "max_uses_per_user": 1,
        "categories": [category.pk],
        "products": [product.pk],
    }
    response = staff_client.post(COUPONS, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code"] == "WELCOME5"
    assert body["value"] == "5.00"
    assert body["times_used"] == 0
    assert body["is_active"] is True
    assert body["categories"] == [category.pk] and body["products"] == [product.pk]
    coupon = Coupon.objects.get(pk=body["id"])
    assert coupon.code == "WELCOME5" and coupon.max_uses_per_user == 1


def test_duplicate_code_in_other_case_is_400(staff_client):
    CouponFactory(code="SALE")
    response = staff_client.post(COUPONS, {"code": "sale", "discount_type": "fixed", "value": "1"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"code": ["The code 'SALE' is already in use."]}


def test_percent_above_100_is_400(staff_client):
    response = staff_client.post(COUPONS, {"code": "X", "discount_type": "percent", "value": "150"}, format="json")
    assert response.status_code == 400
    assert "value" in response.json()


def test_valid_until_before_valid_from_is_400(staff_client):
    payload = {
        "code": "X",
        "discount_type": "fixed",
        "value": "1",
        "valid_from": "2030-02-01T00:00:00Z",
        "valid_until": "2030-01-01T00:00:00Z",
    }
    response = staff_client.post(COUPONS, payload, format="json")
    assert response.status_code == 400
    assert "valid_until" in response.json()


@pytest.mark.parametrize(
    "payload",
    [
        {"discount_type": "fixed", "value": "1"},
        {"code": "X", "discount_type": "bogus", "value": "1"},
        {"code": "X", "discount_type": "fixed", "value": "0"},
        {"code": "X", "discount_type": "fixed", "value": "1", "categories": [987654]},
        {"code": "X", "discount_type": "fixed", "value": "1", "max_uses": 0},
        {"code": "X", "discount_type": "fixed", "value": "1", "max_uses": 2_275_581_154_970_610},
        {"code": "X", "discount_type": "fixed", "value": "1", "max_uses_per_user": 2**31},
    ],
)
def test_bad_coupon_input_is_400(staff_client, payload):
    assert staff_client.post(COUPONS, payload, format="json").status_code == 400
    assert not Coupon.objects.exists()


def test_staff_patches_coupon(staff_client):
    coupon = CouponFactory(code="OLD", value=Decimal("10"))
    product = ProductFactory()
    response = staff_client.patch(detail(coupon.pk), {"value": "25", "products": [product.pk]}, format="json")
    assert response.status_code == 200
    assert response.json()["value"] == "25.00"
    assert response.json()["products"] == [product.pk]
    coupon.refresh_from_db()
    assert coupon.value == Decimal("25")


def test_patch_into_invalid_state_is_400(staff_client):
    coupon = CouponFactory(discount_type="fixed", value=Decimal("150"))
    response = staff_client.patch(detail(coupon.pk), {"discount_type": "percent"}, format="json")
    assert response.status_code == 400
    coupon.refresh_from_db()
    assert coupon.discount_type == "fixed"


def test_patch_valid_until_before_existing_valid_from_is_400(staff_client):
    coupon = CouponFactory()
    until = (coupon.valid_from - timedelta(hours=1)).isoformat()
    assert staff_client.patch(detail(coupon.pk), {"valid_until": until}, format="json").status_code == 400


def test_staff_deletes_unused_coupon(staff_client):
    coupon = CouponFactory()
    assert staff_client.delete(detail(coupon.pk)).status_code == 204
    assert not Coupon.objects.filter(pk=coupon.pk).exists()


def test_deleting_redeemed_coupon_is_409(staff_client):
    redemption = RedemptionFactory()
    response = staff_client.delete(detail(redemption.coupon_id))
    assert response.status_code == 409
    assert "deactivate" in response.json()["detail"]


def test_filter_by_active(staff_client):
    CouponFactory(is_active=True)
    CouponFactory(is_active=False)
    assert staff_client.get(COUPONS, {"is_active": "false"}).json()["count"] == 1
