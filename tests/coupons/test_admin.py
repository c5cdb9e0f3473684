from decimal import Decimal

import pytest
from django.test import Client

from coupons.models import Coupon
from tests.cart.factories import CartFactory, CartItemFactory
from tests.coupons.factories import CouponFactory, RedemptionFactory
from tests.factories import CategoryFactory

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


def add_form(**overrides) -> dict:
    return {
        "code": "spring",
        "discount_type": "percent",
        "value": "10",
        "min_subtotal": "0",
        "valid_from_0": "2030-01-01",
        "valid_from_1": "00:00:00",
        "is_active": "on",
        "redemptions-TOTAL_FORMS": "0",
        "redemptions-INITIAL_FORMS": "0",
        **overrides,
    }


def test_admin_add_saves_through_the_service_with_its_scope(admin_client_):
    category = CategoryFactory()
    response = admin_client_.post("/admin/coupons/coupon/add/", add_form(categories=[category.pk]))
    assert response.status_code == 302, response.content.decode()[:2000]
    coupon = Coupon.objects.get(code="SPRING")
    assert list(coupon.categories.all()) == [category]
    assert response.url == "/admin/coupons/coupon/"


def test_admin_form_shows_the_service_rules_on_their_field(admin_client_):
    response = admin_client_.post("/admin/coupons/coupon/add/", add_form(value="150"))
    assert response.status_code == 200
    assert "A percent discount cannot be more than 100." in response.content.decode()
    assert not Coupon.objects.exists()


def test_admin_change_and_bulk_actions_go_through_the_services(admin_client_):
    coupon = CouponFactory(code="OLD", is_active=True)
    response = admin_client_.post(
        f"/admin/coupons/coupon/{coupon.pk}/change/",
        add_form(code="new", discount_type="fixed", value="5", **{"redemptions-TOTAL_FORMS": "0"}),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    coupon.refresh_from_db()
    assert (coupon.code, coupon.value) == ("NEW", Decimal("5.00"))

    admin_client_.post(
        "/admin/coupons/coupon/", {"action": "deactivate", "_selected_action": [coupon.pk]}, follow=True
    )
    coupon.refresh_from_db()
    assert coupon.is_active is False
