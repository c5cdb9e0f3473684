import pytest
from django.core import mail
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from notifications.models import SentEmail
from tests.factories import DEFAULT_PASSWORD, UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

REGISTER = "/api/auth/register/"
TOKEN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
LOGOUT = "/api/auth/logout/"
ME = "/api/users/me/"


# --- register ---------------------------------------------------------------------------------


def test_register_creates_user_and_queues_welcome_email(api_client, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client.post(
            REGISTER,
            {"email": "Ada@Example.com", "password": DEFAULT_PASSWORD, "first_name": "Ada", "last_name": "Lovelace"},
        )

    # then
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "first_name", "last_name", "phone", "date_joined"}
    assert body["email"] == "ada@example.com"
    assert body["first_name"] == "Ada"
    assert "password" not in body
    user = User.objects.get(pk=body["id"])
    assert user.check_password(DEFAULT_PASSWORD)
    assert not user.is_staff and not user.is_superuser
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    welcome = mail.outbox[0]
    assert welcome.to == ["ada@example.com"]
    assert welcome.subject == "Welcome to the shop"
    assert "Hello Ada" in welcome.body
    assert welcome.alternatives[0][1] == "text/html"
    assert SentEmail.objects.filter(key=f"users.welcome:{user.pk}", to="ada@example.com").exists()


