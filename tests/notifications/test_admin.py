"""The SentEmail admin: a read-only log staff search by key, recipient or subject."""

import pytest

from notifications.models import SentEmail

pytestmark = pytest.mark.django_db




def test_the_log_is_searchable_by_key_and_recipient(admin_client):
    SentEmail.objects.create(key="orders.shipped:abc", to="ada@example.com", template="orders/emails/shipped",
                             subject="Order ORD-1 has shipped")
    SentEmail.objects.create(key="users.welcome:7", to="bob@example.com", template="users/emails/welcome",
                             subject="Welcome to the shop")

    by_key = admin_client.get("/admin/notifications/sentemail/", {"q": "orders.shipped"}).content.decode()
    by_to = admin_client.get("/admin/notifications/sentemail/", {"q": "bob@"}).content.decode()

    assert "ada@example.com" in by_key and "bob@example.com" not in by_key
    assert "users.welcome:7" in by_to and "orders.shipped:abc" not in by_to


def test_the_log_cannot_be_added_to_changed_or_deleted(admin_client):
    row = SentEmail.objects.create(key="users.welcome:7", to="bob@example.com", template="users/emails/welcome",
                                   subject="Welcome to the shop")

    assert admin_client.get("/admin/notifications/sentemail/add/").status_code == 403
    page = admin_client.get(f"/admin/notifications/sentemail/{row.pk}/change/")
    assert page.status_code == 200 and 'name="key"' not in page.content.decode()
    assert admin_client.post(f"/admin/notifications/sentemail/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SentEmail.objects.filter(pk=row.pk).exists()
