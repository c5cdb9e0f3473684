"""Catalog writes: categories, products and variants. Stock changes only through `catalog.stock`.

The catalog cache is invalidated in the model layer every write here goes through: `catalog.signals`
for single-row saves and deletes, `CatalogQuerySet` for queryset updates and deletes.
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, ProtectedError, RestrictedError, Value
from django.db.models.functions import Concat, Substr
from django.utils.text import slugify

from catalog.exceptions import CatalogConflict, InvalidCatalogInput
from catalog.models import Category, Product, ProductVariant, StockMovement
from catalog.stock import lock_stock_rows, stock_adjust, stock_set
from common.services import model_update


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
    return category


CATEGORY_FIELDS = {"name", "slug", "description", "parent", "is_active"}


@transaction.atomic
def category_update(*, category: Category, data: dict[str, Any]) -> Category:
    """Update a category. Moving it (a new `parent`) rewrites the paths of its whole subtree in one UPDATE.

    A category cannot become its own ancestor (400 on `parent`).
    """
    category = Category.objects.select_for_update().get(pk=category.pk)
    data = dict(data)
    if data.get("slug"):
        _check_slug_free(model=Category, slug=data["slug"], exclude_pk=category.pk)
    elif "slug" in data:
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
    model_update(instance=category, fields=CATEGORY_FIELDS, data=data, error=InvalidCatalogInput)
    if moved:
        new_path, new_depth = _category_path(category)
        # One statement for the node and all its descendants: swap the old path prefix for the new one.
        Category.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
            depth=F("depth") + (new_depth - old_depth),
        )
        category.path, category.depth = new_path, new_depth
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
    return product


PRODUCT_FIELDS = {"name", "slug", "sku", "brand", "description", "category", "price", "currency", "is_active", "stock"}


@transaction.atomic
def product_update(*, product: Product, data: dict[str, Any], user=None) -> Product:
    """Update a product's fields. A new `stock` goes through `stock_set` (ledger reason `admin`);
    the other fields are written without touching `stock`, so a concurrent checkout is never overwritten.
    """
    data = dict(data)
    stock = data.pop("stock", None)
    if data.get("slug"):
        _check_slug_free(model=Product, slug=data["slug"], exclude_pk=product.pk)
    elif "slug" in data:
        data["slug"] = unique_slug(
            model=Product, value=data.get("name", product.name), max_length=220, exclude_pk=product.pk
        )
    if "sku" in data and Product.objects.filter(sku=data["sku"]).exclude(pk=product.pk).exists():
        raise InvalidCatalogInput(f"The SKU '{data['sku']}' is already in use.", field="sku")
    if "currency" in data:
        data["currency"] = data["currency"].lower()
    model_update(instance=product, fields=PRODUCT_FIELDS - {"stock"}, data=data, error=InvalidCatalogInput)
    if stock is not None:
        stock_set(product_id=product.pk, quantity=stock, user=user)
        product.stock = Product.objects.values_list("stock", flat=True).get(pk=product.pk)
    return product


@transaction.atomic
def product_delete(*, product: Product) -> None:
    """Delete a product; one that orders still reference is a 409 (deactivate it instead).

    The product is locked first: the cascade deletes its variants before it, and a variant must never
    be locked before its product.
    """
    lock_stock_rows(product_ids=[product.pk])
    try:
        product.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise CatalogConflict(
            f"Product '{product.name}' has been ordered and cannot be deleted; deactivate it instead."
        ) from exc


@transaction.atomic
def products_set_active(*, product_ids: Iterable[int], is_active: bool) -> int:
    """Activate or deactivate several products at once (admin actions); returns how many changed.

    The rows are locked in the stock lock order first, so the UPDATE cannot deadlock with a checkout.
    """
    locked = lock_stock_rows(product_ids=product_ids).products
    return Product.objects.filter(pk__in=list(locked)).exclude(is_active=is_active).update(is_active=is_active)


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
    locked = lock_stock_rows(product_ids=[product.pk]).products[product.pk]
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
    return variant


VARIANT_FIELDS = {"sku", "name", "attributes", "price", "is_active", "stock"}


@transaction.atomic
def variant_update(*, variant: ProductVariant, data: dict[str, Any], user=None) -> ProductVariant:
    """Update a variant; a new `stock` goes through `stock_set` (ledger `admin`, product sum kept).

    Its product is locked before the variant row, in the stock lock order a checkout takes too.
    """
    data = dict(data)
    stock = data.pop("stock", None)
    if "sku" in data and ProductVariant.objects.filter(sku=data["sku"]).exclude(pk=variant.pk).exists():
        raise InvalidCatalogInput(f"The SKU '{data['sku']}' is already in use.", field="sku")
    lock_stock_rows(product_ids=[variant.product_id], variant_ids=[variant.pk])
    model_update(instance=variant, fields=VARIANT_FIELDS - {"stock"}, data=data, error=InvalidCatalogInput)
    if stock is not None:
        stock_set(product_id=variant.product_id, variant_id=variant.pk, quantity=stock, user=user)
        variant.stock = ProductVariant.objects.values_list("stock", flat=True).get(pk=variant.pk)
    return variant


@transaction.atomic
def variant_delete(*, variant: ProductVariant, user=None) -> None:
    """Delete a variant; its stock leaves the product's sum first (ledger `correction`)."""
    locked = lock_stock_rows(product_ids=[variant.product_id], variant_ids=[variant.pk]).variants[variant.pk]
    if locked.stock:
        stock_adjust(
            product_id=variant.product_id,
            variant_id=variant.pk,
            delta=-locked.stock,
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
