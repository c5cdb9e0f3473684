from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response

from orders import selectors, services
from orders.filters import OrderFilter
from orders.models import Order
from orders.serializers import (
    CheckoutConflictSerializer,
    OrderCancelInputSerializer,
    OrderCreateInputSerializer,
    OrderSerializer,
    OrderStatusInputSerializer,
)

CONFLICT = OpenApiResponse(description="The order (or stock, or coupon) is not in a state that allows this.")


@extend_schema_view(
    list=extend_schema(summary="Your orders (staff: all orders, filterable by status and user)"),
    retrieve=extend_schema(summary="One order (owner or staff; anyone else's is a 404)"),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = OrderFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.order_list_for(user=self.request.user)

    def get_object(self) -> Order:
        return selectors.order_get_for(user=self.request.user, order_id=self.kwargs["pk"])

    def _respond(self, order: Order, *, status_code: int = status.HTTP_200_OK) -> Response:
        # Re-read through the selector after the commit: the same shape (and query count) as a GET.
        fresh = selectors.order_get_for(user=self.request.user, order_id=order.pk)
        return Response(OrderSerializer(fresh).data, status=status_code)

    @extend_schema(
        summary="Check out the cart",
        request=OrderCreateInputSerializer,
        responses={
            201: OrderSerializer,
            400: OpenApiResponse(description="Empty cart or not your address."),
            409: OpenApiResponse(
                response=CheckoutConflictSerializer,
                description="A line's price changed (the lines are repriced, `changed_items`; nothing else is "
                "written), not enough stock, a product no longer sold, or the coupon no longer applies.",
            ),
        },
    )
    def create(self, request):
        data = OrderCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_place(
            user=request.user,
            shipping_address_id=data.validated_data["shipping_address"],
            billing_address_id=data.validated_data.get("billing_address"),
            note=data.validated_data["note"],
        )
        return self._respond(order, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel an order (owner: pending only; staff: pending, paid or processing, refunded)",
        request=OrderCancelInputSerializer,
        responses={200: OrderSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()
        data = OrderCancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
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

