import django_filters

from reviews.models import RATING_MAX, RATING_MIN, Review

ORDERINGS = ("-created_at", "created_at", "-rating", "rating")


class ReviewFilter(django_filters.FilterSet):
    """Malformed values are a 400 naming the parameter (DjangoFilterBackend raises the form errors)."""

    product = django_filters.CharFilter(field_name="product__slug", help_text="Slug of the product.")
    rating = django_filters.TypedChoiceFilter(
        choices=[(value, str(value)) for value in range(RATING_MIN, RATING_MAX + 1)],
        coerce=int,
        help_text="Only reviews with this rating (1-5).",
    )
    ordering = django_filters.ChoiceFilter(
        choices=[(value, value) for value in ORDERINGS],
        method="filter_ordering",
        help_text="Sort order; newest first by default.",
    )

    class Meta:
        model = Review
        fields = ["product", "rating"]

    def filter_ordering(self, queryset, name, value):
        # The id breaks ties, so pages never repeat or skip a review.
        return queryset.order_by(value, "-id")
