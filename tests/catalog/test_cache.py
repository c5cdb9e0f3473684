"""The catalog cache is never stale: every write path bumps the catalog version."""

from decimal import Decimal

import pytest
from django.test.utils import override_settings

from catalog import services, stock
from catalog.models import Category, Product, ProductVariant
from tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/catalog/products/"
CATEGORIES = "/api/catalog/categories/"


@pytest.fixture
def product():
    product = ProductFactory(slug="p", name="Mug", price=Decimal("10.00"), stock=10)
    VariantFactory(product=ProductFactory(slug="v", stock=0), stock=5)
    return product


def get(client, url, params=None):
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return response


def warm(client, url, params=None):
    assert get(client, url, params)["X-Cache"] == "MISS"
    assert get(client, url, params)["X-Cache"] == "HIT"


# --- Cache behaviour ----------------------------------------------------------------------------


def test_anonymous_reads_are_cached(api_client, product):
    for url in (
        PRODUCTS,
        f"{PRODUCTS}p/",
        f"{PRODUCTS}v/variants/",
        CATEGORIES,
        f"{CATEGORIES}{product.category.slug}/",
    ):
        warm(api_client, url)


def test_regular_users_share_the_cache_with_anonymous(api_client, user_client, product):
    get(api_client, PRODUCTS)
    assert get(user_client, PRODUCTS)["X-Cache"] == "HIT"


def test_staff_bypass_the_cache(staff_client, product):
    assert get(staff_client, PRODUCTS)["X-Cache"] == "BYPASS"
    assert get(staff_client, PRODUCTS, {"include_inactive": "true"})["X-Cache"] == "BYPASS"
    assert get(staff_client, f"{PRODUCTS}p/")["X-Cache"] == "BYPASS"


def test_the_key_covers_the_normalized_query_string(api_client, product):
    get(api_client, PRODUCTS, {"ordering": "price", "page_size": "5"})
    assert api_client.get(f"{PRODUCTS}?page_size=5&ordering=price")["X-Cache"] == "HIT"
    assert api_client.get(f"{PRODUCTS}?page_size=5&ordering=price&utm=x")["X-Cache"] == "HIT"
    assert api_client.get(f"{PRODUCTS}?page_size=5&ordering=-price")["X-Cache"] == "MISS"


def test_errors_are_not_cached(api_client, django_capture_on_commit_callbacks):
    assert api_client.get(f"{PRODUCTS}late/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        ProductFactory(slug="late")
    assert api_client.get(f"{PRODUCTS}late/").status_code == 200


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens here
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
            },
        }
    }
)
def test_redis_down_serves_from_the_database(api_client, product, django_capture_on_commit_callbacks):
    first = get(api_client, PRODUCTS)
    assert first["X-Cache"] == "MISS"
    assert get(api_client, f"{PRODUCTS}p/").json()["name"] == "Mug"
    with django_capture_on_commit_callbacks(execute=True):
        services.product_update(product=product, data={"name": "Cup"})
    assert get(api_client, f"{PRODUCTS}p/").json()["name"] == "Cup"


# --- Every write path invalidates ---------------------------------------------------------------


def assert_invalidated(client, url, write, capture, check=None):
    get(client, url)
    assert get(client, url)["X-Cache"] == "HIT"
    with capture(execute=True):
        write()
    response = get(client, url)
    assert response["X-Cache"] == "MISS"
    if check:
        check(response.json())


def test_product_create_service(api_client, product, django_capture_on_commit_callbacks):
    assert_invalidated(
        api_client, PRODUCTS,
        lambda: services.product_create(name="New", sku="N-1", category=product.category, price=Decimal("1.00")),
        django_capture_on_commit_callbacks,
        lambda body: body["count"] == 3,
    )  # fmt: skip


