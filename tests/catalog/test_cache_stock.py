"""Stock changes invalidate per product: a checkout misses only the cached pages that show what it bought.

Real commits (transaction=True), the real Redis of the test settings: the hit path is the Lua script.
"""

from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.db import transaction

from catalog.cache import STOCK_VERSIONS_KEY, VERSION_KEY, catalog_version
from catalog.models import Product
from catalog.stock import StockChange, stock_adjust, stock_adjust_many
from orders.services import order_place
from tests.factories import AddressFactory, CategoryFactory, ProductFactory, UserFactory, VariantFactory
from tests.orders.factories import fill_cart

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTS = "/api/catalog/products/"


def read(client, url, params=None):
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return response


def warm(client, url, params=None):
    read(client, url, params)
    assert read(client, url, params)["X-Cache"] == "HIT"


def published(pk: int) -> float | None:
    redis = cache.client.get_client(write=True)
    return redis.zscore(cache.make_key(STOCK_VERSIONS_KEY), str(pk))


@pytest.fixture
def shelf():
    mugs, cups = CategoryFactory(slug="mugs"), CategoryFactory(slug="cups")
    return (
        ProductFactory(slug="mug", category=mugs, stock=10),
        ProductFactory(slug="cup", category=cups, stock=10),
    )


def test_a_checkout_misses_only_the_pages_showing_what_it_bought(api_client, shelf):
    mug, cup = shelf
    pages = {
        "mug": (f"{PRODUCTS}mug/", None),
        "cup": (f"{PRODUCTS}cup/", None),
        "list": (PRODUCTS, None),
        "cups": (PRODUCTS, {"category": "cups"}),
    }
    for url, params in pages.values():
        warm(api_client, url, params)
    version = catalog_version()

    stock_adjust(product_id=mug.pk, delta=-3, reason="order", reference="ORD-1")

    assert catalog_version() == version  # no global bump: still in stock
    assert read(api_client, *pages["cup"])["X-Cache"] == "HIT"
    assert read(api_client, *pages["cups"])["X-Cache"] == "HIT"
    detail = read(api_client, *pages["mug"])
    assert (detail["X-Cache"], detail.json()["stock"]) == ("MISS", 7)
    listing = read(api_client, *pages["list"])
    assert listing["X-Cache"] == "MISS"
    assert {p["slug"]: p["stock"] for p in listing.json()["results"]} == {"mug": 7, "cup": 10}
    assert read(api_client, *pages["list"])["X-Cache"] == "HIT"


def test_a_checkout_over_http_is_seen_by_the_next_read(api_client, shelf):
    mug, _ = shelf
    warm(api_client, f"{PRODUCTS}mug/")
    warm(api_client, PRODUCTS)
    buyer = UserFactory()
    address = AddressFactory(user=buyer)
    fill_cart(buyer, (mug, 2))
    api_client.force_authenticate(buyer)
    placed = api_client.post("/api/orders/", {"shipping_address": address.pk}, format="json")
    assert placed.status_code == 201, placed.content
    api_client.force_authenticate(None)

    assert read(api_client, f"{PRODUCTS}mug/").json()["stock"] == 8
    assert {p["slug"]: p["stock"] for p in read(api_client, PRODUCTS).json()["results"]}["mug"] == 8


def test_the_service_checkout_is_seen_by_the_next_read(api_client, shelf):
    mug, _ = shelf
    warm(api_client, f"{PRODUCTS}mug/")
    buyer = UserFactory()
    fill_cart(buyer, (mug, 4))
    order_place(user=buyer, shipping_address_id=AddressFactory(user=buyer).pk)
    assert read(api_client, f"{PRODUCTS}mug/").json()["stock"] == 6


def test_a_variant_checkout_misses_its_product_and_variant_pages(api_client):
    product = ProductFactory(slug="tee", stock=0)
    variant = VariantFactory(product=product, stock=5)
    Product.objects.filter(pk=product.pk).update(stock=5)
    variants = f"{PRODUCTS}tee/variants/"
    warm(api_client, variants)
    warm(api_client, f"{PRODUCTS}tee/")

    stock_adjust(product_id=product.pk, variant_id=variant.pk, delta=-2, reason="order")

    assert read(api_client, variants).json()["results"][0]["stock"] == 3
    assert read(api_client, f"{PRODUCTS}tee/").json()["variants"][0]["stock"] == 3


