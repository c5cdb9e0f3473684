"""What a customer receives from the orders app, each sent once through notifications.send_once.

Orders sends the confirmation, shipped, delivered and cancelled emails; the payments app sends
payment received, payment failed and refunded. Templates: orders/templates/orders/emails/<kind>…
"""

from django.conf import settings

from notifications.services import send_once
from orders.models import Order

KINDS = ("confirmation", "shipped", "delivered", "cancelled")


def order_email_key(*, order_id, kind: str) -> str:
    return f"orders.{kind}:{order_id}"


def order_email_send(*, order: Order, kind: str) -> bool:
    """Send the `kind` email of `order` to its customer, once. Returns whether it sent."""
    if kind not in KINDS:
        raise ValueError(f"Unknown order email {kind!r}.")
    return send_once(
        key=order_email_key(order_id=order.pk, kind=kind),
        to=order.email,
        template=f"orders/emails/{kind}",
        context={
            "order": order,
            "items": list(order.items.all()),
            "shipment": getattr(order, "shipment", None),
            "order_url": f"{settings.FRONTEND_URL}/orders/{order.pk}",
        },
    )
