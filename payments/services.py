"""Payments, the outbound side: Checkout Sessions, their expiry, refunds, and the Payment and
WebhookEvent rows. Every write to those rows goes through here.

This module never changes an order: it imports orders' models, selectors and exceptions, never its
services. Where money moving changes an order (a payment arrives, a payment is refunded in full),
`payments.webhooks` calls orders' services.
Orders reaches back here only through the refunder it declares and this app registers at start-up
(`payments.apps`): `payment_refund_for_order`, which leaves the order's own status to its caller.

Locks: the order row first, then its payments (`lock_payment`), as orders' services do, so a webhook
and a staff cancel of one order queue behind each other instead of deadlocking.
Stripe is reached only through `payments.stripe_api.stripe_client()`, always with an idempotency key.
"""

import hashlib
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import stripe
from django.conf import settings
from django.db import DataError, connection, transaction
from django.utils import timezone

from common.money import from_minor, to_minor
from common.tasks import enqueue_on_commit
from config.exceptions import InvalidInput
from config.metrics import payment_outcome_record
from orders.exceptions import OrderNotFound
from orders.models import Order
from orders.selectors import order_token_hash
from payments.exceptions import (
    OrderNotPayable,
    PaymentNotRefundable,
    PaymentProviderError,
    PaymentsNotConfigured,
)
from payments.models import Payment, WebhookEvent
from payments.stripe_api import provider_error, stripe_client
from payments.tasks import (
    expire_checkout_sessions,
    process_webhook_event,
    send_payment_failed_email,
    send_refund_email,
)

logger = logging.getLogger(__name__)

Status = Payment.Status

STRIPE_MIN_SESSION_LIFETIME = timedelta(minutes=30)
STRIPE_MAX_SESSION_LIFETIME = timedelta(hours=24)
SESSION_LIFETIME_MARGIN = timedelta(minutes=1)
# An open session this close to its end is not handed out again: the customer could not finish paying.
SESSION_REUSE_MIN_REMAINING = timedelta(minutes=2)

REFUNDABLE_STATUSES = (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED)
MONEY_RECEIVED_STATUSES = (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED)


def _timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


# --- Checkout ------------------------------------------------------------------------------------