def test_product_update_service(api_client, product, django_capture_on_commit_callbacks):
    assert_invalidated(
        api_client, f"{PRODUCTS}p/",
        lambda: services.product_update(product=product, data={"price": Decimal("12.00")}),
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert get(api_client, f"{PRODUCTS}p/").json()["price"] == "12.00"


def test_product_delete_service(api_client, product, django_capture_on_commit_callbacks):
    assert_invalidated(
        api_client, PRODUCTS, lambda: services.product_delete(product=product), django_capture_on_commit_callbacks
    )
    assert get(api_client, PRODUCTS).json()["count"] == 1


def test_category_services(api_client, product, django_capture_on_commit_callbacks):
    assert_invalidated(
        api_client, CATEGORIES, lambda: services.category_create(name="Garden"), django_capture_on_commit_callbacks
    )
    garden = Category.objects.get(slug="garden")
    assert_invalidated(
        api_client, f"{CATEGORIES}garden/",
        lambda: services.category_update(category=garden, data={"description": "Outdoors"}),
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert get(api_client, f"{CATEGORIES}garden/").json()["description"] == "Outdoors"
    assert_invalidated(
        api_client, CATEGORIES, lambda: services.category_delete(category=garden), django_capture_on_commit_callbacks
    )
    assert "garden" not in [c["slug"] for c in get(api_client, CATEGORIES).json()["results"]]


def test_deactivating_a_category_hides_its_products_at_once(api_client, product, django_capture_on_commit_callbacks):
    warm(api_client, f"{PRODUCTS}p/")
    with django_capture_on_commit_callbacks(execute=True):
        services.category_update(category=product.category, data={"is_active": False})
    assert api_client.get(f"{PRODUCTS}p/").status_code == 404


def test_variant_services(api_client, product, django_capture_on_commit_callbacks):
    url = f"{PRODUCTS}v/variants/"
    owner = Product.objects.get(slug="v")
    assert_invalidated(
        api_client, url,
        lambda: services.variant_create(product=owner, sku="V-NEW", name="Blue", stock=1),
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    variant = ProductVariant.objects.get(sku="V-NEW")
    assert_invalidated(
        api_client, url,
        lambda: services.variant_update(variant=variant, data={"name": "Navy"}),
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert_invalidated(
        api_client, url, lambda: services.variant_delete(variant=variant), django_capture_on_commit_callbacks
    )
    assert [v["sku"] for v in get(api_client, url).json()["results"]] != ["V-NEW"]


def test_stock_adjust_from_checkout(api_client, product, django_capture_on_commit_callbacks):
    assert_invalidated(
        api_client, f"{PRODUCTS}p/",
        lambda: stock.stock_adjust(product_id=product.pk, delta=-4, reason="order", reference="ORD-1"),
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert get(api_client, f"{PRODUCTS}p/").json()["stock"] == 6


def test_stock_only_edit_of_a_variant(api_client, product, django_capture_on_commit_callbacks):
    # no row is saved: the stock UPDATE of the stock service is what must invalidate
    variant = ProductVariant.objects.get(product__slug="v")
    assert_invalidated(
        api_client, f"{PRODUCTS}v/",
        lambda: services.variant_update(variant=variant, data={"stock": 2}),
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert get(api_client, f"{PRODUCTS}v/").json()["stock"] == 2


def test_queryset_update(api_client, product, django_capture_on_commit_callbacks):
    assert_invalidated(
        api_client, PRODUCTS,
        lambda: Product.objects.filter(pk=product.pk).update(price=Decimal("99.00")),
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert "99.00" in [p["price"] for p in get(api_client, PRODUCTS).json()["results"]]


def test_queryset_delete(api_client, product, django_capture_on_commit_callbacks):
    assert_invalidated(
        api_client, PRODUCTS, lambda: Product.objects.filter(pk=product.pk).delete(), django_capture_on_commit_callbacks
    )


def test_bulk_create(api_client, product, django_capture_on_commit_callbacks):
    def write():
        Product.objects.bulk_create(
            [Product(name="Bulk", slug="bulk", sku="B-1", category=product.category, price=Decimal("1.00"))]
        )

    assert_invalidated(api_client, PRODUCTS, write, django_capture_on_commit_callbacks)
    assert get(api_client, PRODUCTS).json()["count"] == 3


def test_bulk_update(api_client, product, django_capture_on_commit_callbacks):
    product.name = "Bulk renamed"
    assert_invalidated(
        api_client, f"{PRODUCTS}p/",
        lambda: Product.objects.bulk_update([product], ["name"]),
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert get(api_client, f"{PRODUCTS}p/").json()["name"] == "Bulk renamed"


def test_plain_model_save_and_delete(api_client, product, django_capture_on_commit_callbacks):
    product.name = "Saved"
    assert_invalidated(api_client, f"{PRODUCTS}p/", product.save, django_capture_on_commit_callbacks)
    variant = ProductVariant.objects.get(product__slug="v")
    assert_invalidated(api_client, f"{PRODUCTS}v/variants/", variant.delete, django_capture_on_commit_callbacks)


def test_api_write(api_client, staff_client, product, django_capture_on_commit_callbacks):
    assert_invalidated(
        api_client, f"{PRODUCTS}p/",
        lambda: staff_client.patch(f"{PRODUCTS}p/", {"price": "7.00"}, format="json"),
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert get(api_client, f"{PRODUCTS}p/").json()["price"] == "7.00"


def test_the_version_is_bumped_only_after_commit(api_client, product, django_capture_on_commit_callbacks):
    warm(api_client, f"{PRODUCTS}p/")
    with django_capture_on_commit_callbacks(execute=False):
        services.product_update(product=product, data={"name": "Pending"})
        # before the commit hook runs nothing is invalidated (readers in other transactions still see the old row)
        assert api_client.get(f"{PRODUCTS}p/")["X-Cache"] == "HIT"


@pytest.mark.django_db(transaction=True)
def test_invalidation_with_real_commits(api_client):
    category = CategoryFactory()
    product = ProductFactory(slug="real", category=category, stock=3)
    warm(api_client, f"{PRODUCTS}real/")

    stock.stock_adjust(product_id=product.pk, delta=-1, reason="order")

    response = get(api_client, f"{PRODUCTS}real/")
    assert response["X-Cache"] == "MISS" and response.json()["stock"] == 2
