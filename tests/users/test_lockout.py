"""One account cannot be brute-forced from many addresses: 10 failed logins for an email within 15 minutes,
at the token endpoint or the admin login, and that email answers 429 until the window passes."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/auth/token/"
ADMIN_LOGIN = "/admin/login/"
LOCKED = "Too many failed logins for this account. Try again later."


def api_login(email: str, password: str, *, address: str = "198.51.100.1") -> object:
    return APIClient(REMOTE_ADDR=address).post(TOKEN, {"email": email, "password": password})


def admin_login(email: str, password: str, *, address: str = "198.51.100.1") -> object:
    return Client(REMOTE_ADDR=address).post(ADMIN_LOGIN, {"username": email, "password": password, "next": "/admin/"})


def fail_api(email: str, times: int) -> list[int]:
    return [api_login(email, "wrong-password", address=f"203.0.113.{i}").status_code for i in range(times)]


def test_ten_failures_from_ten_addresses_lock_the_email():
    user = UserFactory()

    # when: 10 wrong passwords, each from another address
    failures = fail_api(user.email, 10)

    # then: each was an ordinary 401, and now even the right password from a fresh address is refused
    assert failures == [401] * 10
    locked = api_login(user.email, DEFAULT_PASSWORD, address="192.0.2.99")
    assert locked.status_code == 429
    assert locked.json()["detail"].startswith(LOCKED)
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    assert "access" not in locked.json()


def test_nine_failures_do_not_lock():
    user = UserFactory()
    fail_api(user.email, 9)
    assert api_login(user.email, DEFAULT_PASSWORD).status_code == 200


def test_the_lockout_is_per_email():
    victim, bystander = UserFactory(), UserFactory()
    fail_api(victim.email, 10)
    assert api_login(bystander.email, DEFAULT_PASSWORD).status_code == 200


def test_spellings_of_one_email_count_together():
    user = UserFactory(email="ada@example.com")
    for i, spelling in enumerate(["ADA@example.com", " Ada@Example.com", "ada@EXAMPLE.COM"] * 4):
        if i < 10:
            assert api_login(spelling, "wrong-password", address=f"203.0.113.{i}").status_code == 401
    assert api_login(user.email, DEFAULT_PASSWORD).status_code == 429


def test_the_lockout_ends_when_the_window_passes():
    user = UserFactory()
    fail_api(user.email, 10)
    assert api_login(user.email, DEFAULT_PASSWORD).status_code == 429

    # when: 15 minutes pass since the last failure
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=15, seconds=1))

    # then
    assert api_login(user.email, DEFAULT_PASSWORD).status_code == 200


def test_refused_attempts_do_not_extend_the_lockout():
    user = UserFactory()
    fail_api(user.email, 10)
    last_failure = AccessAttempt.objects.order_by("-attempt_time").values_list("attempt_time", flat=True)[0]

    assert [api_login(user.email, "wrong-password").status_code for _ in range(3)] == [429] * 3

    assert AccessAttempt.objects.order_by("-attempt_time").values_list("attempt_time", flat=True)[0] == last_failure


def test_a_successful_login_resets_the_count():
    user = UserFactory()
    fail_api(user.email, 9)

    assert api_login(user.email, DEFAULT_PASSWORD).status_code == 200
    user.refresh_from_db()
    assert user.last_login is not None  # the login signal also stamps last_login

    assert fail_api(user.email, 9) == [401] * 9
    assert api_login(user.email, DEFAULT_PASSWORD).status_code == 200


def test_failures_are_recorded_under_the_socket_address_not_a_forged_header():
    user = UserFactory()
    APIClient(REMOTE_ADDR="192.0.2.10").post(
        TOKEN, {"email": user.email, "password": "wrong-password"}, HTTP_X_FORWARDED_FOR="6.6.6.6"
    )
    assert list(AccessAttempt.objects.values_list("username", "ip_address")) == [(user.email, "192.0.2.10")]


# --- the admin login --------------------------------------------------------------------------


def test_the_admin_login_locks_after_ten_failures():
    staff = UserFactory(is_staff=True)

    failures = [admin_login(staff.email, "wrong-password", address=f"203.0.113.{i}") for i in range(10)]

    assert [response.status_code for response in failures] == [200] * 10  # the form, with its error
    locked = admin_login(staff.email, DEFAULT_PASSWORD, address="192.0.2.99")
    assert locked.status_code == 429
    assert b"Too many failed logins for this account" in locked.content
    assert "_auth_user_id" not in locked.wsgi_request.session


def test_the_admin_login_still_logs_in_when_not_locked():
    staff = UserFactory(is_staff=True)
    response = admin_login(staff.email, DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_both_doors_share_one_count():
    staff = UserFactory(is_staff=True)
    fail_api(staff.email, 5)
    for i in range(5):
        admin_login(staff.email, "wrong-password", address=f"198.51.100.{i}")

    assert api_login(staff.email, DEFAULT_PASSWORD).status_code == 429
    assert admin_login(staff.email, DEFAULT_PASSWORD).status_code == 429
