"""The status machine: every (from, to) pair through every entry point, allowed or 409."""

import itertools

import pytest

from orders import state
from orders.exceptions import InvalidTransition, OrderActionNotAllowed
from orders.models import Order, OrderStatusChange
from orders.services import order_cancel, order_mark_paid, order_mark_refunded, order_set_status
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Order.Status
ALL_PAIRS = list(itertools.product(S.values, S.values))


def allowed(frm, to, actor):
    return actor in state.TRANSITIONS.get((frm, to), ())


def assert_moved(order, frm, to, by=None):
    order.refresh_from_db()
    assert order.status == to
    last = order.status_changes.order_by("-id").first()
    assert (last.from_status, last.to_status) == (frm, to)
    assert last.changed_by_id == (by.pk if by is not None else None)


def assert_refused(order, frm, call):
    history = OrderStatusChange.objects.filter(order=order).count()
    with pytest.raises(InvalidTransition) as exc:
        call()
    assert exc.value.status_code == 409 and exc.value.message
    order.refresh_from_db()
    assert order.status == frm
    assert OrderStatusChange.objects.filter(order=order).count() == history


def test_the_table_is_the_documented_machine():
    assert set(state.TRANSITIONS) == {
        (S.PENDING, S.PAID), (S.PAID, S.PROCESSING), (S.PROCESSING, S.SHIPPED), (S.SHIPPED, S.DELIVERED),
        (S.PENDING, S.CANCELLED), (S.PAID, S.CANCELLED), (S.PROCESSING, S.CANCELLED),
        (S.PAID, S.REFUNDED), (S.PROCESSING, S.REFUNDED), (S.SHIPPED, S.REFUNDED), (S.DELIVERED, S.REFUNDED),
    }
    assert state.allowed_targets(status=S.PENDING, actor=state.OWNER) == [S.CANCELLED]
    assert state.allowed_targets(status=S.CANCELLED, actor=state.STAFF) == []


@pytest.mark.parametrize(("frm", "to"), ALL_PAIRS)
def test_staff_status_endpoint_service(frm, to, refunds):
    staff = UserFactory(is_staff=True)
    order = OrderFactory(status=frm)

    def call():
        return order_set_status(order_id=order.pk, status=to, by=staff, carrier="DHL", tracking_number="TRK1")

    if allowed(frm, to, state.STAFF):
        call()
        assert_moved(order, frm, to, by=staff)
        # Every cancel asks the refunder: it gives back whatever money arrived (none for most pending orders).
        assert bool(refunds) == (to in (S.REFUNDED, S.CANCELLED))
    else:
        assert_refused(order, frm, call)


@pytest.mark.parametrize("frm", S.values)
def test_paid_is_reached_only_through_a_payment(frm):
    order = OrderFactory(status=frm)
    if frm == S.PENDING:
        order_mark_paid(order_id=order.pk, note="pi_123")
        assert_moved(order, S.PENDING, S.PAID)
        assert order.paid_at is not None
    else:
        assert_refused(order, frm, lambda: order_mark_paid(order_id=order.pk))


def test_the_status_endpoint_never_sets_paid():
    order = OrderFactory(status=S.PENDING)
    with pytest.raises(InvalidTransition, match="only through a successful payment"):
        order_set_status(order_id=order.pk, status=S.PAID, by=UserFactory(is_staff=True))


@pytest.mark.parametrize("actor", ["owner", "staff", "system"])
@pytest.mark.parametrize("frm", S.values)
def test_cancel_by_each_actor(frm, actor, refunds):
    order = OrderFactory(status=frm)
    by = {"owner": order.user, "staff": UserFactory(is_staff=True), "system": None}[actor]
    if allowed(frm, S.CANCELLED, actor):
        order_cancel(order_id=order.pk, by=by)
        assert_moved(order, frm, S.CANCELLED, by=by)
        assert order.cancelled_at is not None
    else:
        assert_refused(order, frm, lambda: order_cancel(order_id=order.pk, by=by))


def test_the_owner_is_told_why_a_paid_order_cannot_be_cancelled():
    order = OrderFactory(status=S.PAID)
    with pytest.raises(InvalidTransition, match="only pending orders can be cancelled"):
        order_cancel(order_id=order.pk, by=order.user)


@pytest.mark.parametrize("frm", S.values)
def test_refund_by_the_system(frm):
    order = OrderFactory(status=frm)
    if allowed(frm, S.REFUNDED, state.SYSTEM):
        order_mark_refunded(order_id=order.pk)
        assert_moved(order, frm, S.REFUNDED)
    else:
        assert_refused(order, frm, lambda: order_mark_refunded(order_id=order.pk))


def test_a_customer_cannot_use_the_status_service():
    order = OrderFactory(status=S.PAID)
    with pytest.raises(OrderActionNotAllowed):
        order_set_status(order_id=order.pk, status=S.PROCESSING, by=order.user)
