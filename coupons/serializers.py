from rest_framework import serializers

from catalog.models import Category, Product
from config.limits import INTEGER_MAX
from coupons.models import Coupon

MONEY = {"max_digits": 12, "decimal_places": 2}


class CouponSerializer(serializers.ModelSerializer):
    """A coupon as staff read it."""

    times_used = serializers.IntegerField(read_only=True, help_text="Redemptions not released by a cancellation.")
    categories = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    products = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Coupon
        fields = [
            "id",
            "code",
            "description",
            "discount_type",
            "value",
            "min_subtotal",
            "valid_from",
            "valid_until",
            "max_uses",
            "max_uses_per_user",
            "times_used",
            "is_active",
            "categories",
            "products",
        ]
        read_only_fields = fields


class CouponInputSerializer(serializers.Serializer):
    """Create (all required fields) or update (PATCH: any subset). Rules are enforced by coupons.services."""

    code = serializers.CharField(max_length=50, help_text="Stored upper-case; unique case-insensitively.")
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    discount_type = serializers.ChoiceField(choices=Coupon.DiscountType.choices)
    value = serializers.DecimalField(min_value=0, help_text="Percent (at most 100) or a fixed amount.", **MONEY)
    min_subtotal = serializers.DecimalField(min_value=0, required=False, **MONEY)
    valid_from = serializers.DateTimeField(required=False, help_text="Defaults to now.")
    valid_until = serializers.DateTimeField(required=False, allow_null=True)
    max_uses = serializers.IntegerField(
        min_value=1, max_value=INTEGER_MAX, required=False, allow_null=True, help_text="Empty: unlimited."
    )
    max_uses_per_user = serializers.IntegerField(
        min_value=1, max_value=INTEGER_MAX, required=False, allow_null=True, help_text="Empty: unlimited."
    )
    is_active = serializers.BooleanField(required=False)
    categories = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Category.objects.all(), help_text="Category ids (descendants included)."
    )
    products = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Product.objects.all(), help_text="Product ids."
    )


class CouponValidateInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=50, help_text="Case-insensitive.")
    subtotal = serializers.DecimalField(
        min_value=0,
        required=False,
        help_text="Evaluate against this merchandise amount instead of your cart. A coupon limited to some "
        "categories or products cannot be judged on an amount and is evaluated against your cart.",
        **MONEY,
    )


class CouponValidateSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    code = serializers.CharField()
    discount = serializers.DecimalField(**MONEY)
    reason = serializers.CharField(help_text='"" when valid, else why the coupon does not apply.')
    currency = serializers.CharField()
