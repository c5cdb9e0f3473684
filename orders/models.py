import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

HALF_CENT = Decimal("0.005")


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending payment"
        PAID = "paid", "Paid"
        PROCESSING = "processing", "Processing"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=32, unique=True, editable=False)
    # Null for a guest's order: the guest is its `email` and the holder of its token.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    email = models.EmailField(db_index=True, help_text="Where the order's emails go (the user's email at checkout).")
    # sha256 of a guest order's secret `X-Order-Token`, shown once at checkout; never the token itself.
    guest_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    shipping = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=12, decimal_places=2)
    coupon_code = models.CharField(max_length=50, blank=True)
    # Snapshots: the addresses as they were at checkout, whatever later happens to the Address rows.
    shipping_address = models.JSONField()
    billing_address = models.JSONField()
    note = models.TextField(blank=True)
    payment_deadline = models.DateTimeField(help_text="Unpaid after this, the order is cancelled and restocked.")
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="orders_user_created"),
            models.Index(fields=["status", "payment_deadline"], name="orders_status_deadline"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="orders_order_subtotal_non_negative"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="orders_order_discount_non_negative"),
            models.CheckConstraint(condition=Q(shipping__gte=0), name="orders_order_shipping_non_negative"),
            # Within half a cent rather than `=`: amounts have two places, so on PostgreSQL's numeric this is
            # exact equality, while SQLite (`make run`) compares them as floats (28.98 - 2.90 != 26.08 there).
            models.CheckConstraint(
                condition=Q(
                    total__gt=F("subtotal") - F("discount") + F("shipping") - HALF_CENT,
                    total__lt=F("subtotal") - F("discount") + F("shipping") + HALF_CENT,
                ),
                name="orders_order_total_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderNumber(models.Model):
    """Insert-only source of sequential order numbers (ORD-2026-000042) without a hot counter row."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.pk)


class OrderItem(models.Model):
    """What was bought, as it was: later catalog edits never change these rows."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    # PROTECT: a product or variant that was sold is deactivated, never deleted (catalog answers 409),
    # so cancels and refunds always restock the row that was sold and reviews can verify purchases.
    product = models.ForeignKey("catalog.Product", null=True, on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"


class OrderStatusChange(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=Order.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Order.Status.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class Shipment(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="shipment")
    carrier = models.CharField(max_length=100)
    tracking_number = models.CharField(max_length=100)
    shipped_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"

