from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from cart import services
from cart.selectors import cart_coupon_check, cart_line_view, cart_view_for
from cart.serializers import (
    CartCouponInputSerializer,
    CartItemAddInputSerializer,
    CartItemSerializer,
    CartItemUpdateInputSerializer,
    CartSerializer,
)
from coupons.serializers import CouponValidateInputSerializer, CouponValidateSerializer
from users.throttles import CouponRateThrottle

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `{field: [message]}`."),
    401: OpenApiResponse(description="Not authenticated."),
}


def _cart_response(user) -> Response:
    cart = services.cart_get_or_create(user=user)  # the cart is created on first use, also by a read
    return Response(CartSerializer(cart_view_for(cart=cart, user=user)).data)


class CartView(APIView):
    @extend_schema(
        tags=["cart"],
        summary="The user's cart",
        description="Created on first use. The applied coupon is re-validated on every read.",
        responses={200: CartSerializer, 401: ERRORS[401]},
    )
    def get(self, request):
        return _cart_response(request.user)

    @extend_schema(
        tags=["cart"],
        summary="Empty the cart",
        description="Removes every line and the coupon.",
        responses={204: None, 401: ERRORS[401]},
    )
    def delete(self, request):
        services.cart_clear(cart=services.cart_get_or_create(user=request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemListView(APIView):
    @extend_schema(
        tags=["cart"],
        summary="Add a line",
        description="Adding a product (or variant) already in the cart adds to that line's quantity and takes the "
        "current price. A product with variants needs `variant`. 409 when the resulting quantity exceeds the stock: "
        '`{"detail": "Only N available.", "available": N}`.',
        request=CartItemAddInputSerializer,
        responses={
            201: CartItemSerializer,
            **ERRORS,
            409: OpenApiResponse(description="Not enough stock: `{detail, available}`."),
        },
    )
    def post(self, request):
        data = CartItemAddInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.cart_item_add(
            user=request.user,
            product_id=data.validated_data["product"],
            variant_id=data.validated_data.get("variant"),
            quantity=data.validated_data["quantity"],
        )
        return Response(CartItemSerializer(cart_line_view(item=item)).data, status=status.HTTP_201_CREATED)


class CartItemDetailView(APIView):
    @extend_schema(
        tags=["cart"],
        summary="Change a line's quantity",
        description="`quantity: 0` removes the line and answers 204 with no body. Raising the quantity checks the "
        "stock (409); lowering it is always allowed.",
        request=CartItemUpdateInputSerializer,
        responses={
            200: CartItemSerializer,
            204: OpenApiResponse(description="Quantity 0: the line was removed."),
            **ERRORS,
            404: OpenApiResponse(description="No such line in your cart."),
            409: OpenApiResponse(description="Not enough stock: `{detail, available}`."),
        },
    )
    def patch(self, request, pk: int):
        data = CartItemUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.cart_item_set_quantity(user=request.user, item_id=pk, quantity=data.validated_data["quantity"])
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(CartItemSerializer(cart_line_view(item=item)).data)

    @extend_schema(
        tags=["cart"],
        summary="Remove a line",
        responses={
            204: None,
            401: ERRORS[401],
            404: OpenApiResponse(description="No such line in your cart."),
        },
    )
    def delete(self, request, pk: int):
        services.cart_item_remove(user=request.user, item_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CouponThrottled:
    """Coupon codes cannot be guessed at speed: per-client `coupon` rate (COUPON_THROTTLE_RATE)."""

    throttle_classes = (CouponRateThrottle,)
    throttle_scope = "coupon"

    def get_throttles(self):
        # Only trying a code counts; reading the cart or removing its coupon does not.
        return super().get_throttles() if self.request.method == "POST" else []


class CartCouponView(CouponThrottled, APIView):
    @extend_schema(
        tags=["cart"],
        summary="Apply a coupon",
        description='Case-insensitive. When it does not apply: 400 `{"code": [reason]}`.',
        request=CartCouponInputSerializer,
        responses={200: CartSerializer, **ERRORS},
    )
    def post(self, request):
        data = CartCouponInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_coupon_apply(user=request.user, code=data.validated_data["code"])
        return _cart_response(request.user)

    @extend_schema(
        tags=["cart"],
        summary="Remove the coupon",
        request=None,
        responses={200: CartSerializer, 401: ERRORS[401]},
    )
    def delete(self, request):
        services.cart_coupon_remove(user=request.user)
        return _cart_response(request.user)


class CouponValidateView(CouponThrottled, APIView):
    """`POST /api/coupons/validate/` (routed by `cart.coupon_urls`): judged against the user's cart, so
    served by the cart app, which sits above coupons.
    """

    @extend_schema(
        tags=["coupons"],
        summary="Check whether a coupon applies",
        description="Always 200 for a well-formed request, also for an unknown code (`valid: false` with the "
        "reason). Evaluated against your cart, or against `subtotal` when given (unscoped coupons only).",
        request=CouponValidateInputSerializer,
        responses={200: CouponValidateSerializer, 400: ERRORS[400], 401: ERRORS[401]},
    )
    def post(self, request):
        data = CouponValidateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        evaluation = cart_coupon_check(
            user=request.user, code=data.validated_data["code"], subtotal=data.validated_data.get("subtotal")
        )
        body = {
            "valid": evaluation.valid,
            "code": evaluation.code,
            "discount": evaluation.discount,
            "reason": evaluation.reason,
            "currency": settings.DEFAULT_CURRENCY,
        }
        return Response(CouponValidateSerializer(body).data)
