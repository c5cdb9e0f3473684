"""The catalog version: one bump per transaction, never lost to a savepoint, and hits that are the miss's bytes."""

import pytest
from django.core.cache import cache
from django.db import transaction

from catalog.cache import VERSION_KEY, catalog_version
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def rename(product, name: str = "Renamed") -> None:
    type(product).objects.filter(pk=product.pk).update(name=name)


def test_a_transaction_with_many_catalog_writes_bumps_the_version_once():
    products = [ProductFactory(stock=10) for _ in range(5)]
    before = catalog_version()

    with transaction.atomic():
        for product in products:
            rename(product)
        products[0].name = "Renamed"
        products[0].save()

    assert catalog_version() == before + 1


def test_a_rolled_back_savepoint_does_not_swallow_the_bump_of_what_committed():
    first, second = ProductFactory(stock=10), ProductFactory(stock=10)
    before = catalog_version()

    with transaction.atomic():
        try:
            with transaction.atomic():
                rename(first)
                raise RuntimeError("undo the inner block")
        except RuntimeError:
            pass
        rename(second)

    assert catalog_version() == before + 1


def test_a_rolled_back_transaction_does_not_bump():
    product = ProductFactory(stock=10)
    before = catalog_version()

    with pytest.raises(RuntimeError), transaction.atomic():
        rename(product)
        raise RuntimeError("roll back")

    assert catalog_version() == before


def test_a_hit_serves_the_bytes_of_the_miss(api_client):
    ProductFactory(slug="cached-bytes")
    miss = api_client.get("/api/catalog/products/?page_size=5")
    hit = api_client.get("/api/catalog/products/?page_size=5")

    assert (miss["X-Cache"], hit["X-Cache"]) == ("MISS", "HIT")
    assert hit.content == miss.content
    assert hit["Content-Type"] == "application/json"
    assert hit.json()["results"][0]["slug"] == "cached-bytes"


def test_a_bump_by_another_process_is_seen_at_once(api_client):
    # given a page cached at the version this process saw last
    product = ProductFactory(slug="elsewhere", stock=10)
    api_client.get("/api/catalog/products/elsewhere/")
    assert api_client.get("/api/catalog/products/elsewhere/")["X-Cache"] == "HIT"

    # when another process changes the row and bumps the version in Redis
    type(product).objects.filter(pk=product.pk).update(stock=4)
    cache.incr(VERSION_KEY)

    # then the next read misses and shows it
    response = api_client.get("/api/catalog/products/elsewhere/")
    assert response["X-Cache"] == "MISS"
    assert response.json()["stock"] == 4


def test_anonymous_and_customer_hits_share_the_page_and_staff_bypass_it(api_client, user_client, staff_client):
    ProductFactory(slug="shared-page", stock=3)
    url = "/api/catalog/products/shared-page/"

    first = api_client.get(url)  # anonymous miss, stored
    customer = user_client.get(url)  # authenticated non-staff: the same public page
    staff = staff_client.get(url)

    assert (first["X-Cache"], customer["X-Cache"], staff["X-Cache"]) == ("MISS", "HIT", "BYPASS")
    assert customer.content == first.content
    assert api_client.get(url, HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401


def test_staff_with_a_real_token_or_session_bypass_the_anonymous_fast_path(api_client, client, staff_user):
    from tests.factories import DEFAULT_PASSWORD

    ProductFactory(slug="staff-view", stock=3)
    url = "/api/catalog/products/staff-view/"
    assert api_client.get(url)["X-Cache"] == "MISS"
    assert api_client.get(url)["X-Cache"] == "HIT"

    token = api_client.post("/api/auth/token/", {"email": staff_user.email, "password": DEFAULT_PASSWORD}).json()
    with_token = api_client.get(url, HTTP_AUTHORIZATION=f"Bearer {token['access']}")
    client.force_login(staff_user)  # the admin's session cookie
    with_session = client.get(url)

    assert (with_token["X-Cache"], with_session["X-Cache"]) == ("BYPASS", "BYPASS")
