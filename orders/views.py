from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response

from cart.guest import CART_TOKEN_PARAM, IsUserOrGuest, guest_cart_token, is_guest
from idempotency.services import IDEMPOTENCY_KEY_PARAM, IDEMPOTENCY_RESPONSES, REPLAYED_RESPONSE_HEADER, idempotent
from orders import selectors, services
from orders.filters import OrderFilter
from orders.guest import ORDER_TOKEN_PARAM, guest_order_token
from orders.models import Order
from orders.serializers import (
    CheckoutConflictSerializer,
    GuestOrderCreateInputSerializer,
    OrderCancelInputSerializer,
    OrderCreatedSerializer,
    OrderCreateInputSerializer,
    OrderSerializer,
    OrderStatusInputSerializer,
)

CONFLICT = OpenApiResponse(description="The order (or stock, or coupon) is not in a state that allows this.")
NOT_FOUND = OpenApiResponse(description="No such order, not yours, or (guests) not the order's token.")


@extend_schema_view(
    list=extend_schema(summary="Your orders (staff: all orders, filterable by status, user and email)"),
    retrieve=extend_schema(
        summary="One order (owner, guest with its token, or staff; anyone else's is a 404)",
        parameters=[ORDER_TOKEN_PARAM],
        responses={200: OrderSerializer, 404: NOT_FOUND},
    ),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = OrderFilter

    def get_permissions(self):
        if self.action in ("create", "retrieve", "cancel"):
            return [IsUserOrGuest()]
        return super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.order_list_for(user=self.request.user)

    def _get(self, order_id) -> Order:
        if is_guest(self.request):
            return selectors.order_get_for_guest(token=guest_order_token(self.request), order_id=order_id)
        return selectors.order_get_for(user=self.request.user, order_id=order_id)

    def get_object(self) -> Order:
        return self._get(self.kwargs["pk"])

    def _respond(self, order: Order, *, status_code: int = status.HTTP_200_OK) -> Response:
        # Re-read through the selector after the commit: the same shape (and query count) as a GET.
        return Response(OrderSerializer(self._get(order.pk)).data, status=status_code)

    @extend_schema(
        summary="Check out the cart (a user's, or a guest's by `X-Cart-Token`)",
        description="A user sends ids of their own addresses. A guest (no `Authorization`, `X-Cart-Token` of its "
        "cart) sends `email` and the addresses inline; the 201 order then carries `guest_token`, shown only "
        "once, for `X-Order-Token`. With `Idempotency-Key`, a repeat of the same request answers the first "
        "response again (`Idempotent-Replayed: true`) and places no second order.",
        request=PolymorphicProxySerializer(
            component_name="OrderPlaceInput",
            serializers=[OrderCreateInputSerializer, GuestOrderCreateInputSerializer],
            resource_type_field_name=None,
        ),
        parameters=[CART_TOKEN_PARAM, IDEMPOTENCY_KEY_PARAM, REPLAYED_RESPONSE_HEADER],
        responses={
            201: OrderCreatedSerializer,
            **IDEMPOTENCY_RESPONSES,
            400: OpenApiResponse(description="Empty cart, not your address, or an invalid inline address."),
            409: OpenApiResponse(
                response=CheckoutConflictSerializer,
                description="A line's price changed (the lines are repriced, `changed_items`; nothing else is "
                "written), not enough stock, a product no longer sold, the coupon no longer applies, or a request "
                "with this Idempotency-Key is still running.",
            ),
        },
    )
    @idempotent
    def create(self, request):
        if is_guest(request):
            return self._create_guest(request)
        data = OrderCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_place(
            user=request.user,
            shipping_address_id=data.validated_data["shipping_address"],
            billing_address_id=data.validated_data.get("billing_address"),
            note=data.validated_data["note"],
        )
        # The service returns the order as a GET reads it (items, history, payment status): no second read.
        return Response(OrderCreatedSerializer(order).data, status=status.HTTP_201_CREATED)

    def _create_guest(self, request) -> Response:
        data = GuestOrderCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order, guest_token = services.order_place_guest(
            cart_token=guest_cart_token(request),
            email=data.validated_data["email"],
            shipping_address=data.validated_data["shipping_address"],
            billing_address=data.validated_data.get("billing_address"),
            note=data.validated_data["note"],
        )
        body = OrderCreatedSerializer(order, context={"guest_token": guest_token}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel an order (owner or guest with its token: pending only; staff: pending, paid or processing, "
        "refunded)",
        request=OrderCancelInputSerializer,
        parameters=[ORDER_TOKEN_PARAM],
        responses={200: OrderSerializer, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()
        data = OrderCancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if is_guest(request):
            order = services.order_cancel(
                order_id=order.pk, guest_token=guest_order_token(request), note=data.validated_data["note"]
            )
        else:
            order = services.order_cancel(order_id=order.pk, by=request.user, note=data.validated_data["note"])
        return self._respond(order)

    @extend_schema(
        summary="Move an order along the allowed transitions (staff)",
        request=OrderStatusInputSerializer,
        responses={200: OrderSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="status", permission_classes=[IsAdminUser])
    def set_status(self, request, pk=None):
        order = self.get_object()
        data = OrderStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_set_status(order_id=order.pk, by=request.user, **data.validated_data)
        return self._respond(order)
