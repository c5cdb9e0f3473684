from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


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

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        indexes = [models.Index(fields=["path"], name="catalog_cat_path_like", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    sku = models.CharField(max_length=64, unique=True)
    brand = models.CharField(max_length=100, blank=True, db_index=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    # Denormalized from reviews; maintained by reviews.services in the same transaction as the review.
    average_rating = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0.00"))
    review_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="catalog_product_stock_non_negative"),
            models.CheckConstraint(condition=Q(price__gt=0), name="catalog_product_price_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class ProductVariant(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    attributes = models.JSONField(default=dict, blank=True)
    # Null means "the product's price".
    price = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))]
    )
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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
    def effective_price(self) -> Decimal:
        return self.price if self.price is not None else self.product.price


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
    variant = models.ForeignKey(
        ProductVariant, null=True, blank=True, on_delete=models.CASCADE, related_name="stock_movements"
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
