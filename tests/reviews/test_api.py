from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from catalog.models import Product
from orders.models import Order
from reviews.models import Review
from tests.factories import OrderFactory, ProductFactory, UserFactory
from tests.reviews.factories import ReviewFactory

pytestmark = pytest.mark.django_db

URL = "/api/reviews/"
REVIEW_FIELDS = {
    "id",
    "product",
    "user",
    "rating",
    "title",
    "body",
    "verified_purchase",
    "is_visible",
    "created_at",
    "updated_at",
}


def detail_url(review) -> str:
    return f"{URL}{review.pk}/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def posted_review(product, rating: int) -> Review:
    """A buyer's review posted through the API."""
    buyer = UserFactory()
    OrderFactory(user=buyer, product=product, paid=True)
    response = client_for(buyer).post(URL, {"product": product.pk, "rating": rating})
    assert response.status_code == 201, response.json()
    return Review.objects.get(pk=response.json()["id"])


def aggregates(product) -> tuple[Decimal, int]:
    return Product.objects.values_list("average_rating", "review_count").get(pk=product.pk)


# --- create: the permissions matrix ----------------------------------------------------------


def test_anonymous_cannot_post_a_review(api_client):
    product = ProductFactory()

    response = api_client.post(URL, {"product": product.pk, "rating": 5})

    assert response.status_code == 401
    assert not Review.objects.exists()


def test_non_buyer_gets_403_saying_why(user_client):
    product = ProductFactory()

    response = user_client.post(URL, {"product": product.pk, "rating": 5})

    assert response.status_code == 403
    assert "bought this product" in response.json()["detail"]
    assert not Review.objects.exists()


def test_buyer_of_a_pending_order_only_gets_403_saying_it_is_unpaid(user, user_client):
    product = ProductFactory()
    OrderFactory(user=user, product=product, status=Order.Status.PENDING)

    response = user_client.post(URL, {"product": product.pk, "rating": 5})

    assert response.status_code == 403
    assert "pending" in response.json()["detail"]
    assert "paid" in response.json()["detail"]


@pytest.mark.parametrize("status", [Order.Status.PAID, Order.Status.DELIVERED])
def test_buyer_of_a_paid_or_delivered_order_posts_a_verified_review(user, user_client, status):
    product = ProductFactory()
    OrderFactory(user=user, product=product, status=Order.Status.PENDING)  # an unpaid order does not get in the way
    OrderFactory(user=user, product=product, status=status)

    response = user_client.post(URL, {"product": product.pk, "rating": 4, "title": "Solid", "body": "Works well."})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == REVIEW_FIELDS
    assert body["product"] == product.pk
    assert body["user"] == {"id": user.pk, "display_name": user.display_name}
    assert (body["rating"], body["title"], body["body"]) == (4, "Solid", "Works well.")
    assert body["verified_purchase"] is True
    assert aggregates(product) == (Decimal("4.00"), 1)


def test_title_and_body_are_optional(user, user_client):
    product = ProductFactory()
    OrderFactory(user=user, product=product, paid=True)

    response = user_client.post(URL, {"product": product.pk, "rating": 3})

    assert response.status_code == 201
    assert (response.json()["title"], response.json()["body"]) == ("", "")


def test_second_review_is_409(user, user_client):
    product = ProductFactory()
    OrderFactory(user=user, product=product, paid=True)
    assert user_client.post(URL, {"product": product.pk, "rating": 5}).status_code == 201

    response = user_client.post(URL, {"product": product.pk, "rating": 1})

    assert response.status_code == 409
    assert "already reviewed" in response.json()["detail"]
    assert aggregates(product) == (Decimal("5.00"), 1)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"product": None, "rating": 5}, "product"),
        ({"product": "abc", "rating": 5}, "product"),
        ({"product": 999_999, "rating": 5}, "product"),
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "great"}, "rating"),
        ({}, "rating"),
        ({"rating": 5, "title": "x" * 201}, "title"),
    ],
)
def test_bad_input_is_400_on_the_field(user, user_client, payload, field):
    product = ProductFactory()
    OrderFactory(user=user, product=product, paid=True)
    payload = {"product": product.pk, **payload}

    response = user_client.post(URL, payload)

    assert response.status_code == 400
    assert field in response.json()


