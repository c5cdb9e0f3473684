import pytest
from django.core.management import call_command
from django.db.models import Sum

from catalog.models import Category, Product, ProductVariant, StockMovement
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def snapshot():
    return sorted(Product.objects.values_list("sku", "slug", "name", "price", "stock", "category__slug"))


def test_seed_builds_a_three_level_tree_with_brands_and_variants():
    call_command("seed", products=80)

    assert Product.objects.count() == 80
    assert set(Category.objects.values_list("depth", flat=True)) == {0, 1, 2}
    for category in Category.objects.exclude(parent=None).select_related("parent"):
        assert category.path == f"{category.parent.path}{category.pk}/"
    assert Product.objects.values("brand").distinct().count() > 3
    variant = ProductVariant.objects.first()
    assert variant is not None and "color" in variant.attributes


def test_seed_is_idempotent_and_deterministic():
    call_command("seed", products=40)
    first = snapshot()
    call_command("seed", products=40)
    assert snapshot() == first
    assert Product.objects.count() == 40

    call_command("seed", products=50)
    assert Product.objects.count() == 50
    assert set(first) <= set(snapshot())


def test_seed_keeps_product_stock_and_ledger_consistent():
    call_command("seed", products=60)

    variant_sums = dict(ProductVariant.objects.values("product").annotate(s=Sum("stock")).values_list("product", "s"))
    ledger = dict(StockMovement.objects.values("product").annotate(s=Sum("delta")).values_list("product", "s"))
    for product in Product.objects.all():
        if product.pk in variant_sums:
            assert product.stock == variant_sums[product.pk]
        assert product.stock == (ledger.get(product.pk) or 0)


def test_seed_if_empty_does_nothing_when_products_exist():
    ProductFactory()
    call_command("seed", if_empty=True)
    assert Product.objects.count() == 1
