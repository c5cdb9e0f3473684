from decimal import Decimal

import pytest
from django.test.utils import override_settings

from catalog.models import Category, Product, ProductVariant, StockMovement
from tests.factories import CategoryFactory, ProductFactory, UserFactory, VariantFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/catalog/product/"


@pytest.fixture
def admin_user():
    return UserFactory(is_staff=True, is_superuser=True)


def changelist_post(product: Product, **changes) -> dict:
    row = {"price": str(product.price), "stock": str(product.stock), "is_active": "on" if product.is_active else ""}
    row.update(changes)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(product.pk),
        "_save": "Save",
    }
    data.update({f"form-0-{k}": v for k, v in row.items() if v != ""})
    data["initial-form-0-stock"] = str(product.stock)  # the value the page was rendered with
    return data


def change_form_post(product: Product, variants=(), new_variants=(), **changes) -> dict:
    data = {
        "name": product.name,
        "slug": product.slug,
        "sku": product.sku,
        "brand": product.brand,
        "description": product.description,
        "category": str(product.category_id),
        "price": str(product.price),
        "currency": product.currency,
        "stock": str(product.stock),
        "initial-stock": str(product.stock),
        "is_active": "on",
        "variants-TOTAL_FORMS": str(len(variants) + len(new_variants)),
        "variants-INITIAL_FORMS": str(len(variants)),
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    data.update(changes)
    for i, row in enumerate([*variants, *new_variants]):
        data.update({f"variants-{i}-{k}": v for k, v in row.items() if k != "initial_stock"})
        data[f"variants-{i}-product"] = str(product.pk)
        data[f"initial-variants-{i}-stock"] = row.get("initial_stock", row["stock"])
    return data


def variant_row(variant: ProductVariant, **changes) -> dict:
    row = {
        "id": str(variant.pk),
        "sku": variant.sku,
        "name": variant.name,
        "attributes": '{"color": "red", "size": "M"}',
        "price": "",
        "stock": str(variant.stock),
        "initial_stock": str(variant.stock),
        "is_active": "on",
    }
    row.update(changes)
    return row


def test_changelist_loads_with_filters_and_search(admin_client):
    product = ProductFactory()
    VariantFactory(product=product)
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert b'name="initial-form-0-stock"' in response.content  # the rendered stock travels back on save
    assert b'name="initial-variants-0-stock"' in admin_client.get(f"{CHANGELIST}{product.pk}/change/").content
    assert admin_client.get(CHANGELIST, {"stock_level": "low", "q": "Product"}).status_code == 200
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 200


@override_settings(LOW_STOCK_THRESHOLD=5)
def test_low_stock_filter(admin_client):
    ProductFactory(name="Plenty", stock=50)
    ProductFactory(name="Scarce", stock=2)

    response = admin_client.get(CHANGELIST, {"stock_level": "low"})

    assert [p.name for p in response.context["cl"].result_list] == ["Scarce"]


def test_changelist_stock_edit_goes_through_the_ledger_and_invalidates_the_cache(
    admin_client, admin_user, api_client, django_capture_on_commit_callbacks
):
    product = ProductFactory(slug="p", stock=10, price=Decimal("10.00"))
    api_client.get("/api/catalog/products/p/")
    assert api_client.get("/api/catalog/products/p/")["X-Cache"] == "HIT"

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(CHANGELIST, changelist_post(product, stock="3", price="12.50"))

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.stock, product.price) == (3, Decimal("12.50"))
    movement = StockMovement.objects.get(product=product, reason="admin")
    assert (movement.delta, movement.stock_after, movement.user) == (-7, 3, admin_user)
    response = api_client.get("/api/catalog/products/p/")
    assert response["X-Cache"] == "MISS"
    assert response.json()["stock"] == 3 and response.json()["price"] == "12.50"


def test_changelist_price_edit_does_not_touch_stock_or_the_ledger(admin_client):
    product = ProductFactory(stock=10)
    stale = Product.objects.get(pk=product.pk)
    Product.objects.filter(pk=product.pk).update(stock=4)  # a checkout after the page was rendered

    admin_client.post(CHANGELIST, changelist_post(stale, price="20.00"))

    product.refresh_from_db()
    assert (product.stock, product.price) == (4, Decimal("20.00"))
    assert not StockMovement.objects.filter(product=product, reason="admin").exists()


def test_changelist_refuses_a_stock_edit_on_a_product_with_variants(admin_client):
    product = ProductFactory(stock=0)
    VariantFactory(product=product, stock=2)
    product.refresh_from_db()

    response = admin_client.post(CHANGELIST, changelist_post(product, stock="50"))

    assert response.status_code == 200  # the changelist re-rendered with the error
    assert Product.objects.get(pk=product.pk).stock == 2


