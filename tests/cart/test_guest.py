"""Guest carts: X-Cart-Token, its 404s, merging into a user's cart, and the stale-cart cleanup."""

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cart.models import Cart, CartItem
from cart.tasks import delete_stale_guest_carts
from tests.cart.factories import CartFactory, CartItemFactory
from tests.coupons.factories import CouponFactory
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

CART = "/api/cart/"
ITEMS = "/api/cart/items/"
COUPON = "/api/cart/coupon/"
MERGE = "/api/cart/merge/"
VALIDATE = "/api/coupons/validate/"


def guest_add(client: APIClient, product, quantity: int = 1, token: str | None = None):
    headers = {"HTTP_X_CART_TOKEN": token} if token else {}
    return client.post(ITEMS, {"product": product.pk, "quantity": quantity}, format="json", **headers)


def new_guest_cart(product, quantity: int = 1) -> str:
    response = guest_add(APIClient(), product, quantity)
    assert response.status_code == 201, response.json()
    return response.json()["token"]


def test_a_guests_first_line_creates_a_cart_whose_token_is_answered_and_stored_hashed(api_client):
    product = ProductFactory(stock=5)

    response = guest_add(api_client, product, 2)

    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    assert response["X-Cart-Token"] == token
    assert len(token) >= 43  # token_urlsafe(32): 256 random bits, well above 128
    cart = Cart.objects.get()
    assert cart.user_id is None
    assert cart.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Cart.objects.values().get())  # only the hash is stored
    assert (body["product"]["id"], body["quantity"]) == (product.pk, 2)


def test_a_guest_cart_is_read_and_written_with_its_token(api_client):
    product, other = ProductFactory(stock=5, price=Decimal("4.00")), ProductFactory(stock=5)
    token = new_guest_cart(product, 1)

    guest_add(api_client, product, 2, token=token)
    added = guest_add(api_client, other, 1, token=token).json()
    api_client.patch(f"{ITEMS}{added['id']}/", {"quantity": 3}, format="json", HTTP_X_CART_TOKEN=token)
    response = api_client.get(CART, HTTP_X_CART_TOKEN=token)

    assert response.status_code == 200
    body = response.json()
    assert body["token"] == token and response["X-Cart-Token"] == token
    assert [(line["product"]["id"], line["quantity"]) for line in body["items"]] == [(product.pk, 3), (other.pk, 3)]
    assert body["item_count"] == 6
    assert Cart.objects.count() == 1
    assert api_client.delete(f"{ITEMS}{added['id']}/", HTTP_X_CART_TOKEN=token).status_code == 204
    assert api_client.delete(CART, HTTP_X_CART_TOKEN=token).status_code == 204
    assert CartItem.objects.count() == 0


def test_a_guest_without_a_token_reads_an_empty_cart_and_nothing_is_created(api_client):
    response = api_client.get(CART)

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["token"], body["items"], body["total"]) == (None, None, [], "0.00")
    assert "X-Cart-Token" not in response
    assert Cart.objects.count() == 0


@pytest.mark.parametrize(("method", "url"), [("get", CART), ("delete", CART), ("post", ITEMS), ("delete", COUPON)])
def test_an_unknown_token_is_a_404(api_client, method, url):
    product = ProductFactory()
    response = getattr(api_client, method)(
        url, {"product": product.pk, "quantity": 1}, format="json", HTTP_X_CART_TOKEN="not-a-real-token"
    )
    assert response.status_code == 404
    assert Cart.objects.count() == 0


def test_a_token_untouched_for_guest_cart_days_is_expired(api_client, settings):
    settings.GUEST_CART_DAYS = 30
    token = new_guest_cart(ProductFactory())
    Cart.objects.update(updated_at=timezone.now() - timedelta(days=31))

    assert api_client.get(CART, HTTP_X_CART_TOKEN=token).status_code == 404


def test_a_guest_cannot_touch_another_guests_line(api_client):
    product = ProductFactory(stock=5)
    mine, theirs = new_guest_cart(product), new_guest_cart(product)
    their_line = CartItem.objects.get(cart__token_hash=hashlib.sha256(theirs.encode()).hexdigest())

    response = api_client.patch(f"{ITEMS}{their_line.pk}/", {"quantity": 2}, format="json", HTTP_X_CART_TOKEN=mine)

    assert response.status_code == 404
    their_line.refresh_from_db()
    assert their_line.quantity == 1


def test_a_users_cart_has_no_token_and_ignores_x_cart_token(user, user_client):
    product = ProductFactory(stock=5)
    token = new_guest_cart(product, 2)

    response = user_client.get(CART, HTTP_X_CART_TOKEN=token)

    assert response.status_code == 200
    assert response.json()["token"] is None and response.json()["items"] == []
    added = user_client.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json", HTTP_X_CART_TOKEN=token)
    assert added.json()["token"] is None and "X-Cart-Token" not in added
    assert CartItem.objects.get(cart__user=user).quantity == 1
    assert CartItem.objects.get(cart__user__isnull=True).quantity == 2  # the guest cart is untouched


