"""Coupon codes cannot be guessed at speed: validating and applying are throttled per client."""

import pytest

from tests.coupons.factories import CouponFactory

pytestmark = pytest.mark.django_db

VALIDATE = "/api/coupons/validate/"
APPLY = "/api/cart/coupon/"


@pytest.fixture
def coupon_rate(settings):
    def set_rate(rate: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "coupon": rate},
        }

    return set_rate


@pytest.mark.parametrize("path", [VALIDATE, APPLY])
def test_trying_codes_is_throttled(user_client, coupon_rate, path):
    coupon_rate("3/minute")

    statuses = [user_client.post(path, {"code": f"GUESS{i}"}, format="json").status_code for i in range(4)]

    assert 429 not in statuses[:3]
    assert statuses[3] == 429


def test_validation_and_application_share_one_budget(user_client, coupon_rate):
    coupon_rate("2/minute")
    assert user_client.post(VALIDATE, {"code": "A"}, format="json").status_code == 200
    assert user_client.post(APPLY, {"code": "B"}, format="json").status_code == 400
    throttled = user_client.post(VALIDATE, {"code": "C"}, format="json")
    assert throttled.status_code == 429
    assert "Retry-After" in throttled.headers


def test_the_budget_is_per_client(user_client, other_client, coupon_rate):
    coupon_rate("1/minute")
    CouponFactory(code="REAL")
    assert user_client.post(VALIDATE, {"code": "X"}, format="json").status_code == 200
    assert user_client.post(VALIDATE, {"code": "REAL"}, format="json").status_code == 429
    assert other_client.post(VALIDATE, {"code": "REAL"}, format="json").status_code == 200


def test_reading_the_cart_and_removing_the_coupon_are_not_counted(user_client, coupon_rate):
    coupon_rate("1/minute")
    for _ in range(3):
        assert user_client.get("/api/cart/").status_code == 200
        assert user_client.delete(APPLY).status_code == 200
    assert user_client.post(VALIDATE, {"code": "X"}, format="json").status_code == 200


def test_the_default_coupon_rate_comes_from_the_setting():
    import config.settings as project_settings

    assert project_settings.COUPON_THROTTLE_RATE == "30/minute"
    assert project_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["coupon"] == "30/minute"
