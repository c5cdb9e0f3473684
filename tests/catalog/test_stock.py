import threading
from types import SimpleNamespace

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from catalog.exceptions import InsufficientStock, InvalidStockChange
from catalog.models import Product, ProductVariant, StockMovement
from catalog.services import variant_delete, variant_update
from catalog.stock import StockChange, stock_adjust, stock_adjust_many, stock_set
from tests.factories import ProductFactory, UserFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_stock_adjust_locks_the_rows_it_changes():
    product = ProductFactory(stock=10)

    with CaptureQueriesContext(connection) as ctx:
        stock_adjust(product_id=product.pk, delta=-1, reason="order", reference="ORD-1")

    # FOR NO KEY UPDATE (the products-only statement): the lock an UPDATE takes, which other orders' foreign keys
    # to the product do not wait for.
    assert any("FOR UPDATE" in q["sql"] or "FOR NO KEY UPDATE" in q["sql"] for q in ctx.captured_queries)


def test_stock_adjust_many_locks_products_then_variants_in_id_order():
    product = ProductFactory(stock=0)
    v1 = VariantFactory(product=product, stock=5)
    v2 = VariantFactory(product=product, stock=5)

    with CaptureQueriesContext(connection) as ctx:
        stock_adjust_many(
            changes=[StockChange(product.pk, v2.pk, -1), StockChange(product.pk, v1.pk, -1)], reason="order"
        )

    # One statement: the products' locking CTE in id order, then the variants', which waits for all of it.
    [sql] = [q["sql"] for q in ctx.captured_queries]
    products_lock = sql.index("FROM catalog_product p")
    variants_lock = sql.index("FROM catalog_productvariant v")
    assert products_lock < variants_lock
    assert "ORDER BY p.id FOR NO KEY UPDATE OF p" in sql[products_lock:variants_lock]
    assert "(SELECT count(*) FROM lp)" in sql[variants_lock:] and "ORDER BY v.id FOR NO KEY UPDATE OF v" in sql
    assert sorted(ProductVariant.objects.values_list("stock", flat=True)) == [4, 4]
    assert Product.objects.get(pk=product.pk).stock == 8


def test_stock_never_goes_below_zero_and_the_error_says_how_many_are_left():
    product = ProductFactory(stock=2, name="Mug")

    with pytest.raises(InsufficientStock) as excinfo:
        stock_adjust(product_id=product.pk, delta=-3, reason="order")

    assert "Only 2" in excinfo.value.message
    assert excinfo.value.status_code == 409
    assert excinfo.value.extra["available"] == 2
    assert Product.objects.get(pk=product.pk).stock == 2


def test_a_refused_change_applies_nothing_of_the_batch():
    a = ProductFactory(stock=5)
    b = ProductFactory(stock=1)

    with pytest.raises(InsufficientStock):
        stock_adjust_many(changes=[StockChange(a.pk, None, -2), StockChange(b.pk, None, -2)], reason="order")

    assert Product.objects.get(pk=a.pk).stock == 5
    assert not StockMovement.objects.filter(reason="order").exists()


def test_variant_stock_refused_with_the_variant_named():
    variant = VariantFactory(stock=1, name="Red M")

    with pytest.raises(InsufficientStock) as excinfo:
        stock_adjust(product_id=variant.product_id, variant_id=variant.pk, delta=-2, reason="order")
    assert "Only 1" in excinfo.value.message and "Red M" in excinfo.value.message


def test_every_change_writes_a_ledger_row(staff_user):
    product = ProductFactory(stock=10)

    stock_adjust(product_id=product.pk, delta=-3, reason="order", reference="ORD-9", user=staff_user)
    stock_adjust(product_id=product.pk, delta=2, reason="cancel", reference="ORD-9")

    rows = list(
        StockMovement.objects.filter(product=product).order_by("id").values_list("delta", "stock_after", "reason")
    )
    assert rows == [(10, 10, "initial"), (-3, 7, "order"), (2, 9, "cancel")]
    assert StockMovement.objects.get(reason="order").user == staff_user
    assert sum(d for d, _, _ in rows) == Product.objects.get(pk=product.pk).stock


def test_unknown_reason_is_refused():
    product = ProductFactory()
    with pytest.raises(InvalidStockChange):
        stock_adjust(product_id=product.pk, delta=1, reason="magic")


