import pytest
from django.urls import reverse

from payments import services
from payments.models import Payment, WebhookEvent
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


@pytest.fixture
def paid(user, deliver, fake_stripe):
    order = OrderFactory(user=user)
    payment = services.checkout_session_create(user=user, order_id=order.pk)
    deliver("checkout.session.completed", fake_stripe.complete_session(payment.stripe_session_id))
    payment.refresh_from_db()
    return payment


def test_payment_admin_pages_render(admin_client, paid):
    changelist = reverse("admin:payments_payment_changelist")
    assert admin_client.get(changelist + "?needs_attention__exact=0").status_code == 200
    assert admin_client.get(reverse("admin:payments_payment_change", args=[paid.pk])).status_code == 200
    assert admin_client.get(reverse("admin:payments_webhookevent_changelist") + "?status=processed").status_code == 200


def test_payment_admin_refund_action_refunds_through_stripe(admin_client, paid, fake_stripe):
    response = admin_client.post(
        reverse("admin:payments_payment_changelist"),
        {"action": "refund_in_full", "_selected_action": [paid.pk]},
        follow=True,
    )

    assert response.status_code == 200
    paid.refresh_from_db()
    assert paid.status == Payment.Status.REFUNDED
    assert fake_stripe.refunds[0]["amount"] == 3000


def test_webhook_admin_reprocess_action_requeues_failed_events(admin_client, paid, run_on_commit):
    event = WebhookEvent.objects.get()
    WebhookEvent.objects.filter(pk=event.pk).update(status=WebhookEvent.Status.FAILED, error="boom")

    with run_on_commit():
        admin_client.post(
            reverse("admin:payments_webhookevent_changelist"),
            {"action": "reprocess", "_selected_action": [event.pk]},
        )

    event.refresh_from_db()
    assert (event.status, event.error) == (WebhookEvent.Status.PROCESSED, "")
