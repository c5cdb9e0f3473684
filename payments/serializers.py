from decimal import Decimal

from rest_framework import serializers

from payments.models import Payment


class CheckoutInputSerializer(serializers.Serializer):
    order = serializers.UUIDField(help_text="Id of one of your pending orders.")


class CheckoutOutputSerializer(serializers.Serializer):
    payment_id = serializers.IntegerField()
    checkout_url = serializers.URLField(help_text="Stripe Checkout page to send the customer to.")
    session_id = serializers.CharField(help_text="Stripe Checkout Session id.")
    expires_at = serializers.DateTimeField(allow_null=True, help_text="When the session stops accepting payment.")


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "order", "provider", "status", "amount", "amount_refunded", "currency", "created_at"]
        read_only_fields = fields


class RefundInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Amount to refund; everything not yet refunded when omitted.",
    )


class WebhookAckSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField(help_text="True when this event had already been delivered.")
