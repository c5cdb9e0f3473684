"""What a storefront asked for on orders: item product slugs, and addresses the admin shows as addresses."""

import pytest
from django.test import Client

from tests.factories import OrderFactory, ProductFactory, UserFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_order_items_carry_the_products_current_slug(user, user_client, django_assert_max_num_queries):
    product = ProductFactory(slug="blue-mug")
    order = OrderFactory(user=user, product=product, lines=((product.price, 1), (product.price, 2)))
    OrderFactory(user=user, product=ProductFactory(slug="red-mug"))

    with django_assert_max_num_queries(5):
        listed = user_client.get("/api/orders/").json()["results"]
    detail = user_client.get(f"/api/orders/{order.pk}/").json()

    assert {item["product_slug"] for item in detail["items"]} == {"blue-mug"}
    assert {item["product_slug"] for o in listed for item in o["items"]} == {"blue-mug", "red-mug"}


def test_admin_order_page_renders_address_snapshots_as_addresses(admin_client):
    order = OrderFactory(shipping_address={"full_name": "Ada Lovelace", "line1": "1 Main St", "line2": "Flat 2",
                                           "city": "London", "region": "", "postal_code": "N1", "country": "GB",
                                           "phone": ""})

    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()

    assert "Ada Lovelace<br>1 Main St<br>Flat 2<br>N1 London<br>GB<br>" in page
    assert "&quot;full_name&quot;" not in page and '"full_name"' not in page


def test_admin_product_page_keeps_the_variant_table_narrow(admin_client):
    variant = VariantFactory()

    page = admin_client.get(f"/admin/catalog/product/{variant.product.pk}/change/").content.decode()

    assert 'name="variants-0-attributes" cols="30" rows="2"' in page
