"""What a customer receives from the users app: plain text with an HTML alternative."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from users.models import User


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    context = {"frontend_url": settings.FRONTEND_URL, **context}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"users/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(render_to_string(f"users/{template}.html", context), "text/html")
    message.send()


def password_reset_link(*, uid: str, token: str) -> str:
    return f"{settings.FRONTEND_URL}/reset-password?uid={uid}&token={token}"


def send_welcome(*, user: User) -> None:
    _send(to=user.email, subject="Welcome to the shop", template="welcome_email", context={"user": user})


def send_password_reset(*, user: User, uid: str, token: str) -> None:
    _send(
        to=user.email,
        subject="Reset your password",
        template="password_reset_email",
        context={
            "user": user,
            "reset_link": password_reset_link(uid=uid, token=token),
            "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
    )
