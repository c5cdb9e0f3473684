"""Checkout (orders.services.order_place): totals, snapshots, stock, coupon, all-or-nothing."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cart.models import CartItem
from catalog.models import Product, ProductVariant, StockMovement
from catalog.services import product_update
from config.exceptions import Conflict
from coupons.models import Coupon, CouponRedemption
from orders.exceptions import EmptyCart, InvalidAddress, ProductUnavailable
from orders.models import Order, OrderItem, OrderNumber, OrderStatusChange
from orders.services import order_place
from tests.factories import AddressFactory, ProductFactory, UserFactory, VariantFactory
from tests.orders.factories import apply_coupon, fill_cart

pytestmark = pytest.mark.django_db


def db_state():
    """Everything checkout may write, to assert a failure wrote nothing."""
    return {
        "orders": Order.objects.count(),
        "items": OrderItem.objects.count(),
        "history": OrderStatusChange.objects.count(),
        "numbers": OrderNumber.objects.count(),
        "ledger": StockMovement.objects.count(),
        "redemptions": CouponRedemption.objects.count(),
        "cart_items": CartItem.objects.count(),
        "stock": sorted(Product.objects.values_list("pk", "stock")),
        "variant_stock": sorted(ProductVariant.objects.values_list("pk", "stock")),
    }


@pytest.fixture
def buyer():
    user = UserFactory(first_name="Ada")
    return user, AddressFactory(user=user, full_name="Ada Lovelace", city="London")


def test_checkout_creates_the_order_takes_stock_redeems_the_coupon_and_empties_the_cart(
    buyer, django_capture_on_commit_callbacks
):
    # given
    user, address = buyer
    mug = ProductFactory(name="Mug", sku="MUG-1", price=Decimal("12.50"), stock=10)
    shirt = ProductFactory(name="Shirt", stock=0)
    red_m = VariantFactory(product=shirt, name="Red M", sku="SHIRT-RM", price=Decimal("20.00"), stock=4)
    fill_cart(user, (mug, 2), (shirt, red_m, 3))
    Coupon.objects.create(code="TENOFF", discount_type="percent", value=Decimal("10"))
    apply_coupon(user, "tenoff")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        order = order_place(user=user, shipping_address_id=address.pk, note="Ring twice")

    # then: totals from the stored prices, the coupon and shipping
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert re.fullmatch(rf"ORD-{timezone.now().year}-\d{{6}}", order.number)
    assert order.subtotal == Decimal("85.00")
    assert order.discount == Decimal("8.50")
    assert order.shipping == Decimal("0.00")
    assert order.total == Decimal("76.50")
    assert order.coupon_code == "TENOFF"
    assert order.note == "Ring twice"
    assert order.shipping_address == address.snapshot() == order.billing_address
    deadline = timezone.now() + timedelta(minutes=30)
    assert abs((order.payment_deadline - deadline).total_seconds()) < 60
    # snapshot items
    items = list(order.items.values_list("sku", "name", "unit_price", "quantity", "line_total", "variant_id"))
    assert items == [
        ("MUG-1", "Mug", Decimal("12.50"), 2, Decimal("25.00"), None),
        ("SHIRT-RM", "Shirt – Red M", Decimal("20.00"), 3, Decimal("60.00"), red_m.pk),
    ]
    # stock and ledger
    assert Product.objects.get(pk=mug.pk).stock == 8
    assert ProductVariant.objects.get(pk=red_m.pk).stock == 1
    assert Product.objects.get(pk=shirt.pk).stock == 1
    ledger = StockMovement.objects.filter(reason="order", reference=order.number)
    assert sorted(ledger.values_list("product_id", "variant_id", "delta")) == sorted(
        [(mug.pk, None, -2), (shirt.pk, red_m.pk, -3)]
    )
    # coupon, cart, history
    redemption = CouponRedemption.objects.get(order=order)
    assert redemption.amount == Decimal("8.50") and redemption.user == user
    assert not CartItem.objects.filter(cart__user=user).exists()
    assert user.cart.coupon_id is None
    assert list(order.status_changes.values_list("from_status", "to_status", "changed_by")) == [
        ("", "pending", user.pk)
    ]
    # confirmation email, after the commit
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [user.email]
    assert order.number in email.subject
    assert "Shirt – Red M" in email.body and "76.50" in email.body
    assert email.alternatives and "76.50" in email.alternatives[0][0]


def test_checkout_with_a_changed_price_is_a_409_that_reprices_the_line_and_writes_nothing_else(buyer):
    # given: two lines, one of which changed price since it was added
    user, address = buyer
    product = ProductFactory(price=Decimal("10.00"), stock=5)
    steady = ProductFactory(price=Decimal("3.00"), stock=5)
    fill_cart(user, (product, 2), (steady, 1))
    Coupon.objects.create(code="TENOFF", discount_type="percent", value=Decimal("10"))
    apply_coupon(user, "tenoff")
    product_update(product=product, data={"price": Decimal("99.00")})
    changed = CartItem.objects.get(product=product)
    before = db_state()

    # when
    with pytest.raises(Conflict) as exc:
        order_place(user=user, shipping_address_id=address.pk)

    # then: the changed line is named and repriced, nothing else moved
    assert exc.value.status_code == 409
    assert exc.value.extra == {"changed_items": [changed.pk]}
    assert "99.00" in exc.value.message
    assert CartItem.objects.get(pk=changed.pk).unit_price == Decimal("99.00")
    assert CartItem.objects.get(product=steady).unit_price == Decimal("3.00")
    assert db_state() == before


def test_the_checkout_after_a_price_change_charges_the_price_now_shown(buyer):
    user, address = buyer
    product = ProductFactory(price=Decimal("10.00"), stock=5)
    fill_cart(user, (product, 2))
    product_update(product=product, data={"price": Decimal("99.00")})
    with pytest.raises(Conflict):
        order_place(user=user, shipping_address_id=address.pk)

    order = order_place(user=user, shipping_address_id=address.pk)

    assert order.subtotal == Decimal("198.00")
    assert order.items.get().unit_price == Decimal("99.00")


def test_a_variant_price_change_is_caught_too(buyer):
    user, address = buyer
    shirt = ProductFactory(price=Decimal("20.00"), stock=0)
    red = VariantFactory(product=shirt, price=None, stock=3)
    fill_cart(user, (shirt, red, 1))
    product_update(product=shirt, data={"price": Decimal("25.00")})  # the variant inherits it

    with pytest.raises(Conflict) as exc:
        order_place(user=user, shipping_address_id=address.pk)

    assert exc.value.extra["changed_items"] == [CartItem.objects.get().pk]
    assert order_place(user=user, shipping_address_id=address.pk).total == Decimal("25.00")


def test_billing_address_can_differ_and_the_snapshot_survives_address_edits(buyer):
    user, address = buyer
    billing = AddressFactory(user=user, city="Paris", country="FR")
    fill_cart(user, (ProductFactory(), 1))

    order = order_place(user=user, shipping_address_id=address.pk, billing_address_id=billing.pk)
    billing.city = "Lyon"
    billing.save()

    order.refresh_from_db()
    assert order.billing_address["city"] == "Paris"
    assert order.shipping_address["city"] == "London"


def test_shipping_fee_applies_below_the_free_shipping_threshold(buyer, settings):
    settings.SHIPPING_FEE = Decimal("4.99")
    settings.FREE_SHIPPING_MIN_SUBTOTAL = Decimal("50.00")
    user, address = buyer
    fill_cart(user, (ProductFactory(price=Decimal("10.00")), 2))

    order = order_place(user=user, shipping_address_id=address.pk)

    assert (order.shipping, order.total) == (Decimal("4.99"), Decimal("24.99"))


def test_shipping_is_free_from_the_threshold(buyer, settings):
    settings.SHIPPING_FEE = Decimal("4.99")
    settings.FREE_SHIPPING_MIN_SUBTOTAL = Decimal("50.00")
    user, address = buyer
    fill_cart(user, (ProductFactory(price=Decimal("25.00")), 2))

    order = order_place(user=user, shipping_address_id=address.pk)

    assert (order.shipping, order.total) == (Decimal("0.00"), Decimal("50.00"))


def test_order_numbers_are_sequential(buyer):
    user, address = buyer
    numbers = []
    for _ in range(2):
        fill_cart(user, (ProductFactory(), 1))
        numbers.append(order_place(user=user, shipping_address_id=address.pk).number)
    first, second = (int(n.rsplit("-", 1)[1]) for n in numbers)
    assert second == first + 1


# --- Failures leave the database as it was ----------------------------------------------------


def test_empty_cart_is_a_400_and_writes_nothing(buyer):
    user, address = buyer
    before = db_state()
    with pytest.raises(EmptyCart) as exc:
        order_place(user=user, shipping_address_id=address.pk)
    assert exc.value.status_code == 400 and exc.value.as_response_data() == {"detail": "Your cart is empty."}
    assert db_state() == before


@pytest.mark.parametrize("field", ["shipping_address", "billing_address"])
def test_someone_elses_address_is_a_400_on_that_field_and_writes_nothing(buyer, field):
    user, address = buyer
    stranger_address = AddressFactory()
    fill_cart(user, (ProductFactory(), 1))
    before = db_state()
    kwargs = {"shipping_address_id": address.pk, "billing_address_id": None}
    kwargs[f"{field}_id"] = stranger_address.pk

    with pytest.raises(InvalidAddress) as exc:
        order_place(user=user, **kwargs)

    assert exc.value.as_response_data() == {field: ["Choose one of your own addresses."]}
    assert db_state() == before


def test_insufficient_stock_is_a_409_naming_the_item_and_what_is_left(buyer):
    user, address = buyer
    plenty = ProductFactory(stock=10)
    scarce = ProductFactory(name="Rare Vinyl", stock=5)
    fill_cart(user, (plenty, 1), (scarce, 4))
    scarce_stock = Product.objects.filter(pk=scarce.pk)
    from catalog.stock import stock_adjust

    stock_adjust(product_id=scarce.pk, delta=-3, reason="admin")  # someone else bought 3 meanwhile
    before = db_state()

    with pytest.raises(Conflict) as exc:
        order_place(user=user, shipping_address_id=address.pk)

    assert exc.value.status_code == 409
    assert "Rare Vinyl" in exc.value.message and "Only 2" in exc.value.message
    assert exc.value.extra["available"] == 2
    assert scarce_stock.get().stock == 2
    assert db_state() == before


def test_an_inactive_product_is_a_409_and_writes_nothing(buyer):
    user, address = buyer
    product = ProductFactory(name="Old Lamp")
    fill_cart(user, (product, 1))
    Product.objects.filter(pk=product.pk).update(is_active=False)
    before = db_state()

    with pytest.raises(ProductUnavailable) as exc:
        order_place(user=user, shipping_address_id=address.pk)

    assert exc.value.status_code == 409 and "Old Lamp" in exc.value.message
    assert db_state() == before


def test_an_inactive_variant_is_a_409_and_writes_nothing(buyer):
    user, address = buyer
    variant = VariantFactory(name="Blue L")
    fill_cart(user, (variant.product, variant, 1))
    ProductVariant.objects.filter(pk=variant.pk).update(is_active=False)
    before = db_state()

    with pytest.raises(ProductUnavailable) as exc:
        order_place(user=user, shipping_address_id=address.pk)

    assert "Blue L" in exc.value.message
    assert db_state() == before


def test_a_coupon_that_no_longer_applies_is_a_409_and_writes_nothing(buyer):
    user, address = buyer
    fill_cart(user, (ProductFactory(), 1))
    coupon = Coupon.objects.create(code="ONCE", discount_type="fixed", value=Decimal("5"), max_uses=1)
    apply_coupon(user, "ONCE")
    # Someone else used it up between applying and checking out.
    other = UserFactory()
    fill_cart(other, (ProductFactory(), 1))
    apply_coupon(other, "ONCE")
    order_place(user=other, shipping_address_id=AddressFactory(user=other).pk)
    before = db_state()

    with pytest.raises(Conflict) as exc:
        order_place(user=user, shipping_address_id=address.pk)

    assert exc.value.status_code == 409 and "used up" in exc.value.message
    assert db_state() == before
    assert coupon.redemptions.count() == 1


def test_no_email_is_sent_when_checkout_fails(buyer, django_capture_on_commit_callbacks):
    user, address = buyer
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(EmptyCart):
        order_place(user=user, shipping_address_id=address.pk)
    assert callbacks == [] and mail.outbox == []


# --- Query count --------------------------------------------------------------------------------


def _checkout_queries(lines: int, *, coupon: bool = False) -> list[str]:
    user = UserFactory()
    address = AddressFactory(user=user)
    fill_cart(user, *[(ProductFactory(stock=10), 1) for _ in range(lines)])
    if coupon:
        Coupon.objects.get_or_create(code="QC", defaults={"discount_type": "percent", "value": Decimal("5")})
        apply_coupon(user, "QC")
    with CaptureQueriesContext(connection) as ctx:
        order_place(user=user, shipping_address_id=address.pk)
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("coupon", [False, True])
def test_checkout_query_count_does_not_grow_with_the_cart(coupon):
    one, five = _checkout_queries(1, coupon=coupon), _checkout_queries(5, coupon=coupon)
    # Locks, stock updates (one UPDATE per table), items and ledger rows are all set-based.
    assert len(five) == len(one)
