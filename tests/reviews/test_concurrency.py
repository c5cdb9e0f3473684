import threading
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from catalog.models import Product
from reviews.models import Review
from tests.factories import OrderFactory, ProductFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_create_one_review_and_one_409():
    # given a buyer who double-submits their review
    user = UserFactory()
    product = ProductFactory()
    OrderFactory(user=user, product=product, paid=True)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def post(rating: int) -> None:
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait(timeout=10)
            statuses.append(client.post("/api/reviews/", {"product": product.pk, "rating": rating}).status_code)
        finally:
            connection.close()

    # when both requests run at once, each on its own connection
    threads = [threading.Thread(target=post, args=(rating,)) for rating in (5, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then exactly one review exists and the other request got a conflict
    assert sorted(statuses) == [201, 409]
    review = Review.objects.get()
    product.refresh_from_db()
    assert (product.review_count, product.average_rating) == (1, review.rating)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_reviews_of_one_product_keep_the_aggregates_exact():
    product = ProductFactory()
    buyers = UserFactory.create_batch(6)
    for buyer in buyers:
        OrderFactory(user=buyer, product=product, paid=True)
    barrier = threading.Barrier(len(buyers))
    statuses: list[int] = []

    def post(buyer, rating: int) -> None:
        try:
            client = APIClient()
            client.force_authenticate(buyer)
            barrier.wait(timeout=10)
            statuses.append(client.post("/api/reviews/", {"product": product.pk, "rating": rating}).status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=post, args=(buyer, rating))
        for buyer, rating in zip(buyers, (5, 4, 4, 3, 1, 2), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert statuses == [201] * 6
    # 19 / 6 = 3.1666...
    assert Product.objects.values_list("review_count", "average_rating").get(pk=product.pk) == (6, Decimal("3.17"))
