"""Product detail carries its category trail (root first) in one query, however deep the category."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.selectors import category_trail
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deep_product():
    root = CategoryFactory(name="Home", slug="home")
    middle = CategoryFactory(name="Kitchen", slug="kitchen", parent=root)
    leaf = CategoryFactory(name="Knives", slug="knives", parent=middle)
    deeper = CategoryFactory(name="Bread Knives", slug="bread-knives", parent=leaf)
    return ProductFactory(category=deeper), [root, middle, leaf, deeper]


def test_product_detail_has_breadcrumbs_root_first(api_client, deep_product):
    product, trail = deep_product

    body = api_client.get(f"/api/catalog/products/{product.slug}/").json()

    assert body["breadcrumbs"] == [{"id": c.pk, "slug": c.slug, "name": c.name} for c in trail]


def test_the_trail_is_one_query_whatever_the_depth(deep_product):
    product, trail = deep_product

    with CaptureQueriesContext(connection) as queries:
        result = category_trail(category=product.category)

    assert [c.pk for c in result] == [c.pk for c in trail]
    assert len(queries) == 1


def test_product_detail_reads_stay_constant_with_a_deeper_tree(api_client, deep_product, django_assert_max_num_queries):
    product, _ = deep_product

    with django_assert_max_num_queries(4):  # product + variants prefetch + images prefetch + the trail
        response = api_client.get(f"/api/catalog/products/{product.slug}/")

    assert response.status_code == 200


def test_the_list_does_not_carry_breadcrumbs(api_client, deep_product):
    results = api_client.get("/api/catalog/products/").json()["results"]

    assert results and "breadcrumbs" not in results[0]
