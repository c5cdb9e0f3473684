"""The one way to send an email: rendered from a template trio, logged in SentEmail, sent at most once per key."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from notifications.models import SentEmail


def email_render(*, template: str, context: dict) -> tuple[str, str, str]:
    """The subject (one line), text body and HTML body of `template`.

    `template` names three files: `<template>_subject.txt`, `<template>.txt` and `<template>.html`,
    e.g. "orders/emails/shipped" → orders/templates/orders/emails/shipped{_subject.txt,.txt,.html}.
    Every template also sees `frontend_url`, and the bodies see the rendered `subject`.
    """
    context = {"frontend_url": settings.FRONTEND_URL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    context["subject"] = subject
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    return subject, text, html


def send_once(*, key: str, to: str | list[str], template: str, context: dict) -> bool:
    """Send the email `template` to `to` unless an email with `key` was already sent. Returns whether it sent.

    The SentEmail row and the send share one transaction: a concurrent duplicate waits on the unique
    key, then finds it and sends nothing; a failed send raises and rolls the row back, so a retry sends
    again. (Only a crash between the mail server accepting and the commit can repeat an email.)
    """
    if SentEmail.objects.filter(key=key).exists():
        return False
    recipients = [to] if isinstance(to, str) else list(to)
    subject, text, html = email_render(template=template, context=context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=recipients
    )
    message.attach_alternative(html, "text/html")
    try:
        with transaction.atomic():
            SentEmail.objects.create(key=key, to=", ".join(recipients), template=template, subject=subject)
            message.send()
    except IntegrityError:
        return False  # someone else sent it meanwhile
    return True
