from django.contrib import admin

from common.models import OutboxMessage


class ReadOnlyAdminMixin:
    """A log staff read but never write: no add, change or delete (the code that owns the rows writes them)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PublishedFilter(admin.SimpleListFilter):
    title = "published"
    parameter_name = "published"

    def lookups(self, request, model_admin):
        return [("no", "Waiting (backlog)"), ("yes", "Published")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(published_at__isnull=self.value() == "no")
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: staff see the backlog of queued work; the relay and the sweep own every change."""

    list_display = ["created_at", "task", "published_at", "attempts", "last_error"]
    list_filter = [PublishedFilter, "task"]
    search_fields = ["id", "task"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    readonly_fields = ["id", "task", "kwargs", "created_at", "published_at", "attempts", "last_error"]
