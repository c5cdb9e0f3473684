from decimal import Decimal

import pytest

from catalog.models import Product, ProductImage
from tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/catalog/products/"


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [item["slug"] for item in response.json()["results"]]


@pytest.fixture
def catalog():
    clothing = CategoryFactory(slug="clothing")
    shirts = CategoryFactory(slug="shirts", parent=clothing)
    oxford = CategoryFactory(slug="oxford", parent=shirts)
    books = CategoryFactory(slug="books")
    ProductFactory(slug="tee", name="Plain Tee", brand="Acme", category=clothing, price=Decimal("9.00"), stock=5)
    ProductFactory(slug="shirt", name="Linen Shirt", brand="ACME", category=shirts, price=Decimal("39.00"), stock=0)
    ProductFactory(slug="ox", name="Oxford", brand="Tailor", category=oxford, price=Decimal("59.00"), stock=2,
                   description="Cotton button-down")  # fmt: skip
    ProductFactory(slug="novel", name="A Novel", brand="Penguin", category=books, price=Decimal("15.00"), stock=9,
                   sku="BOOK-42")  # fmt: skip
    Product.objects.filter(slug="ox").update(average_rating=Decimal("4.50"))
    Product.objects.filter(slug="novel").update(average_rating=Decimal("3.20"))


def test_category_includes_all_descendants(api_client, catalog):
    assert sorted(slugs(api_client.get(PRODUCTS, {"category": "clothing"}))) == ["ox", "shirt", "tee"]
    assert sorted(slugs(api_client.get(PRODUCTS, {"category": "shirts"}))) == ["ox", "shirt"]


def test_brand_is_case_insensitive(api_client, catalog):
    assert sorted(slugs(api_client.get(PRODUCTS, {"brand": "acme"}))) == ["shirt", "tee"]


def test_price_range(api_client, catalog):
    assert sorted(slugs(api_client.get(PRODUCTS, {"min_price": "10", "max_price": "40"}))) == ["novel", "shirt"]


def test_in_stock(api_client, catalog):
    assert slugs(api_client.get(PRODUCTS, {"in_stock": "false"})) == ["shirt"]
    assert "shirt" not in slugs(api_client.get(PRODUCTS, {"in_stock": "true"}))


def test_in_stock_counts_variants(api_client):
    product = ProductFactory(slug="v", stock=0)
    VariantFactory(product=product, stock=2)
    assert slugs(api_client.get(PRODUCTS, {"in_stock": "true"})) == ["v"]


def test_min_rating(api_client, catalog):
    assert slugs(api_client.get(PRODUCTS, {"min_rating": "4"})) == ["ox"]


@pytest.mark.parametrize(
    ("term", "expected"),
    [("linen", ["shirt"]), ("BUTTON", ["ox"]), ("book-4", ["novel"]), ("penguin", ["novel"])],
)
def test_search_covers_name_description_sku_and_brand(api_client, catalog, term, expected):
    assert slugs(api_client.get(PRODUCTS, {"search": term})) == expected


def test_search_does_not_match_across_two_fields(api_client, catalog):
    # "Tee" is the end of a name and "Acme" the brand: the one concatenated search text must not join them.
    assert slugs(api_client.get(PRODUCTS, {"search": "teeacme"})) == []
    assert slugs(api_client.get(PRODUCTS, {"search": "tee\x1facme"})) == []


def test_search_is_one_scan_of_the_one_search_index(catalog):
    """The filter must compare the stored search_text column that migration 0007 indexed, not an expression of the
    four columns: otherwise every search scans the table, or upper-cases four columns per candidate row."""
    from django.db import connection, transaction

    from catalog.filters import ProductFilter

    queryset = ProductFilter({"search": "linen"}, queryset=Product.objects.all()).qs.order_by()
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # a four-row table: make the planner show the index it would use on a big one
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert plan.count("Bitmap Index Scan on catalog_prod_search ") == 1, plan
    assert "upper" not in plan.lower().replace("upper('linen'", ""), plan  # no UPPER() of a column per row


