import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/users/me/"
USERS = "/api/users/"


def test_me_returns_own_profile(user_client, user):
    user.phone = "+44 20 7946 0000"
    user.save()

    response = user_client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": "+44 20 7946 0000",
        "date_joined": response.json()["date_joined"],
    }


def test_me_anonymous_is_401(api_client):
    assert api_client.get(ME).status_code == 401
    assert api_client.patch(ME, {"first_name": "X"}).status_code == 401


def test_me_patch_updates_profile(user_client, user):
    response = user_client.patch(ME, {"first_name": "Grace", "last_name": "Hopper", "phone": "+1 555 0100"})

    assert response.status_code == 200
    assert response.json()["first_name"] == "Grace"
    assert response.json()["phone"] == "+1 555 0100"
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.phone) == ("Grace", "Hopper", "+1 555 0100")


def test_me_patch_ignores_read_only_and_privileged_fields(user_client, user):
    original = (user.pk, user.email, user.date_joined)

    response = user_client.patch(
        ME,
        {
            "id": 999999,
            "email": "hijack@example.com",
            "date_joined": "2000-01-01T00:00:00Z",
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
        },
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.pk, user.email, user.date_joined) == original
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
    assert response.json()["email"] == original[1]


def test_me_patch_too_long_phone_is_400(user_client):
    response = user_client.patch(ME, {"phone": "1" * 33})

    assert response.status_code == 400
    assert "phone" in response.json()


def test_me_put_is_not_allowed(user_client):
    assert user_client.put(ME, {"first_name": "X"}).status_code == 405


# --- staff user administration ----------------------------------------------------------------


def test_user_list_for_staff_is_paginated(staff_client, staff_user):
    UserFactory.create_batch(3)

    response = staff_client.get(USERS, {"page_size": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert set(body["results"][0]) >= {"id", "email", "is_staff", "is_active", "date_joined", "last_login"}
    assert "password" not in body["results"][0]


def test_user_list_search_and_filters(staff_client, staff_user):
    UserFactory(email="findme@example.com", first_name="Zelda")
    UserFactory(email="other@example.com", is_active=False)

    by_search = staff_client.get(USERS, {"search": "zeld"}).json()
    by_staff = staff_client.get(USERS, {"is_staff": "true"}).json()
    by_inactive = staff_client.get(USERS, {"is_active": "false"}).json()

    assert [u["email"] for u in by_search["results"]] == ["findme@example.com"]
    assert [u["id"] for u in by_staff["results"]] == [staff_user.pk]
    assert [u["email"] for u in by_inactive["results"]] == ["other@example.com"]


def test_user_detail_for_staff(staff_client, user):
    response = staff_client.get(f"{USERS}{user.pk}/")

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_user_detail_unknown_is_404(staff_client):
    assert staff_client.get(f"{USERS}999999/").status_code == 404


def test_user_list_and_detail_non_staff_is_403(user_client, other_user):
    list_response = user_client.get(USERS)
    detail_response = user_client.get(f"{USERS}{other_user.pk}/")

    assert list_response.status_code == 403
    assert detail_response.status_code == 403
    assert "detail" in list_response.json()


def test_user_list_anonymous_is_401(api_client):
    assert api_client.get(USERS).status_code == 401


def test_user_list_is_read_only_for_staff(staff_client, user):
    assert staff_client.post(USERS, {"email": "new@example.com"}).status_code == 405
    assert staff_client.delete(f"{USERS}{user.pk}/").status_code == 405
