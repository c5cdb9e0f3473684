"""What every email task shares: the retry policy. The tasks live in the app whose event they announce."""

import smtplib

# A mail server that is down or hangs up is worth another try later; send_once rolls back its row on a
# failed send, so the retry sends the email (once).
EMAIL_TASK_OPTIONS = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}
