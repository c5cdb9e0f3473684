from django.conf import settings
from django.db import models
from django.db.models import Q


class Cart(models.Model):
    """The one active cart of a user (created on first use), or a guest's cart, known by its secret token."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="cart"
    )
    # sha256 of a guest cart's secret `X-Cart-Token`: the token itself is never stored.
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    coupon = models.ForeignKey("coupons.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            # A cart is a user's or a guest's, never both, never neither.
            models.CheckConstraint(
                condition=Q(user__isnull=False, token_hash__isnull=True)
                | Q(user__isnull=True, token_hash__isnull=False),
                name="cart_user_xor_guest_token",
            ),
        ]

    def __str__(self) -> str:
        return f"Cart of {self.user}" if self.user_id else f"Guest cart {self.pk}"

    @property
    def is_guest(self) -> bool:
        return self.user_id is None


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
