from decimal import Decimal

import pytest

from catalog.cache import catalog_version
from catalog.models import Product
from orders.models import Order
from reviews import selectors, services
from reviews.exceptions import (
    AlreadyReviewed,
    ModerationNotAllowed,
    NotAPurchaser,
    ProductNotReviewable,
    ReviewNotYours,
)
from reviews.models import Review
from tests.factories import OrderFactory, ProductFactory, UserFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _review(product, rating: int, **kwargs) -> Review:
    """A buyer's review created through the service (so aggregates are maintained)."""
    buyer = UserFactory()
    OrderFactory(user=buyer, product=product, paid=True)
    return services.review_create(user=buyer, product_id=product.pk, rating=rating, **kwargs)


def _aggregates(product) -> tuple[Decimal, int]:
    row = Product.objects.values_list("average_rating", "review_count").get(pk=product.pk)
    return row[0], row[1]


# --- who may review --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [Order.Status.PAID, Order.Status.PROCESSING, Order.Status.SHIPPED, Order.Status.DELIVERED]
)
def test_buyer_of_a_paid_order_can_review_as_verified_purchase(user, status):
    product = ProductFactory()
    OrderFactory(user=user, product=product, status=status)

    review = services.review_create(user=user, product_id=product.pk, rating=5, title="Great", body="Love it")

    review.refresh_from_db()
    assert (review.product_id, review.user_id, review.rating) == (product.pk, user.pk, 5)
    assert review.verified_purchase is True
    assert review.is_visible is True


@pytest.mark.parametrize("status", [Order.Status.PENDING, Order.Status.CANCELLED, Order.Status.REFUNDED])
def test_order_that_is_not_paid_does_not_allow_a_review(user, status):
    product = ProductFactory()
    OrderFactory(user=user, product=product, status=status)

    with pytest.raises(NotAPurchaser, match=status):
        services.review_create(user=user, product_id=product.pk, rating=5)
    assert not Review.objects.exists()


def test_user_who_never_bought_the_product_cannot_review_it(user):
    product = ProductFactory()
    OrderFactory(user=user, product=ProductFactory(), paid=True)  # a different product
    OrderFactory(user=UserFactory(), product=product, paid=True)  # somebody else's order

    with pytest.raises(NotAPurchaser, match="bought this product"):
        services.review_create(user=user, product_id=product.pk, rating=5)


def test_buying_a_variant_allows_reviewing_its_product(user):
    variant = VariantFactory()
    OrderFactory(user=user, product=variant.product, variant=variant, paid=True)

    review = services.review_create(user=user, product_id=variant.product_id, rating=3)

    assert review.verified_purchase is True


def test_inactive_or_unknown_product_cannot_be_reviewed(user):
    product = ProductFactory(is_active=False)
    OrderFactory(user=user, product=product, paid=True)

    with pytest.raises(ProductNotReviewable):
        services.review_create(user=user, product_id=product.pk, rating=5)
    with pytest.raises(ProductNotReviewable):
        services.review_create(user=user, product_id=999_999, rating=5)


def test_second_review_of_the_same_product_is_a_conflict(user):
    product = ProductFactory()
    OrderFactory(user=user, product=product, paid=True)
    services.review_create(user=user, product_id=product.pk, rating=5)

    with pytest.raises(AlreadyReviewed):
        services.review_create(user=user, product_id=product.pk, rating=1)
    assert Review.objects.count() == 1
    assert _aggregates(product) == (Decimal("5.00"), 1)


def test_unique_constraint_violation_is_reported_as_a_conflict(user, monkeypatch):
    # given an existence check that misses the first review, as a concurrent insert would
    product = ProductFactory()
    OrderFactory(user=user, product=product, paid=True)
    services.review_create(user=user, product_id=product.pk, rating=5)
    real_exists = selectors.review_exists
    calls = []

    def racing_exists(**kwargs):
        calls.append(kwargs)
        return False if len(calls) == 1 else real_exists(**kwargs)

    monkeypatch.setattr(selectors, "review_exists", racing_exists)

    # when / then: the insert hits the unique constraint and the service answers with a conflict
    with pytest.raises(AlreadyReviewed):
        services.review_create(user=user, product_id=product.pk, rating=1)
    assert list(Review.objects.values_list("rating", flat=True)) == [5]


# --- aggregates ------------------------------------------------------------------------------


def test_create_recomputes_average_and_count():
    product = ProductFactory()
    for rating in (5, 4, 4):
        _review(product, rating)

    assert _aggregates(product) == (Decimal("4.33"), 3)


def test_average_is_rounded_half_up_to_two_places():
    # 33 / 8 = 4.125 exactly: half-up gives 4.13 (banker's rounding or a float would give 4.12)
    product = ProductFactory()
    for rating in (5, 5, 4, 4, 4, 4, 4, 3):
        _review(product, rating)

    assert _aggregates(product) == (Decimal("4.13"), 8)