def test_missing_product_is_400_on_product(user_client):
    response = user_client.post(URL, {"rating": 5})

    assert response.status_code == 400
    assert list(response.json()) == ["product"]


def test_inactive_product_is_400_on_product(user, user_client):
    product = ProductFactory(is_active=False)
    OrderFactory(user=user, product=product, paid=True)

    response = user_client.post(URL, {"product": product.pk, "rating": 5})

    assert response.status_code == 400
    assert response.json() == {"product": ["This product does not exist or is not available."]}


# --- reading ---------------------------------------------------------------------------------


def test_anyone_lists_visible_reviews_paginated(api_client):
    product = ProductFactory()
    visible = ReviewFactory.create_batch(3, product=product)
    ReviewFactory(product=product, is_visible=False)

    response = api_client.get(URL, {"page_size": 2})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert [r["id"] for r in body["results"]] == [r.pk for r in reversed(visible)][:2]


def test_staff_list_includes_hidden_reviews(staff_client):
    ReviewFactory()
    hidden = ReviewFactory(is_visible=False)

    response = staff_client.get(URL)

    assert response.json()["count"] == 2
    assert {"id": hidden.pk, "is_visible": False}.items() <= next(
        r for r in response.json()["results"] if r["id"] == hidden.pk
    ).items()


def test_list_filters_by_product_slug_and_rating(api_client):
    product = ProductFactory()
    wanted = ReviewFactory(product=product, rating=5)
    ReviewFactory(product=product, rating=3)
    ReviewFactory(rating=5)  # another product

    by_product = api_client.get(URL, {"product": product.slug}).json()
    by_both = api_client.get(URL, {"product": product.slug, "rating": 5}).json()

    assert by_product["count"] == 2
    assert [r["id"] for r in by_both["results"]] == [wanted.pk]
    assert api_client.get(URL, {"product": "no-such-product"}).json()["count"] == 0


@pytest.mark.parametrize(
    "ordering, expected",
    [("rating", [1, 3, 5]), ("-rating", [5, 3, 1]), ("created_at", [3, 5, 1]), ("-created_at", [1, 5, 3])],
)
def test_list_ordering(api_client, ordering, expected):
    for rating in (3, 5, 1):
        ReviewFactory(rating=rating)

    response = api_client.get(URL, {"ordering": ordering})

    assert [r["rating"] for r in response.json()["results"]] == expected


@pytest.mark.parametrize(
    "params, parameter",
    [({"rating": "7"}, "rating"), ({"rating": "five"}, "rating"), ({"ordering": "title"}, "ordering")],
)
def test_bad_list_parameters_are_400_naming_the_parameter(api_client, params, parameter):
    response = api_client.get(URL, params)

    assert response.status_code == 400
    assert list(response.json()) == [parameter]


def test_list_query_count_does_not_grow_with_the_page(api_client, django_assert_num_queries):
    ReviewFactory.create_batch(2)
    with django_assert_num_queries(2):  # count + one page with its authors
        assert len(api_client.get(URL).json()["results"]) == 2

    ReviewFactory.create_batch(15)
    with django_assert_num_queries(2):
        assert len(api_client.get(URL).json()["results"]) == 17


def test_author_is_shown_by_display_name_never_by_email(api_client):
    anonymous_name = UserFactory(first_name="", last_name="", email="secret.person@example.com")
    named = UserFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    ReviewFactory(user=anonymous_name)
    ReviewFactory(user=named)

    response = api_client.get(URL)

    authors = {r["user"]["id"]: r["user"] for r in response.json()["results"]}
    assert authors[anonymous_name.pk] == {"id": anonymous_name.pk, "display_name": f"Customer {anonymous_name.pk}"}
    assert authors[named.pk] == {"id": named.pk, "display_name": "Ada L."}
    assert b"@example.com" not in response.content


def test_anyone_reads_a_visible_review(api_client):
    review = ReviewFactory()

    response = api_client.get(detail_url(review))

    assert response.status_code == 200
    assert response.json()["id"] == review.pk


def test_hidden_review_is_404_except_for_staff(api_client, staff_client):
    review = ReviewFactory(is_visible=False)

    assert api_client.get(detail_url(review)).status_code == 404
    assert client_for(review.user).get(detail_url(review)).status_code == 404
    assert staff_client.get(detail_url(review)).json()["is_visible"] is False


