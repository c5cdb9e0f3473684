from django.contrib import admin

from common.admin import ReadOnlyAdminMixin
from notifications.models import SentEmail


@admin.register(SentEmail)
class SentEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The log of every email the shop sent, searchable by key, recipient and subject. Read-only: deleting a row
    would let a redelivered task send that email again."""

    list_display = ["sent_at", "key", "to", "subject"]
    list_filter = ["template"]
    search_fields = ["key", "to", "subject"]
    date_hierarchy = "sent_at"
    readonly_fields = ["key", "to", "template", "subject", "sent_at"]
