import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import AddressFactory, UserFactory
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    admin = User.objects.create_superuser(email="root@example.com", password="root-password-123")
    client.force_login(admin)
    return client


def test_admin_changelist_search_and_filter(admin_client_):
    UserFactory(email="findme@example.com")
    UserFactory(email="someone@example.com")

    response = admin_client_.get("/admin/users/user/", {"q": "findme", "is_staff__exact": "0"})

    assert response.status_code == 200
    assert b"findme@example.com" in response.content
    assert b"someone@example.com" not in response.content


def test_admin_add_user_with_email_and_password(admin_client_):
    response = admin_client_.post(
        "/admin/users/user/add/",
        {
            "email": "New.Person@Example.com",
            "usable_password": "true",
            "password1": "a-long-admin-password-1",
            "password2": "a-long-admin-password-1",
            "addresses-TOTAL_FORMS": "0",
            "addresses-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new.person@example.com")
    assert user.check_password("a-long-admin-password-1")
    assert mail.outbox == []  # staff-created accounts get no welcome email from the API flow


def test_admin_add_user_duplicate_email_case_insensitive(admin_client_):
    UserFactory(email="dup@example.com")

    response = admin_client_.post(
        "/admin/users/user/add/",
        {
            "email": "DUP@example.com",
            "usable_password": "true",
            "password1": "a-long-admin-password-1",
            "password2": "a-long-admin-password-1",
            "addresses-TOTAL_FORMS": "0",
            "addresses-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert b"A user with this email address already exists." in response.content
    assert User.objects.filter(email__iexact="dup@example.com").count() == 1


def test_admin_change_page_shows_addresses(admin_client_):
    address = AddressFactory(city="Gotham")

    response = admin_client_.get(f"/admin/users/user/{address.user_id}/change/")

    assert response.status_code == 200
    assert b"Gotham" in response.content


def test_admin_address_changelist(admin_client_):
    AddressFactory(full_name="Bruce Wayne")

    response = admin_client_.get("/admin/users/address/", {"q": "wayne"})

    assert response.status_code == 200
    assert b"Bruce Wayne" in response.content


# --- commands ---------------------------------------------------------------------------------


def test_ensure_demo_admin_creates_superuser_once(settings, capsys):
    settings.DEBUG = True

    call_command("ensure_demo_admin")
    call_command("ensure_demo_admin")

    out = capsys.readouterr().out
    assert "admin@example.com" in out and "admin12345" in out
    assert "already exists" in out
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("admin12345")
    assert User.objects.filter(is_superuser=True).count() == 1


def test_ensure_demo_admin_skips_when_a_superuser_exists(settings, capsys):
    settings.DEBUG = True
    User.objects.create_superuser(email="boss@example.com", password="boss-password-1")

    call_command("ensure_demo_admin")

    assert not User.objects.filter(email="admin@example.com").exists()
    assert "already exists" in capsys.readouterr().out


def test_ensure_demo_admin_refuses_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG=true"):
        call_command("ensure_demo_admin")

    assert not User.objects.exists()


def test_createsuperuser_noinput_reads_email_and_password_from_env(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Ops@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "ops-password-123")

    call_command("createsuperuser", interactive=False, verbosity=0)

    user = User.objects.get(email="ops@example.com")
    assert user.is_superuser and user.is_staff
    assert user.check_password("ops-password-123")
