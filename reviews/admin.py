from django.contrib import admin, messages

from reviews import services
from reviews.models import Review


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Moderation. Every write goes through reviews.services so the product aggregates stay exact."""

    list_display = ("id", "product", "author", "rating", "title", "is_visible", "verified_purchase", "created_at")
    list_filter = ("rating", "is_visible", "verified_purchase")
    search_fields = ("product__name", "user__email")
    list_select_related = ("product", "user")
    fields = (
        "product",
        "user",
        "rating",
        "title",
        "body",
        "is_visible",
        "verified_purchase",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("product", "user", "verified_purchase", "created_at", "updated_at")
    actions = ("hide_reviews", "show_reviews")
    date_hierarchy = "created_at"

    @admin.display(description="author", ordering="user__email")
    def author(self, review: Review) -> str:
        return f"{review.user.display_name} <{review.user.email}>"

    def has_add_permission(self, request) -> bool:
        return False  # reviews come from buyers, through the API

    def save_model(self, request, obj, form, change) -> None:
        data = {field: form.cleaned_data[field] for field in form.changed_data if field in form.cleaned_data}
        services.review_update(review=obj, actor=request.user, data=data)

    def delete_model(self, request, obj) -> None:
        services.review_delete(review=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        services.reviews_delete(review_ids=queryset.values_list("pk", flat=True))

    @admin.action(description="Hide selected reviews", permissions=["change"])
    def hide_reviews(self, request, queryset) -> None:
        changed = services.reviews_set_visibility(review_ids=queryset.values_list("pk", flat=True), is_visible=False)
        self.message_user(request, f"{changed} review(s) hidden.", messages.SUCCESS)

    @admin.action(description="Show selected reviews", permissions=["change"])
    def show_reviews(self, request, queryset) -> None:
        changed = services.reviews_set_visibility(review_ids=queryset.values_list("pk", flat=True), is_visible=True)
        self.message_user(request, f"{changed} review(s) shown.", messages.SUCCESS)
