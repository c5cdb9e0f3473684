"""The product list and detail are built from row tuples (catalog.serializers.product_list_data), not by the DRF
serializers. These tests hold the two to the same bytes, so the serializers stay the one definition of the JSON
(and of the OpenAPI schema), and pin the queries an uncached read costs."""

from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from catalog import selectors
from catalog.models import Product, ProductImage
from catalog.serializers import ProductDetailOutputSerializer, ProductOutputSerializer
from tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/catalog/products/"


@pytest.fixture
def varied_catalog():
    """Products with every shape a field can take: sale prices, variants with and without their own price,
    inactive variants, images with and without thumbnails or a variant, text that JSON must escape."""
    root = CategoryFactory(slug="root", name="Root “Ünïcode”")
    leaf = CategoryFactory(slug="leaf", name="Leaf", parent=root)
    plain = ProductFactory(slug="plain", name="Plain", category=leaf, price=Decimal("9.90"), stock=0)
    sale = ProductFactory(
        slug="sale", name='Sale "quoted" \\ back\tslash \u2028 line \u2029 para \x01 ctl é 😀', category=root,
        price=Decimal("1234567890.10"), compare_at_price=Decimal("1234567890.11"), stock=7, brand="",
        description="",
    )  # fmt: skip
    Product.objects.filter(pk=sale.pk).update(average_rating=Decimal("4.25"), review_count=3)
    shirt = ProductFactory(slug="shirt", name="Shirt", category=leaf, price=Decimal("20.00"), stock=0)
    red = VariantFactory(product=shirt, name="Red", attributes={"size": "M", "color": "red"}, stock=3)
    VariantFactory(product=shirt, name="Blue XL", price=Decimal("25.50"), compare_at_price=Decimal("30.00"), stock=0)
    VariantFactory(product=shirt, name="Retired", is_active=False, stock=0)
    VariantFactory(product=shirt, name="Not on sale", price=Decimal("40.00"), compare_at_price=None)
    images = [("", None), ("products/t1.webp", red), ("products/t2.webp", None)]
    for position, (thumbnail, variant) in enumerate(images):
        ProductImage.objects.create(
            product=shirt, image=f"products/{position}.jpg", thumbnail=thumbnail, position=2 - position,
            alt_text=f"Alt {position} ü", width=800, height=600, variant=variant,
        )  # fmt: skip
    ProductImage.objects.create(product=sale, image="products/s.png", thumbnail="products/s.webp", width=1, height=2)
    return [plain, sale, shirt]


def _serialized(serializer_class, instance, path: str, **kwargs) -> bytes:
    request = Request(APIRequestFactory().get(path))
    data = serializer_class(instance, context={"request": request}, **kwargs).data
    return JSONRenderer().render(data)


def _results_bytes(response) -> bytes:
    body = response.content
    return body[body.index(b'"results":') + len(b'"results":') : -1]


@pytest.mark.parametrize("include_inactive", [False, True])
def test_the_list_is_byte_for_byte_what_the_serializer_writes(api_client, staff_client, varied_catalog,
                                                              include_inactive):  # fmt: skip
    client = staff_client if include_inactive else api_client
    response = client.get(PRODUCTS, {"include_inactive": "true"} if include_inactive else {})

    assert response.status_code == 200
    products = selectors.product_list(include_inactive=include_inactive)
    assert _results_bytes(response) == _serialized(ProductOutputSerializer, products, PRODUCTS, many=True)


@pytest.mark.parametrize("slug", ["plain", "sale", "shirt"])
def test_the_detail_is_byte_for_byte_what_the_serializer_writes(api_client, varied_catalog, slug):
    path = f"{PRODUCTS}{slug}/"
    response = api_client.get(path)

    assert response.status_code == 200
    product = selectors.product_list().get(slug=slug)
    assert response.content == _serialized(ProductDetailOutputSerializer, product, path)


def test_every_serializer_field_is_written_in_order(api_client, varied_catalog):
    """A field added to the serializers must be added to the row functions too (this fails until it is)."""
    detail = api_client.get(f"{PRODUCTS}shirt/").json()

    assert list(detail) == ProductDetailOutputSerializer.Meta.fields
    assert list(detail["variants"][0]) == ProductOutputSerializer().fields["variants"].child.Meta.fields
    assert list(detail["images"][0]) == ProductOutputSerializer().fields["images"].child.Meta.fields
    assert [v["name"] for v in detail["variants"]] == ["Red", "Blue XL", "Not on sale"]  # inactive ones hidden
    assert [i["position"] for i in detail["images"]] == [0, 1, 2]


@pytest.mark.parametrize("page_size", [1, 3])
def test_an_uncached_list_costs_three_queries_at_any_page_size(api_client, varied_catalog, page_size,
                                                               django_assert_num_queries):  # fmt: skip
    api_client.get(PRODUCTS, {"page_size": page_size})  # the count of this filter set is now cached
    # page (category joined), variants of the page, images of the page
    with django_assert_num_queries(3):
        response = api_client.get(PRODUCTS, {"page_size": page_size}, HTTP_HOST="testserver:8001")
    assert response["X-Cache"] == "MISS" and len(response.json()["results"]) == page_size


def test_an_uncached_search_costs_five_queries(api_client, varied_catalog, django_assert_num_queries):
    params = {"search": "shirt", "category": "root", "min_price": "1", "max_price": "100"}
    # the category by slug, the count, the page, its variants, its images
    with django_assert_num_queries(5):
        response = api_client.get(PRODUCTS, params)
    assert [p["slug"] for p in response.json()["results"]] == ["shirt"]


def test_an_uncached_detail_costs_four_queries(api_client, varied_catalog, django_assert_num_queries):
    # the product (category joined), its variants, its images, its category trail
    with django_assert_num_queries(4):
        response = api_client.get(f"{PRODUCTS}shirt/")
    assert response["X-Cache"] == "MISS" and len(response.json()["variants"]) == 3
