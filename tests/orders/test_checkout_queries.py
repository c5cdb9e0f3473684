"""SQL statements of one checkout over HTTP, as the benchmark counts them: JWT-authenticated or guest, 1 or 20
cart lines, real transactions (BEGIN/COMMIT counted) and the confirmation email relayed through the outbox to a
real broker after the commit. The number is pinned, and it does not grow with the cart.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import AccessToken

from catalog.models import Product
from common.models import OutboxMessage
from coupons.models import Coupon, CouponRedemption
from orders.models import Order
from orders.services import order_place
from tests.catalog.audit import assert_stock_matches_ledger
from tests.factories import AddressFactory, ProductFactory, UserFactory, VariantFactory
from tests.orders.factories import apply_coupon, fill_cart
from tests.orders.test_guest_checkout import ADDRESS, guest_cart

pytestmark = pytest.mark.django_db(transaction=True)

# JWT user, BEGIN, address, cart (locked, coupon joined), its lines (products, categories, variants and the
# availability checks joined), order + items + history (one INSERT ... WITH, the number from the sequence),
# cart lines deleted, outbox row, stock + ledger (one statement), COMMIT, the outbox row published.
USER_CHECKOUT_QUERIES = 11
# With a coupon (limited uses): + the coupon locked, its uses counted, its scope (categories, products), the
# redemption row, and the coupon taken off the cart.
USER_CHECKOUT_WITH_COUPON_QUERIES = USER_CHECKOUT_QUERIES + 6
# No JWT user and no saved address; the guest's cart is found and locked by its token in one query.
GUEST_CHECKOUT_QUERIES = 9


def _statements(client_call) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client_call()
    assert response.status_code == 201, response.content
    return response, [q["sql"] for q in ctx.captured_queries]


def _user_checkout(lines: int):
    user = UserFactory()
    address = AddressFactory(user=user)
    fill_cart(user, *[(ProductFactory(stock=10), 1) for _ in range(lines)])
    client = Client(headers={"Authorization": f"Bearer {AccessToken.for_user(user)}"})
    return _statements(
        lambda: client.post("/api/orders/", {"shipping_address": address.pk}, content_type="application/json")
    )


def _user_checkout_of_variants(lines: int):
    user = UserFactory()
    address = AddressFactory(user=user)
    products = [ProductFactory(stock=0) for _ in range(lines)]
    fill_cart(user, *[(product, VariantFactory(product=product, stock=10), 1) for product in products])
    client = Client(headers={"Authorization": f"Bearer {AccessToken.for_user(user)}"})
    return _statements(
        lambda: client.post("/api/orders/", {"shipping_address": address.pk}, content_type="application/json")
    )


def _guest_checkout(lines: int):
    token = guest_cart(*[(ProductFactory(stock=10), 1) for _ in range(lines)])
    client = Client(headers={"X-Cart-Token": token})
    body = {"email": "grace@example.com", "shipping_address": ADDRESS}
    return _statements(lambda: client.post("/api/orders/", body, content_type="application/json"))


@pytest.mark.parametrize("lines", [1, 20])
def test_a_users_checkout_takes_a_fixed_number_of_queries(broker, lines):
    response, statements = _user_checkout(lines)

    assert len(statements) == USER_CHECKOUT_QUERIES, "\n".join(s[:160] for s in statements)
    order = Order.objects.get(pk=response.json()["id"])
    assert order.items.count() == lines
    assert OutboxMessage.objects.get().published_at is not None  # the email was relayed, not left to the sweep


@pytest.mark.parametrize("lines", [1, 20])
def test_a_checkout_with_a_coupon_takes_a_fixed_number_of_queries(broker, lines):
    Coupon.objects.create(code="QC", discount_type="percent", value=Decimal("5"), max_uses=1000)
    user = UserFactory()
    address = AddressFactory(user=user)
    fill_cart(user, *[(ProductFactory(price=Decimal("10.00"), stock=10), 1) for _ in range(lines)])
    apply_coupon(user, "QC")
    client = Client(headers={"Authorization": f"Bearer {AccessToken.for_user(user)}"})

    response, statements = _statements(
        lambda: client.post("/api/orders/", {"shipping_address": address.pk}, content_type="application/json")
    )

    assert len(statements) == USER_CHECKOUT_WITH_COUPON_QUERIES, "\n".join(s[:160] for s in statements)
    assert response.json()["discount"] == str(Decimal("0.50") * lines)  # in the INSERT, never updated after
    assert not any(s.startswith('UPDATE "orders_order"') for s in statements)
    assert CouponRedemption.objects.get().order_id == Order.objects.get().pk


@pytest.mark.parametrize("lines", [1, 20])
def test_a_checkout_of_variants_takes_as_many_queries(broker, lines):
    # Products and variants are locked, checked, updated and recorded in the same one statement.
    response, statements = _user_checkout_of_variants(lines)

    assert len(statements) == USER_CHECKOUT_QUERIES, "\n".join(s[:160] for s in statements)
    order = Order.objects.get(pk=response.json()["id"])
    assert sorted(order.items.values_list("quantity", "variant__stock", "product__stock")) == [(1, 9, 9)] * lines
    assert_stock_matches_ledger()


@pytest.mark.parametrize("lines", [1, 20])
def test_a_guests_checkout_takes_a_fixed_number_of_queries(broker, lines):
    response, statements = _guest_checkout(lines)

    assert len(statements) == GUEST_CHECKOUT_QUERIES, "\n".join(s[:160] for s in statements)
    assert Order.objects.get(pk=response.json()["id"]).items.count() == lines
    assert OutboxMessage.objects.get().published_at is not None


def test_the_checkout_answers_the_order_exactly_as_a_read_of_it_does(broker):
    # The 201 is built from what the checkout wrote, not read back: it must be the same document as a GET.
    user = UserFactory()
    address = AddressFactory(user=user)
    fill_cart(user, *[(ProductFactory(stock=10), 2) for _ in range(3)])
    client = Client(headers={"Authorization": f"Bearer {AccessToken.for_user(user)}"})

    placed = client.post("/api/orders/", {"shipping_address": address.pk}, content_type="application/json").json()
    read = client.get(f"/api/orders/{placed['id']}/").json()

    assert placed.pop("guest_token") is None
    assert placed == read


def test_the_order_placed_carries_the_ids_of_the_rows_written():
    user = UserFactory()
    fill_cart(user, *[(ProductFactory(stock=10), 1) for _ in range(3)])

    order = order_place(user=user, shipping_address_id=AddressFactory(user=user).pk)

    assert [item.pk for item in order.items.all()] == list(order.items.order_by("id").values_list("pk", flat=True))
    assert [h.pk for h in order.status_changes.all()] == list(order.status_changes.values_list("pk", flat=True))
    assert order.number == Order.objects.get(pk=order.pk).number


def test_a_guest_checkout_answers_the_order_exactly_as_a_read_of_it_does(broker):
    token = guest_cart(*[(ProductFactory(stock=10), 1) for _ in range(2)])
    body = {"email": "grace@example.com", "shipping_address": ADDRESS}

    placed = Client(headers={"X-Cart-Token": token}).post("/api/orders/", body, content_type="application/json").json()
    order_token = placed.pop("guest_token")
    read = Client(headers={"X-Order-Token": order_token}).get(f"/api/orders/{placed['id']}/").json()

    assert placed == read


def test_a_sold_out_product_is_refused_before_any_write_or_row_lock(broker):
    # A sale's late buyers: the committed stock read with the cart lines already says no.
    user = UserFactory()
    address = AddressFactory(user=user)
    product = ProductFactory(stock=3)
    fill_cart(user, (product, 2))
    Product.objects.filter(pk=product.pk).update(stock=1)  # sold meanwhile
    client = Client(headers={"Authorization": f"Bearer {AccessToken.for_user(user)}"})

    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/orders/", {"shipping_address": address.pk}, content_type="application/json")

    assert response.status_code == 409 and response.json()["available"] == 1, response.content
    statements = [q["sql"].lstrip() for q in ctx.captured_queries]
    assert [sql for sql in statements if sql.startswith(("INSERT", "UPDATE", "DELETE", "WITH"))] == []
    assert not any("catalog_product" in q["sql"] and "FOR " in q["sql"] for q in ctx.captured_queries)
    assert Order.objects.count() == 0 and user.cart.items.count() == 1
