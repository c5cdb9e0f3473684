"""Orders: checkout, every status change, and how an order reacts to money. Each write goes through here.

Orders sits above users, catalog, coupons and cart (it calls their services) and below payments and
reviews, which it never imports. What orders needs from the payment side it declares as ports that
payments fills at start-up (`payments.apps`): a refunder, called synchronously inside the caller's
transaction (`order_refunder_register`), and listeners told when an order is cancelled, by anyone
(`order_cancel_listener_register`: payments expires the order's open Checkout Sessions).
How an order reacts to money — paid (`order_mark_paid`), refunded in full (`order_refunded_in_full`),
refunded at staff's request (`order_set_status`, `order_cancel`) — is decided here;
`payments.webhooks` calls these functions.

Lock order, everywhere, so that concurrent writers cannot deadlock: the cart row (`cart.services.lock_cart`,
checkout) → the order row (`lock_order`) → its payments (payments' `lock_payment`, through the refunder)
→ the coupon row (`coupons.services.lock_coupon`) → stock rows (catalog's `stock_adjust_many`: products by id,
then variants by id). Stock is last so that checkout can take it last: a sale's hot rows are then locked only
from their UPDATE to the COMMIT.
"""

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery
from django.utils import timezone

from cart.models import Cart
from cart.selectors import cart_items_for_read, cart_lines
from cart.services import RepricedLine, cart_clear, cart_item_prices_refresh, lock_cart
from catalog.selectors import category_path_inactive_exists, product_has_variants_exists
from catalog.stock import StockChange, stock_adjust_many, stock_shortfall_check
from common.money import quantize_money
from common.tasks import enqueue_on_commit
from config.metrics import orders_placed_record
from coupons.services import coupon_redeem, coupon_release
from orders import state
from orders.exceptions import (
    CartPricesChanged,
    EmptyCart,
    InvalidAddress,
    InvalidTransition,
    MissingShipmentDetails,
    OrderActionNotAllowed,
    OrderNotFound,
    ProductUnavailable,
)
from orders.models import Order, OrderItem, OrderNumber, OrderStatusChange, Shipment
from orders.selectors import UNPAID, order_token_hash
from orders.tasks import send_order_email
from users.models import Address

logger = logging.getLogger(__name__)

S = Order.Status

# --- Ports: what orders needs from the payment side, which sits above it --------------------------

# (*, order, by) -> None: refund in full what was paid for a locked order, inside the caller's transaction;
# raises (e.g. a 502) to roll the caller back.
OrderRefunder = Callable[..., None]
# (*, order_id) -> None: told inside the transaction that cancels an order; queue work on commit.
OrderCancelListener = Callable[..., None]

_ports: dict[str, OrderRefunder | None] = {"refunder": None}
_cancel_listeners: list[OrderCancelListener] = []


def order_refunder_register(refunder: OrderRefunder | None) -> OrderRefunder | None:
    """Plug in the refunder of paid orders (payments does, at start-up); returns the one it replaces."""
    previous, _ports["refunder"] = _ports["refunder"], refunder
    return previous


def order_cancel_listener_register(listener: OrderCancelListener) -> None:
    """Call `listener(order_id=...)` whenever an order is cancelled: by its owner, staff, the expiry
    task or the payment side (once per listener).
    """
    if listener not in _cancel_listeners:
        _cancel_listeners.append(listener)


def _refund_paid(*, order: Order, by) -> None:
    refunder = _ports["refunder"]
    if refunder is None:
        # Never cancel or refund a paid order without giving the money back.
        raise ImproperlyConfigured("No order refunder is registered: is the payments app installed?")
    refunder(order=order, by=by)


def order_number_format(*, sequence: int, year: int) -> str:
    return f"ORD-{year}-{sequence:06d}"


def order_number_next(*, year: int | None = None) -> str:
    """The next order number, `ORD-2026-000042`: the one formatter, fed by an insert-only sequence."""
    return order_number_format(sequence=OrderNumber.objects.create().pk, year=year or timezone.now().year)


def shipping_fee_for(*, subtotal: Decimal) -> Decimal:
    """The flat `SHIPPING_FEE`, waived from `FREE_SHIPPING_MIN_SUBTOTAL` (when set) on."""
    free_from = settings.FREE_SHIPPING_MIN_SUBTOTAL
    if free_from is not None and subtotal >= free_from:
        return Decimal("0.00")
    return quantize_money(settings.SHIPPING_FEE)


