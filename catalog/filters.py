"""Query parameters of the catalog lists. An invalid value is a 400 naming the parameter
(DjangoFilterBackend raises DRF's ValidationError with the form errors)."""

import django_filters
from django.db.models import Value
from django.db.models.functions import Lower, Upper
from django_filters.rest_framework import DjangoFilterBackend

from catalog.models import SEARCH_SEPARATOR, Category, Product
from catalog.services import category_descendant_ids

BOOL_CHOICES = [("true", "true"), ("false", "false")]


class StrictBooleanFilter(django_filters.ChoiceFilter):
    """`true` or `false`; anything else is a 400 (django-filter's BooleanFilter silently ignores it)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", BOOL_CHOICES)
        kwargs.setdefault("empty_label", None)
        super().__init__(*args, **kwargs)


class StableOrderingFilter(django_filters.OrderingFilter):
    """Whitelisted ordering with `id` as a tie-breaker, so pages never repeat or skip rows."""

    def filter(self, qs, value):
        value = [param for param in value or () if param]  # `?ordering=,` names no field: the default order
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        tie = "-id" if ordering[0].startswith("-") else "id"
        return qs.order_by(*ordering, tie)


def _visible_categories(request):
    """Non-staff can only filter by categories they can see."""
    if request is not None and request.user.is_staff:
        return Category.objects.all()
    return Category.objects.filter(is_active=True)


class ProductFilter(django_filters.FilterSet):
    category = django_filters.ModelChoiceFilter(
        queryset=_visible_categories,
        to_field_name="slug",
        method="filter_category",
        label="Category slug; includes all its descendant categories.",
    )
    brand = django_filters.CharFilter(method="filter_brand", label="Brand, case-insensitive.")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte", min_value=0)
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte", min_value=0)
    in_stock = StrictBooleanFilter(method="filter_in_stock", label="true: stock > 0; false: sold out.")
    min_rating = django_filters.NumberFilter(
        field_name="average_rating", lookup_expr="gte", min_value=1, max_value=5, label="Minimum average rating, 1..5."
    )
    on_sale = StrictBooleanFilter(method="filter_on_sale", label='true: has a compare-at ("was") price.')
    search = django_filters.CharFilter(method="filter_search", label="Text in name, description, sku or brand.")
    ordering = StableOrderingFilter(
        fields=("price", "created_at", "name", "average_rating"),
        label="One of price, -price, created_at, -created_at, name, -name, average_rating, -average_rating.",
    )

    class Meta:
        model = Product
        fields = []

    def filter_category(self, queryset, name, value: Category):
        return queryset.filter(category_id__in=category_descendant_ids(category=value))

    def filter_brand(self, queryset, name, value: str):
        # Matches the functional index on LOWER(brand).
        return queryset.alias(brand_lower=Lower("brand")).filter(brand_lower=value.strip().lower())

    def filter_in_stock(self, queryset, name, value: str):
        return queryset.filter(stock__gt=0) if value == "true" else queryset.filter(stock=0)

    def filter_on_sale(self, queryset, name, value: str):
        # The check constraint keeps compare_at_price above price whenever it is set.
        return queryset.filter(compare_at_price__isnull=(value == "false"))

    def filter_search(self, queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        if SEARCH_SEPARATOR in value:
            return queryset.none()
        # Substring, case-insensitive, in any of the four fields: `search_text` is UPPER(name|sku|brand|description)
        # (catalog.models.Product), the term is upper-cased by the same database function, and the LIKE pattern
        # (escaped, constant-folded by the planner) is what the pg_trgm index of migration 0007 serves.
        return queryset.filter(search_text__contains=Upper(Value(value)))


class CatalogFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend that leaves the queryset alone when the request names none of the filters.

    Every filter here returns the queryset unchanged for an absent (empty) value, so building and validating the
    filter form for a request without filter parameters (the plain list, a detail, `?page=2`) only costs time.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and filterset_class.base_filters.keys().isdisjoint(request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


class CategoryFilter(django_filters.FilterSet):
    parent = django_filters.ModelChoiceFilter(
        queryset=_visible_categories, to_field_name="slug", label="Slug of the parent: its direct children only."
    )
    root = StrictBooleanFilter(method="filter_root", label="true: top-level categories only.")

    class Meta:
        model = Category
        fields = []

    def filter_root(self, queryset, name, value: str):
        return queryset.filter(parent__isnull=(value == "true"))
