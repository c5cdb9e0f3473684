from django.contrib import admin, messages

from config.exceptions import ApplicationError
from payments import services, webhooks
from payments.models import Payment, WebhookEvent


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["id", "order", "status", "amount", "amount_refunded", "currency", "needs_attention", "created_at"]
    list_filter = ["status", "provider", "needs_attention"]
    search_fields = ["order__number", "stripe_session_id", "stripe_payment_intent_id", "order__user__email"]
    list_select_related = ["order"]
    readonly_fields = [f.name for f in Payment._meta.fields]
    actions = ["refund_in_full"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Refund what is left of the selected payments (through Stripe)")
    def refund_in_full(self, request, queryset):
        for payment in queryset:
            try:
                webhooks.payment_refund(payment_id=payment.pk, amount=None, by=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"Payment {payment.pk}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"Payment {payment.pk} refunded.", messages.SUCCESS)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["stripe_event_id", "type", "status", "received_at", "processed_at"]
    list_filter = ["type", "status"]
    search_fields = ["stripe_event_id"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
    actions = ["reprocess"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Reprocess the selected failed events")
    def reprocess(self, request, queryset):
        queued = sum(
            services.webhook_event_reset_for_reprocessing(event_id=pk)
            for pk in queryset.filter(status=WebhookEvent.Status.FAILED).values_list("pk", flat=True)
        )
        self.message_user(request, f"{queued} failed event(s) queued for processing.", messages.SUCCESS)

