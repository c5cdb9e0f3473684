from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import Order, OrderItem, OrderStatusChange, Shipment
from orders.selectors import payment_status_choices
from users.serializers import AddressInputSerializer


class OrderCreateInputSerializer(serializers.Serializer):
    shipping_address = serializers.IntegerField(min_value=1, help_text="Id of one of your addresses.")
    billing_address = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Id of one of your addresses; defaults to shipping."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class GuestAddressInputSerializer(AddressInputSerializer):
    """An address given inline at guest checkout, validated exactly like a saved address."""

    class Meta(AddressInputSerializer.Meta):
        fields = ["full_name", "line1", "line2", "city", "region", "postal_code", "country", "phone"]


class GuestOrderCreateInputSerializer(serializers.Serializer):
    email = serializers.EmailField(help_text="Where the order's emails go.")
    shipping_address = GuestAddressInputSerializer()
    billing_address = GuestAddressInputSerializer(
        required=False, allow_null=True, help_text="Defaults to the shipping address."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class CheckoutConflictSerializer(serializers.Serializer):
    """The 409 of a checkout: prices changed, stock ran out, a product is no longer sold, a coupon stopped applying."""

    detail = serializers.CharField()
    changed_items = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Cart item ids whose price changed: they now carry the current price; check out again.",
    )
    available = serializers.IntegerField(required=False, help_text="Units left, when stock ran short.")
    product = serializers.IntegerField(required=False, allow_null=True)
    variant = serializers.IntegerField(required=False, allow_null=True)


class OrderCancelInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class OrderStatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=Order.Status.choices,
        help_text="Target status along the allowed transitions; `paid` is reached only through a payment (409).",
    )
    carrier = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    tracking_number = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    note = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    # `shipped` needs carrier and tracking number: the service checks them after the transition, so an
    # illegal move (pending → shipped) is a 409 whatever fields came with it.


class AddressSnapshotSerializer(serializers.Serializer):
    full_name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField(allow_blank=True)
    city = serializers.CharField()
    region = serializers.CharField(allow_blank=True)
    postal_code = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    phone = serializers.CharField(allow_blank=True)


class OrderItemSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(allow_null=True, read_only=True)
    variant_id = serializers.IntegerField(allow_null=True, read_only=True)
    product_slug = serializers.SerializerMethodField(
        help_text="The product's current slug, for a link to its page (sku and name are the snapshot)."
    )

    class Meta:
        model = OrderItem
        fields = ["product_id", "product_slug", "variant_id", "sku", "name", "unit_price", "quantity", "line_total"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_product_slug(self, item: OrderItem) -> str | None:
        if hasattr(item, "product_slug"):  # annotated by orders.selectors.order_queryset
            return item.product_slug
        return item.product.slug if item.product_id else None


class ShipmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shipment
        fields = ["carrier", "tracking_number", "shipped_at", "delivered_at"]
        read_only_fields = fields


class OrderStatusChangeSerializer(serializers.ModelSerializer):
    from_status = serializers.SerializerMethodField(help_text="The status before; null for the order's creation.")

    class Meta:
        model = OrderStatusChange
        fields = ["from_status", "to_status", "note", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Order.Status.choices, allow_null=True))
    def get_from_status(self, change: OrderStatusChange) -> str | None:
        # Stored blank for the first row; the API says null, which the documented enum allows.
        return change.from_status or None


class OrderSerializer(serializers.ModelSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    shipping_address = AddressSnapshotSerializer(read_only=True)
    billing_address = AddressSnapshotSerializer(read_only=True)
    shipment = serializers.SerializerMethodField()
    payment_status = serializers.SerializerMethodField()
    status_history = OrderStatusChangeSerializer(source="status_changes", many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id", "number", "email", "status", "items", "subtotal", "discount", "shipping", "total", "currency",
            "coupon_code", "shipping_address", "billing_address", "shipment", "payment_status",
            "status_history", "note", "payment_deadline", "created_at", "updated_at", "paid_at", "cancelled_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ShipmentSerializer(allow_null=True))
    def get_shipment(self, order: Order) -> dict | None:
        try:
            shipment = order.shipment
        except Shipment.DoesNotExist:
            return None
        return ShipmentSerializer(shipment).data

    @extend_schema_field(
        serializers.ChoiceField(
            choices=payment_status_choices(),
            help_text="Status of the order's latest payment; `unpaid` when no payment was started.",
        )
    )
    def get_payment_status(self, order: Order) -> str:
        return order.payment_status  # annotated by orders.selectors.order_queryset


class OrderCreatedSerializer(OrderSerializer):
    """The order just placed; a guest's carries its secret `guest_token`, shown only here."""

    guest_token = serializers.SerializerMethodField(
        help_text="Guests only, shown once: send it as `X-Order-Token` to read, cancel and pay the order. "
        "Null for a user's order."
    )

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "guest_token"]
        read_only_fields = fields

    def get_guest_token(self, order: Order) -> str | None:
        return self.context.get("guest_token")