@pytest.mark.django_db(transaction=True)  # committed rows, so VACUUM can mark them all-visible as in production
def test_the_count_of_a_search_in_a_category_needs_no_table_rows(catalog):
    """COUNT(*) of search + category + price range reads only the covering index of migration 0007 (the search
    text is in it), not one table page per candidate: the cost that made a 1M-product search slow."""
    from django.db import connection, transaction

    from catalog import selectors
    from catalog.filters import ProductFilter

    params = {"search": "linen", "category": "clothing", "min_price": "10", "max_price": "100"}
    queryset = ProductFilter(params, queryset=selectors.product_visible()).qs.order_by()
    sql, params = queryset.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalog_product")  # a production table's visibility map and statistics
    with transaction.atomic(), connection.cursor() as cursor:
        # a tiny table: no sequential or bitmap scan, so the planner picks among the index paths a big one has
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN SELECT COUNT(*) FROM ({sql}) AS page", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using catalog_prod_search_cover on catalog_product" in plan, plan


@pytest.mark.parametrize("term", ["100%", "a_b", "back\\slash"])
def test_search_treats_like_wildcards_as_text(api_client, term):
    ProductFactory(slug="literal", name=f"Sale {term} off")
    ProductFactory(slug="other", name="Sale 1000 off a-b backslash")
    assert slugs(api_client.get(PRODUCTS, {"search": term})) == ["literal"]


def test_search_text_follows_every_write(api_client, catalog):
    Product.objects.filter(slug="novel").update(name="A Thriller")
    assert slugs(api_client.get(PRODUCTS, {"search": "thriller"})) == ["novel"]
    assert slugs(api_client.get(PRODUCTS, {"search": "novel"}, HTTP_HOST="testserver:8003")) == []


def test_filters_combine(api_client, catalog):
    params = {"category": "clothing", "brand": "acme", "in_stock": "true"}
    assert slugs(api_client.get(PRODUCTS, params)) == ["tee"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["tee", "novel", "shirt", "ox"]),
        ("-price", ["ox", "shirt", "novel", "tee"]),
        ("name", ["novel", "shirt", "ox", "tee"]),
        ("-average_rating", ["ox", "novel"]),  # the rest tie at 0.00
    ],
)
def test_ordering(api_client, catalog, ordering, expected):
    assert slugs(api_client.get(PRODUCTS, {"ordering": ordering}))[: len(expected)] == expected


def test_default_ordering_is_newest_first(api_client, catalog):
    assert slugs(api_client.get(PRODUCTS)) == ["novel", "ox", "shirt", "tee"]


