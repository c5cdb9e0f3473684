from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cart import services
from cart.exceptions import CartItemNotFound, InvalidCartInput
from cart.guest import (
    CART_TOKEN_HEADER,
    CART_TOKEN_PARAM,
    CART_TOKEN_RESPONSE_HEADER,
    IsUserOrGuest,
    guest_cart_token,
    is_guest,
)
from cart.selectors import cart_coupon_check, cart_guest_get, cart_line_view, cart_view_for
from cart.serializers import (
    CartCouponInputSerializer,
    CartItemAddedSerializer,
    CartItemAddInputSerializer,
    CartItemSerializer,
    CartItemUpdateInputSerializer,
    CartMergeInputSerializer,
    CartSerializer,
)
from coupons.serializers import CouponValidateInputSerializer, CouponValidateSerializer
from users.throttles import CouponRateThrottle

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `{field: [message]}`."),
    401: OpenApiResponse(description="Not authenticated (guest checkout is off)."),
}
NO_CART = OpenApiResponse(description="Guests: the `X-Cart-Token` is unknown or expired.")
GUEST_HEADERS = [CART_TOKEN_PARAM, CART_TOKEN_RESPONSE_HEADER]


def _guest_cart(request):
    """A guest's cart from its `X-Cart-Token` (404 when unknown or expired); None without a token."""
    token = guest_cart_token(request)
    return cart_guest_get(token=token) if token else None


def _owner(request) -> dict:
    """Whose cart a write touches, as service keywords: the user's, or the guest's (which must exist)."""
    if not is_guest(request):
        return {"user": request.user}
    cart = _guest_cart(request)
    if cart is None:
        raise CartItemNotFound("You have no cart yet: add something to it first.")
    return {"cart": cart}


def _with_token(response: Response, token: str | None) -> Response:
    if token:
        response[CART_TOKEN_HEADER] = token
    return response


def _cart_response(request) -> Response:
    if not is_guest(request):
        cart = services.cart_get_or_create(user=request.user)  # the cart is created on first use, also by a read
        return Response(CartSerializer(cart_view_for(cart=cart, user=request.user)).data)
    token = guest_cart_token(request)
    view = cart_view_for(cart=_guest_cart(request), token=token)
    return _with_token(Response(CartSerializer(view).data), view.token)


class GuestAllowed:
    """Users, and guests while GUEST_CHECKOUT is on."""

    permission_classes = (IsUserOrGuest,)


class CartView(GuestAllowed, APIView):
    @extend_schema(
        tags=["cart"],
        summary="The cart (the user's, or the guest's by `X-Cart-Token`)",
        description="A user's cart is created on first use and has `token: null`. A guest without a token gets an "
        "empty cart (`id` and `token` null). The applied coupon is re-validated on every read.",
        parameters=GUEST_HEADERS,
        responses={200: CartSerializer, 401: ERRORS[401], 404: NO_CART},
    )
    def get(self, request):
        return _cart_response(request)

    @extend_schema(
        tags=["cart"],
        summary="Empty the cart",
        description="Removes every line and the coupon.",
        parameters=[CART_TOKEN_PARAM],
        responses={204: None, 401: ERRORS[401], 404: NO_CART},
    )
    def delete(self, request):
        if not is_guest(request):
            services.cart_clear(cart=services.cart_get_or_create(user=request.user))
        elif (cart := _guest_cart(request)) is not None:
            services.cart_clear(cart=cart)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemListView(GuestAllowed, APIView):
    @extend_schema(
        tags=["cart"],
        summary="Add a line",
        description="Adding a product (or variant) already in the cart adds to that line's quantity and takes the "
        "current price. A product with variants needs `variant`. 409 when the resulting quantity exceeds the stock: "
        '`{"detail": "Only N available.", "available": N}`. A guest\'s first line creates a guest cart: its secret '
        "`token` is in the body and in the `X-Cart-Token` response header; send it as `X-Cart-Token` from then on.",
        request=CartItemAddInputSerializer,
        parameters=GUEST_HEADERS,
        responses={
            201: CartItemAddedSerializer,
            **ERRORS,
            404: NO_CART,
            409: OpenApiResponse(description="Not enough stock: `{detail, available}`."),
        },
    )
    def post(self, request):
        data = CartItemAddInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = {
            "product_id": data.validated_data["product"],
            "variant_id": data.validated_data.get("variant"),
            "quantity": data.validated_data["quantity"],
        }
        token = None
        if not is_guest(request):
            item = services.cart_item_add(user=request.user, **line)
        elif (cart := _guest_cart(request)) is not None:
            item, token = services.cart_item_add(cart=cart, **line), guest_cart_token(request)
        else:
            item, token = services.cart_guest_item_add(**line)
        body = CartItemAddedSerializer(cart_line_view(item=item), context={"token": token}).data
        return _with_token(Response(body, status=status.HTTP_201_CREATED), token)


