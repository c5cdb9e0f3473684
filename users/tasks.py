"""Celery tasks of the users app: thin, idempotent, retried with backoff when the mail server fails."""

import logging

from celery import shared_task

from notifications.tasks import EMAIL_TASK_OPTIONS
from users import emails
from users.models import User

logger = logging.getLogger(__name__)


@shared_task(**EMAIL_TASK_OPTIONS)
def send_welcome_email(user_id: int) -> bool:
    """Send the welcome email once per account, however often the task is delivered. Returns whether it sent."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return False
    return emails.welcome_email_send(user=user)


@shared_task(**EMAIL_TASK_OPTIONS)
def send_password_reset_email(user_id: int, request_id: str) -> bool:
    """Send one reset email per request. The token is made here, so it never sits in the broker."""
    from users.services import password_reset_token_make

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        logger.info("Password reset email skipped: user %s is gone or inactive.", user_id)
        return False
    uid, token = password_reset_token_make(user=user)
    return emails.password_reset_email_send(user=user, request_id=request_id, uid=uid, token=token)
