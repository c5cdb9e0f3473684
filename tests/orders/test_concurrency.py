"""Real races: threads with their own database connections, checking out and cancelling at once."""

import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Sum

from catalog.models import Product, StockMovement
from config.exceptions import ApplicationError
from coupons.models import Coupon, CouponRedemption
from orders.models import Order
from orders.services import order_cancel, order_place
from tests.catalog.audit import assert_stock_matches_ledger
from tests.factories import AddressFactory, ProductFactory, UserFactory
from tests.orders.factories import apply_coupon, fill_cart

BUYERS = 20


def race(target, args_list):
    """Start one thread per args tuple behind a barrier; return each outcome ("ok" or the error class)."""
    barrier = threading.Barrier(len(args_list))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(*args):
        try:
            barrier.wait()
            target(*args)
            outcome = "ok"
        except ApplicationError as exc:
            outcome = f"{exc.status_code} {type(exc).__name__}"
        except Exception as exc:  # a deadlock or a 500 would land here and fail the test
            outcome = f"crash {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def buyers(product, count=BUYERS, coupon_code=None):
    result = []
    for _ in range(count):
        user = UserFactory()
        address = AddressFactory(user=user)
        fill_cart(user, (product, 1))
        if coupon_code:
            apply_coupon(user, coupon_code)
        result.append((user, address.pk))
    return result


def checkout(user, address_id):
    order_place(user=user, shipping_address_id=address_id)


@pytest.mark.django_db(transaction=True)
def test_twenty_buyers_racing_for_the_last_ten_units_never_oversell():
    # given: 10 units left, 20 carts holding one each (added while there was stock)
    product = ProductFactory(stock=20)
    carts = buyers(product)
    from catalog.stock import stock_adjust

    stock_adjust(product_id=product.pk, delta=-10, reason="admin", reference="sold elsewhere")

    # when
    outcomes = race(checkout, carts)

    # then
    assert sorted(outcomes) == ["409 InsufficientStock"] * 10 + ["ok"] * 10, outcomes
    assert Order.objects.count() == 10
    assert Product.objects.get(pk=product.pk).stock == 0
    sold = StockMovement.objects.filter(product=product, reason="order")
    assert sold.aggregate(total=Sum("delta"))["total"] == -10
    assert sold.count() == 10
    assert StockMovement.objects.filter(product=product).aggregate(total=Sum("delta"))["total"] == 0
    assert set(sold.values_list("stock_after", flat=True)) == set(range(10))
    assert_stock_matches_ledger()


@pytest.mark.django_db(transaction=True)
def test_a_coupon_with_three_uses_is_redeemed_at_most_three_times_in_the_same_race():
    product = ProductFactory(stock=100)
    Coupon.objects.create(code="THREE", discount_type="fixed", value=Decimal("1"), max_uses=3)
    carts = buyers(product, coupon_code="THREE")

    outcomes = race(checkout, carts)

    assert sorted(outcomes) == ["409 CouponNotApplicable"] * (BUYERS - 3) + ["ok"] * 3, outcomes
    assert CouponRedemption.objects.filter(coupon__code="THREE").count() == 3
    assert Order.objects.count() == 3
    assert Product.objects.get(pk=product.pk).stock == 97  # the refused checkouts took no stock
    assert_stock_matches_ledger()


@pytest.mark.django_db(transaction=True)
def test_a_sale_with_one_hot_coupon_on_two_hot_products_neither_deadlocks_nor_oversells():
    # given: every buyer has both hot products (added in either order) and the sale's coupon
    hot, other = ProductFactory(stock=10), ProductFactory(stock=100)
    Coupon.objects.create(code="SALE", discount_type="percent", value=Decimal("10"), max_uses=15)
    carts = []
    for i in range(BUYERS):
        user = UserFactory()
        fill_cart(user, *([(hot, 1), (other, 1)] if i % 2 else [(other, 1), (hot, 1)]))
        apply_coupon(user, "SALE")
        carts.append((user, AddressFactory(user=user).pk))

    # when
    outcomes = race(checkout, carts)

    # then: the coupon lock, then the stock rows in id order: no deadlock; stock ran out before the coupon did
    assert sorted(outcomes) == ["409 InsufficientStock"] * 10 + ["ok"] * 10, outcomes
    assert CouponRedemption.objects.filter(coupon__code="SALE").count() == 10
    assert (Product.objects.get(pk=hot.pk).stock, Product.objects.get(pk=other.pk).stock) == (0, 90)
    assert_stock_matches_ledger()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_cancels_return_the_stock_once():
    product = ProductFactory(stock=10)
    user = UserFactory()
    staff = UserFactory(is_staff=True)
    fill_cart(user, (product, 4))
    order = order_place(user=user, shipping_address_id=AddressFactory(user=user).pk)

    outcomes = race(lambda by: order_cancel(order_id=order.pk, by=by), [(user,), (staff,)])

    assert sorted(outcomes) == ["409 InvalidTransition", "ok"], outcomes
    assert Product.objects.get(pk=product.pk).stock == 10
    assert StockMovement.objects.filter(reference=order.number, reason="cancel").count() == 1
    assert order.status_changes.filter(to_status="cancelled").count() == 1
    assert_stock_matches_ledger()


@pytest.mark.django_db(transaction=True)
def test_expiry_on_several_workers_at_once_restocks_once():
    from datetime import timedelta

    from django.utils import timezone

    from orders.tasks import expire_unpaid_orders

    product = ProductFactory(stock=10)
    orders = []
    for user, address_id in buyers(product, count=6):
        orders.append(order_place(user=user, shipping_address_id=address_id))
    Order.objects.update(payment_deadline=timezone.now() - timedelta(minutes=1))
    expired = []

    def worker():
        expired.append(expire_unpaid_orders(batch_size=2))

    outcomes = race(worker, [(), (), ()])

    assert outcomes == ["ok"] * 3
    assert sum(expired) == 6
    assert Product.objects.get(pk=product.pk).stock == 10
    assert StockMovement.objects.filter(product=product, reason="cancel").count() == 6
    assert_stock_matches_ledger()
