"""Coupon admin: every write goes through coupons.services, like the API's."""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q

from common.admin import ReadOnlyAdminMixin
from coupons.exceptions import InvalidCouponInput
from coupons.models import Coupon, CouponRedemption
from coupons.selectors import coupon_normalize_code
from coupons.services import COUPON_FIELDS, coupon_create, coupon_rules_check, coupon_set_active, coupon_update


class CouponAdminForm(forms.ModelForm):
    """The same rules as the API (coupons.services.coupon_rules_check), shown on their fields."""

    class Meta:
        model = Coupon
        fields = "__all__"  # noqa: DJ007 - the admin edits every field

    def clean_code(self):
        code = coupon_normalize_code(self.cleaned_data["code"])
        # Checked here, before the model's case-insensitive unique constraint reports it less clearly.
        if Coupon.objects.filter(code__iexact=code).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"The code '{code}' is already in use.")
        return code

    def _post_clean(self):
        super()._post_clean()  # builds self.instance from the cleaned data
        try:
            coupon_rules_check(coupon=self.instance)
        except InvalidCouponInput as exc:
            field = exc.field if exc.field in self.fields else None
            if field not in self.errors:  # a field already refused keeps its own message
                self.add_error(field, exc.message)


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

    def save_model(self, request, obj, form, change):
        data = {name: value for name, value in form.cleaned_data.items() if name in COUPON_FIELDS}
        coupon = coupon_update(coupon=obj, data=data) if change else coupon_create(data=data)
        obj.pk = coupon.pk  # the admin's redirect and log entry name the saved coupon

    def save_related(self, request, form, formsets, change):
        # The categories and products were set by the service; the redemption inline is read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Activate selected coupons")
    def activate(self, request, queryset):
        count = coupon_set_active(coupon_ids=queryset.values_list("pk", flat=True), is_active=True)
        self.message_user(request, f"{count} coupon(s) activated.")

    @admin.action(description="Deactivate selected coupons")
    def deactivate(self, request, queryset):
        count = coupon_set_active(coupon_ids=queryset.values_list("pk", flat=True), is_active=False)
        self.message_user(request, f"{count} coupon(s) deactivated.")


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Facts, not settings: redemptions are written by checkout and released by cancellation only."""

    list_display = ["coupon", "order", "user", "amount", "created_at", "released_at"]
    list_filter = [("released_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["coupon__code", "user__email", "order__number"]
    list_select_related = ["coupon", "order", "user"]
