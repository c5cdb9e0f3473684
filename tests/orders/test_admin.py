"""The order admin: pages render, snapshots are read-only, actions go through the services."""

import pytest

from orders.models import Order
from orders.services import order_mark_paid
from tests.factories import OrderFactory
from tests.orders.factories import place

pytestmark = pytest.mark.django_db




def test_changelist_search_filter_and_change_page_render(admin_client):
    order = place()
    assert admin_client.get("/admin/orders/order/").status_code == 200
    page = admin_client.get("/admin/orders/order/", {"q": order.user.email, "status__exact": "pending"})
    assert order.number in page.content.decode()
    change = admin_client.get(f"/admin/orders/order/{order.pk}/change/")
    assert change.status_code == 200
    assert 'name="shipping_address"' not in change.content.decode()  # read-only snapshot


def test_actions_move_orders_along_the_table_and_report_refusals(admin_client):
    paid, pending = place(), place()
    order_mark_paid(order_id=paid.pk)

    response = admin_client.post(
        "/admin/orders/order/",
        {"action": "mark_processing", "_selected_action": [str(paid.pk), str(pending.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assert Order.objects.get(pk=paid.pk).status == Order.Status.PROCESSING
    assert Order.objects.get(pk=pending.pk).status == Order.Status.PENDING
    text = response.content.decode()
    assert "1 order(s) marked processing." in text and pending.number in text


def test_cancel_action_restocks_through_the_service(admin_client):
    order = place()
    admin_client.post("/admin/orders/order/", {"action": "cancel_orders", "_selected_action": [str(order.pk)]})
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.status_changes.last().note == "Cancelled in the admin"


def test_guest_orders_are_listed_with_their_email_and_found_by_it(admin_client):
    guest = OrderFactory(user=None, email="walk-in@example.com")
    users = place()

    page = admin_client.get("/admin/orders/order/", {"q": "walk-in@example.com"}).content.decode()

    assert guest.number in page and "walk-in@example.com" in page
    assert users.number not in page
    assert admin_client.get(f"/admin/orders/order/{guest.pk}/change/").status_code == 200
