import pytest

from payments import services
from payments.models import Payment
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

FIELDS = {"id", "order", "provider", "status", "amount", "amount_refunded", "currency", "created_at"}


@pytest.fixture
def mine(user, fake_stripe):
    order = OrderFactory(user=user)
    return services.checkout_session_create(user=user, order_id=order.pk)


@pytest.fixture
def theirs(other_user, fake_stripe):
    order = OrderFactory(user=other_user)
    return services.checkout_session_create(user=other_user, order_id=order.pk)


def test_owner_lists_only_their_payments(user_client, mine, theirs, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = user_client.get("/api/payments/")

    assert response.status_code == 200
    assert response.data["count"] == 1
    (row,) = response.data["results"]
    assert set(row) == FIELDS
    assert row["id"] == mine.pk
    assert row["order"] == mine.order_id
    money = (row["status"], row["amount"], row["amount_refunded"], row["currency"])
    assert money == ("pending", "30.00", "0.00", "usd")
    assert row["provider"] == "stripe"


def test_staff_list_all_payments_and_filter_by_status(staff_client, mine, theirs):
    Payment.objects.filter(pk=theirs.pk).update(status=Payment.Status.EXPIRED)

    assert staff_client.get("/api/payments/").data["count"] == 2
    assert [p["id"] for p in staff_client.get("/api/payments/?status=expired").data["results"]] == [theirs.pk]


def test_owner_reads_their_payment(user_client, mine):
    response = user_client.get(f"/api/payments/{mine.pk}/")

    assert response.status_code == 200
    assert set(response.data) == FIELDS


def test_someone_elses_payment_is_a_404(user_client, theirs):
    assert user_client.get(f"/api/payments/{theirs.pk}/").status_code == 404


def test_unknown_payment_is_a_404(user_client, fake_stripe):
    assert user_client.get("/api/payments/999999/").status_code == 404
    assert user_client.get("/api/payments/abc/").status_code == 404


def test_anonymous_is_a_401(api_client):
    assert api_client.get("/api/payments/").status_code == 401
