"""`manage.py seed`: a demo shop worth exploring, written through the services, idempotent and fast."""

import time

import pytest
from django.core.management import call_command
from django.db.models import Avg, Count, Sum
from rest_framework.test import APIClient

from catalog.management.commands.seed import PRODUCT_NOUNS, TREE
from catalog.models import Product, StockMovement
from config.schema import EXAMPLES
from coupons.models import Coupon
from orders.models import Order, Shipment
from payments.models import Payment
from reviews.models import Review
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(capsys):
    started = time.perf_counter()
    call_command("seed")
    return {"seconds": time.perf_counter() - started, "out": capsys.readouterr().out}


def test_prints_the_demo_customers_credentials(seeded):
    assert "Demo customer: email customer@example.com / password buy-things-123" in seeded["out"]
    customer = User.objects.get(email="customer@example.com")
    assert customer.check_password("buy-things-123") and not customer.is_staff


def test_the_customer_has_an_order_in_every_status_with_payments_refunds_and_shipments(seeded):
    orders = Order.objects.filter(user__email="customer@example.com")

    assert set(orders.values_list("status", flat=True)) == set(Order.Status.values)
    payments = Payment.objects.filter(order__in=orders)
    assert set(payments.values_list("status", flat=True)) >= {"succeeded", "refunded", "partially_refunded"}
    refunded = orders.get(status="refunded").payments.get()
    assert refunded.amount_refunded == refunded.amount
    assert Shipment.objects.filter(order__in=orders, delivered_at__isnull=False).exists()
    assert Shipment.objects.filter(order__in=orders, delivered_at__isnull=True, carrier="UPS").exists()
    assert not orders.get(status="pending").payments.exists()  # left to pay through Stripe Checkout


def test_coupons_percent_fixed_and_category_scoped(seeded):
    coupons = {c.code: c for c in Coupon.objects.prefetch_related("categories")}

    assert coupons["WELCOME10"].discount_type == "percent"
    assert coupons["SAVE5"].discount_type == "fixed" and coupons["SAVE5"].min_subtotal > 0
    assert [c.slug for c in coupons["KITCHEN15"].categories.all()] == ["home-kitchen-kitchen"]


def test_verified_reviews_with_varied_ratings_and_exact_averages(seeded):
    reviews = Review.objects.all()

    assert reviews.count() >= 8
    assert set(reviews.values_list("rating", flat=True)) == {1, 2, 3, 4, 5}
    assert all(reviews.values_list("verified_purchase", flat=True))
    for product in Product.objects.annotate(n=Count("reviews"), avg=Avg("reviews__rating")).filter(n__gt=0):
        assert product.review_count == product.n
        assert abs(float(product.average_rating) - product.avg) < 0.01


def test_a_low_stock_product_and_a_ledger_that_adds_up(seeded, settings):
    assert Product.objects.filter(is_active=True, stock__gt=0, stock__lte=settings.LOW_STOCK_THRESHOLD).exists()
    ledger = dict(StockMovement.objects.values("product").annotate(s=Sum("delta")).values_list("product", "s"))
    for product in Product.objects.all():
        assert product.stock == (ledger.get(product.pk) or 0), product.sku


def test_product_names_read_well(seeded):
    assert set(PRODUCT_NOUNS) == {leaf for children in TREE.values() for leaves in children.values() for leaf in leaves}
    names = list(Product.objects.values_list("name", flat=True))
    assert not [n for n in names if n.endswith(("Dresse", "Knive", "Shelve", "Trouser"))]


def test_running_it_again_changes_nothing_and_it_stays_fast(seeded):
    counts = (Order.objects.count(), Payment.objects.count(), Review.objects.count(), Coupon.objects.count(),
              User.objects.count(), StockMovement.objects.count())

    call_command("seed")

    assert counts == (Order.objects.count(), Payment.objects.count(), Review.objects.count(),
                      Coupon.objects.count(), User.objects.count(), StockMovement.objects.count())
    assert seeded["seconds"] < 20


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_schemas_request_examples_succeed_on_a_fresh_demo_database():
    call_command("seed")
    client = APIClient()

    token = client.post("/api/auth/token/", EXAMPLES["auth_token_create"], format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")
    answers = {
        name: client.post(path, EXAMPLES[name], format="json").status_code
        for name, path in [
            ("cart_items_create", "/api/cart/items/"),
            ("coupons_validate_create", "/api/coupons/validate/"),
            ("users_addresses_create", "/api/users/addresses/"),
            ("orders_create", "/api/orders/"),
            ("reviews_create", "/api/reviews/"),
        ]
    }

    assert token.status_code == 200
    assert answers == {"cart_items_create": 201, "coupons_validate_create": 200, "users_addresses_create": 201,
                       "orders_create": 201, "reviews_create": 201}