def test_register_sends_no_email_before_commit(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post(REGISTER, {"email": "later@example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 201
    assert len(callbacks) == 1
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@Example.COM"])
def test_register_duplicate_email_is_400(api_client, email):
    UserFactory(email="taken@example.com")

    response = api_client.post(REGISTER, {"email": email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 400
    assert response.json() == {"email": ["A user with this email address already exists."]}
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("8364519273", "This password is entirely numeric."),
    ],
)
def test_register_weak_password_is_400_with_validator_messages(api_client, password, expected):
    response = api_client.post(REGISTER, {"email": "weak@example.com", "password": password})

    assert response.status_code == 400
    assert expected in response.json()["password"]
    assert not User.objects.filter(email="weak@example.com").exists()
    assert mail.outbox == []


def test_register_password_similar_to_email_is_400(api_client):
    response = api_client.post(REGISTER, {"email": "margaretha@example.com", "password": "margaretha1"})

    assert response.status_code == 400
    assert "The password is too similar to the email address." in response.json()["password"]


def test_register_invalid_email_and_missing_password_are_400(api_client):
    response = api_client.post(REGISTER, {"email": "not-an-email"})

    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


def test_register_ignores_mass_assigned_privileges(api_client):
    response = api_client.post(
        REGISTER,
        {"email": "sneaky@example.com", "password": DEFAULT_PASSWORD, "is_staff": True, "is_superuser": True},
    )

    assert response.status_code == 201
    user = User.objects.get(email="sneaky@example.com")
    assert user.is_staff is False
    assert user.is_superuser is False


# --- token obtain / refresh -------------------------------------------------------------------


def test_token_obtain_returns_pair_that_authenticates(api_client, user, bearer_client):
    response = api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    me = bearer_client(response.json()["access"]).get(ME)
    assert me.status_code == 200
    assert me.json()["email"] == user.email
    user.refresh_from_db()
    assert user.last_login is not None


def test_token_obtain_email_is_case_insensitive(api_client):
    UserFactory(email="case@example.com")

    response = api_client.post(TOKEN, {"email": "  CASE@Example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 200


def test_token_obtain_wrong_password_is_401(api_client, user):
    response = api_client.post(TOKEN, {"email": user.email, "password": "wrong-password"})

    assert response.status_code == 401
    assert response.json()["detail"] == "No active account found with the given credentials"


def test_token_obtain_inactive_user_is_401(api_client):
    inactive = UserFactory(is_active=False)

    response = api_client.post(TOKEN, {"email": inactive.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 401


def test_token_obtain_missing_fields_is_400(api_client):
    response = api_client.post(TOKEN, {})

    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


def test_refresh_rotates_and_blacklists_the_old_token(api_client, user, obtain_tokens, bearer_client):
    tokens = obtain_tokens(user.email)

    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})

    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}
    assert fresh["refresh"] != tokens["refresh"]
    assert bearer_client(fresh["access"]).get(ME).status_code == 200
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1
    # the old refresh token is spent; the new one still works
    reused = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert reused.status_code == 401
    assert reused.json()["detail"] == "Token is blacklisted"
    assert api_client.post(REFRESH, {"refresh": fresh["refresh"]}).status_code == 200


def test_refresh_garbage_token_is_401(api_client):
    response = api_client.post(REFRESH, {"refresh": "not-a-jwt"})

    assert response.status_code == 401


def test_refresh_with_an_access_token_is_401(api_client, user, obtain_tokens):
    tokens = obtain_tokens(user.email)

    response = api_client.post(REFRESH, {"refresh": tokens["access"]})

    assert response.status_code == 401


def test_refresh_for_deleted_user_is_401_not_500(api_client, user, obtain_tokens):
    tokens = obtain_tokens(user.email)
    User.objects.filter(pk=user.pk).delete()

    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})

    assert response.status_code == 401


# --- logout -----------------------------------------------------------------------------------


def test_logout_blacklists_refresh_then_refresh_is_401(api_client, user, obtain_tokens, bearer_client):
    tokens = obtain_tokens(user.email)
    client = bearer_client(tokens["access"])

    response = client.post(LOGOUT, {"refresh": tokens["refresh"]})

    assert response.status_code == 205
    assert response.content == b""
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1
    refreshed = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 401


def test_logout_twice_is_400(user, obtain_tokens, bearer_client):
    tokens = obtain_tokens(user.email)
    client = bearer_client(tokens["access"])
    client.post(LOGOUT, {"refresh": tokens["refresh"]})

    response = client.post(LOGOUT, {"refresh": tokens["refresh"]})

    assert response.status_code == 400
    assert response.json() == {"refresh": ["Token is blacklisted"]}


def test_logout_with_another_users_refresh_is_400_and_leaves_it_valid(
    api_client, user, other_user, obtain_tokens, bearer_client
):
    mine = obtain_tokens(user.email)
    theirs = obtain_tokens(other_user.email)

    response = bearer_client(mine["access"]).post(LOGOUT, {"refresh": theirs["refresh"]})

    assert response.status_code == 400
    assert response.json() == {"refresh": ["This refresh token belongs to another account."]}
    assert not BlacklistedToken.objects.exists()
    assert api_client.post(REFRESH, {"refresh": theirs["refresh"]}).status_code == 200


def test_logout_with_invalid_token_is_400(user_client):
    response = user_client.post(LOGOUT, {"refresh": "garbage"})

    assert response.status_code == 400
    assert "refresh" in response.json()


def test_logout_anonymous_is_401(api_client, user, obtain_tokens):
    tokens = obtain_tokens(user.email)

    response = api_client.post(LOGOUT, {"refresh": tokens["refresh"]})

    assert response.status_code == 401
    assert not BlacklistedToken.objects.exists()


# --- throttling -------------------------------------------------------------------------------


def test_token_endpoint_is_throttled(api_client, user, auth_rate):
    auth_rate("3/minute")

    statuses = [
        api_client.post(TOKEN, {"email": user.email, "password": "wrong-password"}).status_code for _ in range(4)
    ]

    assert statuses == [401, 401, 401, 429]
    throttled = api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    assert throttled.status_code == 429
    assert "throttled" in throttled.json()["detail"].lower()
    assert "Retry-After" in throttled.headers


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        (REGISTER, {"email": "x@example.com", "password": "short"}),
        (REFRESH, {"refresh": "garbage"}),
        ("/api/auth/password/reset/", {"email": "nobody@example.com"}),
        ("/api/auth/password/reset/confirm/", {"uid": "x", "token": "y", "new_password": "z"}),
    ],
)
def test_auth_endpoints_are_throttled(api_client, auth_rate, path, payload):
    auth_rate("2/minute")

    statuses = [api_client.post(path, payload).status_code for _ in range(3)]

    assert statuses[:2] != [429, 429]
    assert statuses[2] == 429


def test_throttle_counts_per_client(user, auth_rate):
    from rest_framework.test import APIClient

    auth_rate("1/minute")
    first, second = APIClient(REMOTE_ADDR="10.0.0.1"), APIClient(REMOTE_ADDR="10.0.0.2")

    assert first.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 200
    assert first.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 429
    assert second.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 200


def test_default_auth_rate_comes_from_the_auth_throttle_rate_setting():
    import config.settings as project_settings

    assert project_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"] == project_settings.AUTH_THROTTLE_RATE
