"""Catalog writes. Stock changes only through `stock_adjust` / `stock_adjust_many`.

Every function here calls `invalidate_catalog()` (directly or through the stock service), so the
cached catalog responses never outlive a write.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, IntegerField, ProtectedError, RestrictedError, Value, When
from django.db.models.functions import Concat, Substr
from django.utils.text import slugify

from catalog.cache import invalidate_catalog
from catalog.exceptions import CatalogConflict, InsufficientStock, InvalidCatalogInput, InvalidStockChange
from catalog.models import Category, Product, ProductVariant, StockMovement
from config.limits import INTEGER_MAX


@dataclass(frozen=True)
class StockChange:
    """Change the stock of a product, or of one of its variants, by `delta` units."""

    product_id: int
    variant_id: int | None
    delta: int


def _add_to_stock(model, deltas: dict[int, int]) -> None:
    """`UPDATE ... SET stock = stock + CASE id WHEN .. THEN .. END WHERE id IN (..)` on locked rows."""
    if not deltas:
        return
    model.objects.filter(pk__in=list(deltas)).update(
        stock=F("stock")
        + Case(*(When(pk=pk, then=Value(delta)) for pk, delta in deltas.items()), output_field=IntegerField())
    )


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
        for p in Product.objects.select_for_update()
        .filter(pk__in=product_ids)
        .order_by("pk")
        .only("pk", "name", "stock")
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
    too_high = [variants[pk] for pk, d in variant_delta.items() if variants[pk].stock + d > INTEGER_MAX] + [
        products[pk] for pk, d in product_delta.items() if products[pk].stock + d > INTEGER_MAX
    ]
    if too_high:  # the column is a PostgreSQL integer: refuse clearly instead of overflowing
        raise InvalidStockChange(f"Stock cannot exceed {INTEGER_MAX}.", field="stock")
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
    # One UPDATE per table whatever the number of rows, so a checkout's query count does not grow
    # with its cart lines.
    _add_to_stock(ProductVariant, variant_delta)
    _add_to_stock(Product, product_delta)
    for variant_id, delta in variant_delta.items():
        variant = variants[variant_id]
        if variant.stock > threshold >= variant.stock + delta:
            low_stock.append((variant.product_id, variant_id))
    for product_id, delta in product_delta.items():
        product = products[product_id]
        if product.stock > threshold >= product.stock + delta and not any(pid == product_id for pid, _ in low_stock):
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


def stock_set(
    *,
    product_id: int,
    variant_id: int | None = None,
    quantity: int,
    reason: str = StockMovement.Reason.ADMIN,
    reference: str = "",
    user=None,
) -> None:
    """Set an absolute stock level (admin edits), recorded as the difference in the ledger."""
    if quantity < 0:
        raise InvalidStockChange("Stock cannot be negative.", field="stock")
    if variant_id is None and ProductVariant.objects.filter(product_id=product_id).exists():
        raise InvalidStockChange(
            "This product's stock is the sum of its variants' stock; change the variants instead.", field="stock"
        )
    with transaction.atomic():
        model = ProductVariant if variant_id else Product
        current = model.objects.select_for_update().values_list("stock", flat=True).get(pk=variant_id or product_id)
        stock_adjust(
            product_id=product_id,
            variant_id=variant_id,
            delta=quantity - current,
            reason=reason,
            reference=reference,
            user=user,
        )


def unique_slug(*, model, value: str, max_length: int, exclude_pk: int | None = None) -> str:
    """`slugify(value)`, suffixed `-2`, `-3`, ... until no other row of `model` has it."""
    base = (slugify(value) or model._meta.model_name)[: max_length - 8].strip("-") or model._meta.model_name
    taken = set(model.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _check_slug_free(*, model, slug: str, exclude_pk: int | None = None) -> None:
    if model.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        raise InvalidCatalogInput(f"The slug '{slug}' is already in use.", field="slug")


# --- Categories -------------------------------------------------------------------------------


def _category_path(category) -> tuple[str, int]:
    if category.parent_id is None:
        return f"/{category.pk}/", 0
    parent = Category.objects.only("path", "depth").get(pk=category.parent_id)
    return f"{parent.path}{category.pk}/", parent.depth + 1


@transaction.atomic
def category_create(
    *, name: str, slug: str = "", parent: Category | None = None, description: str = "", is_active: bool = True
) -> Category:
    """Create a category (slug generated from the name when empty) and set its materialized path."""
    if slug:
        _check_slug_free(model=Category, slug=slug)
    else:
        slug = unique_slug(model=Category, value=name, max_length=140)
    category = Category.objects.create(
        name=name, slug=slug, parent=parent, description=description, is_active=is_active
    )
    category.path, category.depth = _category_path(category)
    Category.objects.filter(pk=category.pk).update(path=category.path, depth=category.depth)
    invalidate_catalog()
    return category


CATEGORY_FIELDS = {"name", "slug", "description", "parent", "is_active"}


@transaction.atomic
def category_update(*, category: Category, data: dict[str, Any]) -> Category:
    """Update a category. Moving it (a new `parent`) rewrites the paths of its whole subtree in one UPDATE.

    A category cannot become its own ancestor (400 on `parent`).
    """
    category = Category.objects.select_for_update().get(pk=category.pk)
    unknown = set(data) - CATEGORY_FIELDS
    if unknown:
        raise InvalidCatalogInput(f"Unknown category fields: {', '.join(sorted(unknown))}.")
    if "slug" in data:
        if data["slug"]:
            _check_slug_free(model=Category, slug=data["slug"], exclude_pk=category.pk)
        else:
            data["slug"] = unique_slug(
                model=Category, value=data.get("name", category.name), max_length=140, exclude_pk=category.pk
            )
    old_path, old_depth = category.path, category.depth
    new_parent = data.get("parent", category.parent)
    moved = "parent" in data and (new_parent.pk if new_parent else None) != category.parent_id
    if moved and new_parent is not None:
        parent_path = Category.objects.values_list("path", flat=True).get(pk=new_parent.pk)
        if parent_path.startswith(old_path):
            raise InvalidCatalogInput("A category cannot be moved under itself or its descendants.", field="parent")
    for field, value in data.items():
        setattr(category, field, value)
    category.save()
    if moved:
        new_path, new_depth = _category_path(category)
        # One statement for the node and all its descendants: swap the old path prefix for the new one.
        Category.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
            depth=F("depth") + (new_depth - old_depth),
        )
        category.path, category.depth = new_path, new_depth
    invalidate_catalog()
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Delete an empty category; one with subcategories or products is a 409."""
    try:
        category.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise CatalogConflict(
            f"Category '{category.name}' still has subcategories or products; move or delete them first."
        ) from exc
    invalidate_catalog()


