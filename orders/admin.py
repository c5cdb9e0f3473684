"""Order admin: snapshots are read-only; actions move orders through the same services as the API."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from config.exceptions import ApplicationError
from orders import services
from orders.models import Order, OrderItem, OrderStatusChange, Shipment


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ["sku", "name", "product", "variant", "unit_price", "quantity", "line_total"]
    readonly_fields = fields


class OrderStatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange
    fields = ["created_at", "from_status", "to_status", "changed_by", "note"]
    readonly_fields = fields


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = ["carrier", "tracking_number", "shipped_at", "delivered_at"]
    readonly_fields = fields


def address_html(snapshot: dict | None):
    """An address snapshot as a postal address: one line per part, empty parts left out."""
    if not snapshot:
        return "—"
    city_line = " ".join(p for p in (snapshot.get("postal_code"), snapshot.get("city")) if p)
    lines = [
        snapshot.get("full_name"), snapshot.get("line1"), snapshot.get("line2"),
        ", ".join(p for p in (city_line, snapshot.get("region")) if p), snapshot.get("country"), snapshot.get("phone"),
    ]
    body = format_html_join("", "{}<br>", ((line,) for line in lines if line))
    return format_html('<address style="font-style: normal">{}</address>', body)


def _run(modeladmin, request, queryset, label: str, call) -> None:
    done = 0
    for order in queryset:
        try:
            call(order)
            done += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{order.number}: {exc.message}", level=messages.WARNING)
    if done:
        modeladmin.message_user(request, f"{done} order(s) {label}.", level=messages.SUCCESS)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "email", "user", "status", "total", "currency", "created_at", "paid_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["number", "email", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    inlines = [OrderItemInline, ShipmentInline, OrderStatusChangeInline]
    readonly_fields = [
        "id", "number", "user", "email", "status", "currency", "subtotal", "discount", "shipping", "total",
        "coupon_code", "shipping_address_display", "billing_address_display", "note", "payment_deadline", "paid_at",
        "cancelled_at",
        "created_at", "updated_at",
    ]
    exclude = ["shipping_address", "billing_address"]  # the JSON snapshots: shown by the *_display fields
    actions = ["mark_processing", "mark_delivered", "cancel_orders"]

    def has_add_permission(self, request):
        return False  # orders come from checkout only

    @admin.display(description="Shipping address")
    def shipping_address_display(self, obj):
        return address_html(obj.shipping_address)

    @admin.display(description="Billing address")
    def billing_address_display(self, obj):
        return address_html(obj.billing_address)

    def has_delete_permission(self, request, obj=None):
        return False  # history is kept; cancel instead

    @admin.action(description="Mark selected paid orders as processing")
    def mark_processing(self, request, queryset):
        _run(self, request, queryset, "marked processing",
             lambda o: services.order_set_status(order_id=o.pk, status=Order.Status.PROCESSING, by=request.user))

    @admin.action(description="Mark selected shipped orders as delivered")
    def mark_delivered(self, request, queryset):
        _run(self, request, queryset, "marked delivered",
             lambda o: services.order_set_status(order_id=o.pk, status=Order.Status.DELIVERED, by=request.user))

    @admin.action(description="Cancel selected orders (restock; paid ones are refunded)")
    def cancel_orders(self, request, queryset):
        _run(self, request, queryset, "cancelled",
             lambda o: services.order_cancel(order_id=o.pk, by=request.user, note="Cancelled in the admin"))
