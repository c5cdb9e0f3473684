"""What a customer receives from the orders app: plain text with an HTML alternative.

Orders sends the confirmation, shipped, delivered and cancelled emails; the payments app sends
payment received, payment failed and refunded.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from orders.models import Order

SUBJECTS = {
    "confirmation": "Order {number} confirmed",
    "shipped": "Order {number} has shipped",
    "delivered": "Order {number} was delivered",
    "cancelled": "Order {number} was cancelled",
}


def order_email_send(*, order: Order, kind: str) -> None:
    context = {
        "order": order,
        "items": list(order.items.all()),
        "shipment": getattr(order, "shipment", None),
        "order_url": f"{settings.FRONTEND_URL}/orders/{order.pk}",
        "frontend_url": settings.FRONTEND_URL,
    }
    message = EmailMultiAlternatives(
        subject=SUBJECTS[kind].format(number=order.number),
        body=render_to_string(f"orders/email_{kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.user.email],
    )
    message.attach_alternative(render_to_string(f"orders/email_{kind}.html", context), "text/html")
    message.send()
