from decimal import Decimal

import pytest

from catalog.models import Product
from reviews import services
from reviews.models import Review
from tests.factories import OrderFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reviews/review/"


def _review(product, rating: int, **user_kwargs) -> Review:
    buyer = UserFactory(**user_kwargs)
    OrderFactory(user=buyer, product=product, paid=True)
    return services.review_create(user=buyer, product_id=product.pk, rating=rating)


def _aggregates(product) -> tuple[Decimal, int]:
    return Product.objects.values_list("average_rating", "review_count").get(pk=product.pk)


def test_changelist_filters_and_searches(admin_client):
    product = ProductFactory(name="Blue Kettle")
    _review(product, 5, email="kettle.fan@example.com")
    _review(ProductFactory(name="Red Toaster"), 2)

    assert admin_client.get(CHANGELIST, {"rating": 5, "is_visible__exact": 1}).status_code == 200
    by_product = admin_client.get(CHANGELIST, {"q": "kettle"})
    by_email = admin_client.get(CHANGELIST, {"q": "kettle.fan@"})

    assert by_product.context["cl"].result_count == 1
    assert by_email.context["cl"].result_count == 1
    assert admin_client.get(CHANGELIST, {"q": "toaster"}).context["cl"].result_count == 1


def test_bulk_hide_and_show_actions_keep_the_aggregates_exact(admin_client):
    product = ProductFactory()
    low = _review(product, 1)
    _review(product, 5)
    _review(product, 4)

    response = admin_client.post(CHANGELIST, {"action": "hide_reviews", "_selected_action": [low.pk]})

    assert response.status_code == 302
    assert Review.objects.get(pk=low.pk).is_visible is False
    assert _aggregates(product) == (Decimal("4.50"), 2)

    admin_client.post(CHANGELIST, {"action": "show_reviews", "_selected_action": [low.pk]})
    assert _aggregates(product) == (Decimal("3.33"), 3)


def test_bulk_delete_goes_through_the_service(admin_client):
    product = ProductFactory()
    doomed = _review(product, 1)
    _review(product, 4)

    response = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [doomed.pk], "post": "yes"}
    )

    assert response.status_code == 302
    assert not Review.objects.filter(pk=doomed.pk).exists()
    assert _aggregates(product) == (Decimal("4.00"), 1)


def test_editing_a_review_in_the_admin_recomputes_the_aggregates(admin_client):
    product = ProductFactory()
    review = _review(product, 5)
    _review(product, 3)

    response = admin_client.post(
        f"{CHANGELIST}{review.pk}/change/",
        {"rating": 1, "title": "moderated", "body": "", "is_visible": "on"},
    )

    assert response.status_code == 302
    assert _aggregates(product) == (Decimal("2.00"), 2)
    admin_client.post(f"{CHANGELIST}{review.pk}/change/", {"rating": 1, "title": "moderated", "body": ""})
    assert Review.objects.get(pk=review.pk).is_visible is False
    assert _aggregates(product) == (Decimal("3.00"), 1)


def test_deleting_one_review_in_the_admin_recomputes_the_aggregates(admin_client):
    product = ProductFactory()
    review = _review(product, 5)

    admin_client.post(f"{CHANGELIST}{review.pk}/delete/", {"post": "yes"})

    assert not Review.objects.exists()
    assert _aggregates(product) == (Decimal("0.00"), 0)


def test_reviews_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
