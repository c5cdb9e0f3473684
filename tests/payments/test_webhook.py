import time

import pytest
from django.core import mail

from catalog.models import Product
from orders.models import Order
from payments import services
from payments.models import Payment, WebhookEvent
from tests.factories import OrderFactory, ProductFactory
from tests.orders.factories import place
from tests.payments.conftest import WEBHOOK_URL, event_payload, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(user):
    return OrderFactory(user=user)


@pytest.fixture
def payment(order, fake_stripe):
    return services.checkout_session_create(user=order.user, order_id=order.pk)


def refreshed(*objects):
    for obj in objects:
        obj.refresh_from_db()


# --- Signature ---------------------------------------------------------------------------------------


def post_raw(api_client, payload: str, signature: str | None):
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return api_client.post(WEBHOOK_URL, data=payload, content_type="application/json", **headers)


def test_missing_signature_is_a_400_and_stores_nothing(api_client, fake_stripe):
    response = post_raw(api_client, event_payload("checkout.session.completed", {"id": "cs_x"}), None)

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_forged_signature_is_a_400_and_stores_nothing(api_client, fake_stripe):
    payload = event_payload("checkout.session.completed", {"id": "cs_x"})

    response = post_raw(api_client, payload, sign(payload, secret="whsec_somebody_else"))

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_tampered_payload_is_a_400(api_client, fake_stripe):
    payload = event_payload("checkout.session.completed", {"id": "cs_x", "amount_total": 100})

    response = post_raw(api_client, payload.replace("100", "1"), sign(payload))

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_stale_signature_older_than_five_minutes_is_a_400(api_client, fake_stripe):
    payload = event_payload("checkout.session.completed", {"id": "cs_x"})

    response = post_raw(api_client, payload, sign(payload, timestamp=int(time.time()) - 301))

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_garbage_header_is_a_400(api_client, fake_stripe):
    response = post_raw(api_client, "{}", "nonsense")

    assert response.status_code == 400


def test_any_of_several_v1_signatures_verifies_as_while_stripe_rolls_its_secret(api_client, fake_stripe):
    payload = event_payload("customer.created", {"id": "cus_1"})
    old = sign(payload, secret="whsec_the_old_one").split(",v1=")[1]

    response = post_raw(api_client, payload, f"{sign(payload)},v1={old},v0=ignored")

    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_without_a_webhook_secret_the_endpoint_is_a_503_and_stores_nothing(api_client, fake_stripe, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = event_payload("customer.created", {"id": "cus_1"})

    response = post_raw(api_client, payload, sign(payload))

    assert response.status_code == 503
    assert "STRIPE_WEBHOOK_SECRET" in response.json()["detail"]
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("not json", id="not-json"),
        pytest.param('["an", "array"]', id="not-an-object"),
        pytest.param('{"id": "evt_1", "object": "event"}', id="no-type"),
        pytest.param('{"id": 12, "type": "customer.created"}', id="id-not-a-string"),
        pytest.param('{"id": "evt_1", "object": "v2.core.event", "type": "v1.meter"}', id="thin-v2-notification"),
        pytest.param(event_payload("x" * 101, {"id": "cus_1"}), id="type-longer-than-its-column"),
        pytest.param(event_payload("customer.created", {"id": "cus_1", "name": "a\u0000b"}), id="nul-in-a-string"),
        pytest.param('{"id": "evt_1", "type": "customer.created", "amount": NaN}', id="nan"),
    ],
)
def test_a_signed_body_that_is_not_a_storable_stripe_event_is_a_400_and_stores_nothing(
    api_client, fake_stripe, payload
):
    response = post_raw(api_client, payload, sign(payload))

    assert response.status_code == 400
    assert response.json() == {"detail": "The webhook payload is not a Stripe event."}
    assert not WebhookEvent.objects.exists()


def test_a_bad_signature_answers_the_same_json_body(api_client, fake_stripe):
    payload = event_payload("customer.created", {"id": "cus_1"})

    response = post_raw(api_client, payload, sign(payload, secret="whsec_somebody_else"))

    assert response.json() == {"detail": "The Stripe-Signature header does not verify (forged, stale or wrong secret)."}


def test_webhook_needs_no_authentication_or_csrf(fake_stripe):
    from django.test import Client

    payload = event_payload("customer.created", {"id": "cus_1"})
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload)
    )

    assert response.status_code == 200


def test_unknown_event_type_is_stored_ignored_and_acknowledged(deliver):
    response = deliver("customer.created", {"id": "cus_123", "object": "customer"})

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    event = WebhookEvent.objects.get()
    assert (event.type, event.status) == ("customer.created", WebhookEvent.Status.IGNORED)
    assert event.processed_at is not None


