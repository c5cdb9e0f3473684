from django.conf import settings
from django.db import models
from django.db.models import Q


class Cart(models.Model):
    """The one active cart of a user, created on first use."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart")
    coupon = models.ForeignKey("coupons.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Cart of {self.user}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.PositiveIntegerField()
    # The price when the line was added: what checkout charges (what the customer saw is what they pay).
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_item_quantity_positive"),
            models.UniqueConstraint(
                fields=["cart", "product"], condition=Q(variant__isnull=True), name="cart_item_unique_product"
            ),
            models.UniqueConstraint(
                fields=["cart", "variant"], condition=Q(variant__isnull=False), name="cart_item_unique_variant"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}/{self.variant_id}"
