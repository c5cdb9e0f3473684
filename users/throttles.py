from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle


class SettingsScopedRateThrottle(ScopedRateThrottle):
    """`ScopedRateThrottle` for the view's `throttle_scope`, counting per user, or per client address
    (config.client_ip's rule, `NUM_PROXIES`) for anonymous requests, in the default cache.

    DRF's throttles copy `DEFAULT_THROTTLE_RATES` once at import; this one reads it per request, so a
    changed `REST_FRAMEWORK` setting (tests, `override_settings`) takes effect.
    """

    scope_attr = "throttle_scope"

    def get_rate(self) -> str | None:
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError as exc:
            raise ImproperlyConfigured(f"No throttle rate set for scope {self.scope!r}.") from exc


class AuthRateThrottle(SettingsScopedRateThrottle):
    """The `auth` scope (AUTH_THROTTLE_RATE): token, register and password-reset endpoints."""


class CouponRateThrottle(SettingsScopedRateThrottle):
    """The `coupon` scope (COUPON_THROTTLE_RATE): validating and applying coupon codes."""
