"""Catalog writes: categories, products and variants. Stock changes only through `catalog.stock`.

The catalog cache is invalidated in the model layer every write here goes through: `catalog.signals`
for single-row saves and deletes, `CatalogQuerySet` for queryset updates and deletes.
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, ProtectedError, Q, RestrictedError, Value
from django.db.models.functions import Concat, Substr
from django.utils.text import slugify

from catalog.exceptions import CatalogConflict, InvalidCatalogInput
from catalog.images import image_clean, thumbnail_render
from catalog.models import Category, Product, ProductImage, ProductVariant, StockMovement
from catalog.stock import lock_stock_rows, stock_adjust, stock_set
from catalog.tasks import image_files_delete, image_thumbnail_create
from common.services import model_update
from common.tasks import enqueue_on_commit


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
    compare_at_price: Decimal | None = None,
    stock: int = 0,
    is_active: bool = True,
    user=None,
) -> Product:
    """Create a product with a unique slug (from the name, `-2`, `-3`, ... for equal names).

    The currency must be the shop's; a `compare_at_price` must be above `price`.
    Initial stock is recorded in the ledger (`initial`) through the stock service.
    """
    currency = currency_check(currency)
    compare_at_price_check(price=price, compare_at_price=compare_at_price)
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
        currency=currency,
        compare_at_price=compare_at_price,
        stock=0,
        is_active=is_active,
    )
    if stock:
        stock_adjust(product_id=product.pk, delta=stock, reason=StockMovement.Reason.INITIAL, user=user)
        product.stock = stock
    return product


PRODUCT_FIELDS = {
    "name", "slug", "sku", "brand", "description", "category", "price", "compare_at_price", "currency", "is_active",
    "stock",
}  # fmt: skip


def currency_check(currency: str) -> str:
    """The shop sells in one currency: anything but settings.DEFAULT_CURRENCY is a 400."""
    currency = (currency or "").strip().lower()
    if currency != settings.DEFAULT_CURRENCY:
        raise InvalidCatalogInput(
            f"The shop sells in {settings.DEFAULT_CURRENCY.upper()} only; '{currency}' is not accepted.",
            field="currency",
        )
    return currency


def compare_at_price_check(*, price: Decimal, compare_at_price: Decimal | None) -> None:
    if compare_at_price is not None and compare_at_price <= price:
        raise InvalidCatalogInput(
            f"The compare-at price ({compare_at_price}) must be greater than the price ({price}), or empty.",
            field="compare_at_price",
        )


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
        data["currency"] = currency_check(data["currency"])
    if "price" in data or "compare_at_price" in data:
        compare_at_price_check(
            price=data.get("price", product.price),
            compare_at_price=data.get("compare_at_price", product.compare_at_price),
        )
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
    names = _image_file_names(ProductImage.objects.filter(product_id=product.pk))
    try:
        with transaction.atomic():
            product.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise CatalogConflict(
            f"Product '{product.name}' has been ordered and cannot be deleted; deactivate it instead."
        ) from exc
    if names:
        enqueue_on_commit(image_files_delete, names=names)


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
    compare_at_price: Decimal | None = None,
    currency: str | None = None,
    stock: int = 0,
    is_active: bool = True,
    user=None,
) -> ProductVariant:
    """Add a variant. From its first variant on, a product's stock is the sum of its variants' stock:
    any stock the product held on its own is zeroed first (ledger `correction`).

    A `currency`, when given, must be the shop's; a `compare_at_price` must be above the variant's
    effective price (its own, or the product's).
    """
    if currency is not None:
        currency_check(currency)
    compare_at_price_check(price=price if price is not None else product.price, compare_at_price=compare_at_price)
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
        product=product,
        sku=sku,
        name=name,
        attributes=attributes or {},
        price=price,
        compare_at_price=compare_at_price,
        stock=0,
        is_active=is_active,
    )
    if stock:
        stock_adjust(
            product_id=product.pk, variant_id=variant.pk, delta=stock, reason=StockMovement.Reason.INITIAL, user=user
        )
        variant.stock = stock
    return variant


VARIANT_FIELDS = {"sku", "name", "attributes", "price", "compare_at_price", "is_active", "stock"}


@transaction.atomic
def variant_update(*, variant: ProductVariant, data: dict[str, Any], user=None) -> ProductVariant:
    """Update a variant; a new `stock` goes through `stock_set` (ledger `admin`, product sum kept).

    Its product is locked before the variant row, in the stock lock order a checkout takes too.
    """
    data = dict(data)
    stock = data.pop("stock", None)
    if (currency := data.pop("currency", None)) is not None:
        currency_check(currency)
    if "sku" in data and ProductVariant.objects.filter(sku=data["sku"]).exclude(pk=variant.pk).exists():
        raise InvalidCatalogInput(f"The SKU '{data['sku']}' is already in use.", field="sku")
    if "price" in data or "compare_at_price" in data:
        price = data.get("price", variant.price)
        compare_at_price_check(
            price=price if price is not None else variant.product.price,
            compare_at_price=data.get("compare_at_price", variant.compare_at_price),
        )
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


# --- Images -----------------------------------------------------------------------------------


def _image_file_names(images) -> list[str]:
    return [name for pair in images.values_list("image", "thumbnail") for name in pair if name]


def _check_image_variant(*, product: Product, variant: ProductVariant | None) -> None:
    if variant is not None and variant.product_id != product.pk:
        raise InvalidCatalogInput("The variant does not belong to this product.", field="variant")


@transaction.atomic
def image_create(
    *,
    product: Product,
    image,
    alt_text: str = "",
    position: int | None = None,
    variant: ProductVariant | None = None,
) -> ProductImage:
    """Store an upload as a product image: checked and re-encoded by catalog.images (400 and nothing stored
    when it is not a real JPEG/PNG/WebP within the limits), last in order unless `position` is given.
    The thumbnail is made by a Celery task after the commit; a rolled-back upload leaves no file behind.
    """
    _check_image_variant(product=product, variant=variant)
    clean = image_clean(upload=image)
    if position is None:
        last = ProductImage.objects.filter(product=product).aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
    product_image = ProductImage(
        product=product, variant=variant, alt_text=alt_text, position=position, width=clean.width, height=clean.height
    )
    product_image.image.save(clean.content.name, clean.content, save=False)
    # A failed INSERT must not leave the stored file behind.
    try:
        with transaction.atomic():
            product_image.save()
    except Exception:
        product_image.image.storage.delete(product_image.image.name)
        raise
    enqueue_on_commit(image_thumbnail_create, image_id=product_image.pk)
    return product_image


IMAGE_FIELDS = {"alt_text", "position", "variant"}


@transaction.atomic
def image_update(*, image: ProductImage, data: dict[str, Any]) -> ProductImage:
    """Change an image's alt text, position or variant (one of its product's variants, or none)."""
    if "variant" in data:
        _check_image_variant(product=image.product, variant=data["variant"])
    model_update(instance=image, fields=IMAGE_FIELDS, data=data, error=InvalidCatalogInput)
    return image


@transaction.atomic
def image_delete(*, image: ProductImage) -> None:
    """Delete an image; its stored files (original and thumbnail) are removed after the commit."""
    names = [name for name in (image.image.name, image.thumbnail.name) if name]
    image.delete()
    enqueue_on_commit(image_files_delete, names=names)


def image_thumbnail_make(*, image_id: int) -> bool:
    """Render and store the WebP thumbnail of an image that has none yet. Idempotent: returns False
    when the image is gone or already has one. The row is updated by a queryset UPDATE (which
    invalidates the catalog cache); a thumbnail whose image was deleted meanwhile is removed again."""
    image = ProductImage.objects.filter(pk=image_id).only("pk", "product_id", "image", "thumbnail").first()
    if image is None or image.thumbnail:
        return False
    with image.image.open("rb") as stored:
        content = thumbnail_render(data=stored.read())
    storage = image.thumbnail.storage
    name = storage.save(image.thumbnail.field.generate_filename(image, content.name), content)
    updated = ProductImage.objects.filter(pk=image_id, thumbnail="").update(thumbnail=name)
    if not updated:
        storage.delete(name)
        return False
    return True


def image_files_remove(*, names: Iterable[str]) -> None:
    """Delete stored files by name; a missing file is not an error. A file another image row still uses
    (the demo catalog shares a handful of generated pictures) is kept."""
    names = set(names)
    in_use = set(
        ProductImage.objects.filter(Q(image__in=names) | Q(thumbnail__in=names)).values_list("image", "thumbnail")
    )
    names -= {name for pair in in_use for name in pair}
    storage = ProductImage._meta.get_field("image").storage
    for name in sorted(names):
        storage.delete(name)
