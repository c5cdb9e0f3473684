"""What was sold stays in the catalog: deleting it is a 409, so orders keep pointing at real rows."""

import pytest

from catalog.models import Product, ProductVariant
from tests.factories import ProductFactory, VariantFactory
from tests.orders.factories import place

pytestmark = pytest.mark.django_db


def test_deleting_an_ordered_product_is_a_409_and_keeps_it(staff_client):
    product = ProductFactory(stock=10)
    order = place(None, (product, 2))

    response = staff_client.delete(f"/api/catalog/products/{product.slug}/")

    assert response.status_code == 409
    assert "deactivate it instead" in response.json()["detail"]
    assert Product.objects.filter(pk=product.pk).exists()
    assert order.items.get().product_id == product.pk


def test_deleting_an_ordered_variant_is_a_409_and_keeps_its_stock(staff_client):
    variant = VariantFactory(stock=5)
    place(None, (variant.product, variant, 1))

    response = staff_client.delete(f"/api/catalog/products/{variant.product.slug}/variants/{variant.pk}/")

    assert response.status_code == 409
    variant.refresh_from_db()
    assert variant.stock == 4
    assert Product.objects.get(pk=variant.product_id).stock == 4


def test_a_product_never_ordered_can_still_be_deleted(staff_client):
    product = ProductFactory()

    response = staff_client.delete(f"/api/catalog/products/{product.slug}/")

    assert response.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()
    assert not ProductVariant.objects.filter(product_id=product.pk).exists()
