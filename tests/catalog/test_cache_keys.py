"""Bounded cache keys: equivalent queries share one entry, junk cannot grow Redis, invalid values are never cached."""

import pytest
from django.core.cache import cache

from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/catalog/products/"


def page_keys() -> set[bytes]:
    redis = cache.client.get_client(write=True)
    return set(redis.scan_iter(cache.make_key("catalog:resp:*"), count=1000))


@pytest.fixture(autouse=True)
def empty_pages():
    for key in page_keys():
        cache.client.get_client(write=True).delete(key)
    ProductFactory(brand="Acme", price="12.50", category=CategoryFactory(slug="mugs"))


def statuses(client, queries) -> list[tuple[int, str]]:
    return [(r.status_code, r.get("X-Cache")) for r in (client.get(f"{PRODUCTS}?{q}") for q in queries)]


def test_equivalent_filter_values_share_one_entry(client):
    queries = ["min_price=0", "min_price=0.0", "min_price=0.000", "min_price=00", "min_price=%200%20"]
    queries += [f"min_price=0&utm_source=x{n}" for n in range(95)]  # and 95 junk parameters
    results = statuses(client, queries)
    assert results[0] == (200, "MISS")
    assert set(results[1:]) == {(200, "HIT")}
    assert len(page_keys()) == 1


@pytest.mark.parametrize(
    "variants",
    [
        ["brand=acme", "brand=ACME", "brand=%20Acme%20"],
        ["ordering=-price", "ordering=price&ordering=-price"],  # a repeated parameter: the last one counts
        ["page=1", "page=01"],
        ["max_price=20", "max_price=20.00", "max_price=2E1"],
        ["in_stock=true&category=mugs", "category=mugs&in_stock=true&junk=1"],
    ],
)
def test_normalized_variants(client, variants):
    results = statuses(client, variants)
    assert results[0] == (200, "MISS") and set(results[1:]) == {(200, "HIT")}
    assert len(page_keys()) == 1


def test_invalid_values_are_400_and_never_stored(client):
    for query in ("min_price=abc", "min_price=-1", "in_stock=yes", "ordering=stock", "min_rating=9", "category=nope"):
        response = client.get(f"{PRODUCTS}?{query}")
        assert response.status_code == 400, query
    assert page_keys() == set()


def test_the_scheme_is_part_of_the_key(client):
    http = client.get(PRODUCTS)
    https = client.get(PRODUCTS, secure=True)
    assert (http["X-Cache"], https["X-Cache"]) == ("MISS", "MISS")
    assert len(page_keys()) == 2
