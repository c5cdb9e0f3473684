"""Payments, the inbound side: money that moved, and what it does to the order.

Stripe's webhook events (stored once by `services.webhook_event_record`, applied here exactly once by
the `process_webhook_event` task), the reconciliation of Checkout Sessions whose webhook never came
(`checkout_sessions_reconcile`, through the same handlers) and a staff refund of a payment.
The Payment rows change through `payments.services`; the order reacts through orders' services
(`order_mark_paid`, `order_cancel`, `order_refunded_in_full`), which own what money does to an
order. Orders never imports this module.

Locks: the order row first, then the payment (`services.lock_payment`), like every writer of both.
"""

import logging
from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from common.money import from_minor
from common.tasks import enqueue_on_commit
from orders.models import Order
from orders.services import lock_order, order_cancel, order_mark_paid, order_refunded_in_full
from payments import services
from payments.exceptions import PaymentProviderError
from payments.models import Payment, WebhookEvent
from payments.tasks import send_payment_received_email

logger = logging.getLogger(__name__)


# --- Staff refunds ---------------------------------------------------------------------------------


def payment_refund(*, payment_id: int, amount: Decimal | None = None, by=None) -> Payment:
    """Refund a succeeded payment in full (amount None) or in part through Stripe.

    amount_refunded and status follow Stripe's answer; a full refund moves the order to refunded.
    Raises InvalidInput (400) for more than what is left, PaymentNotRefundable (409) for a payment
    that did not succeed, PaymentProviderError (502) when Stripe fails (nothing is changed then).
    """
    with transaction.atomic():
        payment = services.lock_payment(pk=payment_id)
        if payment is None:
            raise Payment.DoesNotExist(f"Payment {payment_id} does not exist.")
        services.payment_refund_locked(payment=payment, amount=amount)
        if payment.status == Payment.Status.REFUNDED:
            order_refunded_in_full(order_id=payment.order_id, by=by)
        return payment


# --- Webhook events --------------------------------------------------------------------------------


def webhook_event_process(*, event_id: int) -> WebhookEvent | None:
    """Apply a stored event exactly once, however often and however concurrently this is called.

    The event row is locked for the whole run, so a second worker waits and then sees it processed.
    A handler error marks the event failed (kept for a retry or the admin's reprocess) and is re-raised.
    """
    failure: Exception | None = None
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
            return event
        handler = _HANDLERS.get(event.type)
        if handler is None:
            event.status = WebhookEvent.Status.IGNORED
        else:
            try:
                with transaction.atomic():
                    handler(event.payload["data"]["object"])
            except Exception as exc:  # a task boundary: recorded on the event, re-raised for Celery's retry
                logger.exception("Processing Stripe event %s (%s) failed.", event.stripe_event_id, event.type)
                failure = exc
                event.status = WebhookEvent.Status.FAILED
                event.error = f"{type(exc).__name__}: {exc}"[:2000]
            else:
                event.status = WebhookEvent.Status.PROCESSED
                event.error = ""
        if event.status != WebhookEvent.Status.FAILED:
            event.processed_at = timezone.now()
        event.save(update_fields=["status", "error", "processed_at"])
    if failure is not None:
        raise failure
    return event


def _payment_succeeded(payment: Payment, session: dict) -> None:
    if not services.payment_succeeded_record(payment=payment, session=session):
        return
    order = lock_order(payment.order_id)
    if order.status == Order.Status.PENDING:
        order_mark_paid(order_id=order.pk, note=f"Paid through Stripe Checkout ({session['id']}).")
        enqueue_on_commit(send_payment_received_email, payment_id=payment.pk)
        return
    # Paid for an order that is cancelled (or already paid): give the money back and tell staff.
    services.payment_flag(payment=payment, reason=f"Paid while the order was {order.status}; refunded automatically.")
    logger.warning("Payment %s arrived for order %s in status %s; refunding.", payment.pk, order.pk, order.status)
    services.payment_refund_locked(payment=payment, amount=None)


def _on_session_completed(session: dict) -> None:
    payment = services.payment_lock_for_session(session=session)
    if payment is None:
        return
    services.payment_intent_remember(payment=payment, session=session)
    if session.get("payment_status") in ("paid", "no_payment_required"):
        _payment_succeeded(payment, session)
    else:
        logger.info("Session %s completed unpaid; waiting for the async payment events.", session["id"])


