"""Catalog reads: every queryset a view returns, with its joins and prefetches."""

from django.db.models import Prefetch, QuerySet

from catalog.models import Category, Product, ProductVariant


def category_list(*, include_inactive: bool = False) -> QuerySet[Category]:
    qs = Category.objects.all()
    return qs if include_inactive else qs.filter(is_active=True)


def category_detail_queryset(*, include_inactive: bool = False) -> QuerySet[Category]:
    children = Category.objects.order_by("name")
    if not include_inactive:
        children = children.filter(is_active=True)
    return category_list(include_inactive=include_inactive).prefetch_related(Prefetch("children", queryset=children))


def product_list(*, include_inactive: bool = False) -> QuerySet[Product]:
    """Products with their category (joined) and variants (one prefetch query): constant queries per page."""
    variants = ProductVariant.objects.order_by("id")
    qs = Product.objects.select_related("category")
    if not include_inactive:
        variants = variants.filter(is_active=True)
        qs = qs.filter(is_active=True, category__is_active=True)
    return qs.prefetch_related(Prefetch("variants", queryset=variants))


def variant_list(*, product: Product, include_inactive: bool = False) -> QuerySet[ProductVariant]:
    qs = ProductVariant.objects.filter(product=product).order_by("id")
    return qs if include_inactive else qs.filter(is_active=True)


def category_trail(*, category: Category) -> list[Category]:
    """The category's ancestors, root first, and the category itself: one query, whatever the depth.

    The materialized path ("/1/4/9/") names every id on the way down, so no walk up the parents is needed.
    """
    ids = [int(part) for part in category.path.strip("/").split("/") if part]
    found = {c.pk: c for c in Category.objects.filter(pk__in=ids).only("id", "slug", "name")}
    return [found[pk] for pk in ids if pk in found]
