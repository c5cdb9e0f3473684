import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CHANGE = "/api/auth/password/change/"
RESET = "/api/auth/password/reset/"
CONFIRM = "/api/auth/password/reset/confirm/"
REFRESH = "/api/auth/token/refresh/"
NEW_PASSWORD = "a-brand-new-secret-42"


def reset_link_params(message) -> dict[str, str]:
    link = re.search(r"\S*/reset-password\?\S+", message.body).group(0)
    parsed = urlparse(link)
    return {"base": f"{parsed.scheme}://{parsed.netloc}{parsed.path}"} | {
        key: values[0] for key, values in parse_qs(parsed.query).items()
    }


# --- change -----------------------------------------------------------------------------------


def test_password_change_sets_new_password(user_client, user, api_client):
    response = user_client.post(CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 204
    assert response.content == b""
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert api_client.post("/api/auth/token/", {"email": user.email, "password": NEW_PASSWORD}).status_code == 200
    assert api_client.post("/api/auth/token/", {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 401


def test_password_change_revokes_refresh_tokens(user, obtain_tokens, bearer_client, api_client):
    tokens = obtain_tokens(user.email)

    response = bearer_client(tokens["access"]).post(
        CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 204
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401


def test_password_change_wrong_old_password_is_400(user_client, user):
    response = user_client.post(CHANGE, {"old_password": "not-my-password", "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json() == {"old_password": ["Your current password is incorrect."]}
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_weak_new_password_is_400(user_client, user):
    response = user_client.post(CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": "123"})

    assert response.status_code == 400
    messages = response.json()["new_password"]
    assert "This password is too short. It must contain at least 8 characters." in messages
    assert "This password is entirely numeric." in messages
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_anonymous_is_401(api_client):
    response = api_client.post(CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 401


# --- reset ------------------------------------------------------------------------------------


def test_password_reset_emails_a_link_that_confirms(api_client, user, settings, django_capture_on_commit_callbacks):
    settings.FRONTEND_URL = "https://shop.example"

    # when: the user asks for a link, with their email in another case
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(RESET, {"email": user.email.upper()})

    # then: 202 and one email with the link
    assert response.status_code == 202
    assert "detail" in response.json()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject == "Reset your password"
    params = reset_link_params(message)
    assert params["base"] == "https://shop.example/reset-password"
    assert params["uid"] == urlsafe_base64_encode(force_bytes(user.pk))
    assert f"uid={params['uid']}&amp;token={params['token']}" in message.alternatives[0][0]

    # and the link's uid and token set a new password
    confirm = api_client.post(CONFIRM, {"uid": params["uid"], "token": params["token"], "new_password": NEW_PASSWORD})
    assert confirm.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_reset_unknown_email_is_202_and_sends_nothing(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client.post(RESET, {"email": "nobody@example.com"})

    assert response.status_code == 202
    assert callbacks == []
    assert mail.outbox == []


def test_password_reset_same_answer_for_known_and_unknown_email(api_client, user):
    known = api_client.post(RESET, {"email": user.email})
    unknown = api_client.post(RESET, {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()


def test_password_reset_inactive_user_gets_no_email(api_client, django_capture_on_commit_callbacks):
    inactive = UserFactory(is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(RESET, {"email": inactive.email})

    assert response.status_code == 202
    assert mail.outbox == []


def test_password_reset_invalid_email_is_400(api_client):
    response = api_client.post(RESET, {"email": "not-an-email"})

    assert response.status_code == 400
    assert "email" in response.json()


def test_password_reset_token_is_single_use(api_client, user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    first = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})

    second = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": "yet-another-secret-77"})

    assert first.status_code == 204
    assert second.status_code == 400
    assert second.json() == {"token": ["The password reset link is invalid or has expired."]}
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_reset_confirm_revokes_refresh_tokens(api_client, user, obtain_tokens):
    tokens = obtain_tokens(user.email)
    user.refresh_from_db()  # logging in changed last_login, which the reset token covers
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)

    response = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})

    assert response.status_code == 204
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401


@pytest.mark.parametrize("uid", ["!!!", "bm90LWFuLWlk", urlsafe_base64_encode(b"999999999"), ""])
def test_password_reset_confirm_bad_uid_is_400(api_client, user, uid):
    token = default_token_generator.make_token(user)

    response = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert "uid" in response.json()
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_reset_confirm_token_of_another_user_is_400(api_client, user, other_user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(other_user)

    response = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json() == {"token": ["The password reset link is invalid or has expired."]}


def test_password_reset_confirm_weak_password_is_400_and_token_stays_valid(api_client, user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)

    weak = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": "password"})
    strong = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})

    assert weak.status_code == 400
    assert "This password is too common." in weak.json()["new_password"]
    assert strong.status_code == 204


def test_password_reset_confirm_missing_fields_is_400(api_client):
    response = api_client.post(CONFIRM, {})

    assert response.status_code == 400
    assert set(response.json()) == {"uid", "token", "new_password"}
