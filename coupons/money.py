"""The one place money is rounded: Decimal, to cents, half-up."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize_money(amount: Decimal | int | str) -> Decimal:
    """`amount` rounded half-up to two places (33.333 → 33.33, 0.005 → 0.01)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
