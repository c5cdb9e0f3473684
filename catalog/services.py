"""Catalog writes. Stock changes only through `stock_adjust` / `stock_adjust_many`."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F

from catalog.cache import invalidate_catalog
from catalog.exceptions import InsufficientStock, InvalidStockChange
from catalog.models import Product, ProductVariant, StockMovement


@dataclass(frozen=True)
class StockChange:
    """Change the stock of a product, or of one of its variants, by `delta` units."""

    product_id: int
    variant_id: int | None
    delta: int


@transaction.atomic
def stock_adjust_many(
    *,
    changes: Iterable[StockChange],
    reason: str,
    reference: str = "",
    user=None,
) -> None:
    """Apply several stock changes atomically, or none of them.

    Guarantees: rows are locked (SELECT ... FOR UPDATE) in one fixed order (products by id, then
    variants by id) so concurrent callers cannot deadlock; no stock goes below zero
    (`InsufficientStock`, 409, names what is left; the database check constraint backs this up);
    a variant's delta is applied to its product's stock too, so a product with variants shows the
    sum of its variants; every change writes a `StockMovement`; the catalog cache is invalidated;
    staff are emailed once when a row falls to or below `LOW_STOCK_THRESHOLD`.
    """
    changes = [c for c in changes if c.delta != 0]
    if not changes:
        return
    if reason not in StockMovement.Reason.values:
        raise InvalidStockChange(f"Unknown stock movement reason {reason!r}.")

    product_ids = sorted({c.product_id for c in changes})
    variant_ids = sorted({c.variant_id for c in changes if c.variant_id is not None})
    products = {
        p.pk: p
        for p in Product.objects.select_for_update().filter(pk__in=product_ids).order_by("pk").only("pk", "name", "stock")
    }
    variants = {
        v.pk: v
        for v in ProductVariant.objects.select_for_update()
        .filter(pk__in=variant_ids)
        .order_by("pk")
        .only("pk", "product_id", "name", "stock")
    }

    product_delta: dict[int, int] = {}
    variant_delta: dict[int, int] = {}
    for change in changes:
        if change.product_id not in products:
            raise InvalidStockChange(f"Product {change.product_id} does not exist.")
        if change.variant_id is not None:
            variant = variants.get(change.variant_id)
            if variant is None or variant.product_id != change.product_id:
                raise InvalidStockChange(f"Variant {change.variant_id} does not belong to product {change.product_id}.")
            variant_delta[variant.pk] = variant_delta.get(variant.pk, 0) + change.delta
        product_delta[change.product_id] = product_delta.get(change.product_id, 0) + change.delta

    for variant_id, delta in variant_delta.items():
        variant = variants[variant_id]
        if variant.stock + delta < 0:
            product = products[variant.product_id]
            raise InsufficientStock(
                f"Only {variant.stock} of '{product.name} – {variant.name}' left in stock.",
                extra={"available": variant.stock, "product": product.pk, "variant": variant.pk},
            )
    for product_id, delta in product_delta.items():
        product = products[product_id]
        if product.stock + delta < 0:
            raise InsufficientStock(
                f"Only {product.stock} of '{product.name}' left in stock.",
                extra={"available": product.stock, "product": product.pk, "variant": None},
            )

    threshold = settings.LOW_STOCK_THRESHOLD
    low_stock: list[tuple[int, int | None]] = []
    movements = []
    for variant_id, delta in variant_delta.items():
        variant = variants[variant_id]
        before, after = variant.stock, variant.stock + delta
        ProductVariant.objects.filter(pk=variant_id).update(stock=F("stock") + delta)
        if before > threshold >= after:
            low_stock.append((variant.product_id, variant_id))
    for product_id, delta in product_delta.items():
        product = products[product_id]
        before, after = product.stock, product.stock + delta
        Product.objects.filter(pk=product_id).update(stock=F("stock") + delta)
        if before > threshold >= after and not any(pid == product_id for pid, _ in low_stock):
            low_stock.append((product_id, None))

    running: dict[tuple[int, int | None], int] = {}
    for change in changes:
        key = (change.product_id, change.variant_id)
        if key not in running:
            start = variants[change.variant_id].stock if change.variant_id else products[change.product_id].stock
            running[key] = start
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
    StockMovement.objects.bulk_create(movements)
    invalidate_catalog()

    if low_stock:
        from catalog.tasks import send_low_stock_alert

        for product_id, variant_id in low_stock:
            transaction.on_commit(
                lambda p=product_id, v=variant_id: send_low_stock_alert.delay(product_id=p, variant_id=v)
            )


def stock_adjust(*, product_id: int, variant_id: int | None = None, delta: int, reason: str, reference: str = "", user=None) -> None:
    """Change one product's (or variant's) stock by `delta`; see `stock_adjust_many`."""
    stock_adjust_many(
        changes=[StockChange(product_id=product_id, variant_id=variant_id, delta=delta)],
        reason=reason,
        reference=reference,
        user=user,
    )


def stock_set(*, product_id: int, variant_id: int | None = None, quantity: int, reason: str = StockMovement.Reason.ADMIN, reference: str = "", user=None) -> None:
    """Set an absolute stock level (admin edits), recorded as the difference in the ledger."""
    if quantity < 0:
        raise InvalidStockChange("Stock cannot be negative.", field="stock")
    with transaction.atomic():
        model = ProductVariant if variant_id else Product
        current = model.objects.select_for_update().values_list("stock", flat=True).get(pk=variant_id or product_id)
        stock_adjust(
            product_id=product_id, variant_id=variant_id, delta=quantity - current, reason=reason, reference=reference, user=user
        )


def _category_path(category) -> tuple[str, int]:
    if category.parent_id is None:
        return f"/{category.pk}/", 0
    parent = category.parent
    return f"{parent.path}{category.pk}/", parent.depth + 1


@transaction.atomic
def category_create(*, name: str, slug: str, parent=None, description: str = "", is_active: bool = True):
    """Create a category and set its materialized path."""
    from catalog.models import Category

    category = Category.objects.create(
        name=name, slug=slug, parent=parent, description=description, is_active=is_active
    )
    category.path, category.depth = _category_path(category)
    Category.objects.filter(pk=category.pk).update(path=category.path, depth=category.depth)
    invalidate_catalog()
    return category
