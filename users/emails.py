"""What a customer receives from the users app, each sent once through notifications.send_once.

Templates: users/templates/users/emails/<kind>{_subject.txt,.txt,.html}.
"""

from django.conf import settings

from notifications.services import send_once
from users.models import User


def welcome_email_key(*, user_id: int) -> str:
    return f"users.welcome:{user_id}"


def password_reset_email_key(*, request_id: str) -> str:
    return f"users.password_reset:{request_id}"


def password_reset_link(*, uid: str, token: str) -> str:
    return f"{settings.FRONTEND_URL}/reset-password?uid={uid}&token={token}"


def welcome_email_send(*, user: User) -> bool:
    return send_once(
        key=welcome_email_key(user_id=user.pk),
        to=user.email,
        template="users/emails/welcome",
        context={"user": user},
    )


def password_reset_email_send(*, user: User, request_id: str, uid: str, token: str) -> bool:
    return send_once(
        key=password_reset_email_key(request_id=request_id),
        to=user.email,
        template="users/emails/password_reset",
        context={
            "user": user,
            "reset_link": password_reset_link(uid=uid, token=token),
            "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
    )
