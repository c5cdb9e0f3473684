"""factory_boy factories shared by every app's tests."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from catalog.models import Category, Product, ProductVariant
from users.models import Address

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    full_name = factory.Faker("name")
    line1 = factory.Faker("street_address")
    city = factory.Faker("city")
    region = "CA"
    postal_code = "94107"
    country = "US"
    phone = "+1 415 555 0100"


class CategoryFactory(factory.django.DjangoModelFactory):
    """Creates categories through the catalog service so the materialized path is right."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from catalog.services import category_create

        return category_create(**kwargs)


class ProductFactory(factory.django.DjangoModelFactory):
    """Creates products through catalog.services.product_create, so initial stock is in the ledger.

    Fields the service does not take (e.g. `average_rating`, `review_count`) are written afterwards.
    """

    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    brand = "Acme"
    description = factory.Faker("sentence")
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("10.00")
    stock = 10

    _service_fields = {"name", "slug", "sku", "brand", "description", "category", "price", "currency", "stock",
                       "is_active"}

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from catalog.services import product_create

        extra = {k: kwargs.pop(k) for k in list(kwargs) if k not in cls._service_fields}
        product = product_create(**kwargs)
        if extra:
            model_class.objects.filter(pk=product.pk).update(**extra)
            product.refresh_from_db()
        return product


class VariantFactory(factory.django.DjangoModelFactory):
    """Creates variants through catalog.services.variant_create: the product's stock stays the sum of its
    variants' stock and the initial stock is in the ledger."""

    class Meta:
        model = ProductVariant

    product = factory.SubFactory(ProductFactory, stock=0)
    sku = factory.Sequence(lambda n: f"VAR-{n:06d}")
    name = factory.Sequence(lambda n: f"Variant {n}")
    attributes = factory.LazyFunction(lambda: {"color": "red", "size": "M"})
    price = None
    stock = 5

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from catalog.services import variant_create

        return variant_create(**kwargs)