def _on_async_payment_succeeded(session: dict) -> None:
    payment = services.payment_lock_for_session(session=session)
    if payment is None:
        return
    services.payment_intent_remember(payment=payment, session=session)
    _payment_succeeded(payment, session)


def _on_async_payment_failed(session: dict) -> None:
    payment = services.payment_lock_for_session(session=session)
    if payment is None:
        return
    services.payment_intent_remember(payment=payment, session=session)
    services.payment_failed_record(payment=payment)


def _on_session_expired(session: dict) -> None:
    payment = services.payment_lock_for_session(session=session)
    if payment is None or not services.payment_expired_record(payment=payment):
        return
    order = lock_order(payment.order_id)
    if order.status != Order.Status.PENDING:
        return
    if services.payment_open_for(order=order, now=timezone.now()) is not None:
        return  # the customer is paying through a newer session
    order_cancel(order_id=order.pk, by=None, note=f"Stripe Checkout Session {session['id']} expired.")


def _on_charge_refunded(charge: dict) -> None:
    payment_intent = charge.get("payment_intent")
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id")
    payment = services.lock_payment(stripe_payment_intent_id=payment_intent) if payment_intent else None
    if payment is None:
        logger.warning("charge.refunded for unknown payment intent %s; ignored.", payment_intent)
        return
    total = from_minor(int(charge.get("amount_refunded") or 0), payment.currency)
    changed = services.payment_refunded_total_record(payment=payment, total=total)
    if changed and payment.status == Payment.Status.REFUNDED:
        order_refunded_in_full(order_id=payment.order_id, by=None)


# --- Reconciliation: Stripe's word on sessions whose webhook never came ------------------------------

# Stripe expires a session at `expires_at` and sends the webhook moments later: give it that long first.
RECONCILE_AFTER_EXPIRY = timedelta(minutes=5)
PAID_STATUSES = ("paid", "no_payment_required")


def checkout_sessions_reconcile(*, batch_size: int = 100) -> dict[str, int]:
    """Ask Stripe about every Checkout Session still `pending` here `RECONCILE_AFTER_EXPIRY` after its
    `expires_at`, and apply its answer through the webhook handlers: paid → the payment succeeds and
    the order is paid (or, the order being cancelled meanwhile, the money is refunded and flagged);
    expired → the payment expires and its pending order is cancelled and restocked; still open, or
    completed with the payment still settling → left for the next run or the webhook.

    Stripe is asked outside any transaction; each session is then applied in its own short one, with
    `skip_locked`, so a webhook or a cancel in flight for the same order wins and this run skips it.
    Idempotent, like the handlers: a webhook arriving later (or a second run) changes nothing more.
    Returns counts by outcome.
    """
    outcomes: Counter[str] = Counter()
    seen: set[int] = set()
    while True:
        batch = services.payments_to_reconcile(
            now=timezone.now(), after_expiry=RECONCILE_AFTER_EXPIRY, exclude=seen, limit=batch_size
        )
        if not batch:
            return dict(outcomes)
        sessions = dict(Payment.objects.filter(pk__in=batch).values_list("pk", "stripe_session_id"))
        for payment_id in batch:
            seen.add(payment_id)
            try:
                outcomes[_reconcile_one(payment_id=payment_id, session_id=sessions[payment_id])] += 1
            except PaymentProviderError:
                # Stripe unreachable or refusing: this session is asked again on the next run.
                logger.warning("Reconciling payment %s: Stripe failed; retrying on the next run.", payment_id)
                outcomes["failed"] += 1


def _reconcile_one(*, payment_id: int, session_id: str) -> str:
    session = services.checkout_session_retrieve(session_id=session_id)
    status, payment_status = session.get("status"), session.get("payment_status")
    if status == "complete" and payment_status in PAID_STATUSES:
        handler, outcome = _on_session_completed, "paid"
    elif status == "expired":
        handler, outcome = _on_session_expired, "expired"
    else:
        return "open" if status == "open" else "unsettled"
    with transaction.atomic():
        if services.lock_payment_if_free(payment_id=payment_id) is None:
            return "skipped"  # being handled right now, or no longer pending
        logger.warning("Session %s is %s at Stripe, pending here (no webhook); applying it.", session_id, status)
        handler(session)
    return outcome


_HANDLERS = {
    "checkout.session.completed": _on_session_completed,
    "checkout.session.async_payment_succeeded": _on_async_payment_succeeded,
    "checkout.session.async_payment_failed": _on_async_payment_failed,
    "checkout.session.expired": _on_session_expired,
    "charge.refunded": _on_charge_refunded,
}
