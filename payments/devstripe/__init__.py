"""The Stripe test double: the fake Stripe API the tests use, and `make run`'s hosted checkout page.

Development and tests only. With DEBUG false (production) importing this package fails, so no
deployed process can serve it or be pointed at it by accident; the test settings set TESTING.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if not (settings.DEBUG or getattr(settings, "TESTING", False)):
    raise ImproperlyConfigured("payments.devstripe is a development double: it is not available when DEBUG is false.")
