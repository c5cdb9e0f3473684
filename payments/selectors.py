"""Reads of payments: a customer sees their own, staff see all."""

from django.db.models import QuerySet

from payments.models import Payment


def payment_list_for(*, user) -> QuerySet[Payment]:
    payments = Payment.objects.all()
    if not user.is_staff:
        payments = payments.filter(order__user=user)
    return payments.order_by("-created_at", "-id")