@pytest.mark.parametrize("ordering", [",", ",,", "price,"])
def test_empty_ordering_terms_are_ignored_not_a_500(api_client, catalog, ordering):
    # found by the schema fuzzer: `?ordering=,` reached order_by("") (a FieldError, 500)
    response = api_client.get(PRODUCTS, {"ordering": ordering})
    assert response.status_code == 200
    expected = ["tee", "novel", "shirt", "ox"] if ordering == "price," else ["novel", "ox", "shirt", "tee"]
    assert slugs(response) == expected


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("ordering", "stock"),
        ("ordering", "password"),
        ("min_price", "cheap"),
        ("max_price", "1e"),
        ("min_rating", "6"),
        ("min_rating", "0"),
        ("min_rating", "x"),
        ("in_stock", "maybe"),
        ("category", "no-such-category"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(api_client, catalog, param, value):
    response = api_client.get(PRODUCTS, {param: value})

    assert response.status_code == 400
    assert list(response.json()) == [param]
    assert isinstance(response.json()[param], list) and response.json()[param][0]


def test_an_inactive_category_is_unknown_to_non_staff(api_client, staff_client, catalog):
    from catalog.models import Category

    Category.objects.filter(slug="books").update(is_active=False)
    assert api_client.get(PRODUCTS, {"category": "books"}).status_code == 400
    assert staff_client.get(PRODUCTS, {"category": "books"}).status_code == 200


# --- Query budget -------------------------------------------------------------------------------


@pytest.fixture
def many_products():
    categories = [CategoryFactory(), CategoryFactory()]
    for i in range(100):
        product = ProductFactory(category=categories[i % 2], stock=0 if i % 3 == 0 else 4)
        if i % 3 == 0:
            VariantFactory(product=product, stock=2)
            VariantFactory(product=product, stock=1)
        if i % 2 == 1:  # rows only: listing never opens the files
            for position in range(2):
                ProductImage.objects.create(
                    product=product, image=f"products/{i}-{position}.jpg", thumbnail=f"products/{i}-{position}.webp",
                    position=position, width=800, height=600,
                )  # fmt: skip


@pytest.mark.parametrize("page_size", [1, 100])
def test_product_list_runs_a_constant_number_of_queries(api_client, many_products, page_size,
                                                        django_assert_num_queries):  # fmt: skip
    # count, page (category joined), variants prefetch, images prefetch
    with django_assert_num_queries(4):
        response = api_client.get(PRODUCTS, {"page_size": page_size})
    assert len(response.json()["results"]) == page_size
    assert response.json()["results"][0]["thumbnail"].endswith(".webp")
    assert response["X-Cache"] == "MISS"
    # another page of the same filter set (or the same page for another host): the count is cached
    with django_assert_num_queries(3):
        other = api_client.get(PRODUCTS, {"page_size": page_size, "page": 1}, HTTP_HOST="testserver:8001")
    assert other.status_code == 200, other.content
    assert other["X-Cache"] == "MISS" and other.json()["count"] == response.json()["count"]


def test_the_cached_count_follows_the_catalog(api_client, many_products, django_capture_on_commit_callbacks):
    before = api_client.get(PRODUCTS).json()["count"]
    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.filter(pk=Product.objects.first().pk).update(is_active=False)
    after = api_client.get(PRODUCTS, {"page": 1}, HTTP_HOST="testserver:8002").json()["count"]
    assert after == before - 1


def test_variant_lists_of_two_products_do_not_share_a_count(api_client):
    one, two = ProductFactory(slug="one"), ProductFactory(slug="two")
    VariantFactory(product=one)
    VariantFactory.create_batch(2, product=two)
    assert api_client.get(f"{PRODUCTS}one/variants/").json()["count"] == 1
    assert api_client.get(f"{PRODUCTS}two/variants/").json()["count"] == 2


@pytest.mark.parametrize("page_size", [1, 100])
def test_filtered_product_list_stays_within_budget(api_client, many_products, page_size,
                                                   django_assert_max_num_queries):  # fmt: skip
    slug = Product.objects.first().category.slug
    # the category slug lookup, then the four of the plain list
    with django_assert_max_num_queries(5):
        response = api_client.get(PRODUCTS, {"page_size": page_size, "category": slug, "search": "Product"})
    assert response.status_code == 200


@pytest.mark.parametrize("page_size", [1, 100])
def test_staff_product_list_stays_within_budget(staff_client, many_products, page_size,
                                                django_assert_max_num_queries):  # fmt: skip
    with django_assert_max_num_queries(4):
        response = staff_client.get(PRODUCTS, {"page_size": page_size, "include_inactive": "true"})
    assert len(response.json()["results"]) == page_size


def test_product_detail_stays_within_budget(api_client, many_products, django_assert_max_num_queries):
    product = Product.objects.filter(variants__isnull=False, images__isnull=False).distinct().first()
    # the product (category joined), variants, images, the category trail (breadcrumbs)
    with django_assert_max_num_queries(4):
        response = api_client.get(f"{PRODUCTS}{product.slug}/")
    assert len(response.json()["variants"]) == 2
    assert [image["position"] for image in response.json()["images"]] == [0, 1]


def test_cached_product_list_runs_no_queries(api_client, many_products, django_assert_num_queries):
    api_client.get(PRODUCTS, {"page_size": 100})
    with django_assert_num_queries(0):
        response = api_client.get(PRODUCTS, {"page_size": 100})
    assert response["X-Cache"] == "HIT"