# --- editing and deleting --------------------------------------------------------------------


def test_author_edits_their_review_and_the_average_follows():
    product = ProductFactory()
    review = posted_review(product, 5)
    posted_review(product, 4)

    response = client_for(review.user).patch(detail_url(review), {"rating": 2, "body": "It broke."})

    assert response.status_code == 200
    assert (response.json()["rating"], response.json()["body"]) == (2, "It broke.")
    assert aggregates(product) == (Decimal("3.00"), 2)


def test_author_cannot_set_visibility_or_verified_purchase():
    review = posted_review(ProductFactory(), 5)
    author = client_for(review.user)

    assert author.patch(detail_url(review), {"is_visible": False}).status_code == 403
    response = author.patch(detail_url(review), {"verified_purchase": False, "title": "ok"})

    assert response.status_code == 200
    review.refresh_from_db()
    assert (review.is_visible, review.verified_purchase, review.title) == (True, True, "ok")


def test_other_user_cannot_edit_or_delete_a_review(other_client):
    review = posted_review(ProductFactory(), 5)

    assert other_client.patch(detail_url(review), {"rating": 1}).status_code == 403
    assert other_client.delete(detail_url(review)).status_code == 403
    review.refresh_from_db()
    assert review.rating == 5


def test_other_user_gets_404_for_a_hidden_review(other_client):
    review = ReviewFactory(is_visible=False)

    assert other_client.patch(detail_url(review), {"rating": 1}).status_code == 404
    assert other_client.delete(detail_url(review)).status_code == 404


def test_anonymous_cannot_edit_or_delete(api_client):
    review = ReviewFactory()

    assert api_client.patch(detail_url(review), {"rating": 1}).status_code == 401
    assert api_client.delete(detail_url(review)).status_code == 401


def test_put_is_not_offered():
    review = posted_review(ProductFactory(), 5)

    assert client_for(review.user).put(detail_url(review), {"rating": 1}).status_code == 405


def test_author_deletes_their_review_and_the_aggregates_follow():
    product = ProductFactory()
    review = posted_review(product, 5)
    posted_review(product, 4)
    posted_review(product, 4)
    assert aggregates(product) == (Decimal("4.33"), 3)

    response = client_for(review.user).delete(detail_url(review))

    assert response.status_code == 204
    assert not Review.objects.filter(pk=review.pk).exists()
    assert aggregates(product) == (Decimal("4.00"), 2)


def test_staff_hides_and_shows_a_review_and_the_aggregates_follow(staff_client, api_client):
    product = ProductFactory()
    review = posted_review(product, 1)
    posted_review(product, 5)

    hidden = staff_client.patch(detail_url(review), {"is_visible": False})

    assert hidden.status_code == 200
    assert hidden.json()["is_visible"] is False
    assert aggregates(product) == (Decimal("5.00"), 1)
    assert api_client.get(URL, {"product": product.slug}).json()["count"] == 1

    assert staff_client.patch(detail_url(review), {"is_visible": True}).status_code == 200
    assert aggregates(product) == (Decimal("3.00"), 2)


def test_staff_deletes_any_review(staff_client):
    product = ProductFactory()
    review = posted_review(product, 2)

    assert staff_client.delete(detail_url(review)).status_code == 204
    assert aggregates(product) == (Decimal("0.00"), 0)


# --- the catalog sees the new figures at once ------------------------------------------------


def test_catalog_product_shows_the_new_rating_right_after_a_review(
    api_client, user, user_client, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    OrderFactory(user=user, product=product, paid=True)
    product_url = f"/api/catalog/products/{product.slug}/"
    before = api_client.get(product_url)
    assert before.status_code == 200
    assert (before.json()["average_rating"], before.json()["review_count"]) == ("0.00", 0)
    assert api_client.get(product_url).json()["average_rating"] == "0.00"  # served from the cache now

    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.post(URL, {"product": product.pk, "rating": 4}).status_code == 201

    after = api_client.get(product_url).json()
    assert (after["average_rating"], after["review_count"]) == ("4.00", 1)

    review = Review.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        user_client.patch(detail_url(review), {"rating": 2})
    assert api_client.get(product_url).json()["average_rating"] == "2.00"
