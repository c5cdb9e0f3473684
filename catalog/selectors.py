"""Catalog reads: every queryset a view returns, with its joins and prefetches."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.db.models.lookups import StartsWith

from catalog.models import Category, Product, ProductImage, ProductVariant


def category_list(*, include_inactive: bool = False) -> QuerySet[Category]:
    qs = Category.objects.all()
    return qs if include_inactive else qs.filter(is_active=True)


def category_detail_queryset(*, include_inactive: bool = False) -> QuerySet[Category]:
    children = Category.objects.order_by("name")
    if not include_inactive:
        children = children.filter(is_active=True)
    return category_list(include_inactive=include_inactive).prefetch_related(Prefetch("children", queryset=children))


def product_list(*, include_inactive: bool = False) -> QuerySet[Product]:
    """Products with their category (joined), variants and images (one prefetch query each): constant
    queries per page."""
    variants = ProductVariant.objects.order_by("id")
    qs = Product.objects.select_related("category")
    if not include_inactive:
        variants = variants.filter(is_active=True)
        qs = qs.filter(is_active=True, category__is_active=True)
    return qs.prefetch_related(Prefetch("variants", queryset=variants), Prefetch("images", queryset=image_list()))


def image_list() -> QuerySet[ProductImage]:
    return ProductImage.objects.order_by("position", "id")


def variant_list(*, product: Product, include_inactive: bool = False) -> QuerySet[ProductVariant]:
    qs = ProductVariant.objects.filter(product=product).order_by("id")
    return qs if include_inactive else qs.filter(is_active=True)


def category_ids_inactive_on_paths(*, paths: Iterable[str]) -> set[int]:
    """The inactive categories among those on the materialized `paths` ("/1/4/9/": 9 and its ancestors).

    One query for any number of paths: a product is sold only when its category and every ancestor
    of it are active.
    """
    ids = {int(part) for path in paths for part in path.strip("/").split("/") if part}
    if not ids:
        return set()
    return set(Category.objects.filter(pk__in=ids, is_active=False).values_list("pk", flat=True))


def category_path_inactive_exists(*, path_ref: str) -> Exists:
    """An expression for a query on another table: true when the category at the materialized path in the
    field `path_ref` ("/1/4/9/"), or one of its ancestors, is inactive. What `category_ids_inactive_on_paths` and
    `category_path_is_active` decide, in the same query as the rows that carry the path.
    """
    # An ancestor's path is a prefix of its descendants' paths ("/1/4/" of "/1/4/9/").
    return Exists(Category.objects.filter(StartsWith(OuterRef(path_ref), F("path")), is_active=False))


def product_has_variants_exists(*, product_ref: str) -> Exists:
    """An expression for a query on another table: true when the product whose id is in the field `product_ref`
    has variants (active or not)."""
    return Exists(ProductVariant.objects.filter(product_id=OuterRef(product_ref)))


def product_ids_with_variants(*, product_ids: Iterable[int]) -> set[int]:
    """Those of `product_ids` that have variants (active or not); no query for none."""
    product_ids = set(product_ids)
    if not product_ids:
        return set()
    return set(ProductVariant.objects.filter(product_id__in=product_ids).values_list("product_id", flat=True))


def category_path_is_active(*, path: str, inactive_ids: set[int]) -> bool:
    return not any(int(part) in inactive_ids for part in path.strip("/").split("/") if part)


@dataclass(frozen=True)
class StockDrift:
    """A product or variant whose stock differs from the sum of its ledger movements."""

    kind: str  # "product" or "variant"
    pk: int
    label: str
    stock: int
    ledger: int

    @property
    def drift(self) -> int:
        return self.stock - self.ledger


def stock_drift() -> list[StockDrift]:
    """Every product and variant whose `stock` is not the sum of its `StockMovement` deltas.

    A product's ledger is every movement of it (its variants' included: a variant's change moves its
    product's stock too, and a deleted variant's movements stay on the product); a variant's ledger is
    its own movements. One aggregate query per table, however many rows.
    """
    products = (
        Product.objects.annotate(ledger=Coalesce(Sum("stock_movements__delta"), 0))
        .exclude(stock=F("ledger"))
        .order_by("pk")
        .values_list("pk", "sku", "stock", "ledger")
    )
    variants = (
        ProductVariant.objects.annotate(ledger=Coalesce(Sum("stock_movements__delta"), 0))
        .exclude(stock=F("ledger"))
        .order_by("pk")
        .values_list("pk", "sku", "stock", "ledger")
    )
    return [StockDrift("product", pk, sku, stock, ledger) for pk, sku, stock, ledger in products] + [
        StockDrift("variant", pk, sku, stock, ledger) for pk, sku, stock, ledger in variants
    ]


def category_trail(*, category: Category) -> list[Category]:
    """The category's ancestors, root first, and the category itself: one query, whatever the depth.

    The materialized path ("/1/4/9/") names every id on the way down, so no walk up the parents is needed.
    """
    ids = [int(part) for part in category.path.strip("/").split("/") if part]
    found = {c.pk: c for c in Category.objects.filter(pk__in=ids).only("id", "slug", "name")}
    return [found[pk] for pk in ids if pk in found]
