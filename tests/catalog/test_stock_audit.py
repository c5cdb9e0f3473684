"""`manage.py stock_audit` and `catalog.selectors.stock_drift`: stock equals the sum of its ledger."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from catalog.models import Product, ProductVariant
from catalog.selectors import stock_drift
from catalog.services import variant_delete
from catalog.stock import stock_adjust
from tests.catalog.audit import assert_stock_matches_ledger
from tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def audit() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("stock_audit", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


@pytest.fixture
def catalog():
    """Stock changed every way the services change it: initial, orders, restocks, variants, a deleted variant."""
    mug = ProductFactory(sku="MUG", stock=10)
    stock_adjust(product_id=mug.pk, delta=-3, reason="order")
    stock_adjust(product_id=mug.pk, delta=2, reason="cancel")
    shirt = ProductFactory(sku="SHIRT", stock=4)  # zeroed by its first variant (ledger `correction`)
    red = VariantFactory(product=shirt, sku="SHIRT-R", stock=5)
    blue = VariantFactory(product=shirt, sku="SHIRT-B", stock=2)
    stock_adjust(product_id=shirt.pk, variant_id=red.pk, delta=-1, reason="order")
    variant_delete(variant=blue)
    return mug, shirt, red


def test_a_consistent_catalog_exits_0(catalog):
    code, report = audit()

    assert code == 0
    assert report == "Stock audit: OK, 2 products and 1 variants match their ledger.\n"
    assert_stock_matches_ledger()


def test_drift_injected_behind_the_ledger_exits_1_with_the_report(catalog):
    mug, shirt, red = catalog
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_product SET stock = stock + 5 WHERE id = %s", [mug.pk])
        cursor.execute("UPDATE catalog_productvariant SET stock = 0 WHERE id = %s", [red.pk])

    code, report = audit()

    assert code == 1
    assert f"product {mug.pk} (MUG): stock 14, ledger 9, drift +5" in report
    assert f"variant {red.pk} (SHIRT-R): stock 0, ledger 4, drift -4" in report
    assert "SHIRT)" not in report  # the product row itself still matches its ledger
    assert "Stock drift in 2 row(s)." in report


def test_the_drift_is_one_aggregate_query_per_table(catalog, django_assert_num_queries):
    for i in range(5):
        ProductFactory(sku=f"MORE-{i}")
    Product.objects.update(stock=1)
    ProductVariant.objects.update(stock=1)

    with django_assert_num_queries(2):
        drifts = stock_drift()

    assert len(drifts) == 8
