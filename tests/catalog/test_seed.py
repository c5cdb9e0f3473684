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


def test_seed_gives_demo_products_generated_images_and_some_sale_prices(settings, tmp_path):
    from catalog.models import ProductImage

    settings.MEDIA_ROOT = tmp_path
    call_command("seed", products=60)

    # every demo product has an image with a thumbnail; a handful of files are shared, not one per product
    assert not Product.objects.filter(images__isnull=True).exists()
    assert not ProductImage.objects.filter(thumbnail="").exists()
    stored = sorted(path.name for path in tmp_path.rglob("*") if path.is_file())
    assert 0 < len(stored) <= 12
    on_sale = Product.objects.filter(compare_at_price__isnull=False)
    assert 3 <= on_sale.count() <= 25
    assert all(p.compare_at_price > p.price for p in on_sale)

    # idempotent: a second run adds nothing
    images, sales = ProductImage.objects.count(), on_sale.count()
    call_command("seed", products=60)
    assert (ProductImage.objects.count(), on_sale.count()) == (images, sales)


def test_deleting_one_demo_image_keeps_the_shared_file(settings, tmp_path, django_capture_on_commit_callbacks):
    from catalog.models import ProductImage
    from catalog.services import image_delete

    settings.MEDIA_ROOT = tmp_path
    call_command("seed", products=30)
    image = ProductImage.objects.first()

    with django_capture_on_commit_callbacks(execute=True):
        image_delete(image=image)

    assert (tmp_path / image.image.name).is_file()  # other demo products still show it
