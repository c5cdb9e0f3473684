"""The transactional outbox behind `common.tasks.enqueue_on_commit`.

A queued task is first a row (`OutboxMessage`) written in the caller's transaction, so it commits or
rolls back with the business change. After the commit the relay publishes it to the broker and marks
it published; what the relay could not publish (broker down, process killed between commit and
publish) is published by `outbox_relay_pending`, run by Celery beat. The sweep locks the rows it
publishes (`SKIP LOCKED`), so concurrent sweeps never publish one message twice; the after-commit relay
publishes only the rows its own transaction just wrote, which the sweep leaves alone for a grace period,
and marks them in one statement. Delivery is at least once (a crash between publish and mark, or a
publish stalled past the grace period, publishes again); tasks are idempotent.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
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
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
    )


# The mark is a hint, not a fact that must survive: lost in a database crash, it only makes the sweep publish
# the message once more, which at-least-once delivery allows. So its commit does not wait for the WAL flush
# (`synchronous_commit` off for this one statement's own transaction): one round trip, no fsync.
_MARK_PUBLISHED = """
WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true))
UPDATE common_outboxmessage SET published_at = %(now)s, attempts = attempts + 1, last_error = ''
FROM async_commit WHERE id = ANY(%(ids)s)
"""
# By primary key alone: with `AND published_at IS NULL` the planner walks the partial index of unpublished rows,
# as long as the backlog (a broker outage's), per mark. A row the sweep published meanwhile is marked again,
# which is true: it was published twice.


def _mark_published(ids: list) -> None:
    if connection.in_atomic_block or connection.vendor != "postgresql":
        # Inside a caller's transaction the setting would outlive this statement: the plain update.
        OutboxMessage.objects.filter(pk__in=ids).update(
            published_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(_MARK_PUBLISHED, {"now": timezone.now(), "ids": ids})


def _publish_in_order(messages: Iterable[OutboxMessage]) -> int:
    """Publish messages in order, then mark those published in one statement; stop at the first broker failure
    (the rest would fail alike), recording it on that row. Returns how many were published."""
    published = []
    for message in messages:
        try:
            _publish(message)
        except Exception as exc:  # any broker/transport failure: keep the row for the sweep
            _publish_failed(message, exc)
            break
        published.append(message.pk)
    if published:
        _mark_published(published)
    return len(published)


def outbox_publish(*, messages: list[OutboxMessage]) -> int:
    """Publish messages that the caller's transaction has just committed, then mark them. Never raises.

    No lock and no second read: the rows are this process's own and younger than the sweep's grace
    period. Stops at the first broker failure, recording it on that row; the sweep publishes the rest.
    """
    try:
        return _publish_in_order(messages)
    except Exception:  # after the caller's commit: never turn committed work into an error
        logger.exception("Outbox: relaying %s failed; the sweep retries it.", [m.pk for m in messages])
        return 0


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
            published = _publish_in_order(messages)  # locked rows: the mark is part of this transaction
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
