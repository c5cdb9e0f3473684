"""Every write to reviews, and the one place that keeps the product rating aggregates exact.

Lock order, everywhere: product row(s) first (in primary-key order), then review rows. It is the order a
product deletion takes too (product, then its cascaded reviews), so review writes cannot deadlock with it.
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, DecimalField
from django.db.models.functions import Round

from catalog.models import Product
from catalog.stock import lock_stock_rows
from reviews import selectors
from reviews.exceptions import (
    AlreadyReviewed,
    ModerationNotAllowed,
    NotAPurchaser,
    ProductNotReviewable,
    ReviewNotYours,
)
from reviews.models import Review

EDITABLE_FIELDS = ("rating", "title", "body")
# The fields whose change moves a product's average_rating / review_count.
AGGREGATE_FIELDS = ("rating", "is_visible")


@transaction.atomic
def product_rating_refresh(*, product_id: int) -> None:
    """Recompute a product's `average_rating` and `review_count` from its visible reviews, in the database.

    Under the product's row lock: one aggregate query (average rounded half-up to 2 places by PostgreSQL's
    numeric `round`), then one update. Callers run it in the transaction that changed the reviews, so the
    figures commit together with the change; the catalog cache moves on after the commit.
    """
    if not lock_stock_rows(product_ids=[product_id]).products:
        return  # the product is gone (its reviews went with it)
    stats = Review.objects.filter(product_id=product_id, is_visible=True).aggregate(
        count=Count("pk"),
        average=Round(
            Avg("rating", output_field=DecimalField()), 2, output_field=DecimalField(max_digits=3, decimal_places=2)
        ),
    )
    average = stats["average"] if stats["average"] is not None else Decimal("0")
    Product.objects.filter(pk=product_id).update(
        review_count=stats["count"], average_rating=Decimal(average).quantize(Decimal("0.01"))
    )


def _check_author_or_staff(*, review: Review, actor) -> None:
    if review.user_id != actor.pk and not actor.is_staff:
        raise ReviewNotYours()


def review_create(*, user, product_id: int, rating: int, title: str = "", body: str = "") -> Review:
    """Create the user's one review of a product they bought (paid, processing, shipped or delivered order).

    Raises ProductNotReviewable (400) for an unknown or inactive product, NotAPurchaser (403) and
    AlreadyReviewed (409) - also when a concurrent request created the review first.
    """
    if not Product.objects.filter(pk=product_id, is_active=True).exists():
        raise ProductNotReviewable()
    statuses = selectors.purchase_order_statuses(user=user, product_id=product_id)
    if not statuses & set(selectors.PURCHASE_STATUSES):
        if statuses:
            raise NotAPurchaser(
                "You can review this product once your order is paid: your orders containing it are "
                f"{', '.join(sorted(statuses))}, not paid, processing, shipped or delivered."
            )
        raise NotAPurchaser()
    try:
        with transaction.atomic():
            lock_stock_rows(product_ids=[product_id])
            if selectors.review_exists(user=user, product_id=product_id):
                raise AlreadyReviewed()
            review = Review.objects.create(
                product_id=product_id,
                user=user,
                rating=rating,
                title=title,
                body=body,
                verified_purchase=True,
            )
            product_rating_refresh(product_id=product_id)
    except IntegrityError:
        # The unique constraint is the last word when the existence check raced with another insert.
        if selectors.review_exists(user=user, product_id=product_id):
            raise AlreadyReviewed() from None
        raise
    return review


@transaction.atomic
def review_update(*, review: Review, actor, data: dict[str, Any]) -> Review:
    """Apply `data` (rating, title, body; is_visible for staff) to a review, by its author or staff.

    The aggregates are recomputed when the rating or the visibility actually changed.
    """
    _check_author_or_staff(review=review, actor=actor)
    if "is_visible" in data and not actor.is_staff:
        raise ModerationNotAllowed()
    lock_stock_rows(product_ids=[review.product_id])
    # Compare with the stored row, not with `review`: the admin hands over an instance its form already changed.
    locked = Review.objects.select_for_update(of=("self",)).select_related("user").get(pk=review.pk)
    changed = [
        field for field in (*EDITABLE_FIELDS, "is_visible") if field in data and getattr(locked, field) != data[field]
    ]
    if not changed:
        return locked
    for field in changed:
        setattr(locked, field, data[field])
    locked.save(update_fields=[*changed, "updated_at"])
    if any(field in AGGREGATE_FIELDS for field in changed):
        product_rating_refresh(product_id=locked.product_id)
    return locked


def review_set_visibility(*, review: Review, actor, is_visible: bool) -> Review:
    """Staff moderation: hide or show one review; the product aggregates follow."""
    if not actor.is_staff:
        raise ModerationNotAllowed()
    return review_update(review=review, actor=actor, data={"is_visible": is_visible})


@transaction.atomic
def review_delete(*, review: Review, actor) -> None:
    """Delete a review, by its author or staff; the product aggregates follow."""
    _check_author_or_staff(review=review, actor=actor)
    lock_stock_rows(product_ids=[review.product_id])
    Review.objects.filter(pk=review.pk).delete()
    product_rating_refresh(product_id=review.product_id)


@transaction.atomic
def reviews_set_visibility(*, review_ids: Iterable[int], is_visible: bool) -> int:
    """Bulk moderation (admin): hide or show many reviews; returns how many changed."""
    reviews = Review.objects.filter(pk__in=list(review_ids)).exclude(is_visible=is_visible)
    product_ids = sorted(lock_stock_rows(product_ids=reviews.values_list("product_id", flat=True)).products)
    changed = reviews.update(is_visible=is_visible)
    for product_id in product_ids:
        product_rating_refresh(product_id=product_id)
    return changed


@transaction.atomic
def reviews_delete(*, review_ids: Iterable[int]) -> int:
    """Bulk deletion (admin); returns how many reviews were deleted."""
    reviews = Review.objects.filter(pk__in=list(review_ids))
    product_ids = sorted(lock_stock_rows(product_ids=reviews.values_list("product_id", flat=True)).products)
    deleted, _ = reviews.delete()
    for product_id in product_ids:
        product_rating_refresh(product_id=product_id)
    return deleted
