"""HTTP caching of catalog reads (API.md "Catalog"): strong ETag + `public, no-cache` on anonymous 200s,
304 on If-None-Match (hit or miss), `private, no-store` for staff; the headers every response gets stay."""

import pytest
from django.test import Client

from catalog import services
from catalog.models import Product
from catalog.stock import stock_adjust
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/catalog/products/"
STOREFRONT = "http://localhost:3000"


@pytest.fixture
def mug():
    return ProductFactory(slug="mug", name="Mug", stock=5)


@pytest.mark.parametrize("url", [PRODUCTS, f"{PRODUCTS}mug/", f"{PRODUCTS}mug/variants/", "/api/catalog/categories/"])
def test_anonymous_pages_carry_a_strong_etag_and_public_no_cache(client, mug, url):
    miss, hit = client.get(url), client.get(url)
    assert (miss["X-Cache"], hit["X-Cache"]) == ("MISS", "HIT")
    for response in (miss, hit):
        assert response.status_code == 200
        assert response["Cache-Control"] == "public, no-cache"
        assert response["ETag"].startswith('"') and not response["ETag"].startswith("W/")
    assert hit["ETag"] == miss["ETag"] and hit.content == miss.content


@pytest.mark.django_db(transaction=True)
def test_if_none_match_answers_304_without_a_body_on_a_hit_and_on_a_miss(client, mug):
    etag = client.get(f"{PRODUCTS}mug/")["ETag"]

    hit = client.get(f"{PRODUCTS}mug/", HTTP_IF_NONE_MATCH=etag)
    assert (hit.status_code, hit.content, hit["ETag"], hit["X-Cache"]) == (304, b"", etag, "HIT")
    assert hit["Cache-Control"] == "public, no-cache"
    assert client.get(f"{PRODUCTS}mug/", HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304

    # after a change the old ETag no longer matches: 200 with the new bytes and a new ETag
    services.product_update(product=Product.objects.get(slug="mug"), data={"name": "Cup"}, user=None)
    changed = client.get(f"{PRODUCTS}mug/", HTTP_IF_NONE_MATCH=etag)
    assert (changed.status_code, changed["X-Cache"]) == (200, "MISS")
    assert changed["ETag"] != etag and changed.json()["name"] == "Cup"
    # and a miss whose fresh bytes match answers 304 too (another product's change misses every page)
    ProductFactory(slug="other")
    again = client.get(f"{PRODUCTS}mug/", HTTP_IF_NONE_MATCH=changed["ETag"])
    assert (again.status_code, again["X-Cache"]) == (304, "MISS")


@pytest.mark.django_db(transaction=True)
def test_a_stock_change_changes_the_etag(client, mug):
    etag = client.get(f"{PRODUCTS}mug/")["ETag"]
    stock_adjust(product_id=mug.pk, delta=-1, reason="order")
    assert client.get(f"{PRODUCTS}mug/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_staff_responses_are_private_no_store(staff_client, mug):
    for url in (PRODUCTS, f"{PRODUCTS}mug/", f"{PRODUCTS}?include_inactive=true"):
        response = staff_client.get(url)
        assert (response.status_code, response["X-Cache"]) == (200, "BYPASS")
        assert response["Cache-Control"] == "private, no-store"
        assert "ETag" not in response


def test_a_304_on_the_early_hit_still_carries_cors_request_id_and_security_headers(mug):
    client = Client()
    etag = client.get(PRODUCTS)["ETag"]
    response = client.get(PRODUCTS, HTTP_IF_NONE_MATCH=etag, HTTP_ORIGIN=STOREFRONT)
    assert response.status_code == 304
    assert response["Access-Control-Allow-Origin"] == STOREFRONT
    assert response["X-Request-ID"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_errors_carry_no_public_cache_control(client):
    response = client.get(f"{PRODUCTS}missing/")
    assert response.status_code == 404
    assert response.get("Cache-Control") != "public, no-cache"


def test_an_anonymous_hit_is_answered_before_the_view_runs(client, mug, monkeypatch):
    from catalog.views import ProductViewSet

    assert client.get(f"{PRODUCTS}mug/")["X-Cache"] == "MISS"

    def refuse(*args, **kwargs):
        raise AssertionError("the view ran for a cache hit")

    monkeypatch.setattr(ProductViewSet, "dispatch", refuse)
    hit = client.get(f"{PRODUCTS}mug/", HTTP_ORIGIN=STOREFRONT)
    assert (hit.status_code, hit["X-Cache"]) == (200, "HIT")
    assert hit["X-Frame-Options"] == "DENY" and hit["Content-Length"] == str(len(hit.content))
    assert hit["Access-Control-Allow-Origin"] == STOREFRONT and hit["X-Request-ID"]