def test_change_form_stock_edit_goes_through_the_ledger(admin_client, admin_user):
    product = ProductFactory(stock=10)

    response = admin_client.post(f"{CHANGELIST}{product.pk}/change/", change_form_post(product, stock="15"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Product.objects.get(pk=product.pk).stock == 15
    assert StockMovement.objects.get(product=product, reason="admin").delta == 5


def test_variant_inline_stock_edit_keeps_the_product_sum_and_the_ledger(admin_client, admin_user):
    product = ProductFactory(stock=0)
    red = VariantFactory(product=product, stock=4)
    blue = VariantFactory(product=product, stock=6)
    product.refresh_from_db()

    data = change_form_post(product, variants=[variant_row(red, stock="1"), variant_row(blue)])
    response = admin_client.post(f"{CHANGELIST}{product.pk}/change/", data)

    assert response.status_code == 302
    red.refresh_from_db()
    product.refresh_from_db()
    assert (red.stock, product.stock) == (1, 7)
    movement = StockMovement.objects.get(variant=red, reason="admin")
    assert (movement.delta, movement.user) == (-3, admin_user)


def test_variant_inline_add_and_delete(admin_client):
    product = ProductFactory(stock=0)
    old = VariantFactory(product=product, stock=4)
    product.refresh_from_db()
    new = {"sku": "NEW-1", "name": "Green L", "attributes": '{"color": "green"}', "price": "", "stock": "9",
           "is_active": "on", "initial_stock": "0"}  # fmt: skip

    data = change_form_post(product, variants=[variant_row(old, DELETE="on")], new_variants=[new])
    response = admin_client.post(f"{CHANGELIST}{product.pk}/change/", data)

    assert response.status_code == 302
    assert list(product.variants.values_list("sku", "stock")) == [("NEW-1", 9)]
    assert Product.objects.get(pk=product.pk).stock == 9
    assert sum(StockMovement.objects.filter(product=product).values_list("delta", flat=True)) == 9


def test_add_product_in_the_admin_records_initial_stock(admin_client):
    category = CategoryFactory()
    data = change_form_post(
        Product(name="Kettle", slug="kettle", sku="K-1", category=category, price=Decimal("30.00"), stock=8)
    )

    response = admin_client.post(f"{CHANGELIST}add/", data)

    assert response.status_code == 302
    product = Product.objects.get(sku="K-1")
    assert product.stock == 8
    assert StockMovement.objects.get(product=product).reason == "initial"


def test_activate_and_deactivate_actions_invalidate_the_cache(
    admin_client, api_client, django_capture_on_commit_callbacks
):
    product = ProductFactory(slug="p")
    api_client.get("/api/catalog/products/p/")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [product.pk]})

    assert Product.objects.get(pk=product.pk).is_active is False
    assert api_client.get("/api/catalog/products/p/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(CHANGELIST, {"action": "activate", "_selected_action": [product.pk]})
    assert api_client.get("/api/catalog/products/p/").status_code == 200


def test_category_admin_moves_a_subtree(admin_client):
    a = CategoryFactory(name="A")
    b = CategoryFactory(name="B")
    child = CategoryFactory(name="Child", parent=a)
    leaf = CategoryFactory(name="Leaf", parent=child)
    data = {"name": "Child", "slug": child.slug, "parent": str(b.pk), "description": "", "is_active": "on"}

    response = admin_client.post(f"/admin/catalog/category/{child.pk}/change/", data)

    assert response.status_code == 302
    leaf.refresh_from_db()
    assert leaf.path == f"/{b.pk}/{child.pk}/{leaf.pk}/"


def test_category_admin_add_sets_the_path(admin_client):
    parent = CategoryFactory()
    data = {"name": "Kids", "slug": "kids", "parent": str(parent.pk), "description": "", "is_active": "on"}

    assert admin_client.post("/admin/catalog/category/add/", data).status_code == 302
    kids = Category.objects.get(slug="kids")
    assert kids.path == f"{parent.path}{kids.pk}/"


def test_category_autocomplete_answers(admin_client):
    CategoryFactory(name="Garden")
    response = admin_client.get(
        "/admin/autocomplete/",
        {"term": "Gar", "app_label": "catalog", "model_name": "product", "field_name": "category"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Garden"]


def test_stock_movement_admin_is_read_only(admin_client):
    product = ProductFactory(stock=3)
    movement = StockMovement.objects.get(product=product)

    assert admin_client.get("/admin/catalog/stockmovement/").status_code == 200
    assert admin_client.get(f"/admin/catalog/stockmovement/{movement.pk}/change/").status_code == 200
    assert admin_client.get("/admin/catalog/stockmovement/add/").status_code == 403
    assert admin_client.post(f"/admin/catalog/stockmovement/{movement.pk}/delete/", {"post": "yes"}).status_code == 403
    assert StockMovement.objects.filter(pk=movement.pk).exists()


# --- Sale prices, currency and images -----------------------------------------------------------


def test_change_form_refuses_another_currency_and_a_low_compare_at_price(admin_client):
    product = ProductFactory(price=Decimal("20.00"))

    jpy = admin_client.post(f"{CHANGELIST}{product.pk}/change/", change_form_post(product, currency="jpy"))
    low = admin_client.post(f"{CHANGELIST}{product.pk}/change/", change_form_post(product, compare_at_price="15.00"))

    assert jpy.status_code == 200 and "currency" in jpy.context["adminform"].form.errors
    assert low.status_code == 200 and "compare_at_price" in low.context["adminform"].form.errors
    product.refresh_from_db()
    assert (product.currency, product.compare_at_price) == ("usd", None)


def test_changelist_refuses_a_price_above_the_compare_at_price(admin_client):
    product = ProductFactory(price=Decimal("20.00"))
    Product.objects.filter(pk=product.pk).update(compare_at_price=Decimal("25.00"))

    response = admin_client.post(CHANGELIST, changelist_post(product, price="30.00"))

    assert response.status_code == 200
    assert Product.objects.get(pk=product.pk).price == Decimal("20.00")


def test_on_sale_column_and_filter(admin_client):
    sale = ProductFactory(name="Sale kettle", price=Decimal("20.00"))
    Product.objects.filter(pk=sale.pk).update(compare_at_price=Decimal("25.00"))
    ProductFactory(name="Plain kettle")

    response = admin_client.get(CHANGELIST, {"on_sale": "yes"})

    assert response.status_code == 200
    assert [p.name for p in response.context["cl"].result_list] == ["Sale kettle"]
    assert "On sale" in response.content.decode()


def test_image_inline_uploads_through_the_service_and_shows_a_preview(
    admin_client, settings, tmp_path, django_capture_on_commit_callbacks
):
    from catalog.models import ProductImage
    from tests.catalog.imaging import gps_exif, image_bytes, upload

    settings.MEDIA_ROOT = tmp_path
    product = ProductFactory()
    data = change_form_post(product)
    data.update({"images-TOTAL_FORMS": "1", "images-0-alt_text": "Front", "images-0-position": "2",
                 "images-0-image": upload(image_bytes(exif=gps_exif()))})  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{CHANGELIST}{product.pk}/change/", data)

    assert response.status_code == 302
    image = ProductImage.objects.get(product=product)
    assert (image.alt_text, image.position, image.width) == ("Front", 2, 640)
    assert image.thumbnail and b"Exif" not in (tmp_path / image.image.name).read_bytes()
    page = admin_client.get(f"{CHANGELIST}{product.pk}/change/").content.decode()
    assert f'src="/media/{image.thumbnail.name}"' in page


def test_image_inline_refuses_a_file_that_is_not_an_image(admin_client, settings, tmp_path):
    from catalog.models import ProductImage
    from tests.catalog.imaging import upload

    settings.MEDIA_ROOT = tmp_path
    product = ProductFactory()
    data = change_form_post(product)
    data.update({"images-TOTAL_FORMS": "1", "images-0-position": "0",
                 "images-0-image": upload(b"#!/bin/sh\necho hi", "evil.jpg")})  # fmt: skip

    response = admin_client.post(f"{CHANGELIST}{product.pk}/change/", data)

    assert response.status_code == 200
    assert "not a valid JPEG, PNG or WebP" in response.content.decode()
    assert not ProductImage.objects.exists() and not any(tmp_path.iterdir())


def test_a_big_changelist_counts_from_planner_statistics_not_count_star(admin_client, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.admin import EstimatedCountPaginator

    for _ in range(3):
        ProductFactory()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product")
    monkeypatch.setattr(EstimatedCountPaginator, "ESTIMATE_ABOVE", 0)  # "big" from the first row

    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper() and "catalog_product" in q["sql"]]
    assert counts == []  # neither the page count nor the "N total" count scans the table
    assert any("reltuples" in q["sql"] for q in ctx.captured_queries)

    # a filtered list still counts exactly
    with CaptureQueriesContext(connection) as ctx:
        assert admin_client.get(CHANGELIST, {"q": "Product"}).status_code == 200
    assert any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)