def test_a_guest_applies_and_removes_a_coupon_and_validates_against_its_cart(api_client):
    product = ProductFactory(stock=5, price=Decimal("20.00"))
    CouponFactory(code="TEN", value=Decimal("10"), min_subtotal=Decimal("30.00"))
    token = new_guest_cart(product, 1)

    too_small = api_client.post(VALIDATE, {"code": "ten"}, format="json", HTTP_X_CART_TOKEN=token).json()
    guest_add(api_client, product, 1, token=token)
    valid = api_client.post(VALIDATE, {"code": "ten"}, format="json", HTTP_X_CART_TOKEN=token).json()
    applied = api_client.post(COUPON, {"code": "ten"}, format="json", HTTP_X_CART_TOKEN=token)

    assert too_small["valid"] is False
    assert (valid["valid"], valid["discount"]) == (True, "4.00")
    assert applied.status_code == 200
    assert (applied.json()["coupon"]["code"], applied.json()["total"]) == ("TEN", "36.00")
    removed = api_client.delete(COUPON, HTTP_X_CART_TOKEN=token)
    assert (removed.json()["coupon"], removed.json()["total"]) == (None, "40.00")


def test_a_guest_without_a_cart_cannot_apply_a_coupon(api_client):
    CouponFactory(code="TEN")
    response = api_client.post(COUPON, {"code": "TEN"}, format="json")
    assert response.status_code == 400 and "code" in response.json()
    assert Cart.objects.count() == 0


# --- merge ------------------------------------------------------------------------------------


def test_merge_sums_quantities_capped_at_stock_keeps_the_guest_coupon_and_kills_the_token(user, user_client):
    shared, only_guest = ProductFactory(stock=4, price=Decimal("5.00")), ProductFactory(stock=9)
    coupon = CouponFactory(code="WELCOME")
    CartItemFactory(cart=CartFactory(user=user), product=shared, quantity=3)
    token = new_guest_cart(shared, 2)
    guest_add(APIClient(), only_guest, 2, token=token)
    APIClient().post(COUPON, {"code": "WELCOME"}, format="json", HTTP_X_CART_TOKEN=token)

    response = user_client.post(MERGE, {"token": token}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert [(line["product"]["id"], line["quantity"]) for line in body["items"]] == [(shared.pk, 4), (only_guest.pk, 2)]
    assert body["coupon"]["code"] == "WELCOME" and body["token"] is None
    assert Cart.objects.get(user=user).coupon == coupon
    assert not Cart.objects.filter(user__isnull=True).exists()
    assert APIClient().get(CART, HTTP_X_CART_TOKEN=token).status_code == 404
    assert user_client.post(MERGE, {"token": token}, format="json").status_code == 404


def test_merge_keeps_the_users_own_coupon(user, user_client):
    mine, theirs = CouponFactory(code="MINE"), CouponFactory(code="THEIRS")
    CartFactory(user=user, coupon=mine)
    token = new_guest_cart(ProductFactory())
    Cart.objects.filter(user__isnull=True).update(coupon=theirs)

    body = user_client.post(MERGE, {"token": token}, format="json").json()

    assert body["coupon"]["code"] == "MINE"
    assert len(body["items"]) == 1


def test_merge_needs_a_user_and_a_live_token(api_client, user_client):
    token = new_guest_cart(ProductFactory())
    assert api_client.post(MERGE, {"token": token}, format="json").status_code == 401
    assert user_client.post(MERGE, {"token": "unknown"}, format="json").status_code == 404
    assert user_client.post(MERGE, {}, format="json").status_code == 400


# --- cleanup ----------------------------------------------------------------------------------


def test_the_periodic_task_deletes_only_guest_carts_untouched_for_guest_cart_days(settings):
    settings.GUEST_CART_DAYS = 30
    product = ProductFactory()
    stale, fresh = new_guest_cart(product), new_guest_cart(product)
    users_cart = CartItemFactory(cart=CartFactory(user=UserFactory()), product=product).cart
    Cart.objects.filter(pk__in=[users_cart.pk]).update(updated_at=timezone.now() - timedelta(days=400))
    Cart.objects.filter(token_hash=hashlib.sha256(stale.encode()).hexdigest()).update(
        updated_at=timezone.now() - timedelta(days=31)
    )

    assert delete_stale_guest_carts.delay().get() == 1

    assert Cart.objects.filter(token_hash=hashlib.sha256(fresh.encode()).hexdigest()).exists()
    assert Cart.objects.filter(pk=users_cart.pk).exists()
    assert Cart.objects.count() == 2
    assert CartItem.objects.count() == 2


def test_reading_a_guest_cart_takes_a_fixed_number_of_queries(api_client, django_assert_num_queries):
    products = [ProductFactory(stock=5) for _ in range(4)]
    token = new_guest_cart(products[0])
    for product in products[1:]:
        guest_add(api_client, product, 1, token=token)

    # the cart by its token hash (coupon joined), then its lines with products, categories and variants
    with django_assert_num_queries(2):
        response = api_client.get(CART, HTTP_X_CART_TOKEN=token)

    assert len(response.json()["items"]) == 4