def _addresses_for(*, user, shipping_address_id: int, billing_address_id: int | None) -> tuple[Address, Address]:
    ids = {shipping_address_id} | ({billing_address_id} if billing_address_id is not None else set())
    own = {a.pk: a for a in Address.objects.filter(user=user, pk__in=ids)}
    if shipping_address_id not in own:
        raise InvalidAddress("Choose one of your own addresses.", field="shipping_address")
    if billing_address_id is not None and billing_address_id not in own:
        raise InvalidAddress("Choose one of your own addresses.", field="billing_address")
    shipping = own[shipping_address_id]
    return shipping, own[billing_address_id] if billing_address_id is not None else shipping


def _line_snapshot(item) -> tuple[str, str]:
    product, variant = item.product, item.variant
    if variant is not None:
        return variant.sku, f"{product.name} – {variant.name}"
    return product.sku, product.name


def _check_available(items) -> None:
    """Every line is still sold as it is: product, variant, category and its ancestors active, and a
    line without a variant is for a product that has none (variants may have been added since).
    `items` carry `category_inactive` and `product_has_variants` (`_checkout_items` annotates them).
    """
    for item in items:
        product, variant = item.product, item.variant
        if not product.is_active or item.category_inactive:
            raise ProductUnavailable(
                f"'{product.name}' is no longer available; remove it from your cart.",
                extra={"product": product.pk, "variant": None},
            )
        if variant is not None and not variant.is_active:
            raise ProductUnavailable(
                f"'{product.name} – {variant.name}' is no longer available; remove it from your cart.",
                extra={"product": product.pk, "variant": variant.pk},
            )
        if variant is None and item.product_has_variants:
            raise ProductUnavailable(
                f"'{product.name}' now comes in variants; remove it from your cart and choose one.",
                extra={"product": product.pk, "variant": None},
            )


def _record(*, order: Order, from_status: str, by, note: str = "") -> OrderStatusChange:
    return OrderStatusChange.objects.create(
        order=order,
        from_status=from_status,
        to_status=order.status,
        changed_by=by if getattr(by, "is_authenticated", False) else None,
        note=note[:255],
    )


def _queue_email(*, order: Order, kind: str) -> None:
    enqueue_on_commit(send_order_email, order_id=str(order.pk), kind=kind)


def lock_order(order_id) -> Order:
    """The order row, locked until the transaction ends; a missing or malformed id is a 404."""
    try:
        return Order.objects.select_for_update(of=("self",)).get(pk=order_id)
    except (Order.DoesNotExist, ValueError, ValidationError) as exc:
        raise OrderNotFound() from exc


def _restock(*, order: Order, reason: str, by) -> None:
    changes = [
        StockChange(product_id=item.product_id, variant_id=item.variant_id, delta=item.quantity)
        for item in order.items.all()
        # A product deleted since has no shelf to go back to.
        if item.product_id is not None
    ]
    stock_adjust_many(changes=changes, reason=reason, reference=order.number, user=by)


# --- Checkout ---------------------------------------------------------------------------------


def order_place(*, user, shipping_address_id: int, billing_address_id: int | None = None, note: str = "") -> Order:
    """Turn the user's cart into a pending order, all or nothing.

    Guarantees: stock is decremented (ledger `order`) under row locks taken in id order, so the last
    units can never be sold twice; the coupon is redeemed under its lock (`max_uses` holds); totals are
    computed here from the cart's stored unit prices, the coupon and the shipping settings; items and
    addresses are snapshots; the cart is emptied. Any error rolls all of it back. The confirmation
    email is queued only after the commit.

    Never a stale price: when a line's stored price is no longer the catalog's, those lines are set to
    the current price and committed (so the customer sees what the next checkout charges), nothing
    else is written, and `CartPricesChanged` (409, `changed_items`) is raised after the commit.
    Call it outside a transaction, as the view does, or the repricing commits with the caller's.
    """
    return _order_or_conflict(
        _order_place_or_reprice(
            user=user, shipping_address_id=shipping_address_id, billing_address_id=billing_address_id, note=note
        )
    )


