"""factory_boy factories shared by every app's tests."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.models import Category, Product, ProductVariant
from catalog.services import category_create, product_create, variant_create
from orders.models import Order, OrderItem, OrderStatusChange
from orders.services import order_number_next
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
        return variant_create(**kwargs)


class OrderItemFactory(factory.django.DjangoModelFactory):
    """One line of an order: a snapshot of its product (or variant) at `unit_price` x `quantity`."""

    class Meta:
        model = OrderItem

    order = factory.SubFactory("tests.factories.OrderFactory", lines=())
    product = factory.SubFactory(ProductFactory)
    variant = None
    sku = factory.LazyAttribute(lambda o: o.variant.sku if o.variant else o.product.sku)
    name = factory.LazyAttribute(lambda o: o.product.name)
    unit_price = Decimal("10.00")
    quantity = 1
    line_total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)


class OrderFactory(factory.django.DjangoModelFactory):
    """An order row as checkout leaves it, built directly (no cart, no stock taken, no coupon): for status,
    payment, review and coupon tests. Checkout itself is tested through orders.services.order_place.

    Its number comes from orders.services.order_number_next. It has one item per `lines` entry
    `(unit_price, quantity)`, named "Item 0", "Item 1", … and of `product` / `variant` when given (else each of
    a new product), amounts that add up, and its first status-history row. `paid=True` is status paid.
    """

    class Meta:
        model = Order
        skip_postgeneration_save = True

    class Params:
        lines = ((Decimal("12.50"), 2), (Decimal("5.00"), 1))
        product = None
        variant = None
        deadline_in = timedelta(minutes=30)
        paid = factory.Trait(status=Order.Status.PAID)

    number = factory.LazyFunction(order_number_next)
    user = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda o: o.user.email if o.user else "guest@example.com")
    status = Order.Status.PENDING
    subtotal = factory.LazyAttribute(lambda o: sum((price * qty for price, qty in o.lines), Decimal("0.00")))
    discount = Decimal("0.00")
    shipping = Decimal("0.00")
    total = factory.LazyAttribute(lambda o: o.subtotal - o.discount + o.shipping)
    shipping_address = factory.LazyFunction(
        lambda: {"full_name": "Ada Lovelace", "line1": "1 Main St", "line2": "", "city": "London", "region": "",
                 "postal_code": "N1", "country": "GB", "phone": ""}
    )
    billing_address = factory.SelfAttribute("shipping_address")
    payment_deadline = factory.LazyAttribute(lambda o: timezone.now() + o.deadline_in)
    paid_at = factory.LazyAttribute(
        lambda o: None if o.status in (Order.Status.PENDING, Order.Status.CANCELLED) else timezone.now()
    )

    @factory.post_generation
    def items(obj, create, extracted, lines=(), product=None, variant=None):
        if not create:
            return
        for index, (unit_price, quantity) in enumerate(lines):
            OrderItemFactory(order=obj, product=product or ProductFactory(stock=10), variant=variant,
                             name=f"Item {index}", unit_price=unit_price, quantity=quantity)

    @factory.post_generation
    def history(obj, create, extracted, **kwargs):
        if create:
            OrderStatusChange.objects.create(order=obj, from_status="", to_status=obj.status)

    # The post-generation hook reads the Params through these (a hook sees only its own arguments).
    items__lines = factory.SelfAttribute("..lines")
    items__product = factory.SelfAttribute("..product")
    items__variant = factory.SelfAttribute("..variant")
