from rest_framework import serializers

from reviews.models import RATING_MAX, RATING_MIN, Review


class ReviewAuthorSerializer(serializers.Serializer):
    """The author as the public sees them: never the email."""

    id = serializers.IntegerField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class ReviewSerializer(serializers.ModelSerializer):
    product = serializers.IntegerField(source="product_id", read_only=True)
    user = ReviewAuthorSerializer(read_only=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "product",
            "user",
            "rating",
            "title",
            "body",
            "verified_purchase",
            "is_visible",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"is_visible": {"help_text": "False only for reviews hidden by staff, which only staff see."}}


class ReviewCreateInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, help_text="Id of the product to review.")
    rating = serializers.IntegerField(min_value=RATING_MIN, max_value=RATING_MAX)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")


class ReviewUpdateInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=RATING_MIN, max_value=RATING_MAX, required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    is_visible = serializers.BooleanField(required=False, help_text="Staff only: false hides the review.")
