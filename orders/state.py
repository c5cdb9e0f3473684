"""The order status machine: one transition table, and who may take each transition.

Actors: ``system`` (payments webhooks, the expiry task: ``by=None``), ``owner`` (the customer who placed
the order) and ``staff``. Every other (from, to) pair, or an actor not listed for a pair, is a 409.
"""

from orders.exceptions import InvalidTransition
from orders.models import Order

S = Order.Status
SYSTEM, OWNER, STAFF = "system", "owner", "staff"

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.PENDING, S.PAID): frozenset({SYSTEM}),  # only through a payment (order_mark_paid)
    (S.PAID, S.PROCESSING): frozenset({STAFF}),
    (S.PROCESSING, S.SHIPPED): frozenset({STAFF}),
    (S.SHIPPED, S.DELIVERED): frozenset({STAFF}),
    (S.PENDING, S.CANCELLED): frozenset({OWNER, STAFF, SYSTEM}),
    (S.PAID, S.CANCELLED): frozenset({STAFF}),  # with a refund
    (S.PROCESSING, S.CANCELLED): frozenset({STAFF}),  # with a refund
    (S.PAID, S.REFUNDED): frozenset({STAFF, SYSTEM}),
    (S.PROCESSING, S.REFUNDED): frozenset({STAFF, SYSTEM}),
    (S.SHIPPED, S.REFUNDED): frozenset({STAFF, SYSTEM}),
    (S.DELIVERED, S.REFUNDED): frozenset({STAFF, SYSTEM}),
}

# Stock is back on the shelf when an order ends before it left the warehouse.
RESTOCK_FROM = frozenset({S.PENDING, S.PAID, S.PROCESSING})
# The statuses a full refund moves to refunded (any actor): paid, processing, shipped, delivered.
REFUNDABLE_FROM = frozenset(frm for (frm, to) in TRANSITIONS if to == S.REFUNDED)


def actor_for(*, order: Order, by) -> str:
    if by is None:
        return SYSTEM
    if getattr(by, "is_staff", False):
        return STAFF
    return OWNER if by.pk == order.user_id else "other"


def allowed_targets(*, status: str, actor: str) -> list[str]:
    """The statuses `actor` may move an order in `status` to (admin actions, docs)."""
    return [to for (frm, to), actors in TRANSITIONS.items() if frm == status and actor in actors]


def transition_check(*, order: Order, to: str, actor: str) -> None:
    """Raise `InvalidTransition` (409) unless `actor` may move `order` to `to`."""
    frm = order.status
    actors = TRANSITIONS.get((frm, to))
    if actors is None:
        if frm == to:
            raise InvalidTransition(f"Order {order.number} is already {S(to).label.lower()}.")
        raise InvalidTransition(
            f"Order {order.number} is {S(frm).label.lower()}; it cannot become {S(to).label.lower()}."
        )
    if actor not in actors:
        if to == S.PAID:
            raise InvalidTransition("An order becomes paid only through a successful payment.")
        if to == S.CANCELLED and actor == OWNER:
            raise InvalidTransition(
                f"Order {order.number} is already {S(frm).label.lower()}; only pending orders can be cancelled "
                "by the customer. Please contact support."
            )
        raise InvalidTransition(
            f"Order {order.number} cannot be moved from {S(frm).label.lower()} to {S(to).label.lower()} by you."
        )
