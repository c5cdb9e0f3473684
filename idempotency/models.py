from django.db import models


class IdempotencyKey(models.Model):
    """One `Idempotency-Key` of one caller on one path: claimed before the work, filled with its response after.

    The unique row is the lock: of two concurrent requests with the same key, only one INSERT succeeds.
    """

    caller = models.CharField(max_length=80, help_text="user:<id>, or guest:<sha256 of the guest's token>.")
    path = models.CharField(max_length=255)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="sha256 of the canonical JSON body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while running.")
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "path", "key"], name="idempotency_key_unique_per_caller_path"),
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.path} {self.key}"
