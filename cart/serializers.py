from rest_framework import serializers

from cart.services import MAX_QUANTITY_PER_LINE
from coupons.models import Coupon

MONEY = {"max_digits": 12, "decimal_places": 2}

# --- Input ------------------------------------------------------------------------------------


class CartItemAddInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, help_text="Product id.")
    variant = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Variant id; required when the product has variants."
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY_PER_LINE)


class CartItemUpdateInputSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(
        min_value=0, max_value=MAX_QUANTITY_PER_LINE, help_text="The new quantity; 0 removes the line."
    )


class CartCouponInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=50, trim_whitespace=True, help_text="Coupon code (case-insensitive).")


class CartMergeInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200, help_text="The guest cart's token (`X-Cart-Token`).")


# --- Output -----------------------------------------------------------------------------------


class CartProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()


class CartVariantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()


class CartItemSerializer(serializers.Serializer):
    """A cart line (`cart.selectors.CartLineView`)."""

    id = serializers.IntegerField(source="item.id")
    product = CartProductSerializer(source="item.product")
    variant = CartVariantSerializer(source="item.variant", allow_null=True)
    quantity = serializers.IntegerField(source="item.quantity")
    unit_price = serializers.DecimalField(
        source="item.unit_price", help_text="The price when the line was added; what checkout charges.", **MONEY
    )
    line_total = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    current_price = serializers.DecimalField(help_text="The catalog price now.", **MONEY)
    price_changed = serializers.BooleanField(help_text="The catalog price differs from `unit_price`.")
    available_stock = serializers.IntegerField()
    is_available = serializers.BooleanField(
        help_text="False when the product or variant is no longer sold or the stock does not cover the quantity."
    )
    problem = serializers.CharField(help_text='Why the line cannot be checked out as it is; "" when it can.')


class CartItemAddedSerializer(CartItemSerializer):
    """The line just added; `token` is the guest cart's token (also in `X-Cart-Token`), null for a user."""

    token = serializers.SerializerMethodField(help_text="The guest cart's secret token; null for a user's cart.")

    def get_token(self, line) -> str | None:
        return self.context.get("token")


class CartCouponSerializer(serializers.ModelSerializer):
    class Meta:
        model = Coupon
        fields = ["code", "discount_type", "value"]


class CartSerializer(serializers.Serializer):
    """The cart (`cart.selectors.CartView`)."""

    id = serializers.IntegerField(allow_null=True, help_text="Null for a guest without a cart yet.")
    token = serializers.CharField(
        allow_null=True, help_text="A guest cart's secret token (send it as `X-Cart-Token`); null for a user's cart."
    )
    items = CartItemSerializer(many=True)
    subtotal = serializers.DecimalField(**MONEY)
    coupon = CartCouponSerializer(
        allow_null=True,
        help_text="The coupon applied to the cart; while it does not apply, `coupon_error` says why and "
        "`discount` is 0.00.",
    )
    coupon_error = serializers.CharField(help_text='"" or why the applied coupon does not apply now.')
    discount = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(
        help_text="subtotal − discount (merchandise only; shipping is added at checkout).", **MONEY
    )
    currency = serializers.CharField()
    item_count = serializers.IntegerField(help_text="Units in the cart.")
