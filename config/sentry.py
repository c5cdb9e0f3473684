"""Sentry for the web process and the Celery worker and beat: on only when SENTRY_DSN is set.

Called from settings, so every process that loads Django (gunicorn workers, Celery) reports its errors.
"""

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

# A tenth of requests and tasks traced: enough to see slow paths without sending every request.
TRACES_SAMPLE_RATE = 0.1


def sentry_init(*, dsn: str, environment: str) -> bool:
    """Start the Sentry client for `dsn`; whether it was started (never for an empty DSN)."""
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=TRACES_SAMPLE_RATE,
        send_default_pii=False,  # no emails, addresses or cookies leave the shop
    )
    return True
