from decimal import Decimal

import pytest

from catalog.exceptions import CatalogConflict, InvalidCatalogInput, InvalidStockChange
from catalog.models import Category, Product, ProductVariant, StockMovement
from catalog.services import (
    category_create,
    category_delete,
    category_update,
    product_create,
    product_delete,
    product_update,
    variant_create,
    variant_delete,
    variant_update,
)
from catalog.stock import stock_set
from tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_category_path_follows_the_tree():
    root = category_create(name="Clothing")
    child = category_create(name="Men", parent=root)
    grandchild = category_create(name="Shirts", parent=child)

    assert root.path == f"/{root.pk}/"
    assert grandchild.path == f"/{root.pk}/{child.pk}/{grandchild.pk}/"
    assert grandchild.depth == 2


def test_category_slug_is_generated_unique_for_equal_names():
    first = category_create(name="Shoes")
    second = category_create(name="Shoes")

    assert first.slug == "shoes"
    assert second.slug == "shoes-2"


def test_category_move_rewrites_the_whole_subtree_in_one_update(django_assert_num_queries):
    a = category_create(name="A")
    b = category_create(name="B")
    child = category_create(name="Child", parent=a)
    grandchild = category_create(name="Grandchild", parent=child)

    category_update(category=child, data={"parent": b})

    child.refresh_from_db()
    grandchild.refresh_from_db()
    assert child.path == f"/{b.pk}/{child.pk}/"
    assert grandchild.path == f"/{b.pk}/{child.pk}/{grandchild.pk}/"
    assert grandchild.depth == 2
    assert set(Category.objects.filter(path__startswith=b.path)) == {b, child, grandchild}


def test_category_move_to_root_shortens_paths():
    a = category_create(name="A")
    child = category_create(name="Child", parent=a)
    grandchild = category_create(name="Grandchild", parent=child)

    category_update(category=child, data={"parent": None})

    grandchild.refresh_from_db()
    assert grandchild.path == f"/{child.pk}/{grandchild.pk}/"
    assert grandchild.depth == 1


def test_category_cannot_move_under_its_own_descendant():
    a = category_create(name="A")
    child = category_create(name="Child", parent=a)

    with pytest.raises(InvalidCatalogInput) as excinfo:
        category_update(category=a, data={"parent": child})
    assert excinfo.value.field == "parent"


def test_category_with_products_cannot_be_deleted():
    product = ProductFactory()

    with pytest.raises(CatalogConflict):
        category_delete(category=product.category)
    assert Category.objects.filter(pk=product.category_id).exists()


def test_product_slug_is_unique_for_equal_names():
    category = CategoryFactory()
    first = product_create(name="Blue Mug", sku="M-1", category=category, price=Decimal("5.00"))
    second = product_create(name="Blue Mug", sku="M-2", category=category, price=Decimal("5.00"))

    assert (first.slug, second.slug) == ("blue-mug", "blue-mug-2")


def test_product_create_records_initial_stock_in_the_ledger():
    product = product_create(name="Mug", sku="M-1", category=CategoryFactory(), price=Decimal("5.00"), stock=7)

    movement = StockMovement.objects.get(product=product)
    assert (movement.delta, movement.reason, movement.stock_after) == (7, "initial", 7)
    assert Product.objects.get(pk=product.pk).stock == 7


def test_product_create_refuses_a_taken_sku():
    ProductFactory(sku="TAKEN")
    with pytest.raises(InvalidCatalogInput) as excinfo:
        product_create(name="X", sku="TAKEN", category=CategoryFactory(), price=Decimal("1.00"))
    assert excinfo.value.field == "sku"


def test_product_update_sets_stock_through_the_ledger(staff_user):
    product = ProductFactory(stock=10)

    product_update(product=product, data={"stock": 4, "price": Decimal("12.50")}, user=staff_user)

    product.refresh_from_db()
    assert (product.stock, product.price) == (4, Decimal("12.50"))
    movement = StockMovement.objects.filter(product=product).first()
    assert (movement.delta, movement.reason, movement.user) == (-6, "admin", staff_user)


def test_product_update_without_stock_does_not_overwrite_a_concurrent_stock_change():
    product = ProductFactory(stock=10)
    stale = Product.objects.get(pk=product.pk)
    Product.objects.filter(pk=product.pk).update(stock=3)  # e.g. a checkout in between

    product_update(product=stale, data={"name": "Renamed"})

    assert Product.objects.get(pk=product.pk).stock == 3


def test_product_stock_is_the_sum_of_its_variants():
    product = ProductFactory(stock=0)
    VariantFactory(product=product, stock=3)
    variant = VariantFactory(product=product, stock=4)

    assert Product.objects.get(pk=product.pk).stock == 7
    variant_update(variant=variant, data={"stock": 1})
    assert Product.objects.get(pk=product.pk).stock == 4


def test_first_variant_replaces_the_products_own_stock():
    product = ProductFactory(stock=10)

    VariantFactory(product=product, stock=2)

    assert Product.objects.get(pk=product.pk).stock == 2
    assert sum(StockMovement.objects.filter(product=product).values_list("delta", flat=True)) == 2


def test_product_level_stock_set_is_refused_when_the_product_has_variants():
    variant = VariantFactory(stock=2)

    with pytest.raises(InvalidStockChange) as excinfo:
        stock_set(product_id=variant.product_id, quantity=50)
    assert excinfo.value.field == "stock"


def test_variant_delete_takes_its_stock_out_of_the_product_and_keeps_the_ledger_consistent():
    product = ProductFactory(stock=0)
    keep = VariantFactory(product=product, stock=3)
    gone = VariantFactory(product=product, stock=4)

    variant_delete(variant=gone)

    product.refresh_from_db()
    assert product.stock == keep.stock == 3
    assert not ProductVariant.objects.filter(pk=gone.pk).exists()
    assert sum(StockMovement.objects.filter(product=product).values_list("delta", flat=True)) == 3


def test_variant_create_records_initial_stock():
    product = ProductFactory(stock=0)
    variant = variant_create(product=product, sku="V-1", name="Red M", attributes={"color": "red"}, stock=6)

    movement = StockMovement.objects.get(variant=variant)
    assert (movement.delta, movement.reason, movement.product_id) == (6, "initial", product.pk)


def test_product_delete_removes_an_unordered_product():
    product = ProductFactory()
    product_delete(product=product)
    assert not Product.objects.filter(pk=product.pk).exists()