def order_place_guest(
    *, cart_token: str | None, email: str, shipping_address: dict, billing_address: dict | None = None, note: str = ""
) -> tuple[Order, str]:
    """Turn a guest's cart into a pending order: `order_place`'s guarantees, with the addresses given inline
    (fields of `users.models.Address`, already validated) and the emails going to `email`.

    Returns the order and its secret guest token (256 random bits; only its sha256 is stored): the guest
    reads, cancels and pays the order with it. The cart is the guest cart of `cart_token` (`X-Cart-Token`):
    none (a guest without a cart) is an empty cart, an unknown or expired one a 404.
    """
    if not cart_token:
        raise EmptyCart("Your cart is empty.")
    token = secrets.token_urlsafe(32)
    shipping = Address(**shipping_address).snapshot()
    billing = Address(**billing_address).snapshot() if billing_address else shipping
    order = _order_or_conflict(
        _order_place_or_reprice(
            user=None,
            guest_cart_token=cart_token,
            email=email,
            addresses=(shipping, billing),
            guest_token_hash=order_token_hash(token),
            note=note,
        )
    )
    return order, token


def _order_or_conflict(result: "Order | list[RepricedLine]") -> Order:
    if isinstance(result, Order):
        return result
    changed_ids = [line.item.pk for line in result]
    names = ", ".join(f"'{line.name}' ({line.old_price} → {line.new_price})" for line in result)
    raise CartPricesChanged(
        f"Prices in your cart changed since you added them: {names}. Review your cart and check out again.",
        extra={"changed_items": changed_ids},
    )


@transaction.atomic
def _order_place_or_reprice(
    *,
    user,
    note: str,
    shipping_address_id: int | None = None,
    billing_address_id: int | None = None,
    guest_cart_token: str | None = None,
    email: str = "",
    addresses: tuple[dict, dict] | None = None,
    guest_token_hash: str | None = None,
) -> Order | list[RepricedLine]:
    """The order, or the repriced lines (the transaction then commits only them).

    A user's order takes the user's saved addresses (by id) and email; a guest's (`user=None`) the
    guest cart of its token, the inline address snapshots and the email given. The order comes back as the API shows
    it (items, history, payment status loaded): the view serializes it without reading it again.

    The steps take the locks in the global order (cart → coupon → stock rows), and the stock rows, the
    ones a sale makes hot, last: they stay locked only from their UPDATE to the COMMIT.
    """
    if user is not None:
        shipping, billing = _addresses_for(
            user=user, shipping_address_id=shipping_address_id, billing_address_id=billing_address_id
        )
        addresses, email = (shipping.snapshot(), billing.snapshot()), user.email
    cart = lock_cart(user=user) if user is not None else lock_cart(token=guest_cart_token)
    items = _checkout_items(cart=cart)
    repriced = cart_item_prices_refresh(items=items)
    if repriced:
        return repriced

    stock_changes = _stock_changes_in_stock(items=items)

    lines = cart_lines(items=items)
    order = _order_build(
        user=user,
        email=email,
        guest_token_hash=guest_token_hash,
        addresses=addresses,
        note=note,
        lines=lines,
        coupon=cart.coupon if cart.coupon_id else None,
    )
    order_items = _order_items_build(order=order, items=items, lines=lines)
    history = OrderStatusChange(
        order=order, from_status="", to_status=order.status, changed_by=user, note="Order placed"
    )
    _order_insert(order=order, items=order_items, history=history)
    cart_clear(cart=cart)
    _queue_email(order=order, kind="confirmation")
    stock_adjust_many(changes=stock_changes, reason="order", reference=order.number, user=user)
    orders_placed_record()
    return _order_as_read(order=order, items=order_items, history=history)


def _checkout_items(*, cart: Cart) -> list:
    """The locked cart's lines (product, category, variant joined), each still sold as it is; one query."""
    items = list(
        cart_items_for_read(cart=cart).annotate(
            category_inactive=category_path_inactive_exists(path_ref="product__category__path"),
            product_has_variants=product_has_variants_exists(product_ref="product_id"),
        )
    )
    if not items:
        raise EmptyCart("Your cart is empty.")
    _check_available(items)
    return items


def _stock_changes_in_stock(*, items) -> list[StockChange]:
    """What the order takes from stock; a 409 at once when the committed levels read with the lines cannot
    cover it (a sale's late buyers do not queue on the hot rows only to be refused there)."""
    changes = [StockChange(product_id=i.product_id, variant_id=i.variant_id, delta=-i.quantity) for i in items]
    stock_shortfall_check(
        changes=changes,
        products={i.product_id: i.product for i in items},
        variants={i.variant_id: i.variant for i in items if i.variant_id is not None},
    )
    return changes


