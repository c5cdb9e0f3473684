"""The one place the Stripe client is configured. Money crosses into minor units through `common.money`.

Settings are read on every call (so `override_settings` in tests and a changed environment take
effect); the client for a given key and API base is built once and reused.
"""

from functools import lru_cache

import stripe
from django.conf import settings

from payments.exceptions import PaymentProviderError, PaymentsNotConfigured

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

