import django_filters

from orders.models import Order


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Order.Status.choices, help_text="Only orders in this status.")
    user = django_filters.NumberFilter(field_name="user_id", help_text="Only this user's orders (staff).")
    email = django_filters.CharFilter(
        field_name="email", lookup_expr="iexact", help_text="Only orders placed with this email, guests' too (staff)."
    )

    class Meta:
        model = Order
        fields = ["status", "user", "email"]
