from django.contrib import admin
from django.db.models import Count, Sum

from cart.models import Cart, CartItem


class CartItemInline(admin.TabularInline):
    model = CartItem
    extra = 0
    fields = ["product", "variant", "quantity", "unit_price", "created_at"]
    readonly_fields = fields
    can_delete = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    """Carts belong to their users: staff can look, remove lines or the coupon, not write lines."""

    list_display = ["user", "line_count", "unit_count", "coupon", "updated_at"]
    list_select_related = ["user", "coupon"]
    search_fields = ["user__email"]
    list_filter = ["updated_at"]
    readonly_fields = ["user", "created_at", "updated_at"]
    fields = ["user", "coupon", "created_at", "updated_at"]
    raw_id_fields = ["coupon"]
    inlines = [CartItemInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=Count("items"), unit_count=Sum("items__quantity"))

    @admin.display(description="Lines", ordering="line_count")
    def line_count(self, obj) -> int:
        return obj.line_count

    @admin.display(description="Units", ordering="unit_count")
    def unit_count(self, obj) -> int:
        return obj.unit_count or 0

    def has_add_permission(self, request):
        return False
