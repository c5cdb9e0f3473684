from django.contrib import admin

from notifications.models import SentEmail


@admin.register(SentEmail)
class SentEmailAdmin(admin.ModelAdmin):
    """The log of every email the shop sent: read-only, searchable by key, recipient and subject."""

    list_display = ["sent_at", "key", "to", "subject"]
    list_filter = ["template"]
    search_fields = ["key", "to", "subject"]
    date_hierarchy = "sent_at"
    readonly_fields = ["key", "to", "template", "subject", "sent_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # deleting a row would let a redelivered task send the email again
