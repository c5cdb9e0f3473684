from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone


class Coupon(models.Model):
    class DiscountType(models.TextChoices):
        PERCENT = "percent", "Percent"
        FIXED = "fixed", "Fixed amount"

    # Stored upper-case; looked up case-insensitively.
    code = models.CharField(max_length=50, unique=True)
    description = models.CharField(max_length=255, blank=True)
    discount_type = models.CharField(max_length=10, choices=DiscountType.choices)
    value = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    min_subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Total uses; empty means unlimited.")
    max_uses_per_user = models.PositiveIntegerField(null=True, blank=True, help_text="Empty means unlimited.")
    is_active = models.BooleanField(default=True)
    # Scope: with either set, the discount applies only to matching lines (categories include descendants).
    categories = models.ManyToManyField("catalog.Category", blank=True, related_name="coupons")
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="coupons")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Upper("code"), name="coupons_coupon_code_ci_unique"),
            models.CheckConstraint(condition=Q(value__gt=0), name="coupons_coupon_value_positive"),
            models.CheckConstraint(
                condition=~Q(discount_type="percent") | Q(value__lte=100), name="coupons_coupon_percent_at_most_100"
            ),
            models.CheckConstraint(condition=Q(min_subtotal__gte=0), name="coupons_coupon_min_subtotal_non_negative"),
        ]

    def __str__(self) -> str:
        return self.code


class CouponRedemption(models.Model):
    """One use of a coupon by one order. Usage is counted from these rows (released ones excluded)."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    # Null for a guest's order; a guest's uses are counted by `email` (lower case).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="coupon_redemptions"
    )
    email = models.EmailField(blank=True, default="", help_text="The order's email, lower case.")
    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="coupon_redemption")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True, help_text="Set when the order was cancelled.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["coupon", "user"], name="coupons_redemption_coupon_user"),
            models.Index(fields=["coupon", "email"], name="coupons_redemption_email"),
        ]

    def __str__(self) -> str:
        return f"{self.coupon.code} on {self.order_id}"