def test_duplicate_delivery_is_acknowledged_and_changes_nothing(deliver, payment, fake_stripe):
    session = fake_stripe.complete_session(payment.stripe_session_id)

    first = deliver("checkout.session.completed", session, event_id="evt_dup_1")
    second = deliver("checkout.session.completed", session, event_id="evt_dup_1")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 1
    assert payment.order.status_changes.filter(to_status=Order.Status.PAID).count() == 1
    assert len(mail.outbox) == 1


# --- checkout.session.completed / async ------------------------------------------------------------------


def test_completed_and_paid_marks_payment_succeeded_and_order_paid(deliver, payment, fake_stripe):
    session = fake_stripe.complete_session(payment.stripe_session_id)

    response = deliver("checkout.session.completed", session)

    assert response.status_code == 200
    refreshed(payment, payment.order)
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.succeeded_at is not None
    assert payment.stripe_payment_intent_id == session["payment_intent"]
    assert payment.order.status == Order.Status.PAID
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    (email,) = mail.outbox
    assert email.subject == f"Payment received for order {payment.order.number}"
    assert "30.00 USD" in email.body
    assert email.alternatives[0][1] == "text/html"


def test_completed_but_unpaid_waits_for_the_async_result(deliver, payment, fake_stripe):
    session = fake_stripe.complete_session(payment.stripe_session_id, payment_status="unpaid")

    deliver("checkout.session.completed", session)

    refreshed(payment, payment.order)
    assert payment.status == Payment.Status.PENDING
    assert payment.order.status == Order.Status.PENDING
    assert payment.stripe_payment_intent_id == session["payment_intent"]


def test_async_payment_succeeded_marks_the_order_paid(deliver, payment, fake_stripe):
    unpaid = fake_stripe.complete_session(payment.stripe_session_id, payment_status="unpaid")
    deliver("checkout.session.completed", unpaid)

    deliver("checkout.session.async_payment_succeeded", fake_stripe.async_payment_settles(payment.stripe_session_id,
                                                                                         succeeded=True))

    refreshed(payment, payment.order)
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.order.status == Order.Status.PAID
    assert [m.subject for m in mail.outbox] == [f"Payment received for order {payment.order.number}"]


def test_async_payment_failed_marks_the_payment_failed_and_emails(deliver, payment, fake_stripe):
    unpaid = fake_stripe.complete_session(payment.stripe_session_id, payment_status="unpaid")
    deliver("checkout.session.completed", unpaid)

    deliver("checkout.session.async_payment_failed", fake_stripe.async_payment_settles(payment.stripe_session_id,
                                                                                      succeeded=False))

    refreshed(payment, payment.order)
    assert payment.status == Payment.Status.FAILED
    assert payment.order.status == Order.Status.PENDING
    (email,) = mail.outbox
    assert email.subject == f"Payment failed for order {payment.order.number}"
    assert f"/orders/{payment.order.pk}" in email.body


def test_amount_mismatch_flags_the_payment_and_does_not_pay_the_order(deliver, payment, fake_stripe):
    session = fake_stripe.complete_session(payment.stripe_session_id, amount_total=100)

    deliver("checkout.session.completed", session)

    refreshed(payment, payment.order)
    assert payment.needs_attention is True
    assert "mismatch" in payment.attention_reason.lower()
    assert payment.order.status == Order.Status.PENDING
    assert not mail.outbox


def test_currency_mismatch_flags_the_payment(deliver, payment, fake_stripe):
    session = fake_stripe.complete_session(payment.stripe_session_id)
    session["currency"] = "eur"

    deliver("checkout.session.completed", session)

    refreshed(payment, payment.order)
    assert payment.needs_attention is True
    assert payment.order.status == Order.Status.PENDING


def test_payment_for_an_already_cancelled_order_is_refunded_and_flagged(deliver, payment, fake_stripe):
    from orders.services import order_cancel

    order_cancel(order_id=payment.order_id, by=None, note="test")
    session = fake_stripe.complete_session(payment.stripe_session_id)

    deliver("checkout.session.completed", session)

    refreshed(payment, payment.order)
    assert payment.order.status == Order.Status.CANCELLED
    assert payment.needs_attention is True
    assert "refunded automatically" in payment.attention_reason
    assert payment.status == Payment.Status.REFUNDED
    assert payment.amount_refunded == payment.amount
    (refund,) = fake_stripe.refunds
    assert (refund["payment_intent"], refund["amount"]) == (session["payment_intent"], 3000)


