"""What a customer receives from the payments app, each sent once through notifications.send_once.

Templates: payments/templates/payments/emails/<kind>{_subject.txt,.txt,.html}.
"""

from django.conf import settings

from notifications.services import send_once
from payments.models import Payment


def payment_email_key(*, payment_id: int, kind: str, extra: str = "") -> str:
    return f"payments.{kind}:{payment_id}" + (f":{extra}" if extra else "")


def _send(*, payment: Payment, kind: str, extra: str = "") -> bool:
    order = payment.order
    return send_once(
        key=payment_email_key(payment_id=payment.pk, kind=kind, extra=extra),
        to=order.email,
        template=f"payments/emails/{kind}",
        context={
            "payment": payment,
            "order": order,
            "user": order.user,
            "order_url": f"{settings.FRONTEND_URL}/orders/{order.pk}",
            "currency": payment.currency.upper(),
        },
    )


def payment_received_email_send(*, payment: Payment) -> bool:
    return _send(payment=payment, kind="received")


def payment_failed_email_send(*, payment: Payment) -> bool:
    return _send(payment=payment, kind="failed")


def refunded_email_send(*, payment: Payment, refunded_total: str) -> bool:
    """One email per refunded total reached, so each refund is announced once."""
    return _send(payment=payment, kind="refunded", extra=refunded_total)