def _order_build(
    *, user, email: str, guest_token_hash: str | None, addresses: tuple[dict, dict], note: str, lines, coupon
) -> Order:
    """The order in memory, its totals final: a coupon is redeemed (under its lock) before the order is written,
    so the discount is in the INSERT. Raises CouponNotApplicable (409) when the coupon no longer applies."""
    now = timezone.now()
    subtotal = quantize_money(sum((line.line_total for line in lines), Decimal("0")))
    shipping = shipping_fee_for(subtotal=subtotal)
    order = Order(
        user=user,
        email=email,
        guest_token_hash=guest_token_hash,
        status=S.PENDING,
        currency=settings.DEFAULT_CURRENCY,
        subtotal=subtotal,
        discount=Decimal("0.00"),
        shipping=shipping,
        total=subtotal + shipping,
        coupon_code=coupon.code if coupon else "",
        shipping_address=addresses[0],
        billing_address=addresses[1],
        note=note,
        payment_deadline=now + timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES),
    )
    if coupon is not None:
        # The redemption row points at the order's id (set in Python); the foreign key is checked at commit.
        redemption = coupon_redeem(code=coupon.code, user=user, order=order, lines=lines, email=email)
        order.discount = min(quantize_money(redemption.amount), subtotal)
        order.total = subtotal - order.discount + shipping
    return order


def _order_items_build(*, order: Order, items, lines) -> list[OrderItem]:
    order_items = []
    for item, line in zip(items, lines, strict=True):
        sku, name = _line_snapshot(item)
        order_item = OrderItem(
            order=order,
            product_id=item.product_id,
            variant_id=item.variant_id,
            sku=sku,
            name=name,
            unit_price=quantize_money(line.unit_price),
            quantity=line.quantity,
            line_total=quantize_money(line.line_total),
        )
        order_item.product_slug = item.product.slug  # as orders.selectors annotates it
        order_items.append(order_item)
    return order_items


# PostgreSQL: the order's number drawn from OrderNumber's sequence inside the INSERT (no row of its own).
_NUMBER_SQL = (
    "(SELECT 'ORD-' || %s || '-' || lpad(n::text, greatest(6, length(n::text)), '0')"
    " FROM nextval(pg_get_serial_sequence('orders_ordernumber', 'id')) AS n)"
)


def _order_insert(*, order: Order, items: list[OrderItem], history: OrderStatusChange) -> None:
    """Write the order with its number (`order_number_format`'s), its items and its first history row.

    PostgreSQL: one statement (three INSERTs in a WITH), the number from the sequence behind `order_number_next`.
    Elsewhere (SQLite, `make run`): the ORM, one INSERT each.
    """
    year = timezone.now().year
    if connection.vendor != "postgresql":
        order.number = order_number_next(year=year)
        order.save(force_insert=True)
        OrderItem.objects.bulk_create(items)
        history.save(force_insert=True)
        return
    order.number = RawSQL(_NUMBER_SQL, (str(year),))  # noqa: S611 - a constant; the year is a parameter
    order_sql, order_params = _insert_sql(Order, [order], returning="number")
    items_sql, items_params = _insert_sql(OrderItem, items, returning="id")
    history_sql, history_params = _insert_sql(OrderStatusChange, [history], returning="id")
    with connection.cursor() as cursor:
        cursor.execute(  # Django's own INSERTs, their values all parameters
            f"WITH o AS ({order_sql}), i AS ({items_sql}), h AS ({history_sql}) "  # noqa: S608
            "SELECT (SELECT number FROM o), (SELECT array_agg(id ORDER BY id) FROM i), (SELECT id FROM h)",
            (*order_params, *items_params, *history_params),
        )
        order.number, item_ids, history.pk = cursor.fetchone()
    # The items' ids follow the order of the rows inserted, as bulk_create's do.
    for item, pk in zip(items, item_ids, strict=True):
        item.pk = pk
    for row in (order, *items, history):
        row._state.adding = False


