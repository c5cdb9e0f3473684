"""What a customer receives from the payments app: plain text with an HTML alternative."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from payments.models import Payment


def _send(*, payment: Payment, subject: str, template: str) -> None:
    order = payment.order
    context = {
        "payment": payment,
        "order": order,
        "user": order.user,
        "order_url": f"{settings.FRONTEND_URL}/orders/{order.pk}",
        "currency": payment.currency.upper(),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"payments/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.user.email],
    )
    message.attach_alternative(render_to_string(f"payments/{template}.html", context), "text/html")
    message.send()


def send_payment_received(*, payment: Payment) -> None:
    _send(payment=payment, subject=f"Payment received for order {payment.order.number}", template="payment_received")


def send_payment_failed(*, payment: Payment) -> None:
    _send(payment=payment, subject=f"Payment failed for order {payment.order.number}", template="payment_failed")


def send_refunded(*, payment: Payment) -> None:
    _send(payment=payment, subject=f"Refund issued for order {payment.order.number}", template="refunded")
