from django import forms
from django.contrib import admin
from django.db.models import Count, Q

from coupons.models import Coupon, CouponRedemption
from coupons.services import coupon_normalize_code


class CouponAdminForm(forms.ModelForm):
    """The same rules as the API: code upper-case and unique case-insensitively, dates in order."""

    class Meta:
        model = Coupon
        fields = "__all__"  # noqa: DJ007 - the admin edits every field

    def clean_code(self):
        code = coupon_normalize_code(self.cleaned_data["code"])
        if Coupon.objects.filter(code__iexact=code).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"The code '{code}' is already in use.")
        return code

    def clean(self):
        data = super().clean()
        if data.get("discount_type") == Coupon.DiscountType.PERCENT and (data.get("value") or 0) > 100:
            self.add_error("value", "A percent discount cannot be more than 100.")
        valid_from, valid_until = data.get("valid_from"), data.get("valid_until")
        if valid_from and valid_until and valid_until <= valid_from:
            self.add_error("valid_until", "valid_until must be after valid_from.")
        return data


class CouponRedemptionInline(admin.TabularInline):
    model = CouponRedemption
    extra = 0
    can_delete = False
    fields = ["order", "user", "amount", "created_at", "released_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    form = CouponAdminForm
    list_display = [
        "code",
        "discount_type",
        "value",
        "min_subtotal",
        "is_active",
        "valid_from",
        "valid_until",
        "max_uses",
        "times_used",
    ]
    list_filter = ["is_active", "discount_type", "valid_from", "valid_until"]
    search_fields = ["code", "description"]
    filter_horizontal = ["categories"]
    raw_id_fields = ["products"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [CouponRedemptionInline]
    actions = ["activate", "deactivate"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(times_used=Count("redemptions", filter=Q(redemptions__released_at__isnull=True)))
        )

    @admin.display(description="Times used", ordering="times_used")
    def times_used(self, obj) -> int:
        return obj.times_used

    @admin.action(description="Activate selected coupons")
    def activate(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=True)} coupon(s) activated.")

    @admin.action(description="Deactivate selected coupons")
    def deactivate(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=False)} coupon(s) deactivated.")


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(admin.ModelAdmin):
    """Facts, not settings: redemptions are written by checkout and released by cancellation only."""

    list_display = ["coupon", "order", "user", "amount", "created_at", "released_at"]
    list_filter = [("released_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["coupon__code", "user__email", "order__number"]
    list_select_related = ["coupon", "order", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
