import pytest
from django.test import Client

from tests.cart.factories import CartFactory, CartItemFactory
from tests.coupons.factories import CouponFactory, RedemptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(staff_user) -> Client:
    staff_user.is_superuser = True
    staff_user.save()
    client = Client()
    client.force_login(staff_user)
    return client


def test_coupon_changelist_shows_redemption_count(admin_client_):
    coupon = CouponFactory(code="COUNTED")
    RedemptionFactory(coupon=coupon)
    RedemptionFactory(coupon=coupon)
    response = admin_client_.get("/admin/coupons/coupon/", {"q": "counted"})
    assert response.status_code == 200
    assert response.context["cl"].result_list[0].times_used == 2


def test_admin_pages_render(admin_client_):
    redemption = RedemptionFactory()
    cart = CartFactory()
    CartItemFactory(cart=cart)
    for url in [
        f"/admin/coupons/coupon/{redemption.coupon_id}/change/",
        "/admin/coupons/couponredemption/",
        f"/admin/coupons/couponredemption/{redemption.pk}/change/",
        "/admin/cart/cart/",
        f"/admin/cart/cart/{cart.pk}/change/",
    ]:
        assert admin_client_.get(url).status_code == 200, url


def test_admin_form_refuses_duplicate_code_in_other_case(admin_client_):
    CouponFactory(code="TAKEN")
    response = admin_client_.post(
        "/admin/coupons/coupon/add/",
        {
            "code": "taken",
            "discount_type": "fixed",
            "value": "1",
            "min_subtotal": "0",
            "valid_from_0": "2030-01-01",
            "valid_from_1": "00:00:00",
            "is_active": "on",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "already in use" in response.content.decode()