def _insert_sql(model, objs: list, *, returning: str | None = None) -> tuple[str, tuple]:
    """Django's own INSERT for `objs` (field conversions, auto_now stamps), as SQL to run inside a larger
    statement; `returning` names a column to return."""
    opts = model._meta
    query = InsertQuery(model)
    query.insert_values([f for f in opts.concrete_fields if not f.generated and f is not opts.auto_field], objs)
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = None
    [(sql, params)] = compiler.as_sql()
    if returning is not None:
        sql += f" RETURNING {connection.ops.quote_name(opts.get_field(returning).column)}"
    return sql, params


def _prefetched(queryset, rows: list):
    """`queryset` holding `rows` as its results, as `prefetch_related` leaves it (further filters still query)."""
    queryset._result_cache, queryset._prefetch_done = rows, True
    return queryset


def _order_as_read(*, order: Order, items: list[OrderItem], history: OrderStatusChange) -> Order:
    """The order just written, with what `orders.selectors.order_queryset` loads: no payment, no shipment yet."""
    order._prefetched_objects_cache = {
        "items": _prefetched(OrderItem.objects.filter(order=order), items),
        "status_changes": _prefetched(OrderStatusChange.objects.filter(order=order), [history]),
    }
    order.payment_status = UNPAID
    Order.shipment.related.set_cached_value(order, None)
    return order


# --- Transitions ------------------------------------------------------------------------------


def _end_before_shipping(*, order: Order, to: str, by, note: str, reason: str) -> Order:
    """Cancel or refund an order that has not shipped: stock back, coupon use released, history."""
    from_status = order.status
    _restock(order=order, reason=reason, by=by)
    coupon_release(order=order)
    order.status = to
    fields = ["status", "updated_at"]
    if to == S.CANCELLED:
        order.cancelled_at = timezone.now()
        fields.append("cancelled_at")
    order.save(update_fields=fields)
    _record(order=order, from_status=from_status, by=by, note=note)
    return order


@transaction.atomic
def order_mark_paid(*, order_id, note: str = "") -> Order:
    """pending → paid (payments only), sets `paid_at`; any other current status is a 409."""
    order = lock_order(order_id)
    state.transition_check(order=order, to=S.PAID, actor=state.SYSTEM)
    order.status, order.paid_at = S.PAID, timezone.now()
    order.save(update_fields=["status", "paid_at", "updated_at"])
    _record(order=order, from_status=S.PENDING, by=None, note=note or "Payment received")
    return order


@transaction.atomic
def order_cancel(*, order_id, by=None, note: str = "", guest_token: str | None = None) -> Order:
    """Cancel an order exactly once: stock back (ledger `cancel`), coupon use released, history row.

    `by=None` is the system. The owner may cancel a pending order only; staff a pending, paid or
    processing one, and a paid/processing one is refunded through the payments app first. The order
    row is locked and its status re-checked under the lock, so of two racing cancels one wins and the
    other gets a 409. A guest cancels with its order's `guest_token` (the owner's rights); a wrong token is a 404.
    """
    order = lock_order(order_id)
    if guest_token is not None:
        if order.guest_token_hash is None or order.guest_token_hash != order_token_hash(guest_token):
            raise OrderNotFound()
        actor = state.OWNER
    else:
        actor = state.actor_for(order=order, by=by)
    if actor == "other":
        raise OrderNotFound()
    state.transition_check(order=order, to=S.CANCELLED, actor=actor)
    _cancel(order=order, by=by, note=note or "Cancelled")
    return order


def _cancel(*, order: Order, by, note: str) -> None:
    """Cancel a locked order whose transition was checked: whatever money it received goes back (a paid
    order's payment, or one flagged for a wrong amount on a pending order), stock and coupon use come
    back, and the cancel listeners are told (its open Checkout Sessions are expired after the commit).
    """
    _refund_paid(order=order, by=by)
    _end_before_shipping(order=order, to=S.CANCELLED, by=by, note=note, reason="cancel")
    _queue_email(order=order, kind="cancelled")
    for listener in _cancel_listeners:
        listener(order_id=order.pk)


@transaction.atomic
def order_expire(*, order_id) -> Order | None:
    """Cancel a pending order whose payment deadline has passed (the system); None if there is nothing
    to do (paid meanwhile, already cancelled, deadline not reached). Like every cancel, money received
    for it (a payment flagged for a wrong amount) is refunded and its open Checkout Sessions expired.
    """
    order = lock_order(order_id)
    if order.status != S.PENDING or order.payment_deadline > timezone.now():
        return None
    _cancel(order=order, by=None, note="Payment deadline passed")
    return order


