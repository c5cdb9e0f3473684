"""Celery tasks of the users app: thin, idempotent, retried with backoff when the mail server fails."""

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from users import emails
from users.models import User

logger = logging.getLogger(__name__)

EMAIL_TASK_OPTIONS = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


def password_reset_email_sent_key(request_id: str) -> str:
    return f"users:password-reset-email-sent:{request_id}"


@shared_task(**EMAIL_TASK_OPTIONS)
def send_welcome_email(user_id: int) -> None:
    """Send the welcome email once per account, however often the task is delivered."""
    with transaction.atomic():
        # The row lock makes a concurrent duplicate wait, then see the email as sent.
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None or user.welcome_email_sent_at is not None:
            return
        emails.send_welcome(user=user)
        # Marked in the same transaction: a failed send rolls back and the retry sends again.
        user.welcome_email_sent_at = timezone.now()
        user.save(update_fields=["welcome_email_sent_at"])


@shared_task(**EMAIL_TASK_OPTIONS)
def send_password_reset_email(user_id: int, request_id: str) -> None:
    """Send one reset email per request. The token is made here, so it never sits in the broker."""
    from users.services import password_reset_token_make

    sent_key = password_reset_email_sent_key(request_id)
    if cache.get(sent_key):
        return
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        logger.info("Password reset email skipped: user %s is gone or inactive.", user_id)
        return
    uid, token = password_reset_token_make(user=user)
    emails.send_password_reset(user=user, uid=uid, token=token)
    cache.set(sent_key, True, timeout=settings.PASSWORD_RESET_TIMEOUT)
