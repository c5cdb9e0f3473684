from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

RATING_MIN = 1
RATING_MAX = 5


class Review(models.Model):
    """One customer's rating of one product.

    Writes go through reviews.services, which keep `Product.average_rating` and `review_count` exact.
    """

    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="reviews")
    # PROTECT, as orders do: deleting a reviewer must not silently drop reviews behind the product aggregates.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(RATING_MIN), MaxValueValidator(RATING_MAX)])
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    is_visible = models.BooleanField(default=True, help_text="Hidden reviews are seen by staff only.")
    verified_purchase = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The public list: one product's visible reviews, newest first.
            models.Index(fields=["product", "is_visible", "-created_at"], name="reviews_product_visible_new"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["product", "user"], name="reviews_review_one_per_user_product"),
            models.CheckConstraint(
                condition=Q(rating__gte=RATING_MIN) & Q(rating__lte=RATING_MAX), name="reviews_review_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ on {self.product_id} by {self.user_id}"