def test_aggregates_are_recomputed_from_the_reviews_not_incremented():
    product = ProductFactory()
    _review(product, 2)
    Product.objects.filter(pk=product.pk).update(average_rating=Decimal("1.11"), review_count=42)  # drifted

    _review(product, 4)

    assert _aggregates(product) == (Decimal("3.00"), 2)


def test_editing_the_rating_recomputes_the_average():
    product = ProductFactory()
    review = _review(product, 5)
    _review(product, 4)
    _review(product, 4)

    services.review_update(review=review, actor=review.user, data={"rating": 1})

    assert _aggregates(product) == (Decimal("3.00"), 3)


def test_editing_only_the_text_keeps_the_aggregates_and_the_catalog_cache(django_capture_on_commit_callbacks):
    product = ProductFactory()
    review = _review(product, 5)
    before = catalog_version()

    with django_capture_on_commit_callbacks(execute=True):
        updated = services.review_update(review=review, actor=review.user, data={"title": "Still great"})

    assert updated.title == "Still great"
    assert _aggregates(product) == (Decimal("5.00"), 1)
    assert catalog_version() == before


def test_deleting_a_review_recomputes_the_aggregates():
    product = ProductFactory()
    review = _review(product, 5)
    _review(product, 4)
    _review(product, 4)

    services.review_delete(review=review, actor=review.user)

    assert _aggregates(product) == (Decimal("4.00"), 2)


def test_deleting_the_last_review_resets_the_aggregates():
    product = ProductFactory()
    review = _review(product, 5)

    services.review_delete(review=review, actor=review.user)

    assert _aggregates(product) == (Decimal("0.00"), 0)


def test_hidden_reviews_do_not_count_and_showing_them_counts_them_again(staff_user):
    product = ProductFactory()
    review = _review(product, 1)
    _review(product, 5)
    _review(product, 4)
    assert _aggregates(product) == (Decimal("3.33"), 3)

    services.review_set_visibility(review=review, actor=staff_user, is_visible=False)
    assert _aggregates(product) == (Decimal("4.50"), 2)

    services.review_set_visibility(review=review, actor=staff_user, is_visible=True)
    assert _aggregates(product) == (Decimal("3.33"), 3)


def test_bulk_moderation_recomputes_every_product_touched():
    first, second = ProductFactory(), ProductFactory()
    hidden = [_review(first, 1), _review(second, 2)]
    _review(first, 5)
    _review(second, 4)

    changed = services.reviews_set_visibility(review_ids=[r.pk for r in hidden], is_visible=False)

    assert changed == 2
    assert _aggregates(first) == (Decimal("5.00"), 1)
    assert _aggregates(second) == (Decimal("4.00"), 1)
    assert services.reviews_set_visibility(review_ids=[r.pk for r in hidden], is_visible=True) == 2
    assert _aggregates(first) == (Decimal("3.00"), 2)


def test_bulk_delete_recomputes_every_product_touched():
    first, second = ProductFactory(), ProductFactory()
    doomed = [_review(first, 1), _review(second, 2)]
    _review(first, 5)

    assert services.reviews_delete(review_ids=[r.pk for r in doomed]) == 2

    assert _aggregates(first) == (Decimal("5.00"), 1)
    assert _aggregates(second) == (Decimal("0.00"), 0)


def test_every_aggregate_change_bumps_the_catalog_version_after_commit(django_capture_on_commit_callbacks):
    product = ProductFactory()
    buyer = UserFactory()
    OrderFactory(user=buyer, product=product, paid=True)
    before = catalog_version()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.review_create(user=buyer, product_id=product.pk, rating=5)
    assert catalog_version() == before  # nothing moves before the commit
    for callback in callbacks:
        callback()

    assert catalog_version() > before


# --- who may change a review -----------------------------------------------------------------


def test_other_user_cannot_edit_or_delete_a_review(other_user):
    review = _review(ProductFactory(), 5)

    with pytest.raises(ReviewNotYours):
        services.review_update(review=review, actor=other_user, data={"rating": 1})
    with pytest.raises(ReviewNotYours):
        services.review_delete(review=review, actor=other_user)
    review.refresh_from_db()
    assert review.rating == 5


def test_author_cannot_moderate_their_review():
    review = _review(ProductFactory(), 5)

    with pytest.raises(ModerationNotAllowed):
        services.review_update(review=review, actor=review.user, data={"is_visible": False})
    with pytest.raises(ModerationNotAllowed):
        services.review_set_visibility(review=review, actor=review.user, is_visible=False)
    review.refresh_from_db()
    assert review.is_visible is True


def test_rating_outside_one_to_five_is_refused_by_the_database(user):
    from django.db import IntegrityError, transaction

    review = _review(ProductFactory(), 5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.filter(pk=review.pk).update(rating=6)