def test_selling_out_changes_the_in_stock_listing(api_client, shelf):
    mug, _ = shelf
    warm(api_client, PRODUCTS, {"in_stock": "true"})
    version = catalog_version()

    stock_adjust(product_id=mug.pk, delta=-10, reason="order")

    assert catalog_version() > version
    slugs = [p["slug"] for p in read(api_client, PRODUCTS, {"in_stock": "true"}).json()["results"]]
    assert slugs == ["cup"]


def test_a_rolled_back_savepoint_publishes_only_what_committed(shelf):
    mug, cup = shelf
    before = {p.pk: p.stock_version for p in Product.objects.filter(pk__in=[mug.pk, cup.pk])}
    with transaction.atomic():
        try:
            with transaction.atomic():
                stock_adjust_many(changes=[StockChange(mug.pk, None, -1)], reason="order")
                raise RuntimeError("undo the inner block")
        except RuntimeError:
            pass
        stock_adjust_many(changes=[StockChange(cup.pk, None, -1)], reason="order")

    assert Product.objects.get(pk=mug.pk).stock_version == before[mug.pk]
    assert Product.objects.get(pk=cup.pk).stock_version == before[cup.pk] + 1
    assert published(cup.pk) == before[cup.pk] + 1
    assert published(mug.pk) in (None, before[mug.pk])  # not raised by the rolled-back change


def test_published_versions_only_go_up(shelf):
    mug, _ = shelf
    stock_adjust(product_id=mug.pk, delta=-1, reason="order")
    stock_adjust(product_id=mug.pk, delta=-1, reason="order")
    latest = Product.objects.get(pk=mug.pk).stock_version
    assert published(mug.pk) == latest
    redis = cache.client.get_client(write=True)
    redis.zadd(cache.make_key(STOCK_VERSIONS_KEY), {str(mug.pk): latest - 1}, gt=True)  # a late, older callback
    assert published(mug.pk) == latest


def test_a_lost_version_set_is_a_miss_not_a_stale_page(api_client, shelf):
    mug, _ = shelf
    warm(api_client, f"{PRODUCTS}mug/")
    stock_adjust(product_id=mug.pk, delta=-1, reason="order")
    read(api_client, f"{PRODUCTS}mug/")
    # the sorted set is evicted (allkeys-lru) or flushed: pages that depend on it cannot be checked
    cache.delete(STOCK_VERSIONS_KEY)
    assert read(api_client, f"{PRODUCTS}mug/")["X-Cache"] == "MISS"
    version = catalog_version()
    cache.delete(STOCK_VERSIONS_KEY)
    stock_adjust(product_id=mug.pk, delta=-1, reason="order")
    assert catalog_version() == version + 1  # a write that finds the set gone bumps every page
    assert read(api_client, f"{PRODUCTS}mug/").json()["stock"] == 8


@contextmanager
def redis_commands():
    """The Redis commands the cache's client sends inside the block, in order."""
    redis = cache.client.get_client(write=True)
    calls = []
    original = redis.execute_command

    def spy(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    redis.execute_command = spy
    try:
        yield calls
    finally:
        del redis.execute_command


def test_a_hit_is_one_redis_round_trip(api_client, shelf):
    warm(api_client, PRODUCTS)
    with redis_commands() as calls:
        assert read(api_client, PRODUCTS)["X-Cache"] == "HIT"
    assert calls == ["EVALSHA"]
    assert cache.get(VERSION_KEY) is not None


def test_an_anonymous_miss_looks_for_its_page_once(api_client, shelf):
    """catalog.middleware looked for the page already; the view reuses the version it read (no second lookup)."""
    warm(api_client, PRODUCTS)
    with redis_commands() as calls:
        assert read(api_client, f"{PRODUCTS}?page_size=3")["X-Cache"] == "MISS"
    assert calls.count("EVALSHA") == 1  # the page lookup; then the count (GET) and the store (pipeline)
    assert read(api_client, f"{PRODUCTS}?page_size=3")["X-Cache"] == "HIT"  # stored under the version read