def test_stock_set_records_the_difference():
    product = ProductFactory(stock=10)

    stock_set(product_id=product.pk, quantity=25)

    assert Product.objects.get(pk=product.pk).stock == 25
    assert StockMovement.objects.filter(product=product, reason="admin").get().delta == 15


@override_settings(LOW_STOCK_THRESHOLD=5)
def test_low_stock_emails_active_staff_once_per_crossing(django_capture_on_commit_callbacks):
    staff = UserFactory(is_staff=True)
    UserFactory(is_staff=True, is_active=False)
    UserFactory()
    product = ProductFactory(stock=8, name="Mug")

    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=product.pk, delta=-3, reason="order")  # 8 -> 5: crosses
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=product.pk, delta=-1, reason="order")  # 5 -> 4: already below
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [staff.email]
    assert "Mug" in mail.outbox[0].subject and "5 left" in mail.outbox[0].subject

    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=product.pk, delta=10, reason="restock")  # back above
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=product.pk, delta=-10, reason="order")  # 14 -> 4: crosses again
    assert len(mail.outbox) == 2


@override_settings(LOW_STOCK_THRESHOLD=5)
def test_low_stock_of_a_variant_names_the_variant(django_capture_on_commit_callbacks):
    UserFactory(is_staff=True)
    variant = VariantFactory(stock=6, name="Red M")

    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=variant.product_id, variant_id=variant.pk, delta=-2, reason="order")

    assert len(mail.outbox) == 1
    assert "Red M" in mail.outbox[0].subject


@pytest.fixture
def queued_alerts(monkeypatch):
    """The keyword arguments of every low-stock alert queued (the task itself is not run)."""
    queued: list[dict] = []
    monkeypatch.setattr("catalog.stock.send_low_stock_alert", SimpleNamespace(delay=lambda **kw: queued.append(kw)))
    return queued


@override_settings(LOW_STOCK_THRESHOLD=5)
def test_the_alert_names_the_movement_that_crossed_the_threshold(queued_alerts, django_capture_on_commit_callbacks):
    product = ProductFactory(stock=0)
    red = VariantFactory(product=product, stock=8)
    blue = VariantFactory(product=product, stock=20)

    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust_many(
            changes=[StockChange(product.pk, blue.pk, -1), StockChange(product.pk, red.pk, -2)]
            + [StockChange(product.pk, red.pk, -2)],  # red 8 -> 6 -> 4: the second one crosses
            reason="order",
        )

    crossing = StockMovement.objects.get(variant=red, stock_after=4)
    assert queued_alerts == [{"product_id": product.pk, "variant_id": red.pk, "movement_id": crossing.pk}]


@override_settings(LOW_STOCK_THRESHOLD=5)
def test_a_product_crossing_with_no_variant_crossing_is_alerted_for_the_product(
    queued_alerts, django_capture_on_commit_callbacks
):
    product = ProductFactory(stock=0)
    red = VariantFactory(product=product, stock=3)
    VariantFactory(product=product, stock=3)  # the product has 6; each variant was already low

    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product_id=product.pk, variant_id=red.pk, delta=-1, reason="order")

    crossing = StockMovement.objects.get(variant=red, reason="order")
    assert queued_alerts == [{"product_id": product.pk, "variant_id": None, "movement_id": crossing.pk}]


def _stock_lock_order(queries) -> list[str]:
    """The stock tables in the order the statements first locked a row of them (SELECT FOR UPDATE, UPDATE, DELETE)."""
    order: list[str] = []
    for sql in (q["sql"] for q in queries):
        for table in ("catalog_product", "catalog_productvariant"):
            quoted = f'"{table}"'
            locks = f"FOR UPDATE OF {quoted}" in sql or sql.startswith((f"UPDATE {quoted}", f"DELETE FROM {quoted}"))
            if locks and table not in order:
                order.append(table)
    return order


@pytest.mark.parametrize(
    "write",
    [
        lambda v: stock_set(product_id=v.product_id, variant_id=v.pk, quantity=3),
        lambda v: variant_update(variant=v, data={"name": "Renamed", "stock": 3}),
        lambda v: variant_delete(variant=v),
    ],
    ids=["stock_set", "variant_update", "variant_delete"],
)
def test_staff_variant_writes_lock_the_product_before_the_variant(write):
    variant = VariantFactory(stock=5)

    with CaptureQueriesContext(connection) as ctx:
        write(ProductVariant.objects.get(pk=variant.pk))

    assert _stock_lock_order(ctx.captured_queries) == ["catalog_product", "catalog_productvariant"]


