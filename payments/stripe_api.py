"""The one place the Stripe client is configured, plus money conversion at the Stripe boundary.

Settings are read on every call (so `override_settings` in tests and a changed environment take
effect); the client for a given key and API base is built once and reused.
"""

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import stripe
from django.conf import settings

from payments.exceptions import PaymentProviderError, PaymentsNotConfigured

# Stripe amounts are integers in the currency's smallest unit; these currencies have none below 1.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
# Idempotent requests are safe to retry on connection errors and 5xx answers.
MAX_NETWORK_RETRIES = 2


@lru_cache(maxsize=8)
def _build_client(api_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=MAX_NETWORK_RETRIES,
    )


def stripe_client() -> stripe.StripeClient:
    """A StripeClient for STRIPE_SECRET_KEY, pointed at STRIPE_API_BASE when that is set."""
    api_key = settings.STRIPE_SECRET_KEY
    if not api_key:
        raise PaymentsNotConfigured("Payments are not available: STRIPE_SECRET_KEY is not configured.")
    return _build_client(api_key, (settings.STRIPE_API_BASE or "").rstrip("/"))


def provider_error(exc: stripe.StripeError) -> PaymentProviderError:
    """A 502 with a message a client can show; Stripe's user_message when it has one."""
    detail = getattr(exc, "user_message", None) or "the request failed"
    return PaymentProviderError(f"The payment provider (Stripe) could not process the request: {detail}")


def to_minor(amount: Decimal, currency: str) -> int:
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return int(amount.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def from_minor(value: int, currency: str) -> Decimal:
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return Decimal(value).quantize(Decimal("0.01"))
    return (Decimal(value) / 100).quantize(Decimal("0.01"))