class CartItemDetailView(GuestAllowed, APIView):
    @extend_schema(
        tags=["cart"],
        summary="Change a line's quantity",
        description="`quantity: 0` removes the line and answers 204 with no body. Raising the quantity checks the "
        "stock (409); lowering it is always allowed.",
        request=CartItemUpdateInputSerializer,
        parameters=[CART_TOKEN_PARAM],
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
        item = services.cart_item_set_quantity(
            **_owner(request), item_id=pk, quantity=data.validated_data["quantity"]
        )
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(CartItemSerializer(cart_line_view(item=item)).data)

    @extend_schema(
        tags=["cart"],
        summary="Remove a line",
        parameters=[CART_TOKEN_PARAM],
        responses={
            204: None,
            401: ERRORS[401],
            404: OpenApiResponse(description="No such line in your cart."),
        },
    )
    def delete(self, request, pk: int):
        services.cart_item_remove(**_owner(request), item_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CouponThrottled:
    """Coupon codes cannot be guessed at speed: per-client `coupon` rate (COUPON_THROTTLE_RATE)."""

    throttle_classes = (CouponRateThrottle,)
    throttle_scope = "coupon"

    def get_throttles(self):
        # Only trying a code counts; reading the cart or removing its coupon does not.
        return super().get_throttles() if self.request.method == "POST" else []


class CartCouponView(GuestAllowed, CouponThrottled, APIView):
    @extend_schema(
        tags=["cart"],
        summary="Apply a coupon",
        description='Case-insensitive. When it does not apply: 400 `{"code": [reason]}`.',
        request=CartCouponInputSerializer,
        parameters=GUEST_HEADERS,
        responses={200: CartSerializer, **ERRORS, 404: NO_CART},
    )
    def post(self, request):
        data = CartCouponInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if is_guest(request) and guest_cart_token(request) is None:
            raise InvalidCartInput("Add something to your cart before applying a coupon.", field="code")
        services.cart_coupon_apply(**_owner(request), code=data.validated_data["code"])
        return _cart_response(request)

    @extend_schema(
        tags=["cart"],
        summary="Remove the coupon",
        request=None,
        parameters=GUEST_HEADERS,
        responses={200: CartSerializer, 401: ERRORS[401], 404: NO_CART},
    )
    def delete(self, request):
        if not is_guest(request) or guest_cart_token(request):
            services.cart_coupon_remove(**_owner(request))
        return _cart_response(request)


class CartMergeView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=["cart"],
        summary="Move a guest cart into your cart",
        description="After signing in: the lines of the guest cart `token` join yours (quantities of the same "
        "product and variant add up, capped at the available stock), its coupon is kept when yours has none, and "
        "the guest cart is deleted, so its token answers 404 from then on.",
        request=CartMergeInputSerializer,
        responses={200: CartSerializer, **ERRORS, 404: NO_CART},
    )
    def post(self, request):
        data = CartMergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.cart_merge(user=request.user, token=data.validated_data["token"])
        return Response(CartSerializer(cart_view_for(cart=cart, user=request.user)).data)


class CouponValidateView(GuestAllowed, CouponThrottled, APIView):
    """`POST /api/coupons/validate/` (routed by `cart.coupon_urls`): judged against the user's cart, so
    served by the cart app, which sits above coupons.
    """

    @extend_schema(
        tags=["coupons"],
        summary="Check whether a coupon applies",
        description="Always 200 for a well-formed request, also for an unknown code (`valid: false` with the "
        "reason). Evaluated against your cart (a guest's: `X-Cart-Token`), or against `subtotal` when given "
        "(unscoped coupons only).",
        request=CouponValidateInputSerializer,
        parameters=[CART_TOKEN_PARAM],
        responses={200: CouponValidateSerializer, 400: ERRORS[400], 401: ERRORS[401], 404: NO_CART},
    )
    def post(self, request):
        data = CouponValidateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        guest = is_guest(request)
        evaluation = cart_coupon_check(
            user=None if guest else request.user,
            cart=_guest_cart(request) if guest else None,
            code=data.validated_data["code"],
            subtotal=data.validated_data.get("subtotal"),
        )
        body = {
            "valid": evaluation.valid,
            "code": evaluation.code,
            "discount": evaluation.discount,
            "reason": evaluation.reason,
            "currency": settings.DEFAULT_CURRENCY,
        }
        return Response(CouponValidateSerializer(body).data)