def order_expire_overdue(*, batch_size: int = 100) -> int:
    """Cancel and restock pending orders past their payment deadline. Returns how many it expired.

    Each order is expired in its own short transaction (so stock locks of one order are never held while
    locking another's); `skip_locked` lets several workers share the work, and an order someone else
    holds (a payment arriving, another worker) is left to them. Running it twice does nothing more.
    """
    expired, seen = 0, set()
    while True:
        candidates = list(
            Order.objects.filter(status=S.PENDING, payment_deadline__lte=timezone.now())
            .exclude(pk__in=seen)
            .order_by("payment_deadline")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not candidates:
            return expired
        for order_id in candidates:
            seen.add(order_id)
            try:
                with transaction.atomic():
                    free = (
                        Order.objects.select_for_update(skip_locked=True, of=("self",))
                        .filter(pk=order_id, status=S.PENDING)
                        .values_list("pk", flat=True)
                        .first()
                    )
                    if free is not None and order_expire(order_id=order_id) is not None:
                        expired += 1
            except Exception:  # one broken order must not stop the others; the next run retries it
                logger.exception("Could not expire order %s.", order_id)


@transaction.atomic
def order_mark_refunded(*, order_id, by=None, note: str = "") -> Order:
    """paid|processing|shipped|delivered → refunded (a full refund). An order that had not shipped
    returns its stock (ledger `refund`) and its coupon use; a shipped one keeps both as they are.
    """
    order = lock_order(order_id)
    actor = state.actor_for(order=order, by=by)
    if actor == "other":
        raise OrderNotFound()
    state.transition_check(order=order, to=S.REFUNDED, actor=actor)
    if order.status in state.RESTOCK_FROM:
        return _end_before_shipping(order=order, to=S.REFUNDED, by=by, note=note or "Refunded", reason="refund")
    from_status = order.status
    order.status = S.REFUNDED
    order.save(update_fields=["status", "updated_at"])
    _record(order=order, from_status=from_status, by=by, note=note or "Refunded")
    return order


@transaction.atomic
def order_refunded_in_full(*, order_id, by=None) -> Order:
    """The payment side reports the order's money refunded in full: the order becomes refunded when its
    status allows it (`state.REFUNDABLE_FROM`); otherwise (pending, cancelled, already refunded) it is
    left as it is. The order row is locked and re-checked.
    """
    order = lock_order(order_id)
    if order.status not in state.REFUNDABLE_FROM:
        return order
    return order_mark_refunded(order_id=order.pk, by=by, note="Payment refunded in full.")


@transaction.atomic
def order_set_status(
    *, order_id, status: str, by, carrier: str = "", tracking_number: str = "", note: str = ""
) -> Order:
    """Staff move an order along the transition table. `shipped` needs a carrier and a tracking number
    (a `Shipment`), `delivered` stamps it; `cancelled` and `refunded` refund the payment; `paid` is a 409.
    """
    if not getattr(by, "is_staff", False):
        raise OrderActionNotAllowed()
    if status not in S.values:
        raise InvalidTransition(f"Unknown order status {status!r}.")
    if status == S.CANCELLED:
        return order_cancel(order_id=order_id, by=by, note=note)
    order = lock_order(order_id)
    state.transition_check(order=order, to=status, actor=state.STAFF)
    if status == S.REFUNDED:
        _refund_paid(order=order, by=by)
        return order_mark_refunded(order_id=order.pk, by=by, note=note)

    from_status, now = order.status, timezone.now()
    if status == S.SHIPPED:
        carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
        missing = [name for name, value in (("carrier", carrier), ("tracking_number", tracking_number)) if not value]
        if missing:
            # Checked after the transition: an illegal move is a 409 whatever fields came with it.
            raise MissingShipmentDetails(fields=missing)
        Shipment.objects.update_or_create(
            order=order, defaults={"carrier": carrier, "tracking_number": tracking_number, "shipped_at": now}
        )
    elif status == S.DELIVERED:
        Shipment.objects.filter(order=order).update(delivered_at=now)
    order.status = status
    order.save(update_fields=["status", "updated_at"])
    _record(order=order, from_status=from_status, by=by, note=note)
    if status in (S.SHIPPED, S.DELIVERED):
        _queue_email(order=order, kind=status)
    return order
