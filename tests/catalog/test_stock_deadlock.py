"""A staff stock edit racing checkouts of the same variant: both lock the product before the variant.

Real threads with their own PostgreSQL connections. Under the old order (the staff edit locked the
variant, then its product; a checkout locks the product, then the variant) PostgreSQL aborted one of
them with a deadlock in most rounds.
"""

import threading

import pytest
from django.db import connections
from django.db.models import Sum
from rest_framework.test import APIClient

from cart.services import cart_clear, cart_get_or_create
from catalog.models import Product, ProductVariant, StockMovement
from catalog.services import variant_update
from config.exceptions import ApplicationError
from orders.services import order_place
from tests.catalog.audit import assert_stock_matches_ledger
from tests.factories import AddressFactory, ProductFactory, UserFactory, VariantFactory
from tests.orders.factories import fill_cart

ROUNDS = 8
BUYERS = 4


def race(jobs) -> list[str]:
    """Run each job in its own thread behind a barrier; return each outcome ("ok", a domain error, or a crash)."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(job):
        try:
            barrier.wait()
            outcome = job()
        except ApplicationError as exc:
            outcome = f"{exc.status_code} {type(exc).__name__}"
        except Exception as exc:  # a deadlock (psycopg DeadlockDetected) lands here and fails the test
            outcome = f"crash {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_staff_stock_edits_racing_checkouts_of_the_variant_never_deadlock():
    # given: a variant in several carts, and staff editing its stock through the API and the service
    product = ProductFactory(stock=0)
    variant = VariantFactory(product=product, stock=100)
    VariantFactory(product=product, stock=10)
    staff = UserFactory(is_staff=True)
    api = APIClient()
    api.force_authenticate(staff)
    url = f"/api/catalog/products/{product.slug}/variants/{variant.pk}/"
    buyers = [(user, AddressFactory(user=user).pk) for user in UserFactory.create_batch(BUYERS)]

    def checkout(user, address_id):
        def place():
            order_place(user=user, shipping_address_id=address_id)
            return "ok"

        return place

    def api_edit(level):
        return lambda: f"http {api.patch(url, {'name': f'Red {level}', 'stock': level}, format='json').status_code}"

    def service_edit(level):
        def edit():
            fresh = ProductVariant.objects.get(pk=variant.pk)
            variant_update(variant=fresh, data={"name": f"Red {level}", "stock": level}, user=staff)
            return "ok"

        return edit

    outcomes: list[str] = []
    for n in range(ROUNDS):
        for user, _ in buyers:
            cart_clear(cart=cart_get_or_create(user=user))
            fill_cart(user, (product, variant, 1))

        # when
        jobs = [checkout(user, address_id) for user, address_id in buyers]
        jobs += [api_edit(50 + n), service_edit(60 + n)]
        outcomes += race(jobs)

    # then: nobody deadlocked or failed, and stock and ledger agree
    assert sorted(set(outcomes)) == ["http 200", "ok"], [o for o in outcomes if o not in ("ok", "http 200")]
    variant.refresh_from_db()
    product.refresh_from_db()
    assert variant.stock >= 0
    assert product.stock == sum(ProductVariant.objects.filter(product=product).values_list("stock", flat=True))
    ledger = StockMovement.objects.filter(variant=variant).aggregate(total=Sum("delta"))["total"]
    assert ledger == variant.stock
    assert StockMovement.objects.filter(product=product).aggregate(total=Sum("delta"))["total"] == product.stock
    assert Product.objects.filter(stock__lt=0).count() == 0
    assert_stock_matches_ledger()
