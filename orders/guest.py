"""A guest's order is opened by its secret `X-Order-Token` (the `guest_token` shown once at checkout)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

ORDER_TOKEN_HEADER = "X-Order-Token"  # noqa: S105 - a header name
ORDER_TOKEN_PARAM = OpenApiParameter(
    ORDER_TOKEN_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Guests only (no `Authorization`): the `guest_token` of the order, from its checkout. "
    "Any other token, or none, is a 404.",
)


def guest_order_token(request) -> str | None:
    """The `X-Order-Token` a guest sent (None when absent or blank)."""
    return request.headers.get(ORDER_TOKEN_HEADER) or None