def category_descendant_ids(*, category: Category):
    """A subquery of the ids of `category` and every category below it (one indexed LIKE query)."""
    return Category.objects.filter(path__startswith=category.path).values("pk")


# --- Products ---------------------------------------------------------------------------------


@transaction.atomic
def product_create(
    *,
    name: str,
    sku: str,
    category: Category,
    price: Decimal,
    slug: str = "",
    brand: str = "",
    description: str = "",
    currency: str = settings.DEFAULT_CURRENCY,
    stock: int = 0,
    is_active: bool = True,
    user=None,
) -> Product:
    """Create a product with a unique slug (from the name, `-2`, `-3`, ... for equal names).

    Initial stock is recorded in the ledger (`initial`) through the stock service.
    """
    if slug:
        _check_slug_free(model=Product, slug=slug)
    else:
        slug = unique_slug(model=Product, value=name, max_length=220)
    if Product.objects.filter(sku=sku).exists():
        raise InvalidCatalogInput(f"The SKU '{sku}' is already in use.", field="sku")
    product = Product.objects.create(
        name=name,
        slug=slug,
        sku=sku,
        category=category,
        price=price,
        brand=brand,
        description=description,
        currency=currency.lower(),
        stock=0,
        is_active=is_active,
    )
    if stock:
        stock_adjust(product_id=product.pk, delta=stock, reason=StockMovement.Reason.INITIAL, user=user)
        product.stock = stock
    invalidate_catalog()
    return product


PRODUCT_FIELDS = {"name", "slug", "sku", "brand", "description", "category", "price", "currency", "is_active", "stock"}


@transaction.atomic
def product_update(*, product: Product, data: dict[str, Any], user=None) -> Product:
    """Update a product's fields. A new `stock` goes through `stock_set` (ledger reason `admin`);
    the other fields are written without touching `stock`, so a concurrent checkout is never overwritten.
    """
    unknown = set(data) - PRODUCT_FIELDS
    if unknown:
        raise InvalidCatalogInput(f"Unknown product fields: {', '.join(sorted(unknown))}.")
    data = dict(data)
    stock = data.pop("stock", None)
    if "slug" in data:
        if data["slug"]:
            _check_slug_free(model=Product, slug=data["slug"], exclude_pk=product.pk)
        else:
            data["slug"] = unique_slug(
                model=Product, value=data.get("name", product.name), max_length=220, exclude_pk=product.pk
            )
    if "sku" in data and Product.objects.filter(sku=data["sku"]).exclude(pk=product.pk).exists():
        raise InvalidCatalogInput(f"The SKU '{data['sku']}' is already in use.", field="sku")
    if "currency" in data:
        data["currency"] = data["currency"].lower()
    if data:
        for field, value in data.items():
            setattr(product, field, value)
        update_fields = [Product._meta.get_field(f).attname for f in data]
        product.save(update_fields=[*update_fields, "updated_at"])
    if stock is not None:
        stock_set(product_id=product.pk, quantity=stock, user=user)
        product.stock = Product.objects.values_list("stock", flat=True).get(pk=product.pk)
    invalidate_catalog()
    return product