def test_a_session_we_never_recorded_is_adopted_by_its_order_id(deliver, order, fake_stripe):
    # given: Stripe made the session but our request died before the Payment row was committed
    services.checkout_session_create(user=order.user, order_id=order.pk)
    session_id = Payment.objects.get().stripe_session_id
    Payment.objects.all().delete()

    deliver("checkout.session.completed", fake_stripe.complete_session(session_id))

    payment = Payment.objects.get()
    order.refresh_from_db()
    assert (payment.stripe_session_id, payment.status) == (session_id, Payment.Status.SUCCEEDED)
    assert order.status == Order.Status.PAID


# --- checkout.session.expired -------------------------------------------------------------------------


def test_expired_session_cancels_and_restocks_the_pending_order(deliver, fake_stripe, user):
    order = place(user, (ProductFactory(stock=10), 3))
    product = Product.objects.get(pk=order.items.get().product_id)
    assert product.stock == 7
    payment = services.checkout_session_create(user=user, order_id=order.pk)

    deliver("checkout.session.expired", fake_stripe.expire_session(payment.stripe_session_id))

    refreshed(payment, order, product)
    assert payment.status == Payment.Status.EXPIRED
    assert order.status == Order.Status.CANCELLED
    assert product.stock == 10


def test_a_late_expired_event_never_undoes_a_payment(deliver, payment, fake_stripe):
    session = fake_stripe.complete_session(payment.stripe_session_id)
    deliver("checkout.session.completed", session)

    deliver("checkout.session.expired", {**session, "status": "expired"})

    refreshed(payment, payment.order)
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.order.status == Order.Status.PAID


# --- charge.refunded -----------------------------------------------------------------------------------


@pytest.fixture
def paid(deliver, payment, fake_stripe):
    deliver("checkout.session.completed", fake_stripe.complete_session(payment.stripe_session_id))
    payment.refresh_from_db()
    mail.outbox.clear()
    return payment


def test_full_charge_refunded_refunds_the_payment_and_the_order(deliver, paid, fake_stripe):
    charge = fake_stripe.refund_outside(paid.stripe_payment_intent_id, 3000)

    deliver("charge.refunded", charge)

    refreshed(paid, paid.order)
    assert (paid.status, paid.amount_refunded) == (Payment.Status.REFUNDED, paid.amount)
    assert paid.order.status == Order.Status.REFUNDED
    (email,) = mail.outbox
    assert email.subject == f"Refund issued for order {paid.order.number}"


def test_partial_charge_refunded_is_a_partial_refund(deliver, paid, fake_stripe):
    charge = fake_stripe.refund_outside(paid.stripe_payment_intent_id, 1000)

    deliver("charge.refunded", charge)

    refreshed(paid, paid.order)
    assert paid.status == Payment.Status.PARTIALLY_REFUNDED
    assert str(paid.amount_refunded) == "10.00"
    assert paid.order.status == Order.Status.PAID


def test_charge_refunded_events_use_the_absolute_amount_and_never_double_count(deliver, paid, fake_stripe):
    first = fake_stripe.refund_outside(paid.stripe_payment_intent_id, 1000)
    second = fake_stripe.refund_outside(paid.stripe_payment_intent_id, 500)

    # delivered out of order, and the first twice under different event ids
    deliver("charge.refunded", second)
    deliver("charge.refunded", first)
    deliver("charge.refunded", first)

    paid.refresh_from_db()
    assert str(paid.amount_refunded) == "15.00"
    assert len(mail.outbox) == 1


def test_charge_refunded_for_an_unknown_payment_intent_is_processed_harmlessly(deliver, fake_stripe):
    response = deliver("charge.refunded", {"id": "ch_x", "object": "charge", "payment_intent": "pi_unknown",
                                           "amount": 100, "amount_refunded": 100, "currency": "usd"})

    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED


# --- Failures and reprocessing -----------------------------------------------------------------------------


def test_a_failing_event_is_marked_failed_and_can_be_reprocessed(deliver, payment, fake_stripe, run_on_commit):
    from orders.services import order_cancel

    order_cancel(order_id=payment.order_id, by=None)
    fake_stripe.fail_next(status=500, count=50)  # the automatic refund cannot reach Stripe

    response = deliver("checkout.session.completed", fake_stripe.complete_session(payment.stripe_session_id))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED
    assert "PaymentProviderError" in event.error
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING

    # when: Stripe is back and staff reprocess
    fake_stripe.failures.clear()
    with run_on_commit():
        assert services.webhook_event_reset_for_reprocessing(event_id=event.pk) is True

    refreshed(event, payment)
    assert event.status == WebhookEvent.Status.PROCESSED
    assert payment.status == Payment.Status.REFUNDED
