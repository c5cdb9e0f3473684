"""The transactional outbox behind `common.tasks.enqueue_on_commit`.

A queued task is first a row (`OutboxMessage`) written in the caller's transaction, so it commits or
rolls back with the business change. After the commit the relay publishes it to the broker and marks
it published; what the relay could not publish (broker down, process killed between commit and
publish) is published by `outbox_relay_pending`, run by Celery beat, which leaves rows younger than
`OUTBOX_RELAY_GRACE_SECONDS` to the after-commit relay. The sweep locks its rows with `SKIP LOCKED`, so
concurrent sweeps never publish one message twice; the after-commit relay takes no lock (one UPDATE after the
publish, in the request's hot path), so it and a sweep can both publish a row only when the relay is slower
than the grace. Delivery is at least once (that, or a crash between publish and mark, republishes); tasks are
idempotent.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from common.models import OutboxMessage

logger = logging.getLogger(__name__)


def outbox_message_add(*, task: str, kwargs: dict) -> OutboxMessage:
    """Write the message in the current transaction (or at once in autocommit)."""
    return OutboxMessage.objects.create(task=task, kwargs=kwargs)


def _publish(message: OutboxMessage) -> None:
    task = current_app.tasks.get(message.task)
    if task is not None:
        task.apply_async(kwargs=message.kwargs, task_id=str(message.pk))
    else:  # not imported in this process: the worker knows it by name
        current_app.send_task(message.task, kwargs=message.kwargs, task_id=str(message.pk))


def _publish_failed(message: OutboxMessage, exc: Exception) -> None:
    """Record a broker failure on the (still unpublished) row; the sweep retries it."""
    logger.warning("Outbox: publishing %s (%s) failed: %r; the sweep retries it.", message.task, message.pk, exc)
    OutboxMessage.objects.filter(pk=message.pk, published_at__isnull=True).update(
        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
    )


def _publish_locked(messages: Iterable[OutboxMessage]) -> int:
    """Publish locked rows in order; stop at the first broker failure (the rest would fail alike)."""
    published = 0
    for message in messages:
        try:
            _publish(message)
        except Exception as exc:  # any broker/transport failure: keep the row for the sweep
            _publish_failed(message, exc)
            break
        OutboxMessage.objects.filter(pk=message.pk).update(
            published_at=timezone.now(), attempts=message.attempts + 1, last_error=""
        )
        published += 1
    return published


def outbox_publish(*, message: OutboxMessage) -> bool:
    """Publish a message just committed (the after-commit relay), then mark it published: one statement.

    No lock and no re-read: until `OUTBOX_RELAY_GRACE_SECONDS` have passed the row is this relay's alone (the
    sweep leaves it alone). A broker failure is recorded on the row for the sweep. Never raises.
    """
    try:
        try:
            _publish(message)
        except Exception as exc:  # any broker/transport failure: keep the row for the sweep
            _publish_failed(message, exc)
            return False
        OutboxMessage.objects.filter(pk=message.pk, published_at__isnull=True).update(
            published_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
        return True
    except Exception:  # after the caller's commit: never turn committed work into an error
        logger.exception("Outbox: relaying %s failed; the sweep retries it.", message.pk)
        return False


def outbox_relay_pending(*, grace: timedelta | None = None, batch_size: int | None = None) -> int:
    """Publish unpublished messages older than `grace` (the relay's head start), oldest first, in batches.

    Returns how many were published. Stops at the first broker failure; the next run goes on.
    """
    grace = timedelta(seconds=settings.OUTBOX_RELAY_GRACE_SECONDS) if grace is None else grace
    batch_size = batch_size or settings.OUTBOX_RELAY_BATCH_SIZE
    total = 0
    while True:
        with transaction.atomic():
            messages = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(published_at__isnull=True, created_at__lte=timezone.now() - grace)
                .order_by("created_at", "id")[:batch_size]
            )
            published = _publish_locked(messages)
        total += published
        if published < batch_size:
            return total


def outbox_purge(*, older_than: timedelta | None = None) -> int:
    """Delete published messages older than the retention; unpublished ones are always kept."""
    older_than = timedelta(days=settings.OUTBOX_RETENTION_DAYS) if older_than is None else older_than
    deleted, _ = OutboxMessage.objects.filter(
        published_at__isnull=False, published_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
