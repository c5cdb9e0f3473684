import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """A Celery task to publish, written in the same transaction as the change that asked for it.

    The relay publishes it right after the commit; the periodic sweep publishes whatever the relay
    could not (broker down, process killed). The id is the Celery task id, so a message published twice
    is visibly the same task, and tasks are idempotent anyway.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The sweep's query: the (usually tiny) backlog, oldest first.
            models.Index(fields=["created_at"], condition=Q(published_at__isnull=True), name="outbox_unpublished_idx"),
            # The purge's query: published rows past their retention.
            models.Index(fields=["published_at"], condition=Q(published_at__isnull=False), name="outbox_published_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.id}"
