import uuid
from decimal import Decimal
from pathlib import PurePosixPath

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Func, Q, TextField
from django.db.models.functions import Lower, Upper

from catalog.cache import invalidate_catalog


class CatalogQuerySet(models.QuerySet):
    """A queryset whose bulk writes invalidate the catalog cache.

    `save()`/`delete()` on one instance are covered by the signals in catalog.signals; these are the
    writes that bypass signals (queryset `update()`/`delete()`, `bulk_create()`, `bulk_update()`), as used
    by admin actions, the seed command and the stock service.
    """

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        if rows:
            invalidate_catalog()
        return rows

    update.queryset_only = True

    def stock_update(self, **kwargs):
        """An UPDATE of stock columns only, without the global catalog bump: catalog.stock invalidates the
        products it changed (catalog.cache.invalidate_product_stock)."""
        return super().update(**kwargs)

    stock_update.queryset_only = True

    def delete(self):
        result = super().delete()
        if result[0]:
            invalidate_catalog()
        return result

    delete.queryset_only = True
    delete.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            invalidate_catalog()
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        rows = super().bulk_update(objs, fields, *args, **kwargs)
        if rows:
            invalidate_catalog()
        return rows


CatalogManager = models.Manager.from_queryset(CatalogQuerySet)


class Category(models.Model):
    """A node of the category tree.

    `path` is a materialized path of ancestor ids ("/1/4/9/"), so all descendants of a category are
    one indexed `path LIKE '/1/4/%'` query at any depth. It is maintained by catalog.services.
    """

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CatalogManager()

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        indexes = [models.Index(fields=["path"], name="catalog_cat_path_like", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.name


# Joins the searched fields so one value never matches across two of them; a search term containing it matches
# nothing (no field can hold it from a form or the API in practice).
SEARCH_SEPARATOR = "\x1f"


class ProductSearchText(Func):
    """name, sku, brand and description as ONE text, joined with SEARCH_SEPARATOR by plain `||` (immutable in
    PostgreSQL, so it can define a stored generated column; the same SQL runs on SQLite)."""

    template = "(%(expressions)s)"
    arg_joiner = f" || '{SEARCH_SEPARATOR}' || "
    output_field = TextField()

    def __init__(self):
        super().__init__(F("name"), F("sku"), F("brand"), F("description"))


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    sku = models.CharField(max_length=64, unique=True)
    brand = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    # The "was" price of a sale; null when not on sale. Greater than `price` (catalog.services, and a constraint).
    compare_at_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    stock = models.PositiveIntegerField(default=0)
    # +1 with every stock change of the product or a variant (catalog.stock, under the row lock): the cache
    # publishes it per product so a checkout misses only the cached pages that show what it bought.
    stock_version = models.BigIntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)
    # Denormalized from reviews; maintained by reviews.services in the same transaction as the review.
    average_rating = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0.00"))
    review_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What `search=` matches (catalog.filters): UPPER(name|sku|brand|description), computed by the database on
    # every write and stored, so a search's recheck is a plain LIKE on ready text instead of an UPPER() of four
    # columns per candidate row. Its pg_trgm GIN index is in migration 0007.
    search_text = models.GeneratedField(
        expression=Upper(ProductSearchText()), output_field=TextField(), db_persist=True, editable=False
    )

    objects = CatalogManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # The list filters and orderings of GET /api/catalog/products/ (see README "Indexes"). The pg_trgm
        # GIN indexes for `search` are PostgreSQL-only and live in migration 0003, outside the model state.
        indexes = [
            models.Index(fields=["is_active", "category"], name="catalog_prod_active_cat"),
            models.Index(fields=["-created_at", "-id"], condition=Q(is_active=True), name="catalog_prod_active_new"),
            models.Index(fields=["price"], name="catalog_prod_price"),
            models.Index(fields=["average_rating"], name="catalog_prod_rating"),
            models.Index(Lower("brand"), name="catalog_prod_brand_lower"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="catalog_product_stock_non_negative"),
            models.CheckConstraint(condition=Q(price__gt=0), name="catalog_product_price_positive"),
            models.CheckConstraint(
                condition=Q(compare_at_price__isnull=True) | Q(compare_at_price__gt=F("price")),
                name="catalog_product_compare_at_above_price",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def on_sale(self) -> bool:
        return self.compare_at_price is not None and self.compare_at_price > self.price


class ProductVariant(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    attributes = models.JSONField(default=dict, blank=True)
    # Null means "the product's price".
    price = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))]
    )
    # The variant's "was" price; null when not on sale. Greater than the variant's effective price.
    compare_at_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CatalogManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="catalog_variant_stock_non_negative"),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gt=0), name="catalog_variant_price_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} – {self.name}"

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def effective_price(self) -> Decimal:
        return self.price if self.price is not None else self.product.price

    @property
    def on_sale(self) -> bool:
        return self.compare_at_price is not None and self.compare_at_price > self.effective_price


def product_image_path(instance: "ProductImage", filename: str) -> str:
    """A fresh, unguessable name per upload: `products/<product id>/<uuid>.<ext of the real format>`."""
    suffix = PurePosixPath(filename).suffix.lower()
    return f"products/{instance.product_id}/{uuid.uuid4().hex}{suffix}"


class ProductImage(models.Model):
    """A picture of a product, optionally of one of its variants. The stored original is re-encoded by
    catalog.images (no metadata); `thumbnail` is filled by a Celery task after the upload commits."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    variant = models.ForeignKey(ProductVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="images")
    # No width_field/height_field: Django would re-read the file (from S3) to fill them; the service sets them.
    image = models.ImageField(upload_to=product_image_path, max_length=255)
    thumbnail = models.ImageField(upload_to=product_image_path, blank=True, max_length=255)
    alt_text = models.CharField(max_length=255, blank=True)
    position = models.PositiveIntegerField(default=0)
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CatalogManager()

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["product", "position", "id"], name="catalog_image_product_pos")]

    def __str__(self) -> str:
        return self.alt_text or f"Image {self.pk} of product {self.product_id}"


class StockMovement(models.Model):
    """Ledger of every stock change; the sum of deltas explains the stock a row shows."""

    class Reason(models.TextChoices):
        INITIAL = "initial", "Initial stock"
        ADMIN = "admin", "Admin edit"
        ORDER = "order", "Order placed"
        CANCEL = "cancel", "Order cancelled"
        RESTOCK = "restock", "Restock"
        REFUND = "refund", "Refund"
        CORRECTION = "correction", "Correction"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_movements")
    # SET_NULL: a deleted variant's movements stay as the product's history, so they still explain its stock.
    variant = models.ForeignKey(
        ProductVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="stock_movements"
    )
    delta = models.IntegerField()
    stock_after = models.PositiveIntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    reference = models.CharField(max_length=100, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.reason} ({self.reference})"
