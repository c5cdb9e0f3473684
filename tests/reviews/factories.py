"""Reviews for the reviews tests (purchases are tests.factories.OrderFactory rows)."""

import factory

from reviews.models import Review
from tests.factories import ProductFactory, UserFactory


class ReviewFactory(factory.django.DjangoModelFactory):
    """A bare review row (no aggregate refresh): for read tests. Writes under test go through the services."""

    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    user = factory.SubFactory(UserFactory)
    rating = 4
    title = factory.Sequence(lambda n: f"Review {n}")
    body = "Does what it says."
    verified_purchase = True