def _session_expires_at(*, order: Order, now: datetime) -> int:
    """The order's payment deadline, but within Stripe's bounds (30 minutes to 24 hours away)."""
    earliest = now + STRIPE_MIN_SESSION_LIFETIME + SESSION_LIFETIME_MARGIN
    latest = now + STRIPE_MAX_SESSION_LIFETIME - SESSION_LIFETIME_MARGIN
    if order.payment_deadline >= earliest:
        expires = int(order.payment_deadline.timestamp())
    else:
        # Rounded up to the minute, so a retry of the same request sends the same parameters.
        expires = -(-int(earliest.timestamp()) // 60) * 60
    return min(expires, int(latest.timestamp()))


def _line_items(*, order: Order) -> tuple[list[dict], int]:
    """Line items for the order snapshot in minor units, and the discount (minor units) to apply."""
    currency = order.currency.lower()

    def line(name: str, unit_amount: int, quantity: int) -> dict:
        return {
            "quantity": quantity,
            "price_data": {"currency": currency, "unit_amount": unit_amount, "product_data": {"name": name[:250]}},
        }

    items = [
        line(item.name or item.sku, to_minor(item.unit_price, currency), item.quantity) for item in order.items.all()
    ]
    merchandise = sum(i["price_data"]["unit_amount"] * i["quantity"] for i in items)
    shipping = to_minor(order.shipping, currency)
    discount = to_minor(order.discount, currency)
    if shipping > 0:
        items.append(line("Shipping", shipping, 1))
    total = to_minor(order.total, currency)
    if not items or discount > merchandise or merchandise + shipping - discount != total:
        # The snapshot does not add up to the total (it always should): charge the total as one line.
        logger.error("Order %s: items do not add up to the total; charging it as a single line.", order.pk)
        return [line(f"Order {order.number}", total, 1)], 0
    return items, discount


def _params_digest(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]


def payment_open_for(*, order: Order, now: datetime) -> Payment | None:
    """The order's newest pending Payment whose session is still open long enough to be paid."""
    return (
        order.payments.filter(
            status=Status.PENDING,
            stripe_session_id__isnull=False,
            expires_at__gt=now + SESSION_REUSE_MIN_REMAINING,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def checkout_session_create(*, user=None, order_id: uuid.UUID, guest_token: str | None = None) -> Payment:
    """Open a Stripe Checkout Session for the user's pending order and record it as a pending Payment.

    While a session of the order is still open, that Payment is returned instead (no Stripe call).
    A Stripe failure raises PaymentProviderError (502) and leaves no row behind. The order row is
    locked meanwhile, so concurrent calls for one order create one session. A guest (`user=None`) pays
    the guest order its `guest_token` opens; any other token is a 404.
    """
    with transaction.atomic():
        if user is None:
            order = _lock_order(pk=order_id, user__isnull=True, guest_token_hash=order_token_hash(guest_token or ""))
            if order is None or not guest_token:
                raise OrderNotFound()
        else:
            order = _lock_order(pk=order_id, user=user)
        if order is None:
            raise InvalidInput("No such order.", field="order")
        if order.status != Order.Status.PENDING:
            raise OrderNotPayable(f"Order {order.number} is {order.status}; only a pending order can be paid.")
        now = timezone.now()
        existing = payment_open_for(order=order, now=now)
        if existing is not None:
            return existing

        client = stripe_client()
        currency = order.currency.lower()
        line_items, discount = _line_items(order=order)
        order_url = f"{settings.FRONTEND_URL}/orders/{order.pk}"
        params = {
            "mode": "payment",
            "line_items": line_items,
            "client_reference_id": str(order.pk),
            "metadata": {"order_id": str(order.pk), "order_number": order.number},
            "payment_intent_data": {"metadata": {"order_id": str(order.pk), "order_number": order.number}},
            "success_url": f"{order_url}?payment=success",
            "cancel_url": f"{order_url}?payment=cancelled",
            "expires_at": _session_expires_at(order=order, now=now),
            "customer_email": order.email,
        }
        attempt = order.payments.count() + 1
        try:
            if discount:
                # A one-off amount_off coupon keeps Stripe's amount_total exactly equal to order.total.
                coupon = client.v1.coupons.create(
                    params={
                        "amount_off": discount,
                        "currency": currency,
                        "duration": "once",
                        "max_redemptions": 1,
                        "name": f"Discount {order.number}"[:40],
                        "metadata": {"order_id": str(order.pk)},
                    },
                    options={"idempotency_key": f"order-discount:{order.pk}:{discount}"},
                )
                params["discounts"] = [{"coupon": coupon.id}]
            session = client.v1.checkout.sessions.create(
                params=params,
                options={"idempotency_key": f"checkout-session:{order.pk}:{attempt}:{_params_digest(params)}"},
            )
        except stripe.StripeError as exc:
            logger.warning("Stripe refused a Checkout Session for order %s: %s", order.pk, exc)
            raise provider_error(exc) from exc

        data = session.to_dict()
        if data.get("amount_total") != to_minor(order.total, currency):
            logger.error(
                "Checkout Session %s for order %s totals %s, expected %s.",
                data["id"], order.pk, data.get("amount_total"), to_minor(order.total, currency),
            )
        return Payment.objects.create(
            order=order,
            provider=Payment.Provider.STRIPE,
            status=Status.PENDING,
            amount=order.total,
            currency=currency,
            stripe_session_id=data["id"],
            stripe_payment_intent_id=data.get("payment_intent") or "",
            checkout_url=data.get("url") or "",
            expires_at=_timestamp(data.get("expires_at")),
        )


def checkout_sessions_expire_for_order(*, order_id) -> int:
    """Expire the order's open Checkout Sessions at Stripe so they can no longer be paid.

    Idempotent: a session that is no longer open is left as Stripe has it (a completed one is the
    webhook's business). Returns how many sessions are now known to be expired.
    """
    session_ids = list(
        Payment.objects.filter(order_id=order_id, status=Status.PENDING, stripe_session_id__isnull=False)
        .order_by("pk")
        .values_list("stripe_session_id", flat=True)
    )
    if not session_ids:
        return 0
    client = stripe_client()
    expired = 0
    for session_id in session_ids:
        try:
            session = client.v1.checkout.sessions.expire(
                session_id, options={"idempotency_key": f"checkout-expire:{session_id}"}
            )
        except stripe.InvalidRequestError:
            # No longer open (already expired or completed): Stripe's current state decides.
            try:
                session = client.v1.checkout.sessions.retrieve(session_id)
            except stripe.StripeError as exc:
                raise provider_error(exc) from exc
        except stripe.StripeError as exc:
            raise provider_error(exc) from exc
        if session.status == "expired":
            expired += 1
            Payment.objects.filter(stripe_session_id=session_id, status=Status.PENDING).update(
                status=Status.EXPIRED, updated_at=timezone.now()
            )
    return expired


def checkout_sessions_expire_on_commit(*, order_id) -> None:
    """Queue the expiry of the order's open sessions at Stripe once the caller's transaction commits.

    Registered with orders (`order_cancel_listener_register`): orders calls it whenever an order is
    cancelled (owner, staff, expiry), so a cancelled order can no longer be paid.
    """
    enqueue_on_commit(expire_checkout_sessions, order_id=str(order_id))


def checkout_session_retrieve(*, session_id: str) -> dict:
    """Stripe's current view of a Checkout Session (a read: no idempotency key needed)."""
    try:
        return stripe_client().v1.checkout.sessions.retrieve(session_id).to_dict()
    except stripe.StripeError as exc:
        raise provider_error(exc) from exc


def payments_to_reconcile(*, now: datetime, after_expiry: timedelta, exclude: set[int], limit: int) -> list[int]:
    """Ids of pending Checkout Session payments past their session's expiry by `after_expiry`, oldest first."""
    return list(
        Payment.objects.filter(
            status=Status.PENDING, stripe_session_id__isnull=False, expires_at__lte=now - after_expiry
        )
        .exclude(pk__in=exclude)
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def lock_payment_if_free(*, payment_id: int) -> Payment | None:
    """Like `lock_payment` (order row, then payment), but None at once if either is locked by someone
    else (a webhook or a cancel in flight: they decide) or the payment is no longer pending.
    """
    order_id = Payment.objects.filter(pk=payment_id).values_list("order_id", flat=True).first()
    if order_id is None:
        return None
    free = Order.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=order_id)
    if free.values_list("pk", flat=True).first() is None:
        return None
    return (
        Payment.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk=payment_id, status=Status.PENDING)
        .first()
    )


# --- Locks ---------------------------------------------------------------------------------------


def _lock_order(**lookup) -> Order | None:
    # The order row (orders' lock_order, spelled here: this module imports orders.models only).
    return Order.objects.select_for_update(of=("self",)).filter(**lookup).first()


def lock_payment(**lookup) -> Payment | None:
    """Lock the order of the payment matching `lookup`, then the payment itself; None if there is none.

    Orders' services lock the order before its payments (order_cancel → payment_refund_for_order);
    taking the locks in the same order here means a webhook and a staff cancel of the same order
    queue behind each other instead of deadlocking.
    """
    order_id = Payment.objects.filter(**lookup).values_list("order_id", flat=True).first()
    if order_id is None:
        return None
    _lock_order(pk=order_id)
    return Payment.objects.select_for_update(of=("self",)).filter(**lookup).first()


# --- Refunds -------------------------------------------------------------------------------------


def payment_refunded_total_record(*, payment: Payment, total: Decimal) -> bool:
    """Record the absolute refunded total of a locked payment and queue the refund email.

    The total only grows, so repeated reports (the API's answer, then Stripe's charge.refunded)
    never double count. Returns whether anything changed. The order is left as it is.
    """
    total = min(total, payment.amount)
    if total <= payment.amount_refunded:
        return False
    payment.amount_refunded = total
    payment.status = Status.REFUNDED if total >= payment.amount else Status.PARTIALLY_REFUNDED
    payment.save(update_fields=["amount_refunded", "status", "updated_at"])
    enqueue_on_commit(send_refund_email, payment_id=payment.pk, refunded_total=str(total))
    return True


def _payment_intent_for(*, client: stripe.StripeClient, payment: Payment) -> str:
    if payment.stripe_payment_intent_id or not payment.stripe_session_id:
        return payment.stripe_payment_intent_id
    try:
        session = client.v1.checkout.sessions.retrieve(payment.stripe_session_id)
    except stripe.StripeError as exc:
        raise provider_error(exc) from exc
    payment.stripe_payment_intent_id = session.payment_intent or ""
    if payment.stripe_payment_intent_id:
        payment.save(update_fields=["stripe_payment_intent_id", "updated_at"])
    return payment.stripe_payment_intent_id


def payment_refund_locked(*, payment: Payment, amount: Decimal | None = None) -> Payment:
    """Refund `amount` (all that is left when None) of a payment the caller has locked, through Stripe.

    Records Stripe's answer (`payment_refunded_total_record`); the order is left as it is. Raises
    InvalidInput (400) for a bad amount, PaymentNotRefundable (409), PaymentProviderError (502).
    """
    if payment.status not in REFUNDABLE_STATUSES:
        raise PaymentNotRefundable(f"Only a succeeded payment can be refunded; this one is {payment.status}.")
    remaining = payment.amount - payment.amount_refunded
    amount = remaining if amount is None else amount
    if amount <= 0:
        raise InvalidInput("The refund amount must be greater than zero.", field="amount")
    if amount > remaining:
        raise InvalidInput(f"At most {remaining} {payment.currency} is left to refund.", field="amount")
    client = stripe_client()
    payment_intent = _payment_intent_for(client=client, payment=payment)
    if not payment_intent:
        raise PaymentNotRefundable("This payment has no Stripe payment to refund.")
    minor = to_minor(amount, payment.currency)
    # The refunded-so-far part makes a second, equal partial refund a new request, and a retry the same one.
    key = f"refund:{payment.pk}:{minor}:{to_minor(payment.amount_refunded, payment.currency)}"
    try:
        refund = client.v1.refunds.create(
            params={
                "payment_intent": payment_intent,
                "amount": minor,
                "metadata": {"payment_id": str(payment.pk), "order_id": str(payment.order_id)},
            },
            options={"idempotency_key": key},
        )
    except stripe.StripeError as exc:
        logger.warning("Stripe refused a refund of payment %s: %s", payment.pk, exc)
        raise provider_error(exc) from exc
    if refund.status in ("failed", "canceled"):
        raise PaymentProviderError(f"Stripe did not refund the payment (refund {refund.id} is {refund.status}).")
    refunded = from_minor(refund.amount, payment.currency)
    payment_refunded_total_record(payment=payment, total=payment.amount_refunded + refunded)
    return payment


def payment_refund_for_order(*, order, by=None) -> None:
    """Refund in full what was paid for the order; a no-op when nothing was.

    Orders' refunder (registered in `payments.apps`): order_cancel and order_set_status call it inside
    their transaction with the order row locked. The order's own status is the caller's; a Stripe
    failure raises PaymentProviderError (502) so the caller rolls back.
    """
    with transaction.atomic():
        payments = (
            Payment.objects.filter(order_id=order.pk, status__in=REFUNDABLE_STATUSES)
            .order_by("pk")
            .select_for_update(of=("self",))
        )
        for payment in payments:
            payment_refund_locked(payment=payment, amount=None)


# --- Webhook events: recording (processing is payments.webhooks) -------------------------------


# Stored as Stripe sent it (PostgreSQL parses the text into jsonb; SQLite, `make run`, keeps JSON as text): no
# Python re-serialization. A redelivery meets the unique event id and inserts nothing, without an error to roll
# back to a savepoint.
_WEBHOOK_EVENT_INSERT = """
INSERT INTO payments_webhookevent (stripe_event_id, type, payload, status, error, received_at)
VALUES (%(id)s, %(type)s, {payload}, %(status)s, '', %(now)s)
ON CONFLICT (stripe_event_id) DO NOTHING
RETURNING id
"""


def webhook_event_verify(*, payload: bytes, signature: str | None) -> tuple[str, dict]:
    """The verified event of a webhook delivery: its body as text and as a dict.

    Stripe's own check (`WebhookSignature.verify_header`: every `v1` signature of the header compared in
    constant time, the timestamp within the 5-minute tolerance); the body is then parsed once, as plain
    JSON (Stripe's `construct_event` would also build StripeObjects nobody reads here). Missing, forged or
    stale signatures and bodies that are not a Stripe event raise InvalidInput (400).
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise PaymentsNotConfigured("Webhooks are not available: STRIPE_WEBHOOK_SECRET is not configured.")
    if not signature:
        raise InvalidInput("The Stripe-Signature header is missing.")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
        data = json.loads(text)
    except stripe.SignatureVerificationError as exc:
        raise InvalidInput("The Stripe-Signature header does not verify (forged, stale or wrong secret).") from exc
    except ValueError as exc:  # not UTF-8, or not JSON
        raise InvalidInput("The webhook payload is not a Stripe event.") from exc
    if (
        not isinstance(data, dict)
        or data.get("object") == "v2.core.event"  # a thin v2 notification, not an event (as construct_event says)
        or not data.get("id")
        or not data.get("type")
        or not isinstance(data["id"], str)
        or not isinstance(data["type"], str)
    ):
        raise InvalidInput("The webhook payload is not a Stripe event.")
    return text, data


def webhook_event_record(*, payload: bytes, signature: str | None) -> tuple[int, bool]:
    """Verify a Stripe webhook delivery and store the event once; queue its processing on commit.

    Returns the event's id and whether it is new. A redelivery of an event not yet processed (still
    received, or failed) is queued again. Missing, forged or stale signatures (Stripe's default 5-minute
    tolerance) raise InvalidInput (400) and store nothing. One short transaction: the event row (one
    `INSERT … ON CONFLICT DO NOTHING`) and its outbox row.
    """
    text, data = webhook_event_verify(payload=payload, signature=signature)
    params = {"id": data["id"], "type": data["type"], "payload": text, "status": WebhookEvent.Status.RECEIVED,
              "now": timezone.now()}  # fmt: skip
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                payload_sql = "%(payload)s::jsonb" if connection.vendor == "postgresql" else "%(payload)s"
                cursor.execute(_WEBHOOK_EVENT_INSERT.format(payload=payload_sql), params)
                inserted = cursor.fetchone()
            if inserted is not None:
                enqueue_on_commit(process_webhook_event, event_id=inserted[0])
                return inserted[0], True
            event_id, status = WebhookEvent.objects.filter(stripe_event_id=data["id"]).values_list("pk", "status").get()
            if status in (WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED):
                # Stripe redelivers what we did not finish: queue it again (processing is idempotent).
                enqueue_on_commit(process_webhook_event, event_id=event_id)
            return event_id, False
    except DataError as exc:  # verified, yet refused by the columns: an over-long id or type, \u0000 in a string
        raise InvalidInput("The webhook payload is not a Stripe event.") from exc


def webhook_event_reset_for_reprocessing(*, event_id: int) -> bool:
    """Put a failed event back in line (the admin's "reprocess"); queues its processing on commit."""
    with transaction.atomic():
        updated = WebhookEvent.objects.filter(pk=event_id, status=WebhookEvent.Status.FAILED).update(
            status=WebhookEvent.Status.RECEIVED
        )
        if updated:
            enqueue_on_commit(process_webhook_event, event_id=event_id)
    return bool(updated)


# --- Payment rows, as Stripe reports them (called by payments.webhooks) --------------------------


def payment_flag(*, payment: Payment, reason: str) -> None:
    """Mark a payment for staff attention, with why."""
    payment.needs_attention = True
    payment.attention_reason = reason[:255]
    payment.save(update_fields=["needs_attention", "attention_reason", "updated_at"])


def payment_lock_for_session(*, session: dict) -> Payment | None:
    """The locked Payment of a Checkout Session (its order locked first); a session we created but
    never recorded is adopted. None for a session of no order of ours.
    """
    payment = lock_payment(stripe_session_id=session["id"])
    if payment is not None:
        return payment
    order_id = (session.get("metadata") or {}).get("order_id") or session.get("client_reference_id")
    try:
        order = _lock_order(pk=uuid.UUID(str(order_id)))
    except ValueError:
        order = None
    if order is None:
        logger.warning("Stripe session %s belongs to no order of ours; ignored.", session["id"])
        return None
    logger.warning("Stripe session %s of order %s was not recorded; adopting it.", session["id"], order.pk)
    return Payment.objects.create(
        order=order,
        amount=order.total,
        currency=order.currency.lower(),
        stripe_session_id=session["id"],
        checkout_url=session.get("url") or "",
        expires_at=_timestamp(session.get("expires_at")),
    )


def payment_intent_remember(*, payment: Payment, session: dict) -> None:
    """Store the session's PaymentIntent id on the payment (refunds need it)."""
    payment_intent = session.get("payment_intent")
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id")
    if payment_intent and payment.stripe_payment_intent_id != payment_intent:
        payment.stripe_payment_intent_id = payment_intent
        payment.save(update_fields=["stripe_payment_intent_id", "updated_at"])


def payment_succeeded_record(*, payment: Payment, session: dict) -> bool:
    """Record a completed session's money on a locked pending payment; whether the order may count it
    as paid. False when it was already recorded (a duplicate), or when Stripe charged another amount or
    currency than the order's: the payment is then flagged for staff, records what Stripe actually
    charged (so a refund, e.g. when the order ends cancelled, gives back exactly that) and the order is
    not paid.
    """
    if payment.status in MONEY_RECEIVED_STATUSES:
        return False
    payment.status = Status.SUCCEEDED
    payment.succeeded_at = timezone.now()
    expected = to_minor(payment.amount, payment.currency)
    charged, currency = session.get("amount_total"), (session.get("currency") or "").lower()
    if charged != expected or currency != payment.currency.lower():
        reason = f"Amount mismatch: Stripe charged {charged} {currency}, expected {expected} {payment.currency}."
        logger.error("Payment %s (order %s): %s The order is not marked paid.", payment.pk, payment.order_id, reason)
        payment.needs_attention, payment.attention_reason = True, reason[:255]
        if isinstance(charged, int) and charged >= 0 and len(currency) == 3:
            payment.amount, payment.currency = from_minor(charged, currency), currency
        payment.save()
        payment_outcome_record("amount_mismatch")
        return False
    payment.save()
    payment_outcome_record("succeeded")
    return True


def payment_failed_record(*, payment: Payment) -> None:
    """A pending payment's asynchronous payment failed: mark it and queue the customer's email once."""
    if payment.status != Status.PENDING:
        return
    payment.status = Status.FAILED
    payment.save(update_fields=["status", "updated_at"])
    payment_outcome_record("failed")
    enqueue_on_commit(send_payment_failed_email, payment_id=payment.pk)


def payment_expired_record(*, payment: Payment) -> bool:
    """Mark a pending payment's session expired; whether the payment is (now or already) expired.

    A late expiry never undoes a payment: for one that succeeded, failed or was refunded this is False.
    """
    if payment.status == Status.PENDING:
        payment.status = Status.EXPIRED
        payment.save(update_fields=["status", "updated_at"])
        payment_outcome_record("expired")
    return payment.status == Status.EXPIRED
