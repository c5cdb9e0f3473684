from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cart.guest import IsUserOrGuest, is_guest
from idempotency.services import IDEMPOTENCY_KEY_PARAM, IDEMPOTENCY_RESPONSES, REPLAYED_RESPONSE_HEADER, idempotent
from orders.guest import ORDER_TOKEN_PARAM, guest_order_token
from payments import services, webhooks
from payments.models import Payment
from payments.selectors import payment_list_for
from payments.serializers import (
    CheckoutInputSerializer,
    CheckoutOutputSerializer,
    PaymentSerializer,
    RefundInputSerializer,
    WebhookAckSerializer,
)


class CheckoutView(APIView):
    permission_classes = [IsUserOrGuest]

    @extend_schema(
        request=CheckoutInputSerializer,
        parameters=[ORDER_TOKEN_PARAM, IDEMPOTENCY_KEY_PARAM, REPLAYED_RESPONSE_HEADER],
        responses={
            201: CheckoutOutputSerializer,
            **IDEMPOTENCY_RESPONSES,
            400: OpenApiResponse(description="Unknown order, or not yours."),
            404: OpenApiResponse(description="Guests: the order is not the one `X-Order-Token` opens."),
            409: OpenApiResponse(
                description="The order is not pending, or a request with this Idempotency-Key is still running."
            ),
            502: OpenApiResponse(description="Stripe failed; nothing was recorded."),
            503: OpenApiResponse(description="Stripe is not configured."),
        },
        summary="Open (or reopen) a Stripe Checkout Session for a pending order",
        description="While the order's session is still open, the same session is returned. A guest pays its "
        "order with `X-Order-Token`.",
    )
    @idempotent
    def post(self, request):
        serializer = CheckoutInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order_id = serializer.validated_data["order"]
        if is_guest(request):
            payment = services.checkout_session_create(order_id=order_id, guest_token=guest_order_token(request))
        else:
            payment = services.checkout_session_create(user=request.user, order_id=order_id)
        data = {
            "payment_id": payment.pk,
            "checkout_url": payment.checkout_url,
            "session_id": payment.stripe_session_id,
            "expires_at": payment.expires_at,
        }
        return Response(CheckoutOutputSerializer(data).data, status=status.HTTP_201_CREATED)


@method_decorator(csrf_exempt, name="dispatch")
class StripeWebhookView(APIView):
    # Stripe authenticates with the signature; no session, no JWT, no CSRF, no throttle.
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[OpenApiParameter("Stripe-Signature", str, OpenApiParameter.HEADER, required=True)],
        responses={
            200: WebhookAckSerializer,
            400: OpenApiResponse(description="Missing, forged or stale signature; nothing stored."),
        },
        summary="Stripe webhook endpoint",
        description="Verifies the event, stores it once and acknowledges at once; a worker processes it.",
    )
    def post(self, request):
        _, created = services.webhook_event_record(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
        return Response({"received": True, "duplicate": not created}, status=status.HTTP_200_OK)


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PaymentSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["status", "order"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()
        return payment_list_for(user=self.request.user)

    @extend_schema(
        request=RefundInputSerializer,
        responses={
            200: PaymentSerializer,
            400: OpenApiResponse(description="More than what is left to refund."),
            409: OpenApiResponse(description="The payment did not succeed (or is already refunded)."),
            502: OpenApiResponse(description="Stripe failed; nothing was changed."),
        },
        summary="Refund a payment in full or in part (staff)",
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAdminUser])
    def refund(self, request, pk=None):
        payment = self.get_object()
        serializer = RefundInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = webhooks.payment_refund(
            payment_id=payment.pk, amount=serializer.validated_data.get("amount"), by=request.user
        )
        return Response(PaymentSerializer(payment).data)
