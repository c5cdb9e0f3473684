"""Who is shopping: a user (JWT) or, when `GUEST_CHECKOUT` is on, a guest known by `X-Cart-Token`.

The permission and the OpenAPI header parameters are shared by the cart, coupon, order and payment views.
"""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import BasePermission

CART_TOKEN_HEADER = "X-Cart-Token"  # noqa: S105 - a header name

CART_TOKEN_PARAM = OpenApiParameter(
    CART_TOKEN_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Guests only (no `Authorization`): the guest cart's secret token. Ignored for a user.",
)
CART_TOKEN_RESPONSE_HEADER = OpenApiParameter(
    CART_TOKEN_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="The guest cart's token (guests only): send it back as `X-Cart-Token`.",
)


class IsUserOrGuest(BasePermission):
    """A signed-in user, or anyone while guest checkout is on (401 for an anonymous caller otherwise)."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) or settings.GUEST_CHECKOUT


def is_guest(request) -> bool:
    return not (request.user and request.user.is_authenticated)


def guest_cart_token(request) -> str | None:
    """The `X-Cart-Token` a guest sent (None when absent or blank)."""
    return request.headers.get(CART_TOKEN_HEADER) or None
