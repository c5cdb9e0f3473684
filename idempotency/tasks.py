"""Celery tasks of the idempotency app: thin and idempotent."""

from celery import shared_task


@shared_task
def purge_idempotency_keys() -> int:
    """Delete keys past their 24 hours (beat, hourly); how many."""
    from idempotency.services import idempotency_keys_purge

    return idempotency_keys_purge()
