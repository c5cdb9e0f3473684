"""The orders API through DRF's APIClient: shapes, permissions, filters and query counts."""

from decimal import Decimal

import pytest
from django.core import mail

from catalog.models import Product
from orders.models import Order
from orders.services import order_mark_paid
from payments.models import Payment
from tests.factories import (
    AddressFactory,
    CategoryFactory,
    OrderFactory,
    ProductFactory,
    UserFactory,
    VariantFactory,
)
from tests.orders.factories import fill_cart, place

pytestmark = pytest.mark.django_db

S = Order.Status
ORDER_FIELDS = {
    "id", "number", "email", "status", "items", "subtotal", "discount", "shipping", "total", "currency", "coupon_code",
    "shipping_address", "billing_address", "shipment", "payment_status", "status_history", "note",
    "payment_deadline", "created_at", "updated_at", "paid_at", "cancelled_at",
}


def url(order=None, action=None):
    if order is None:
        return "/api/orders/"
    return f"/api/orders/{order.pk}/" + (f"{action}/" if action else "")


# --- Checkout -------------------------------------------------------------------------------------


def test_checkout_answers_201_with_the_order(user, user_client, django_capture_on_commit_callbacks):
    address = AddressFactory(user=user, city="Berlin")
    product = ProductFactory(name="Lamp", sku="LAMP-1", price=Decimal("19.99"), stock=3)
    fill_cart(user, (product, 2))

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(url(), {"shipping_address": address.pk, "note": "Gift", "total": "0.01"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == ORDER_FIELDS | {"guest_token"}
    assert body["guest_token"] is None and body["email"] == user.email
    assert body["status"] == "pending"
    assert body["number"].startswith("ORD-")
    assert (body["subtotal"], body["discount"], body["shipping"], body["total"]) == ("39.98", "0.00", "0.00", "39.98")
    assert body["currency"] == "usd"
    assert body["items"] == [{
        "product_id": product.pk, "product_slug": product.slug, "variant_id": None, "sku": "LAMP-1", "name": "Lamp",
        "unit_price": "19.99", "quantity": 2, "line_total": "39.98",
    }]
    assert body["shipping_address"]["city"] == "Berlin" and body["billing_address"] == body["shipping_address"]
    assert body["shipment"] is None
    assert body["payment_status"] == "unpaid"
    assert [(h["from_status"], h["to_status"]) for h in body["status_history"]] == [(None, "pending")]
    assert Product.objects.get(pk=product.pk).stock == 1
    assert user_client.get("/api/cart/").json()["items"] == []
    assert len(mail.outbox) == 1


def test_checkout_with_an_empty_cart_is_a_400(user, user_client):
    address = AddressFactory(user=user)
    response = user_client.post(url(), {"shipping_address": address.pk})
    assert response.status_code == 400
    assert response.json() == {"detail": "Your cart is empty."}


def test_checkout_with_someone_elses_address_is_a_400_on_the_field(user, user_client):
    fill_cart(user, (ProductFactory(), 1))
    response = user_client.post(url(), {"shipping_address": AddressFactory().pk})
    assert response.status_code == 400
    assert response.json() == {"shipping_address": ["Choose one of your own addresses."]}
    assert not Order.objects.exists()


@pytest.mark.parametrize("payload", [{}, {"shipping_address": "abc"}, {"shipping_address": 1, "note": "x" * 1001}])
def test_checkout_with_bad_input_is_a_400(user_client, payload):
    response = user_client.post(url(), payload)
    assert response.status_code == 400


def test_checkout_out_of_stock_is_a_409_with_the_available_quantity(user, user_client):
    address = AddressFactory(user=user)
    variant = VariantFactory(name="Small", stock=2)
    fill_cart(user, (variant.product, variant, 2))
    from catalog.stock import stock_adjust

    stock_adjust(product_id=variant.product_id, variant_id=variant.pk, delta=-1, reason="admin")

    response = user_client.post(url(), {"shipping_address": address.pk})

    assert response.status_code == 409
    body = response.json()
    assert "Only 1" in body["detail"] and "Small" in body["detail"]
    assert body["available"] == 1


@pytest.mark.django_db(transaction=True)
def test_checkout_with_a_changed_price_is_a_409_whose_repricing_commits(user, user_client):
    # given (committed for real: the 409 must not roll the repricing back)
    address = AddressFactory(user=user)
    product = ProductFactory(price=Decimal("10.00"), stock=5)
    fill_cart(user, (product, 2))
    Product.objects.filter(pk=product.pk).update(price=Decimal("11.00"))
    line_id = user_client.get("/api/cart/").json()["items"][0]["id"]

    # when
    response = user_client.post(url(), {"shipping_address": address.pk})

    # then
    assert response.status_code == 409
    assert response.json()["changed_items"] == [line_id]
    assert "11.00" in response.json()["detail"]
    line = user_client.get("/api/cart/").json()["items"][0]
    assert (line["unit_price"], line["price_changed"]) == ("11.00", False)
    assert not Order.objects.exists()
    assert Product.objects.get(pk=product.pk).stock == 5

    again = user_client.post(url(), {"shipping_address": address.pk})
    assert again.status_code == 201
    assert again.json()["total"] == "22.00"


def test_checkout_of_a_product_under_an_inactive_category_is_a_409(user, user_client):
    root = CategoryFactory()
    product = ProductFactory(category=CategoryFactory(parent=root), stock=5)
    fill_cart(user, (product, 1))
    root.is_active = False
    root.save()

    response = user_client.post(url(), {"shipping_address": AddressFactory(user=user).pk})

    assert response.status_code == 409
    assert "no longer available" in response.json()["detail"]
    assert response.json()["product"] == product.pk
    assert not Order.objects.exists()
    assert Product.objects.get(pk=product.pk).stock == 5


def test_checkout_of_a_line_without_variant_for_a_product_that_now_has_variants_is_a_409(user, user_client):
    product = ProductFactory(name="Tee", stock=5)
    fill_cart(user, (product, 1))
    VariantFactory(product=product, stock=5)

    response = user_client.post(url(), {"shipping_address": AddressFactory(user=user).pk})

    assert response.status_code == 409
    assert "'Tee'" in response.json()["detail"] and "variants" in response.json()["detail"]
    assert (response.json()["product"], response.json()["variant"]) == (product.pk, None)
    assert not Order.objects.exists()


def test_checkout_needs_authentication_when_guest_checkout_is_off(api_client, settings):
    settings.GUEST_CHECKOUT = False
    assert api_client.post(url(), {"shipping_address": 1}).status_code == 401


# --- Reads --------------------------------------------------------------------------------------


def test_customers_list_only_their_own_orders(user, user_client):
    mine = place(user)
    place(UserFactory())
    body = user_client.get(url()).json()
    assert body["count"] == 1 and [o["id"] for o in body["results"]] == [str(mine.pk)]


def test_someone_elses_order_is_a_404(user_client):
    other = place(UserFactory())
    assert user_client.get(url(other)).status_code == 404
    assert user_client.post(url(other, "cancel")).status_code == 404


def test_a_malformed_id_is_a_404(user_client):
    assert user_client.get("/api/orders/not-a-uuid/").status_code == 404


def test_staff_see_all_orders_and_filter_by_status_and_user(staff_client):
    alice, bob = UserFactory(), UserFactory()
    a1 = place(alice)
    place(alice)
    b1 = place(bob)
    order_mark_paid(order_id=b1.pk)

    assert staff_client.get(url()).json()["count"] == 3
    by_user = staff_client.get(url(), {"user": alice.pk}).json()
    assert by_user["count"] == 2
    paid = staff_client.get(url(), {"status": "paid"}).json()
    assert [o["id"] for o in paid["results"]] == [str(b1.pk)]
    both = staff_client.get(url(), {"status": "pending", "user": alice.pk}).json()
    assert str(a1.pk) in {o["id"] for o in both["results"]}
    assert staff_client.get(url(), {"status": "lost"}).status_code == 400


def test_payment_status_is_the_latest_payment(user, user_client):
    order = place(user)
    Payment.objects.create(order=order, amount=order.total, status=Payment.Status.FAILED)
    Payment.objects.create(order=order, amount=order.total, status=Payment.Status.SUCCEEDED)
    assert user_client.get(url(order)).json()["payment_status"] == "succeeded"


def test_list_and_detail_run_a_constant_number_of_queries(user, user_client, staff_user,
                                                          django_assert_max_num_queries):
    for _ in range(3):
        order = place(user, (ProductFactory(), 1), (ProductFactory(), 2))
        order_mark_paid(order_id=order.pk)
        Payment.objects.create(order=order, amount=order.total, status=Payment.Status.SUCCEEDED)
    from orders.services import order_set_status

    order_set_status(order_id=order.pk, status=S.PROCESSING, by=staff_user)
    order_set_status(order_id=order.pk, status=S.SHIPPED, by=staff_user, carrier="UPS", tracking_number="1Z")

    # count + orders(+shipment) + items + history + payments; authentication is forced (no query)
    with django_assert_max_num_queries(5):
        body = user_client.get(url()).json()
    assert body["count"] == 3
    with django_assert_max_num_queries(4):
        detail = user_client.get(url(order)).json()
    assert detail["shipment"]["carrier"] == "UPS" and detail["shipment"]["delivered_at"] is None

    for _ in range(5):
        place(user, *[(ProductFactory(), 1) for _ in range(4)])
    with django_assert_max_num_queries(5):
        assert user_client.get(url()).json()["count"] == 8


# --- Cancel and status ----------------------------------------------------------------------------


def test_owner_cancels_a_pending_order(user, user_client):
    product = ProductFactory(stock=5)
    order = place(user, (product, 2))
    response = user_client.post(url(order, "cancel"), {"note": "Too slow"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert Product.objects.get(pk=product.pk).stock == 5


def test_owner_cannot_cancel_a_paid_order(user, user_client):
    order = place(user)
    order_mark_paid(order_id=order.pk)
    response = user_client.post(url(order, "cancel"))
    assert response.status_code == 409
    assert "only pending orders can be cancelled" in response.json()["detail"]


def test_staff_cancel_a_processing_order(staff_client, staff_user, refunds):
    order = place()
    order_mark_paid(order_id=order.pk)
    staff_client.post(url(order, "status"), {"status": "processing"})
    response = staff_client.post(url(order, "cancel"))
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert refunds == [order.pk]


def test_customers_cannot_change_the_status(user, user_client):
    order = place(user)
    assert user_client.post(url(order, "status"), {"status": "cancelled"}).status_code == 403


def test_staff_move_an_order_to_shipped_and_delivered(staff_client):
    order = place()
    order_mark_paid(order_id=order.pk)
    assert staff_client.post(url(order, "status"), {"status": "processing"}).json()["status"] == "processing"

    response = staff_client.post(url(order, "status"),
                                 {"status": "shipped", "carrier": "DHL", "tracking_number": "JD01"})
    assert response.status_code == 200
    assert response.json()["shipment"]["tracking_number"] == "JD01"

    delivered = staff_client.post(url(order, "status"), {"status": "delivered"}).json()
    assert delivered["status"] == "delivered" and delivered["shipment"]["delivered_at"]
    assert [h["to_status"] for h in delivered["status_history"]] == [
        "pending", "paid", "processing", "shipped", "delivered"
    ]


def test_shipping_a_pending_order_is_a_409_even_without_carrier(staff_client):
    order = OrderFactory(status=S.PENDING)
    response = staff_client.post(url(order, "status"), {"status": "shipped"})
    assert response.status_code == 409
    assert "pending" in response.json()["detail"]
    assert Order.objects.get(pk=order.pk).status == S.PENDING


def test_shipping_without_a_tracking_number_is_a_400_on_that_field(staff_client):
    order = OrderFactory(status=S.PROCESSING)
    response = staff_client.post(url(order, "status"), {"status": "shipped", "carrier": "DHL"})
    assert response.status_code == 400
    assert set(response.json()) == {"tracking_number"}
    assert Order.objects.get(pk=order.pk).status == S.PROCESSING


def test_shipping_without_carrier_and_tracking_is_a_400_on_both_fields(staff_client):
    order = OrderFactory(status=S.PROCESSING)
    response = staff_client.post(url(order, "status"), {"status": "shipped"})
    assert response.status_code == 400
    assert set(response.json()) == {"carrier", "tracking_number"}


@pytest.mark.parametrize(("frm", "to"), [("pending", "paid"), ("pending", "shipped"), ("delivered", "processing"),
                                         ("cancelled", "pending")])
def test_illegal_status_changes_are_409(staff_client, frm, to):
    order = OrderFactory(status=frm)
    response = staff_client.post(url(order, "status"), {"status": to, "carrier": "X", "tracking_number": "Y"})
    assert response.status_code == 409
    assert response.json()["detail"]
    assert Order.objects.get(pk=order.pk).status == frm


def test_an_unknown_status_is_a_400(staff_client):
    order = OrderFactory()
    assert staff_client.post(url(order, "status"), {"status": "lost"}).status_code == 400


def test_the_schema_documents_the_orders_paths():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ("/api/orders/", "/api/orders/{id}/", "/api/orders/{id}/cancel/", "/api/orders/{id}/status/"):
        assert path in schema["paths"]
    components = schema["components"]["schemas"]
    payment_status = components["Order"]["properties"]["payment_status"]
    ref = payment_status.get("$ref") or payment_status["allOf"][0]["$ref"]
    assert "unpaid" in components[ref.rsplit("/", 1)[1]]["enum"]
