"""Sale ("compare-at") prices, the on_sale filter, and the shop's one currency."""

from decimal import Decimal

import pytest

from catalog.models import Product, ProductVariant
from tests.factories import CategoryFactory, ProductFactory, VariantFactory

PRODUCTS = "/api/catalog/products/"


@pytest.fixture
def category(db):
    return CategoryFactory()


def product_payload(category, **overrides) -> dict:
    return {"name": "Kettle", "sku": "KET-1", "category": category.pk, "price": "40.00", **overrides}


def test_a_product_with_a_compare_at_price_is_on_sale(staff_client, api_client, category):
    response = staff_client.post(PRODUCTS, product_payload(category, compare_at_price="55.00"), format="json")

    assert response.status_code == 201
    body = api_client.get(f"{PRODUCTS}{response.json()['slug']}/").json()
    assert body["compare_at_price"] == "55.00" and body["on_sale"] is True


@pytest.mark.parametrize("compare_at", ["40.00", "39.99"])
def test_a_compare_at_price_not_above_the_price_is_a_400(staff_client, category, compare_at):
    response = staff_client.post(PRODUCTS, product_payload(category, compare_at_price=compare_at), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["compare_at_price"]
    assert not Product.objects.exists()


def test_patching_only_the_price_above_the_compare_at_price_is_a_400(staff_client, category):
    product = ProductFactory(category=category, price=Decimal("40.00"))
    Product.objects.filter(pk=product.pk).update(compare_at_price=Decimal("50.00"))

    response = staff_client.patch(f"{PRODUCTS}{product.slug}/", {"price": "60.00"}, format="json")

    assert response.status_code == 400 and list(response.json()) == ["compare_at_price"]
    assert Product.objects.get(pk=product.pk).price == Decimal("40.00")


def test_patching_only_the_compare_at_price_below_the_price_is_a_400(staff_client, category):
    product = ProductFactory(category=category, price=Decimal("40.00"))

    response = staff_client.patch(f"{PRODUCTS}{product.slug}/", {"compare_at_price": "30.00"}, format="json")

    assert response.status_code == 400 and list(response.json()) == ["compare_at_price"]
    assert Product.objects.get(pk=product.pk).compare_at_price is None


def test_clearing_the_compare_at_price_ends_the_sale(staff_client, category):
    product = ProductFactory(category=category, price=Decimal("40.00"))
    Product.objects.filter(pk=product.pk).update(compare_at_price=Decimal("50.00"))

    response = staff_client.patch(f"{PRODUCTS}{product.slug}/", {"compare_at_price": None}, format="json")

    assert response.status_code == 200
    assert response.json()["compare_at_price"] is None and response.json()["on_sale"] is False


def test_variant_compare_at_price_is_checked_against_its_effective_price(staff_client, api_client, category):
    product = ProductFactory(category=category, slug="tee", price=Decimal("20.00"))
    url = f"{PRODUCTS}tee/variants/"

    # the variant has no own price: 20.00 counts
    bad = staff_client.post(url, {"sku": "T-1", "name": "S", "compare_at_price": "19.00"}, format="json")
    good = staff_client.post(url, {"sku": "T-1", "name": "S", "compare_at_price": "25.00"}, format="json")
    assert bad.status_code == 400 and list(bad.json()) == ["compare_at_price"]
    assert good.status_code == 201 and good.json()["on_sale"] is True

    # a PATCH of the variant's price alone must stay below its compare-at price
    response = staff_client.patch(f"{url}{good.json()['id']}/", {"price": "30.00"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["compare_at_price"]
    assert ProductVariant.objects.get(pk=good.json()["id"]).price is None
    assert api_client.get(f"{PRODUCTS}{product.slug}/").json()["variants"][0]["compare_at_price"] == "25.00"


def test_on_sale_filter(api_client, category):
    sale = ProductFactory(category=category, price=Decimal("10.00"))
    Product.objects.filter(pk=sale.pk).update(compare_at_price=Decimal("12.00"))
    regular = ProductFactory(category=category)

    on = api_client.get(PRODUCTS, {"on_sale": "true"}).json()["results"]
    off = api_client.get(PRODUCTS, {"on_sale": "false"}).json()["results"]

    assert [p["id"] for p in on] == [sale.pk] and on[0]["on_sale"] is True
    assert [p["id"] for p in off] == [regular.pk] and off[0]["on_sale"] is False
    assert api_client.get(PRODUCTS, {"on_sale": "maybe"}).status_code == 400


# --- One currency -------------------------------------------------------------------------------


def test_a_product_in_another_currency_is_a_400(staff_client, category):
    response = staff_client.post(PRODUCTS, product_payload(category, currency="jpy", price="1000"), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["currency"]
    assert not Product.objects.exists()


def test_the_shop_currency_is_accepted_in_any_case(staff_client, category):
    response = staff_client.post(PRODUCTS, product_payload(category, currency="USD"), format="json")

    assert response.status_code == 201 and response.json()["currency"] == "usd"


def test_patching_a_product_to_another_currency_is_a_400(staff_client, category):
    product = ProductFactory(category=category)

    response = staff_client.patch(f"{PRODUCTS}{product.slug}/", {"currency": "eur"}, format="json")

    assert response.status_code == 400 and list(response.json()) == ["currency"]
    assert Product.objects.get(pk=product.pk).currency == "usd"


def test_a_variant_in_another_currency_is_a_400(staff_client, category):
    product = ProductFactory(category=category)
    variant = VariantFactory(product=product)
    url = f"{PRODUCTS}{product.slug}/variants/"

    created = staff_client.post(url, {"sku": "V-EUR", "name": "x", "currency": "eur"}, format="json")
    patched = staff_client.patch(f"{url}{variant.pk}/", {"currency": "gbp", "name": "renamed"}, format="json")

    assert created.status_code == 400 and list(created.json()) == ["currency"]
    assert patched.status_code == 400 and list(patched.json()) == ["currency"]
    assert not ProductVariant.objects.filter(sku="V-EUR").exists()
    assert ProductVariant.objects.get(pk=variant.pk).name == variant.name
