from django.db import models
from django.utils import timezone


class SentEmail(models.Model):
    """One row per email sent: the log staff search, and the unique key that makes a send happen once.

    The key names what the email announces (`orders.shipped:<order id>`), so a task delivered twice,
    or two workers at once, find the row and send nothing more.
    """

    key = models.CharField(max_length=255, unique=True)
    to = models.TextField(help_text="The recipients, comma-separated.")
    template = models.CharField(max_length=200, db_index=True)
    subject = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return self.key
