"""Per-account login lockout, on django-axes.

Axes records every failed `authenticate()` (its signal handlers, `AccessAttempt` rows visible in the admin)
and its backend refuses a locked-out email before any password is checked. Failures count per email,
normalized as the login compares it, from any address (AXES_* in config/settings.py). The two doors, the
token endpoint and the admin login, ask `login_locked_out` first and answer 429 themselves: the 10th wrong
password still answers as a wrong password, every attempt after it is refused until the window passes.
"""

from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from users.models import UserManager

LOCKED_OUT_MESSAGE = "Too many failed logins for this account. Try again later."


def lockout_username(request, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the email of a login attempt, normalized like the login.

    `authenticate()` gets `email=` from the API and `username=` from the admin's login form; without
    credentials (the doors' own check) the submitted data is read.
    """
    if credentials:
        value = credentials.get("email") or credentials.get("username")
    else:
        data = getattr(request, "data", None)
        if data is None:
            data = request.POST
        value = (data.get("email") or data.get("username")) if hasattr(data, "get") else None
    if not isinstance(value, str):
        return None
    return UserManager.normalize_email(value) or None


def login_locked_out(*, request) -> bool:
    """Whether the email this login request names is locked out (10 failures within the cool-off)."""
    return AxesProxyHandler.is_locked(request, None)


def lockout_seconds_left(*, request) -> int:
    """Seconds until the lockout of the email this request names ends (for Retry-After)."""
    cool_off: timedelta = settings.AXES_COOLOFF_TIME
    last = AccessAttempt.objects.filter(username=get_client_username(request, None)).aggregate(
        last=Max("attempt_time")
    )["last"]
    if last is None:
        return int(cool_off.total_seconds())
    return max(int((last + cool_off - timezone.now()).total_seconds()) + 1, 1)
