import smtplib

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from notifications.models import SentEmail
from tests.factories import AddressFactory, UserFactory
from users import services, tasks
from users.exceptions import EmailAlreadyRegistered, WeakPassword
from users.models import Address

pytestmark = pytest.mark.django_db

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}


def test_user_register_normalizes_email_and_rejects_case_variant():
    user = services.user_register(email="  Mixed@Case.COM ", password="correct-horse-battery-staple")

    assert user.email == "mixed@case.com"
    with pytest.raises(EmailAlreadyRegistered):
        services.user_register(email="MIXED@case.com", password="correct-horse-battery-staple")


def test_weak_password_error_carries_every_validator_message():
    with pytest.raises(WeakPassword) as excinfo:
        services.user_register(email="w@example.com", password="1234")

    data = excinfo.value.as_response_data()
    assert set(data) == {"password"}
    assert len(data["password"]) >= 2


def test_one_default_address_per_user_is_enforced_by_the_database(user):
    AddressFactory(user=user, is_default=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        AddressFactory(user=user, is_default=True)


def test_address_create_first_is_default_then_explicit_default_moves(user):
    first = services.address_create(user=user, **ADDRESS)
    second = services.address_create(user=user, **ADDRESS)
    third = services.address_create(user=user, **ADDRESS, is_default=True)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default, third.is_default) == (False, False, True)


def test_address_update_ignores_unknown_fields(user, other_user):
    address = services.address_create(user=user, **ADDRESS)

    services.address_update(address=address, data={"user": other_user, "city": "Shelbyville"})

    address.refresh_from_db()
    assert address.user == user
    assert address.city == "Shelbyville"


def test_address_delete_last_address_leaves_none(user):
    address = services.address_create(user=user, **ADDRESS)

    services.address_delete(address=address)

    assert not Address.objects.filter(user=user).exists()


# --- tasks ------------------------------------------------------------------------------------


def test_welcome_email_task_is_idempotent(user):
    assert tasks.send_welcome_email(user_id=user.pk) is True
    assert tasks.send_welcome_email(user_id=user.pk) is False

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert SentEmail.objects.get().key == f"users.welcome:{user.pk}"


def test_welcome_email_task_for_missing_user_does_nothing():
    tasks.send_welcome_email(user_id=987654)

    assert mail.outbox == []


@pytest.fixture
def eager_retries():
    """Eager tasks run their retries in-process only when errors do not propagate at once."""
    from config.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


def test_welcome_email_task_retries_on_smtp_error_then_sends_once(user, monkeypatch, eager_retries):
    from django.core.mail.backends.locmem import EmailBackend

    real_send = EmailBackend.send_messages
    attempts = []

    def flaky_send(self, messages):
        attempts.append(1)
        if len(attempts) < 3:
            raise smtplib.SMTPServerDisconnected("connection dropped")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky_send)

    result = tasks.send_welcome_email.delay(user_id=user.pk)

    assert result.successful()
    assert len(attempts) == 3
    assert len(mail.outbox) == 1
    assert SentEmail.objects.filter(key=f"users.welcome:{user.pk}").count() == 1


def test_welcome_email_task_gives_up_after_max_retries(user, monkeypatch, eager_retries):
    from django.core.mail.backends.locmem import EmailBackend

    attempts = []

    def broken_send(self, messages):
        attempts.append(1)
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(EmailBackend, "send_messages", broken_send)

    result = tasks.send_welcome_email.delay(user_id=user.pk)

    assert result.failed()
    assert isinstance(result.result, ConnectionRefusedError)
    assert len(attempts) == 1 + tasks.send_welcome_email.max_retries

    assert not SentEmail.objects.exists()  # a later run may still send it


def test_email_tasks_are_configured_to_retry_with_backoff():
    for task in (tasks.send_welcome_email, tasks.send_password_reset_email):
        assert task.autoretry_for == (smtplib.SMTPException, OSError)
        assert task.retry_backoff is True
        assert task.max_retries == 5


def test_password_reset_email_task_sends_once_per_request(user):
    tasks.send_password_reset_email(user_id=user.pk, request_id="req-1")
    tasks.send_password_reset_email(user_id=user.pk, request_id="req-1")
    tasks.send_password_reset_email(user_id=user.pk, request_id="req-2")

    assert len(mail.outbox) == 2
    assert all(message.to == [user.email] for message in mail.outbox)
    assert set(SentEmail.objects.values_list("key", flat=True)) == {
        "users.password_reset:req-1", "users.password_reset:req-2"
    }


def test_password_reset_email_task_skips_deactivated_user():
    inactive = UserFactory(is_active=False)

    tasks.send_password_reset_email(user_id=inactive.pk, request_id="req")

    assert mail.outbox == []
