"""Catalog reads: every queryset a view returns, with its joins and prefetches."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connections, router
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


def product_visible(*, include_inactive: bool = False) -> QuerySet[Product]:
    """The products a caller may see: active ones in an active category (staff: all)."""
    qs = Product.objects.all()
    return qs if include_inactive else qs.filter(is_active=True, category__is_active=True)


def product_list(*, include_inactive: bool = False) -> QuerySet[Product]:
    """Products with their category (joined), variants and images (one prefetch query each): constant
    queries per page."""
    variants = ProductVariant.objects.order_by("id")
    if not include_inactive:
        variants = variants.filter(is_active=True)
    return (
        product_visible(include_inactive=include_inactive)
        .select_related("category")
        .prefetch_related(Prefetch("variants", queryset=variants), Prefetch("images", queryset=image_list()))
    )


# --- Rows for the public reads (catalog.serializers.product_data turns them into the API's JSON) ---------------
# Plain tuples, no model instances: an uncached product page is the catalog's hottest path.

PRODUCT_ROW = (
    "id", "slug", "name", "sku", "brand", "description", "category_id", "category__slug", "category__name", "price",
    "compare_at_price", "currency", "stock", "is_active", "average_rating", "review_count", "created_at",
    "updated_at", "stock_version", "category__path",
)  # fmt: skip
VARIANT_ROW = ("product_id", "id", "sku", "name", "attributes", "price", "compare_at_price", "stock", "is_active")
IMAGE_ROW = ("product_id", "id", "image", "thumbnail", "alt_text", "position", "width", "height", "variant_id")


def product_rows(*, products: QuerySet[Product]) -> QuerySet:
    """`products` (filtered, ordered) as PRODUCT_ROW tuples, the category joined."""
    return products.values_list(*PRODUCT_ROW)


@dataclass(frozen=True)
class ProductParts:
    """The variants and images of a page of products, by product id, in the order the API lists them."""

    variants: dict[int, list[tuple]]
    images: dict[int, list[tuple]]


def product_parts(*, product_ids: list[int], include_inactive: bool = False) -> ProductParts:
    """VARIANT_ROW and IMAGE_ROW tuples of `product_ids`: one query each, whatever the number of products."""
    variants: dict[int, list[tuple]] = {}
    images: dict[int, list[tuple]] = {}
    if product_ids:
        for row in _VARIANTS.rows(product_ids=product_ids, active_only=not include_inactive):
            variants.setdefault(row[0], []).append(row)
        for row in _IMAGES.rows(product_ids=product_ids, active_only=False):
            images.setdefault(row[0], []).append(row)
    return ProductParts(variants=variants, images=images)


class _RowsOfProducts:
    """`SELECT columns FROM table WHERE product_id IN (...) [AND is_active] ORDER BY ...` as plain SQL.

    What `Model.objects.filter(product_id__in=ids).order_by(...).values_list(*columns)` runs, without building and
    compiling a queryset per call (1.4 of 1.6 ms of CPU for a page's variants and images, measured; the SQL itself
    is 0.05 ms). The values go through the converters the ORM applies (JSON parsed, SQLite's decimals and
    booleans), and the query goes to the database the router picks for the model (the replica for anonymous
    catalog reads when there is one).
    """

    def __init__(self, model, columns: tuple[str, ...], order: tuple[str, ...]):
        self.model = model
        self.fields = [model._meta.get_field(name) for name in columns]
        self.order = order

    def _sql(self, connection, n: int, active_only: bool) -> str:
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(f"{table}.{quote(field.column)}" for field in self.fields)
        where = f"{table}.{quote('product_id')} IN ({', '.join(['%s'] * n)})"
        if active_only:
            where += f" AND {table}.{quote('is_active')} = %s"
        order = ", ".join(f"{table}.{quote(self.model._meta.get_field(name).column)}" for name in self.order)
        return f"SELECT {columns} FROM {table} WHERE {where} ORDER BY {order}"  # noqa: S608 - quoted names, values are params

    def rows(self, *, product_ids: list[int], active_only: bool) -> list[tuple]:
        connection = connections[router.db_for_read(self.model)]
        converters = [
            (i, convert, field.get_col(self.model._meta.db_table))
            for i, field in enumerate(self.fields)
            for convert in connection.ops.get_db_converters(field.get_col(self.model._meta.db_table))
            + field.get_db_converters(connection)
        ]
        params = [*product_ids, True] if active_only else list(product_ids)
        with connection.cursor() as cursor:
            cursor.execute(self._sql(connection, len(product_ids), active_only), params)
            rows = cursor.fetchall()
        if not converters:
            return rows
        converted = []
        for row in rows:
            row = list(row)
            for i, convert, col in converters:
                row[i] = convert(row[i], col, connection)
            converted.append(tuple(row))
        return converted


_VARIANTS = _RowsOfProducts(ProductVariant, VARIANT_ROW, order=("id",))
_IMAGES = _RowsOfProducts(ProductImage, IMAGE_ROW, order=("position", "id"))


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


def category_trail_rows(*, path: str) -> list[tuple[int, str, str]]:
    """category_trail as (id, slug, name) tuples, from the category's materialized path: one query."""
    ids = [int(part) for part in path.strip("/").split("/") if part]
    found = {row[0]: row for row in Category.objects.filter(pk__in=ids).values_list("id", "slug", "name")}
    return [found[pk] for pk in ids if pk in found]
