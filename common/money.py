"""The one place money is rounded: Decimal, to cents, half-up.

Minor units (integer cents) exist only at the Stripe boundary, `payments/stripe_api.py`, which
converts through `to_minor` / `from_minor` here.
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# ISO 4217 currencies without minor units (Stripe's list of zero-decimal currencies).
ZERO_DECIMAL_CURRENCIES = frozenset(
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]
)


def quantize_money(amount: Decimal | int | str) -> Decimal:
    """`amount` rounded half-up to two places (33.333 → 33.33, 0.005 → 0.01)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` in the currency's smallest unit (cents; yen stay yen), rounded half-up."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return int(Decimal(amount).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return int((Decimal(amount) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def from_minor(value: int, currency: str) -> Decimal:
    """The Decimal amount of `value` smallest units of `currency`, to cents."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return quantize_money(value)
    return quantize_money(Decimal(value) / 100)