@override_settings(LOW_STOCK_THRESHOLD=5)
def test_no_email_before_commit(django_capture_on_commit_callbacks):
    UserFactory(is_staff=True)
    product = ProductFactory(stock=8)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        stock_adjust(product_id=product.pk, delta=-5, reason="order")

    assert mail.outbox == []
    assert callbacks  # queued for after the commit


@pytest.mark.django_db(transaction=True)
def test_concurrent_decrements_never_oversell_and_the_ledger_adds_up():
    product = ProductFactory(stock=15)
    variant_product = ProductFactory(stock=0)
    variant = VariantFactory(product=variant_product, stock=7)
    threads_count = 12
    results: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads_count)

    def buy(pid, vid):
        try:
            barrier.wait()
            stock_adjust(product_id=pid, variant_id=vid, delta=-2, reason="order", reference="race")
            outcome = "ok"
        except InsufficientStock:
            outcome = "refused"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [
        threading.Thread(target=buy, args=(product.pk, None) if i % 2 else (variant_product.pk, variant.pk))
        for i in range(threads_count)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    product.refresh_from_db()
    variant.refresh_from_db()
    variant_product.refresh_from_db()
    assert len(results) == threads_count
    assert product.stock == 15 - 2 * 6 == 3  # six buyers of 2, all served
    assert variant.stock == 1 and variant_product.stock == 1  # 7 units: three buyers served, three refused
    assert results.count("refused") == 3
    for p in (product, variant_product):
        assert sum(StockMovement.objects.filter(product=p).values_list("delta", flat=True)) == p.stock
    assert StockMovement.objects.filter(reference="race").count() == 9
    assert ProductVariant.objects.filter(stock__lt=0).count() == 0


def test_stock_above_the_integer_column_is_refused_clearly():
    from catalog.exceptions import InvalidStockChange
    from catalog.stock import stock_adjust
    from config.limits import INTEGER_MAX

    product = ProductFactory(stock=10)

    with pytest.raises(InvalidStockChange) as exc:
        stock_adjust(product_id=product.pk, delta=INTEGER_MAX, reason="restock")

    assert exc.value.status_code == 400 and str(INTEGER_MAX) in exc.value.message
    product.refresh_from_db()
    assert product.stock == 10


# --- Round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lines", [1, 5, 20])
def test_a_product_only_stock_change_is_one_statement_whatever_the_lines(lines):
    products = [ProductFactory(stock=10) for _ in range(lines)]
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        stock_adjust_many(changes=[StockChange(p.pk, None, -1) for p in products], reason="order")
    sql = [q["sql"] for q in ctx.captured_queries]
    # lock + check + UPDATE + the ledger rows, in one statement; no savepoint
    assert len(sql) == 1, sql
    assert sql[0].lstrip().startswith("WITH") and "INSERT INTO catalog_stockmovement" in sql[0]
    assert sorted(
        StockMovement.objects.filter(reason="order").values_list("product_id", "delta", "stock_after")
    ) == sorted((p.pk, -1, 9) for p in products)


def test_the_ledger_of_a_batch_runs_through_repeated_rows_in_order():
    product = ProductFactory(stock=10)
    with transaction.atomic():
        stock_adjust_many(
            changes=[
                StockChange(product.pk, None, -3),
                StockChange(product.pk, None, 5),
                StockChange(product.pk, None, -1),
            ],
            reason="admin",
            reference="R-1",
        )
    movements = list(StockMovement.objects.filter(reference="R-1").order_by("id").values_list("delta", "stock_after"))
    assert movements == [(-3, 7), (5, 12), (-1, 11)]
    assert Product.objects.get(pk=product.pk).stock == 11


def test_a_refused_product_change_writes_nothing_and_leaves_the_transaction_usable():
    plenty, scarce = ProductFactory(stock=10), ProductFactory(stock=1)
    with transaction.atomic():
        with pytest.raises(InsufficientStock) as refused:
            stock_adjust_many(
                changes=[StockChange(plenty.pk, None, -2), StockChange(scarce.pk, None, -2)], reason="order"
            )
        assert refused.value.extra["available"] == 1
        assert Product.objects.get(pk=plenty.pk).stock == 10  # the transaction still answers
    assert not StockMovement.objects.filter(reason="order").exists()