@transaction.atomic
def product_delete(*, product: Product) -> None:
    """Delete a product; one that orders still reference is a 409 (deactivate it instead)."""
    try:
        product.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise CatalogConflict(
            f"Product '{product.name}' has been ordered and cannot be deleted; deactivate it instead."
        ) from exc
    invalidate_catalog()


def products_set_active(*, product_ids: Iterable[int], is_active: bool) -> int:
    """Activate or deactivate several products at once (admin actions); returns how many changed."""
    return Product.objects.filter(pk__in=list(product_ids)).exclude(is_active=is_active).update(is_active=is_active)


# --- Variants ---------------------------------------------------------------------------------


@transaction.atomic
def variant_create(
    *,
    product: Product,
    sku: str,
    name: str,
    attributes: dict | None = None,
    price: Decimal | None = None,
    stock: int = 0,
    is_active: bool = True,
    user=None,
) -> ProductVariant:
    """Add a variant. From its first variant on, a product's stock is the sum of its variants' stock:
    any stock the product held on its own is zeroed first (ledger `correction`).
    """
    if ProductVariant.objects.filter(sku=sku).exists():
        raise InvalidCatalogInput(f"The SKU '{sku}' is already in use.", field="sku")
    locked = Product.objects.select_for_update().only("pk", "stock").get(pk=product.pk)
    if locked.stock and not ProductVariant.objects.filter(product_id=product.pk).exists():
        stock_adjust(
            product_id=product.pk,
            delta=-locked.stock,
            reason=StockMovement.Reason.CORRECTION,
            reference="first variant",
            user=user,
        )
    variant = ProductVariant.objects.create(
        product=product, sku=sku, name=name, attributes=attributes or {}, price=price, stock=0, is_active=is_active
    )
    if stock:
        stock_adjust(
            product_id=product.pk, variant_id=variant.pk, delta=stock, reason=StockMovement.Reason.INITIAL, user=user
        )
        variant.stock = stock
    invalidate_catalog()
    return variant


VARIANT_FIELDS = {"sku", "name", "attributes", "price", "is_active", "stock"}


@transaction.atomic
def variant_update(*, variant: ProductVariant, data: dict[str, Any], user=None) -> ProductVariant:
    """Update a variant; a new `stock` goes through `stock_set` (ledger `admin`, product sum kept)."""
    unknown = set(data) - VARIANT_FIELDS
    if unknown:
        raise InvalidCatalogInput(f"Unknown variant fields: {', '.join(sorted(unknown))}.")
    data = dict(data)
    stock = data.pop("stock", None)
    if "sku" in data and ProductVariant.objects.filter(sku=data["sku"]).exclude(pk=variant.pk).exists():
        raise InvalidCatalogInput(f"The SKU '{data['sku']}' is already in use.", field="sku")
    if data:
        for field, value in data.items():
            setattr(variant, field, value)
        variant.save(update_fields=[*data, "updated_at"])
    if stock is not None:
        stock_set(product_id=variant.product_id, variant_id=variant.pk, quantity=stock, user=user)
        variant.stock = ProductVariant.objects.values_list("stock", flat=True).get(pk=variant.pk)
    invalidate_catalog()
    return variant


@transaction.atomic
def variant_delete(*, variant: ProductVariant, user=None) -> None:
    """Delete a variant; its stock leaves the product's sum first (ledger `correction`)."""
    current = ProductVariant.objects.select_for_update().values_list("stock", flat=True).get(pk=variant.pk)
    if current:
        stock_adjust(
            product_id=variant.product_id,
            variant_id=variant.pk,
            delta=-current,
            reason=StockMovement.Reason.CORRECTION,
            reference=f"variant {variant.sku} deleted",
            user=user,
        )
    try:
        with transaction.atomic():
            variant.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise CatalogConflict(
            f"Variant '{variant.sku}' has been ordered and cannot be deleted; deactivate it instead."
        ) from exc
    invalidate_catalog()
