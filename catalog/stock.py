"""Stock: the one lock order for stock rows, and the one locked way to change stock.

Lock order for stock rows, everywhere: products by id, then variants by id, always through
`lock_stock_rows`. Any catalog write that touches a variant row takes its product first through it,
so a staff edit and a checkout of the same variant wait for each other instead of deadlocking.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from catalog.cache import invalidate_product_stock
from catalog.exceptions import InsufficientStock, InvalidStockChange
from catalog.models import Product, ProductVariant, StockMovement
from catalog.tasks import send_low_stock_alert
from common.tasks import enqueue_on_commit
from config.limits import INTEGER_MAX


@dataclass(frozen=True)
class StockChange:
    """Change the stock of a product, or of one of its variants, by `delta` units."""

    product_id: int
    variant_id: int | None
    delta: int


class StockRows(NamedTuple):
    """Rows locked by `lock_stock_rows`, by id, with the stock read under the lock."""

    products: dict[int, Product]
    variants: dict[int, ProductVariant]


def lock_stock_rows(*, product_ids: Iterable[int], variant_ids: Iterable[int] = ()) -> StockRows:
    """Lock (SELECT ... FOR UPDATE) the products, then the variants, each in id order; return them.

    The one lock order for stock rows: a caller that touches a variant locks its product here first.
    Missing ids are simply absent from the result.
    """
    products = (
        Product.objects.filter(pk__in=set(product_ids))
        .order_by("pk")
        .select_for_update(of=("self",))
        .only("pk", "name", "stock", "stock_version")
    )
    variants = (
        ProductVariant.objects.filter(pk__in={pk for pk in variant_ids if pk is not None})
        .order_by("pk")
        .select_for_update(of=("self",))
        .only("pk", "product_id", "name", "stock")
    )
    return StockRows(products={p.pk: p for p in products}, variants={v.pk: v for v in variants})


def stock_adjust_many(
    *,
    changes: Iterable[StockChange],
    reason: str,
    reference: str = "",
    user=None,
) -> None:
    """Apply several stock changes atomically, or none of them.

    Guarantees: rows are locked in the one stock lock order (products by id, then variants by id) so
    concurrent callers cannot deadlock; no stock goes below zero (`InsufficientStock`, 409, names what
    is left; the database check constraint backs this up) nor above the integer column (400); a
    variant's delta is applied to its product's stock too, so a product with variants shows the sum of
    its variants; one UPDATE per table whatever the number of rows; every change writes a
    `StockMovement`; staff are emailed once per row that falls to or below `LOW_STOCK_THRESHOLD`.
    The catalog cache drops only the pages showing the products changed (`catalog.cache.invalidate_product_stock`).
    On PostgreSQL all of it (locks, checks, UPDATEs, ledger) is one statement, so a refusal writes nothing.
    """
    changes = [c for c in changes if c.delta != 0]
    if not changes:
        return
    if reason not in StockMovement.Reason.values:
        raise InvalidStockChange(f"Unknown stock movement reason {reason!r}.")
    # No savepoint: the one statement that can refuse the batch writes nothing when it does, so a refusal
    # leaves the transaction as it was; any other error aborts the caller's transaction as a whole.
    with transaction.atomic(savepoint=False):
        # The one-statement path is PostgreSQL's (unnest, row locks in CTEs); SQLite (`make run`) takes the
        # general path, where its IMMEDIATE transactions already serialize writers.
        if connection.vendor != "postgresql":
            rows = _lock(changes)
            _adjust_locked(rows=rows, changes=changes, reason=reason, reference=reference, user=user)
            return
        rows, movements, refusal = _lock_apply_and_record(
            changes=changes, reason=reason, reference=reference, user=user
        )
        if refusal is None:
            _alert(rows=rows, changes=changes, movements=movements)
    if refusal is not None:  # raised outside the block: nothing was written, the caller's transaction stays usable
        raise refusal


def stock_adjust(
    *, product_id: int, variant_id: int | None = None, delta: int, reason: str, reference: str = "", user=None
) -> None:
    """Change one product's (or variant's) stock by `delta`; see `stock_adjust_many`."""
    stock_adjust_many(
        changes=[StockChange(product_id=product_id, variant_id=variant_id, delta=delta)],
        reason=reason,
        reference=reference,
        user=user,
    )


def stock_shortfall_check(
    *, changes: Iterable[StockChange], products: Mapping[int, Product], variants: Mapping[int, ProductVariant]
) -> None:
    """Raise `InsufficientStock` (409, as `stock_adjust_many` would) when the committed levels already read,
    without locks (`products`, `variants` by id: a checkout's cart lines), cannot cover `changes`.

    A refusal decided on committed data is as true as one decided under the lock a moment later, and it costs
    no lock and no write: a sale's late buyers are turned away without queueing on the hot row. Passing proves
    nothing; `stock_adjust_many` decides under the locks.
    """
    product_delta: dict[int, int] = {}
    variant_delta: dict[int, int] = {}
    for change in changes:
        if change.variant_id is not None:
            variant_delta[change.variant_id] = variant_delta.get(change.variant_id, 0) + change.delta
        product_delta[change.product_id] = product_delta.get(change.product_id, 0) + change.delta
    rows = StockRows(products=dict(products), variants=dict(variants))
    _check_levels(rows=rows, product_delta=product_delta, variant_delta=variant_delta)


@transaction.atomic
def stock_set(
    *,
    product_id: int,
    variant_id: int | None = None,
    quantity: int,
    reason: str = StockMovement.Reason.ADMIN,
    reference: str = "",
    user=None,
) -> None:
    """Set an absolute stock level (admin edits), recorded as the difference in the ledger.

    The level is read under the same locks, in the same order, as a checkout takes.
    """
    if quantity < 0:
        raise InvalidStockChange("Stock cannot be negative.", field="stock")
    rows = lock_stock_rows(product_ids=[product_id], variant_ids=[variant_id] if variant_id is not None else [])
    if variant_id is None and ProductVariant.objects.filter(product_id=product_id).exists():
        raise InvalidStockChange(
            "This product's stock is the sum of its variants' stock; change the variants instead.", field="stock"
        )
    row = rows.variants.get(variant_id) if variant_id is not None else rows.products.get(product_id)
    change = StockChange(product_id=product_id, variant_id=variant_id, delta=quantity - (row.stock if row else 0))
    if row is None or change.delta:  # a missing row is refused by _validate
        _adjust_locked(rows=rows, changes=[change], reason=reason, reference=reference, user=user)


# --- The steps of a stock change ------------------------------------------------------------------
# `rows` keep the stock read under the lock, before the change: the ledger and the alert count from it.


def _lock(changes: list[StockChange]) -> StockRows:
    """Lock every row the changes touch, in the one stock lock order."""
    return lock_stock_rows(product_ids=[c.product_id for c in changes], variant_ids=[c.variant_id for c in changes])


# PostgreSQL: lock in the one lock order, check every level, apply, and write the ledger, in ONE statement.
# `lp` then `lv` take the row locks, products by id and then variants by id (`lv` waits for the whole of `lp`
# through its one-time filter), FOR NO KEY UPDATE: the lock an UPDATE takes, which does not block the
# foreign-key checks of other transactions' order items and ledger rows on the same rows, while FOR UPDATE
# (staff edits, `lock_stock_rows`) still waits for it. A locked row is the latest committed version. `fine` is
# true only when every product exists, every variant exists and belongs to its change's product, and every new
# level is within 0..INTEGER_MAX; the UPDATEs and the ledger INSERT write only then. A ledger row's
# `stock_after` is the level of its row (the variant's for a variant change) read under the lock plus the
# running sum of that row's deltas in the batch's order. The answer: every locked row as it was before the
# change, whether it was applied, and the ledger ids in the batch's order.
_STOCK_SQL = """
WITH pw(id, delta) AS (SELECT * FROM unnest(%(product_ids)s::bigint[], %(product_deltas)s::int[])),
vw(id, product_id, delta) AS (
    SELECT * FROM unnest(%(variant_ids)s::bigint[], %(variant_products)s::bigint[], %(variant_deltas)s::int[])
),
lp AS (
    SELECT p.id, p.name, p.stock, p.stock_version FROM catalog_product p
    WHERE p.id = ANY(%(product_ids)s::bigint[]) ORDER BY p.id FOR NO KEY UPDATE OF p
),
lv AS (
    SELECT v.id, v.product_id, v.name, v.stock FROM catalog_productvariant v
    WHERE v.id = ANY(%(variant_ids)s::bigint[]) AND (SELECT count(*) FROM lp) >= 0
    ORDER BY v.id FOR NO KEY UPDATE OF v
),
fine AS (
    SELECT (SELECT count(*) FROM lp) = cardinality(%(product_ids)s::bigint[])
        AND (SELECT count(*) FROM lv JOIN vw ON vw.id = lv.id AND vw.product_id = lv.product_id)
            = cardinality(%(variant_ids)s::bigint[])
        AND coalesce((SELECT bool_and(lp.stock::bigint + pw.delta BETWEEN 0 AND %(max)s)
                      FROM lp JOIN pw ON pw.id = lp.id), false)
        AND coalesce((SELECT bool_and(lv.stock::bigint + vw.delta BETWEEN 0 AND %(max)s)
                      FROM lv JOIN vw ON vw.id = lv.id), true) AS ok
),
up AS (
    UPDATE catalog_product p SET stock = lp.stock + pw.delta, stock_version = lp.stock_version + 1
    FROM lp JOIN pw ON pw.id = lp.id, fine
    WHERE p.id = lp.id AND fine.ok
    RETURNING p.id
),
uv AS (
    UPDATE catalog_productvariant v SET stock = lv.stock + vw.delta
    FROM lv JOIN vw ON vw.id = lv.id, fine
    WHERE v.id = lv.id AND fine.ok
    RETURNING v.id
),
moves(ord, product_id, variant_id, delta) AS (
    SELECT * FROM unnest(%(move_ords)s::int[], %(move_products)s::bigint[], %(move_variants)s::bigint[],
                         %(move_deltas)s::int[])
),
ledger AS (
    INSERT INTO catalog_stockmovement
        (product_id, variant_id, delta, stock_after, reason, reference, user_id, created_at)
    SELECT m.product_id, m.variant_id, m.delta,
        coalesce(lv.stock, lp.stock) + sum(m.delta) OVER (PARTITION BY m.product_id, m.variant_id ORDER BY m.ord),
        %(reason)s, %(reference)s, %(user_id)s, %(now)s
    FROM moves m JOIN lp ON lp.id = m.product_id LEFT JOIN lv ON lv.id = m.variant_id, fine
    WHERE fine.ok
    ORDER BY m.ord
    RETURNING id
),
done AS (SELECT (SELECT count(*) FROM up) + (SELECT count(*) FROM uv) AS rows,
                (SELECT array_agg(id ORDER BY id) FROM ledger) AS ledger_ids)
SELECT 'p', lp.id, NULL::bigint, lp.name, lp.stock, lp.stock_version, fine.ok, done.ledger_ids FROM lp, fine, done
UNION ALL
SELECT 'v', lv.id, lv.product_id, lv.name, lv.stock, NULL, fine.ok, done.ledger_ids FROM lv, fine, done
"""


def _lock_apply_and_record(
    *, changes: list[StockChange], reason: str, reference: str, user
) -> tuple[StockRows, list[StockMovement], Exception | None]:
    """Lock, validate, apply and record `changes` in one round trip (PostgreSQL); or the error that refused them
    (nothing written). The movements carry only their pks (in the order of `changes`), for the alert."""
    product_delta: dict[int, int] = {}
    variant_delta: dict[int, tuple[int, int]] = {}  # variant -> (its change's product, delta)
    for change in changes:
        product_delta[change.product_id] = product_delta.get(change.product_id, 0) + change.delta
        if change.variant_id is not None:
            _, delta = variant_delta.get(change.variant_id, (change.product_id, 0))
            variant_delta[change.variant_id] = (change.product_id, delta + change.delta)
    params = {
        "product_ids": list(product_delta),
        "product_deltas": list(product_delta.values()),
        "variant_ids": list(variant_delta),
        "variant_products": [product_id for product_id, _ in variant_delta.values()],
        "variant_deltas": [delta for _, delta in variant_delta.values()],
        "max": INTEGER_MAX,
        "move_ords": list(range(len(changes))),
        "move_products": [c.product_id for c in changes],
        "move_variants": [c.variant_id for c in changes],
        "move_deltas": [c.delta for c in changes],
        "reason": reason,
        "reference": reference,
        "user_id": user.pk if getattr(user, "is_authenticated", False) else None,
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_STOCK_SQL, params)
        found = cursor.fetchall()
    rows = StockRows(products={}, variants={})
    for kind, pk, product_id, name, stock, version, _, _ in found:
        if kind == "p":
            rows.products[pk] = Product(pk=pk, name=name, stock=stock, stock_version=version)
        else:
            rows.variants[pk] = ProductVariant(pk=pk, product_id=product_id, name=name, stock=stock)
    if not found or not found[0][6]:  # refused: say why, as the locked path does
        try:
            _validate(rows=rows, changes=changes, reason=reason)
        except (InvalidStockChange, InsufficientStock) as error:
            return rows, [], error
        return rows, [], InvalidStockChange("Stock change refused.")  # unreachable: the checks above explain it
    invalidate_product_stock(
        versions={pk: rows.products[pk].stock_version + 1 for pk in product_delta},
        listings_changed=any(
            (rows.products[pk].stock > 0) != (rows.products[pk].stock + d > 0) for pk, d in product_delta.items()
        ),
    )
    return rows, [StockMovement(pk=pk) for pk in found[0][7]], None


def _adjust_locked(*, rows: StockRows, changes: list[StockChange], reason: str, reference: str, user) -> None:
    """Validate, apply, record and alert non-zero `changes` on rows this transaction has locked."""
    product_delta, variant_delta = _validate(rows=rows, changes=changes, reason=reason)
    _apply(rows=rows, product_delta=product_delta, variant_delta=variant_delta)
    movements = _ledger(rows=rows, changes=changes, reason=reason, reference=reference, user=user)
    _alert(rows=rows, changes=changes, movements=movements)


def _validate(*, rows: StockRows, changes: list[StockChange], reason: str) -> tuple[dict[int, int], dict[int, int]]:
    """The net delta per product and per variant, or the error that refuses the whole batch."""
    if reason not in StockMovement.Reason.values:
        raise InvalidStockChange(f"Unknown stock movement reason {reason!r}.")
    product_delta: dict[int, int] = {}
    variant_delta: dict[int, int] = {}
    for change in changes:
        if change.product_id not in rows.products:
            raise InvalidStockChange(f"Product {change.product_id} does not exist.")
        if change.variant_id is not None:
            variant = rows.variants.get(change.variant_id)
            if variant is None or variant.product_id != change.product_id:
                raise InvalidStockChange(f"Variant {change.variant_id} does not belong to product {change.product_id}.")
            variant_delta[variant.pk] = variant_delta.get(variant.pk, 0) + change.delta
        product_delta[change.product_id] = product_delta.get(change.product_id, 0) + change.delta
    _check_levels(rows=rows, product_delta=product_delta, variant_delta=variant_delta)
    return product_delta, variant_delta


def _check_levels(*, rows: StockRows, product_delta: dict[int, int], variant_delta: dict[int, int]) -> None:
    """Refuse a level below zero (409, naming what is left) or above the integer column (400)."""
    for variant_id, delta in variant_delta.items():
        variant = rows.variants[variant_id]
        if variant.stock + delta < 0:
            product = rows.products[variant.product_id]
            raise InsufficientStock(
                f"Only {variant.stock} of '{product.name} – {variant.name}' left in stock.",
                extra={"available": variant.stock, "product": product.pk, "variant": variant.pk},
            )
    levels = [rows.variants[pk].stock + d for pk, d in variant_delta.items()]
    levels += [rows.products[pk].stock + d for pk, d in product_delta.items()]
    if any(level > INTEGER_MAX for level in levels):  # the column is a PostgreSQL integer: refuse, do not overflow
        raise InvalidStockChange(f"Stock cannot exceed {INTEGER_MAX}.", field="stock")
    for product_id, delta in product_delta.items():
        product = rows.products[product_id]
        if product.stock + delta < 0:
            raise InsufficientStock(
                f"Only {product.stock} of '{product.name}' left in stock.",
                extra={"available": product.stock, "product": product.pk, "variant": None},
            )


def _apply(*, rows: StockRows, product_delta: dict[int, int], variant_delta: dict[int, int]) -> None:
    """One UPDATE per table, so a checkout's query count does not grow with its cart lines.

    Each product changed (directly or through a variant) gets `stock_version + 1`; after commit the cache
    drops only the pages showing those products, and every page when one went in or out of stock.
    """
    _add_to_stock(ProductVariant, variant_delta)
    _add_to_stock(Product, product_delta, stock_version=F("stock_version") + 1)
    invalidate_product_stock(
        versions={pk: rows.products[pk].stock_version + 1 for pk in product_delta},
        listings_changed=any(
            (rows.products[pk].stock > 0) != (rows.products[pk].stock + d > 0) for pk, d in product_delta.items()
        ),
    )


def _add_to_stock(model, deltas: dict[int, int], **also) -> None:
    """`UPDATE ... SET stock = stock + CASE id WHEN .. THEN .. END WHERE id IN (..)` on locked rows."""
    if not deltas:
        return
    model.objects.filter(pk__in=list(deltas)).stock_update(
        stock=F("stock")
        + Case(*(When(pk=pk, then=Value(delta)) for pk, delta in deltas.items()), output_field=IntegerField()),
        **also,
    )


def _ledger(*, rows: StockRows, changes: list[StockChange], reason: str, reference: str, user) -> list[StockMovement]:
    """Write one `StockMovement` per change, with the running stock of its row; return them with pks."""
    running: dict[tuple[int, int | None], int] = {}
    movements = []
    for change in changes:
        key = (change.product_id, change.variant_id)
        if key not in running:
            row = rows.variants[change.variant_id] if change.variant_id else rows.products[change.product_id]
            running[key] = row.stock
        running[key] += change.delta
        movements.append(
            StockMovement(
                product_id=change.product_id,
                variant_id=change.variant_id,
                delta=change.delta,
                stock_after=running[key],
                reason=reason,
                reference=reference,
                user=user if getattr(user, "is_authenticated", False) else None,
            )
        )
    # bulk_create sets the pks on PostgreSQL (RETURNING); the alert names the movement that crossed.
    return StockMovement.objects.bulk_create(movements)


def _alert(*, rows: StockRows, changes: list[StockChange], movements: list[StockMovement]) -> None:
    """Queue one low-stock email per row this batch took from above the threshold to at or below it."""
    variant_crossed, product_crossed = _crossings(rows=rows, changes=changes, movements=movements)
    for variant_id, movement_id in variant_crossed.items():
        product_id = rows.variants[variant_id].product_id
        enqueue_on_commit(send_low_stock_alert, product_id=product_id, variant_id=variant_id, movement_id=movement_id)
    alerted_products = {rows.variants[pk].product_id for pk in variant_crossed}
    for product_id, movement_id in product_crossed.items():
        if product_id not in alerted_products:  # its variant's email already says it
            enqueue_on_commit(send_low_stock_alert, product_id=product_id, variant_id=None, movement_id=movement_id)


def _crossings(
    *, rows: StockRows, changes: list[StockChange], movements: list[StockMovement]
) -> tuple[dict[int, int], dict[int, int]]:
    """The movement id that took each variant, and each product, across the threshold in this batch."""
    threshold = settings.LOW_STOCK_THRESHOLD
    variant_level = {pk: v.stock for pk, v in rows.variants.items()}
    product_level = {pk: p.stock for pk, p in rows.products.items()}
    variant_crossed: dict[int, int] = {}
    product_crossed: dict[int, int] = {}
    for change, movement in zip(changes, movements, strict=True):
        if change.variant_id is not None:
            _track_crossing(variant_level, variant_crossed, change.variant_id, change.delta, movement.pk, threshold)
        _track_crossing(product_level, product_crossed, change.product_id, change.delta, movement.pk, threshold)
    # Only a row that started above the threshold crossed it: one already low had its email then.
    return (
        {pk: m for pk, m in variant_crossed.items() if rows.variants[pk].stock > threshold},
        {pk: m for pk, m in product_crossed.items() if rows.products[pk].stock > threshold},
    )


def _track_crossing(
    level: dict[int, int], crossed: dict[int, int], pk: int, delta: int, movement_id: int, threshold: int
) -> None:
    """Follow one row's level; keep the movement that last took it from above the threshold to at or below."""
    before = level[pk]
    after = level[pk] = before + delta
    if before > threshold >= after:
        crossed[pk] = movement_id
    elif after > threshold:
        crossed.pop(pk, None)
